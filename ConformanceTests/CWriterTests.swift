import Foundation
import OTLPMmapConformance
import OTLPMmapTestee
import Testing
import TestSupport

/// The third-party writer in C (tools/c-writer), written from the protocol alone and driven through
/// the testee protocol, passes `conform run` on every scenario, and fails as intended when told to
/// break a rule.
@Suite(.serialized) struct CWriterTests {
    static let writer = TestSupport.repositoryRoot.appendingPathComponent("tools/c-writer/build/otlp-mmap-c-writer").path

    /// Builds the writer (tools/test.sh installs protobuf-c first); the build's output explains a failure.
    static func build() async throws {
        let result = try await TestSupport.run(["-C", TestSupport.repositoryRoot.appendingPathComponent("tools/c-writer").path], executable: "/usr/bin/make")
        #expect(result.status == 0, "make -C tools/c-writer failed: \(result.stdout)\(result.stderr)")
    }

    func run(_ arguments: [String]) async throws -> (status: Int32, json: JSON) {
        try await Self.build()
        let result = try await TestSupport.run(["conform", "run", "--format", "json"] + arguments, timeout: 120)
        return (result.status, try JSON(parsing: result.stdout))
    }

    @Test func theCWriterPassesEveryScenario() async throws {
        let (status, json) = try await run(["--", Self.writer])
        #expect(status == 0, "\(json)")
        #expect(json["scenarios"].count == LiveRunnerTests.scenarioNames.count)
        #expect(json["scenarios"].array.allSatisfy { $0["passed"].bool == true })
    }

    @Test(arguments: ["SLOT-LENGTH", "RING-HOLE", "REC-SPAN-ID", "HDR-VERSION"])
    func theCWriterBreakingARuleIsReportedWithExactlyThatRule(_ rule: String) async throws {
        let (status, json) = try await run(["--scenario", "spans", "--hole-timeout", "1", "--", Self.writer, "--break", rule])
        #expect(status == 1)
        #expect(json["scenarios"][0]["rules"].array.map { $0.string } == [rule])
    }

    @Test func theCWriterPassesThreeHundredFuzzCases() async throws {
        try await Self.build()
        let (status, json, _) = try await FuzzRunTests.fuzz(["--seed", "20261201", "--cases", "300"], writer: [Self.writer])
        #expect(status == 0, "\(json)")
        #expect(json["cases"].int == 300)
    }

