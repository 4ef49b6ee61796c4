import Foundation
import OTLPMmapCore
import OTLPProto
import SwiftProtobuf

typealias Checkpoint = OtlpMmap_Collector_V1_Checkpoint

/// The checkpoint on disk (spec/collector/…/checkpoint.proto).
///
/// A new checkpoint replaces the old one only once it is complete on disk: written to a temporary
/// file in the same folder, synced, renamed over the old one, and the folder synced so that the
/// rename itself survives a power cut. A collector killed at any moment therefore finds either the
/// old checkpoint or the new one, whole — which is what lets it hand ring slots back to the writer
/// right after `save` returns.
struct CheckpointFile {
    let path: String

    /// The stored checkpoint, nil when there is none. Throws when it cannot be read or decoded.
    func load() throws -> Checkpoint? {
        let bytes: [UInt8]
        do throws(SystemError) {
            bytes = try SystemFile.contents(of: path, limit: 256 << 20)
        } catch {
            if error.errno == ENOENT, error.fileType == nil { return nil }
            throw error
        }
        return try Checkpoint(serializedBytes: bytes)
    }

    func save(_ checkpoint: Checkpoint) throws {
        let bytes: [UInt8] = try checkpoint.serializedBytes()
        let temporary = path + ".tmp"
        let file = try SystemFile.open(temporary, .writeOnly, create: 0o644, truncate: true)
        do {
            try bytes.withUnsafeBytes { try file.writeAll($0) }
            try file.sync()
        } catch {
            try? file.close()
            throw error
        }
        try file.close()
        try SystemFile.rename(temporary, to: path)
        try syncFolder()
    }

    /// Deletes the checkpoint (its file is gone or was re-initialised).
    func remove() {
        unlink(path)
    }

    private func syncFolder() throws {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = try SystemFile.openFolder(folder.isEmpty ? "." : folder)
        defer { try? directory.close() }
        try directory.sync()
    }
}
