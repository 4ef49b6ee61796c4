import Foundation
import OTLPMmapFuzzTargets
import Testing
import TestSupport

/// The libFuzzer targets' bodies (`Fuzz/` calls them) run in the normal suite over the golden files,
/// valid and invalid, whole and cut at every 97th byte: what the fuzzers start from must not crash
/// them, and the targets the Fuzz package builds stay compiling with the rest of the toolkit.
@Suite struct FuzzTargetTests {
    static let files: [URL] = {
        let golden = TestSupport.repositoryRoot.appendingPathComponent("golden")
        return ["valid", "invalid"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: golden.appendingPathComponent(folder).path)) ?? [])
                .filter { $0.hasSuffix(".otlpmmap") }.sorted()
                .map { golden.appendingPathComponent(folder).appendingPathComponent($0) }
        }
    }()

    @Test func theGoldenFilesAreFound() {
        #expect(Self.files.count >= 20, "golden/valid and golden/invalid: \(Self.files.count) files")
    }

    @Test func theTargetsSurviveEveryGoldenFileAndItsPrefixes() throws {
        for url in Self.files {
            let bytes = [UInt8](try Data(contentsOf: url))
            for cut in stride(from: 0, through: bytes.count, by: 97) + [bytes.count] {
                bytes[..<cut].withUnsafeBytes { FuzzTargets.checker($0) }
                bytes[..<min(cut, 512)].withUnsafeBytes { FuzzTargets.decoders($0) }
            }
        }
    }
}