    /// Each planted bug is found from a fixed seed within a few cases, shrunk to a small case, and
    /// the saved case fails the same way when replayed. (early-publish is a timing bug: fuzzing finds
    /// it by chance, in a case that may not fail again; `anEarlyPublishOfHalfAMillisecondIsCaughtEveryTime`
    /// is its deterministic test.)
    @Test(arguments: [("long-strings", 3), ("overwrite", 70)])
    func thePlantedBugsAreFoundAndShrunk(_ bug: String, _ maximumSteps: Int) async throws {
        try await Self.build()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(bug)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (status, json, _) = try await FuzzRunTests.fuzz(["--seed", "1", "--cases", "40"], writer: [Self.writer, "--bug", bug], directory: folder)
        #expect(status == 1, "\(json)")
        let failure = json["failure"]
        let check = try #require(failure["checks"].array.first?.string)
        #expect((failure["shrunk_steps"].int ?? 999) <= Int64(maximumSteps), "\(json)")
        #expect((failure["shrunk_steps"].int ?? 0) < (failure["original_steps"].int ?? 0) || failure["original_steps"].int == 1, "\(json)")
        let replay = try #require(failure["replay"].string)
        let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(replay).path)[.size] as? Int ?? 0
        #expect(size > 0 && size < 4_000, "a replay file of \(size) bytes")
        let again = try await TestSupport.run(["conform", "fuzz", "--jobs", "1", "--replay", replay, "--repeat", "3", "--format", "json", "--", Self.writer, "--bug", bug],
                                              directory: folder)
        #expect(again.status == 1)
        #expect(try JSON(parsing: again.stdout)["scenarios"][0]["checks"].array.contains { $0.string == check }, "\(again.stdout)")
    }

    /// The backpressure scenario pauses the runner's consumer: writing over an unread slot breaks the
    /// ring's capacity, and publishing before the bytes are in place shows as a slot that changed.
    @Test(arguments: [("overwrite", "RING-CAPACITY"), ("early-publish", "RING-FLAG")])
    func theBackpressureCheckCatchesTheRingBugs(_ bug: String, _ rule: String) async throws {
        let (status, json) = try await run(["--scenario", "backpressure", "--", Self.writer, "--bug", bug])
        #expect(status == 1)
        #expect(json["scenarios"][0]["rules"].array.first?.string == rule, "\(json)")
    }

    /// Issue 19: the text report ends with the closing line `conform run` ends with, and a saved case
    /// replayed with --repeat says how often it failed (a race may fail 7 of 26 replays).
    @Test func fuzzReportsEndWithTheClosingLineAndReplaysCountFailures() async throws {
        try await Self.build()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-closing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fuzz = try await TestSupport.run(["conform", "fuzz", "--jobs", "1", "--seed", "1", "--cases", "40", "--", Self.writer, "--bug", "long-strings"], directory: folder)
        #expect(fuzz.status == 1)
        let lines = fuzz.stdout.split(separator: "\n").map(String.init)
        // Parallel jobs may have run cases beyond the failing one; each of them is counted.
        let ran = try #require(lines.first.flatMap { $0.split(separator: ", ").dropFirst(1).first }.flatMap { Int($0.prefix { $0.isNumber }) }, "\(fuzz.stdout)")
        #expect(lines.last == "\(ran - 1) passed, 1 failed, 0 skipped, 0 expected failures", "\(fuzz.stdout)")
        let replay = try #require(lines.first { $0.hasPrefix("saved to ") }.map { String($0.dropFirst(9)) })

        let again = try await TestSupport.run(["conform", "fuzz", "--jobs", "1", "--replay", replay, "--repeat", "3", "--", Self.writer, "--bug", "long-strings"], directory: folder)
        #expect(again.status == 1)
        #expect(again.stdout.hasSuffix("the case fails 3 of 3 replays\n"), "\(again.stdout)")
        let fixed = try await TestSupport.run(["conform", "fuzz", "--replay", replay, "--repeat", "2", "--", Self.writer], directory: folder)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(fixed.stdout.hasSuffix("the case fails 0 of 2 replays\n"), "\(fixed.stdout)")
    }

    /// Issue 19: the paused runner watches published unread slots between waits of 100 µs, not only
    /// after a millisecond without a reply, so a flag raised half a millisecond before the bytes
    /// (the C testee's early-publish window) is caught in every run, not now and then.
    @Test func anEarlyPublishOfHalfAMillisecondIsCaughtEveryTime() async throws {
        var caught = 0
        for _ in 0..<6 {
            let (status, json) = try await run(["--scenario", "backpressure", "--", Self.writer, "--bug", "early-publish"])
            if status == 1, json["scenarios"][0]["rules"].array.first?.string == "RING-FLAG" { caught += 1 }
        }
        #expect(caught == 6, "caught in \(caught) of 6 runs")
    }

    /// Issue 19: a writer that claims a slot before checking the record's size passed every named
    /// scenario. The too-large scenario sends records that fit no slot; the runner sees the ring's
    /// writer_index move during a command answered TOO_LARGE and names the rule and the command.
    @Test func aClaimBeforeTheSizeCheckIsNamedWithItsCommand() async throws {
        let (status, json) = try await run(["--scenario", "too-large", "--", Self.writer, "--bug", "claim-before-size"])
        #expect(status == 1)
        let scenario = json["scenarios"][0]
        #expect(scenario["rules"].array.first?.string == "RING-SIZE-BEFORE-CLAIM", "\(json)")
        let messages = scenario["failures"].array.map { $0.string ?? "" }
        #expect(messages.contains { $0.contains("command 3 (log) was answered TOO_LARGE") && $0.contains("events ring's writer_index moved") },
                "\(messages)")
        // Without the bug the same writer passes it.
        let (clean, _) = try await run(["--scenario", "too-large", "--", Self.writer])
        #expect(clean == 0)
    }
}
