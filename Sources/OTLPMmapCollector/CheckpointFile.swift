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
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try Checkpoint(serializedBytes: data)
    }

    func save(_ checkpoint: Checkpoint) throws {
        let data: Data = try checkpoint.serializedBytes()
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw SystemError("open", path: temporary, errno: errno) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
            var written = 0
            while written < bytes.count {
                let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write", path: temporary, errno: errno)
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw SystemError("fsync", path: temporary, errno: errno) }
        closed = true
        guard close(descriptor) == 0 else { throw SystemError("close", path: temporary, errno: errno) }
        guard rename(temporary, path) == 0 else { throw SystemError("rename", path: path, errno: errno) }
        try syncFolder()
    }

    /// Deletes the checkpoint (its file is gone or was re-initialised).
    func remove() {
        unlink(path)
    }

    private func syncFolder() throws {
        let folder = (path as NSString).deletingLastPathComponent
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemError("open", path: folder, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw SystemError("fsync", path: folder, errno: errno) }
    }
}
