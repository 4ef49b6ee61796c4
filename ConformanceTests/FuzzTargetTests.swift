import Foundation
import OTLPMmapConformance
import OTLPMmapFuzzTargets
import OTLPMmapTestee
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

    /// The testee-frame target over well-formed replies cut at every place, and over streams that
    /// are not frames (text where frames go, a length past the limit, a cut prefix).
    @Test func theFrameTargetSurvivesRepliesGarbageAndEveryCut() {
        var stream: [UInt8] = []
        for id in 1...5 { stream += Frame.encode(Reply(id: Int64(id), status: .ok)) }
        stream += Frame.encode(Reply(id: 6, status: .error, message: "refused"))
        let streams: [[UInt8]] = [stream, Array("a log line where frames go\n".utf8) + stream, [0xFF, 0xFF, 0xFF, 0x7F] + stream,
                                  Array(stream.dropLast(3)), []]
        for bytes in streams {
            for cut in 0...255 {
                ([UInt8(cut)] + bytes).withUnsafeBytes { FuzzTargets.testeeFrames($0) }
            }
        }
        // The splitter itself: the six frames come out whatever the pieces.
        var splitter = FrameSplitter()
        var ids: [Int64] = []
        for byte in stream {
            splitter.append([byte])
            while let frame = try? splitter.next() { ids.append((try? Frame.decode(Reply.self, frame.payload, streamOffset: frame.offset))?.id ?? 0) }
        }
        #expect(ids == [1, 2, 3, 4, 5, 6] && splitter.pendingBytes == 0 && splitter.consumed == stream.count)
    }

    /// The spec-loader target over the real spec (it loads) and its prefixes and mangled copies
    /// (each a SpecError with file and line, which the target checks).
    @Test func theSpecLoaderTargetSurvivesTheSpecCutAndMangled() throws {
        let folder = TestSupport.repositoryRoot.appendingPathComponent("spec")
        let layout = [UInt8](try Data(contentsOf: folder.appendingPathComponent("layout.yaml")))
        let messages = [UInt8](try Data(contentsOf: folder.appendingPathComponent("messages.yaml")))
        #expect(layout.count > 1000 && messages.count > 1000)
        let whole = layout + [0] + messages
        for cut in stride(from: 0, through: whole.count, by: max(1, whole.count / 40)) {
            whole[..<cut].withUnsafeBytes { FuzzTargets.specLoader($0) }
        }
        for (from, to) in [(":", "{"), ("- ", "-"), ("number: 1", "number: x"), ("  ", "\t"), ("name:", "name: [")] {
            let mangled = Array(String(decoding: whole, as: UTF8.self).replacingOccurrences(of: from, with: to).utf8)
            mangled.withUnsafeBytes { FuzzTargets.specLoader($0) }
        }
    }

    /// The dictionary target over every golden file's dictionary (the entries as the writer left
    /// them, and cut), and over entries whose references point back at themselves.
    @Test func theDictionaryTargetSurvivesGoldenDictionariesAndCycles() throws {
        var walked = 0
        for url in Self.files {
            let bytes = [UInt8](try Data(contentsOf: url))
            guard bytes.count >= 64 else { continue }
            let dictionary = bytes.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 32, as: Int64.self)) }
            guard dictionary >= 64, dictionary + 64 < bytes.count else { continue }
            let entries = Array(bytes[(dictionary + 64)...])
            for cut in stride(from: 0, through: entries.count, by: max(1, entries.count / 8)) {
                entries[..<cut].withUnsafeBytes { FuzzTargets.dictionary($0) }
            }
            walked += 1
        }
        #expect(walked >= 10, "golden dictionaries walked: \(walked)")
        // An AnyValue whose value_ref (field 8, a varint) refers to itself at byte 64: a cycle.
        let selfReferring: [UInt8] = [2, 0x40, 64]
        let findings = selfReferring.withUnsafeBytes { FileChecker.checkEntries($0) }
        #expect(findings.contains { $0.rule.rawValue == "WIRE-DEPTH" || $0.message.contains("cycle") }, "\(findings)")
    }
}
