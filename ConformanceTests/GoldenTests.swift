import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import OTLPMmapConformance
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// golden/ is what the reference writer produces and what the checker must say about each file.
@Suite struct GoldenTests {
    static let golden = TestSupport.repositoryRoot.appendingPathComponent("golden")

    struct ManifestEntry: Decodable, Sendable, CustomTestStringConvertible {
        var file: String
        var rules: [String]
        var description: String
        var testDescription: String { file }
    }

    static let manifest: [ManifestEntry] = {
        let data = FileManager.default.contents(atPath: golden.appendingPathComponent("invalid/manifest.json").path) ?? Data("[]".utf8)
        return (try? JSONDecoder().decode([ManifestEntry].self, from: data)) ?? []
    }()

    static let validFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: golden.appendingPathComponent("valid").path)) ?? []
        return names.filter { $0.hasSuffix(".otlpmmap") }.sorted()
    }()

    /// The parameterised tests below run once per file found on disk: none found must fail, not
    /// pass with zero cases.
    @Test func theGoldenFilesAreFound() throws {
        #expect(Self.validFiles.count >= 5, "golden/valid: \(Self.validFiles)")
        #expect(Self.manifest.count >= 20, "golden/invalid/manifest.json: \(Self.manifest.count) entries")
        let data = try #require(FileManager.default.contents(atPath: Self.golden.appendingPathComponent("invalid/manifest.json").path))
        #expect(try JSONDecoder().decode([ManifestEntry].self, from: data).count == Self.manifest.count)
    }

    /// The writer's output for the same inputs must equal golden/ byte for byte: format drift fails here.
    @Test func theReferenceWriterStillProducesGoldenByteForByte() throws {
        let scratch = try TestSupport.temporaryDirectory()
        let cases = try GoldenCases.make(in: scratch)
        #expect(GoldenFolder.stale(cases, root: Self.golden) == [], "run `swift run otlp-mmap gen golden` after an intended format change")
        #expect(cases.filter { $0.expectedDecode != nil }.count >= 8)
    }

    @Test(arguments: manifest)
    func everyInvalidFileIsFlaggedWithExactlyItsRules(_ entry: ManifestEntry) throws {
        let report = try FileChecker.check(path: Self.golden.appendingPathComponent(entry.file).path)
        #expect(report.brokenRules.map(\.rawValue) == entry.rules.sorted(), "\(report.findings)")
        let mustBroken = entry.rules.contains { RuleCatalogue.info(RuleID($0))?.level == .must && $0 != "RING-HOLE" }
        #expect(report.passed == !mustBroken, "a file breaking a MUST rule fails the check; one breaking only SHOULD rules passes with warnings")
    }

    /// A hole in a snapshot may be a slot in progress (a warning); in a finished file it is a failure.
    @Test func aHoleFailsOnlyAFinalCheck() async throws {
        let hole = Self.golden.appendingPathComponent("invalid/ring-hole.otlpmmap").path
        let snapshot = try await TestSupport.run(["conform", "check", "--format", "json", hole])
        #expect(snapshot.status == 0, "\(snapshot.stdout)")
        let final = try await TestSupport.run(["conform", "check", "--final", "--format", "json", hole])
        #expect(final.status == 1, "\(final.stdout)")
        let findings = try JSON(parsing: final.stdout)["files"][0]["findings"].array
        #expect(findings.map { "\($0["rule"].string ?? "") \($0["severity"].string ?? "")" } == ["RING-HOLE error"])
        let valid = Self.golden.appendingPathComponent("valid/\(Self.validFiles[0])").path
        #expect(try await TestSupport.run(["conform", "check", "--final", valid]).status == 0)
    }

    /// Issue 24, finding 1: a spans ring whose writer_index another process set to Int64.max is
    /// RING-CAPACITY, not an arithmetic-overflow trap; with reader_index there too, nothing traps.
    @Test func indicesAtTheEndOfTheSequenceSpaceAreReportedNotTrapped() throws {
        var bytes = [UInt8](try Data(contentsOf: Self.golden.appendingPathComponent("valid/every-ring.otlpmmap")))
        let spans = Int(bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        func store(_ value: Int64, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
        }
        store(Int64.max, at: spans + 24)
        let report = FileChecker.check(bytes: bytes, name: "max-writer")
        #expect(report.findings.contains { $0.rule == .ringCapacity && $0.offset == spans + 24 }, "\(report.findings)")
        store(Int64.max, at: spans + 16)
        let both = FileChecker.check(bytes: bytes, name: "max-both")
        #expect(!both.findings.contains { $0.rule == .ringCapacity }, "\(both.findings)")
    }

    /// What is not a file the tools can read is named plainly, with the path, not as a Cocoa error.
    @Test(arguments: [["conform", "check"], ["inspect"]])
    func whatIsNotAFileIsNamed(_ command: [String]) async throws {
        for (path, message) in [("/tmp", "error: /tmp is a folder, not a file\n"),
                                ("/dev/null", "error: /dev/null is not a regular file (it is a character device)\n"),
                                ("/no/such/file.otlpmmap", "error: /no/such/file.otlpmmap: no such file\n")] {
            let result = try await TestSupport.run(command + [path])
            #expect(result.status != 0)
            #expect(result.stderr == message, "\(command) \(path)")
        }
    }

    @Test(arguments: validFiles)
    func everyValidFilePassesAndDecodesAsRecorded(_ name: String) throws {
        let path = Self.golden.appendingPathComponent("valid/\(name)").path
        let report = try FileChecker.check(path: path)
        #expect(report.findings == [], "\(report.findings)")
        // The committed decode is what today's reader makes of the committed bytes.
        let expected = try String(contentsOfFile: path.replacingOccurrences(of: ".otlpmmap", with: ".json"), encoding: .utf8)
        var decode = Inspector.inspect(try MmapFile.open(path: path))
        if case .object(var pairs) = decode, let index = pairs.firstIndex(where: { $0.0 == "file" }) {
            pairs[index].1 = .string("valid/\(name)")
            decode = .object(pairs)
        }
        #expect(decode.serialized() + "\n" == expected)
    }

    @Test func everyMustRuleHasAnInvalidGoldenFile() {
        let demonstrated = Set(Self.manifest.flatMap(\.rules))
        for rule in RuleCatalogue.all where rule.level == .must && !InvalidCases.liveOnlyRules.contains(rule.id.rawValue) {
            #expect(demonstrated.contains(rule.id.rawValue), "no invalid golden file breaks \(rule.id)")
        }
        #expect(Self.manifest.count >= 20)
    }

    @Test func theCommandReportsInEveryFormatAndFailsOnMustViolations() async throws {
        let invalid = Self.golden.appendingPathComponent("invalid/ring-pow2.otlpmmap").path
        let valid = Self.golden.appendingPathComponent("valid/every-ring.otlpmmap").path

        let text = try await TestSupport.run(["conform", "check", invalid])
        #expect(text.status == 1)
        #expect(text.stdout.contains("RING-POW2") && text.stdout.contains("MUST") && text.stdout.contains("FAIL"))

        let passing = try await TestSupport.run(["conform", "check", valid])
        #expect(passing.status == 0, "\(passing.stdout)")

        let json = try await TestSupport.run(["conform", "check", "--format", "json", valid, invalid])
        #expect(json.status == 1)
        let document = try JSON(parsing: json.stdout)
        #expect(document["passed"].bool == false)
        #expect(document["files"].array.map { $0["passed"].bool } == [true, false])
        let finding = document["files"][1]["findings"][0]
        #expect(finding["rule"].string == "RING-POW2" && finding["level"].string == "MUST" && finding["offset"].int == 64)

        let junit = try await TestSupport.run(["conform", "check", "--format", "junit", invalid])
        #expect(junit.status == 1)
        let collector = try #require(JUnitCollector.parse(junit.stdout))
        #expect(collector.testcases == RuleCatalogue.all.count)
        #expect(collector.failedCases == ["RING-POW2"])
    }
}
