import Foundation
import OTLPMmapConformance
import OTLPMmapCore
import TestSupport
import Testing

/// Untrusted bytes never crash or hang the readers: every golden file, corrupted at random places
/// (a fixed seed, so a failure reproduces), goes through the checker and through open + inspect.
@Suite struct CorruptionTests {
    /// SplitMix64: a small deterministic generator for reproducible corruption.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let files: [String] = {
        let folder = TestSupport.repositoryRoot.appendingPathComponent("golden/valid")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".otlpmmap") }.sorted().map { folder.appendingPathComponent($0).path }
    }()

    /// The tests over `files` run once per golden file found: none found must fail.
    @Test func theFilesToCorruptAreFound() {
        #expect(Self.files.count >= 5, "\(Self.files)")
    }

    @Test(arguments: files)
    func randomCorruptionNeverCrashesTheReaders(_ path: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var random = Generator(state: UInt64(original.count))
        let scratch = try TestSupport.temporaryDirectory().appendingPathComponent("corrupt.otlpmmap")
        for round in 0..<150 {
            var bytes = original
            // Early rounds hit the headers (where offsets and sizes live), later ones anywhere.
            let limit = round < 50 ? min(bytes.count, 4_096) : bytes.count
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let index = Int.random(in: 0..<limit, using: &random)
                bytes[index] = round % 3 == 0 ? 0xFF : UInt8.random(in: 0...255, using: &random)
            }
            _ = FileChecker.check(bytes: bytes, name: "round \(round)")
            try Data(bytes).write(to: scratch)
            if let file = try? MmapFile.open(path: scratch.path) {
                _ = Inspector.inspect(file)
            }
        }
    }

    /// The header's version and section offsets (bytes 0..<40) are never silently wrong: any single
    /// changed byte there breaks a MUST rule.
    @Test(arguments: files)
    func anyChangedHeaderByteIsAnError(_ path: String) throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var random = Generator(state: UInt64(original.count) &* 31)
        for index in 0..<40 {
            var bytes = original
            bytes[index] &+= UInt8.random(in: 1...255, using: &random)
            let report = FileChecker.check(bytes: bytes, name: "byte \(index)")
            #expect(!report.errors.isEmpty, "byte \(index) changed to \(bytes[index]) went unnoticed: \(report.findings)")
        }
    }
}
