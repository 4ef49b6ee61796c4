import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import Testing
import TestSupport

/// Issue 24, finding 3: `conform check` read the whole file into memory (twice) and kept every
/// dictionary entry, and `inspect` kept every entry too: a sparse file whose dictionary `end` was
/// moved to its last byte (every zero byte an empty entry) made them allocate gigabytes. Both now
/// read through the mapping and keep at most a bit per dictionary byte, so they finish under a
/// data limit far below the file's size.
@Suite struct LargeFileTests {
    static let size = 256 << 20
    /// Private writable memory the tools may use (RLIMIT_DATA): less than half the file.
    static let dataLimit = 100_000_000

    static func sparseFileWithFarEnd() async throws -> (path: String, dictionaryEnd: Int) {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("sparse.otlpmmap").path
        let written = try await TestSupport.run(["write", path, "--spans", "3", "--threads", "1"])
        #expect(written.status == 0, "\(written.stderr)")
        let grown = try await TestSupport.run(["-s", "\(size)", path], executable: "/usr/bin/truncate")
        #expect(grown.status == 0, "\(grown.stderr)")
        let file = try MmapFile.open(path: path, writable: true)
        file.dictionary.header.end = Int64(size)
        return (path, size)
    }

    @Test func checkAndInspectOfASparseGiantDictionaryStayUnderADataLimit() async throws {
        let (path, _) = try await Self.sparseFileWithFarEnd()
        for command in [["conform", "check", path], ["inspect", path]] {
            let result = try await TestSupport.run(["--data=\(Self.dataLimit)", TestSupport.toolPath] + command, executable: "/usr/bin/prlimit")
            #expect(result.status == 0, "\(command): \(result.status) \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
            // Every zero byte after the real entries is an empty entry: far more than num_entries says.
            #expect(result.stdout.contains("DICT-NUM-ENTRIES"), "\(command): \(result.stdout.suffix(500))")
        }
    }

    /// The check reports the same entries with the fast path over zero runs as one entry at a time.
    @Test func emptyEntryRunsAreCountedAsOneEntryPerByte() throws {
        var bytes = [UInt8](repeating: 0, count: 100)
        bytes[37] = 2; bytes[38] = 0xAA; bytes[39] = 0xBB   // one two-byte entry among zero bytes
        bytes.withUnsafeBytes { raw in
            #expect(DictionaryRegion.emptyEntryRun(in: raw, from: 0) == 37)
            #expect(DictionaryRegion.emptyEntryRun(in: raw, from: 40) == 60)
            #expect(DictionaryRegion.emptyEntryRun(in: raw, from: 37) == 0)
        }
        let (path, _) = try makeDictionaryFile(entries: bytes)
        let file = try MmapFile.open(path: path)
        #expect(try file.dictionary.countEntries() == 98)
        #expect(try file.dictionary.entries().count == 98)
    }

    /// A file of the minimum layout whose dictionary holds `entries` bytes, with `end` after them.
    func makeDictionaryFile(entries: [UInt8]) throws -> (String, MmapFile) {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("entries.otlpmmap").path
        let ring = FileConfiguration.RingSize(numBuffers: 2, bufferSize: 64)
        let file = try MmapFile.create(path: path, configuration: FileConfiguration(
            events: ring, spans: ring, measurements: ring, dictionaryBytes: Int64(DictionaryHeaderView.size + entries.count),
            startTimeUnixNano: 1_700_000_000_000_000_000))
        let start = Int(file.dictionary.firstEntryOffset)
        entries.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: file.file.bytes[start..<(start + entries.count)]).copyMemory(from: $0) }
        file.dictionary.header.end = Int64(start + entries.count)
        return (path, file)
    }
}
