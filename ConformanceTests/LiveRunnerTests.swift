import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// `conform run` against real testee processes: the reference writer passes every scenario; broken,
/// crashing, failing, hanging and garbage-answering testees fail with the reason, and the runner
/// never hangs.
@Suite struct LiveRunnerTests {
    static let scenarioNames = ["backpressure", "dictionary", "logs", "metrics", "parallel", "spans", "too-large", "volume"]

    func run(_ arguments: [String], writer: [String]) async throws -> (status: Int32, json: JSON) {
        let result = try await TestSupport.run(["conform", "run", "--format", "json"] + arguments + ["--"] + writer, timeout: 120)
        return (result.status, try JSON(parsing: result.stdout))
    }

    @Test func theReferenceWriterPassesEveryScenario() async throws {
        let (status, json) = try await run([], writer: [TestSupport.toolPath, "testee"])
        #expect(status == 0, "\(json)")
        #expect(json["scenarios"].array.map { $0["name"].string ?? "" } == Self.scenarioNames)
        #expect(json["scenarios"].array.allSatisfy { $0["passed"].bool == true })
        #expect(json["scenarios"].array.first { $0["name"].string == "volume" }?["records_read"].int == 1_000)
        #expect(json["scenarios"].array.first { $0["name"].string == "dictionary" }?["records_read"].int == 12)
    }

    @Test(arguments: ["SLOT-LENGTH", "RING-HOLE", "REC-SPAN-ID"])
    func aWriterBreakingARuleIsReportedWithExactlyThatRule(_ rule: String) async throws {
        let (status, json) = try await run(["--scenario", "spans", "--hole-timeout", "1"], writer: [TestSupport.toolPath, "testee", "--break", rule])
        #expect(status == 1)
        let scenario = json["scenarios"][0]
        #expect(scenario["passed"].bool == false)
        #expect(scenario["rules"].array.map { $0.string } == [rule])
        // One root cause, reported once: the broken record is not also CONTENT-LOST or CONTENT-UNEXPECTED.
        #expect(scenario["checks"].array.map { $0.string } == [rule], "\(scenario)")
    }

    @Test func aCrashingWriterFailsWithItsSignal() async throws {
        let (status, json) = try await run(["--scenario", "metrics"], writer: [TestSupport.toolPath, "testee", "--break", "CRASH"])
        #expect(status == 1)
        #expect(json["scenarios"][0]["failures"].array.contains { $0.string?.contains("died of signal 9") == true })
    }

    @Test func aWriterExitingWithAnErrorFails() async throws {
        let (status, json) = try await run(["--scenario", "metrics"], writer: ["/bin/sh", "-c", "echo broken >&2; exit 3"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("exited with status 3") && $0.contains("command 1 (create_file)") && $0.contains("broken") }, "\(failures)")
    }

    @Test func aHangingWriterIsKilledAtTheTimeout() async throws {
        let started = ContinuousClock.now
        let (status, json) = try await run(["--scenario", "spans", "--timeout", "2"], writer: ["/bin/sleep", "100"])
        #expect(status == 1)
        #expect(ContinuousClock.now - started < .seconds(60), "the hanging writer was not killed at its timeout")
        #expect(json["scenarios"][0]["failures"].array.contains { $0.string?.contains("did not finish within 2.0 seconds") == true })
    }

    /// A writer that waits for room instead of dropping hangs once the runner stops reading. (The
    /// runner tells the testee how long to wait in create_file; the reference testee does as told.)
    @Test func aWriterThatWaitsForeverOnAFullRingFailsWithWhy() async throws {
        let (status, json) = try await run(["--scenario", "backpressure", "--timeout", "4", "--full-ring-wait-ms", "60000"],
                                     writer: [TestSupport.toolPath, "testee"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.hasPrefix("TESTEE-PROTOCOL: the testee did not finish within 4.0 seconds")
            && $0.hasSuffix("while the runner had stopped reading: a writer whose ring stays full answers DROPPED rather than wait") }, "\(failures)")
    }

    @Test func aWriterThatShrinksItsFileDoesNotCrashTheRunner() async throws {
        let script = "\"$0\" testee && truncate -s 100 \"$SDK_MMAP_EXPORTER_FILE\" && sleep 0.5"
        let (status, json) = try await run(["--scenario", "metrics"], writer: ["/bin/sh", "-c", script, TestSupport.toolPath])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("HDR-") }, "\(failures)")
    }

    @Test func aTesteeThatLosesRecordsFailsTheComparison() async throws {
        // Every record is valid, and every fifth one answered OK is missing.
        let (status, json) = try await run(["--scenario", "volume"], writer: [TestSupport.toolPath, "testee", "--bug", "lose-records"])
        #expect(status == 1)
        let scenario = json["scenarios"][0]
        #expect(scenario["checks"].array.map { $0.string } == ["CONTENT-LOST"])
        #expect(scenario["records_read"].int == 800)
        let failures = scenario["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("command 6 (start_span) was answered OK but its record never arrived") }, "\(failures)")
        #expect(failures.contains { $0.contains("195 more commanded records never arrived") }, "\(failures)")
    }

    /// Issue 19: answers are checked against the file. DROPPED means "its ring stayed full": one
    /// while the runner read and never saw the ring full is a lost record (REPLY-DROPPED), once per
    /// command for five, then counted.
    @Test func droppedWithRoomInTheRingFailsNamingTheCommand() async throws {
        let (status, json) = try await run(["--scenario", "volume"], writer: [TestSupport.toolPath, "testee", "--bug", "drop-some"])
        #expect(status == 1)
        let scenario = json["scenarios"][0]
        #expect(scenario["checks"].array.map { $0.string } == ["REPLY-DROPPED"], "\(scenario)")
        let failures = scenario["failures"].array.compactMap(\.string)
        #expect(failures.count == 6, "\(failures)")
        #expect(failures.first?.hasPrefix("REPLY-DROPPED: the testee answered DROPPED to command 11 (end_span), but the runner was reading and the spans ring was never full") == true, "\(failures)")
        #expect(failures.last == "REPLY-DROPPED: the testee answered DROPPED with room in the ring to 95 more records")
        // The same writer dropping only while the runner does not read passes backpressure.
        let (paused, pausedJSON) = try await run(["--scenario", "backpressure"], writer: [TestSupport.toolPath, "testee"])
        #expect(paused == 0, "\(pausedJSON)")
    }

    /// A testee that writes nothing proves nothing: DROPPED to everything fails every scenario, and
    /// UNSUPPORTED to everything (all skipped) fails the run unless --allow-skipped.
    @Test func aRunThatCheckedNothingFailsUnlessAllowed() async throws {
        let saying = ["/bin/sh", "-c", "echo 'writer 0.3 starting' >&2; exec \"$@\"", "sh"]
        let (dropped, droppedJSON) = try await run(["--scenario", "logs"], writer: saying + [TestSupport.toolPath, "testee", "--bug", "drop-all"])
        #expect(dropped == 1)
        #expect(droppedJSON["scenarios"][0]["checks"].array.contains { $0.string == "REPLY-DROPPED" })
        // A failed scenario shows what the testee last said on standard error, though it exited normally.
        #expect(droppedJSON["scenarios"][0]["testee_stderr"].string == "writer 0.3 starting", "\(droppedJSON)")

        let (skipped, skippedJSON) = try await run(["--scenario", "logs", "--scenario", "spans"], writer: [TestSupport.toolPath, "testee", "--bug", "unsupported-all"])
        #expect(skipped == 1)
        #expect(skippedJSON["passed"].bool == false)
        #expect(skippedJSON["scenarios"].array.allSatisfy { $0["status"].string == "skipped" })
        #expect(skippedJSON["checked_nothing"].string?.hasPrefix("every scenario was skipped") == true, "\(skippedJSON)")

        let (allowed, allowedJSON) = try await run(["--allow-skipped", "--scenario", "logs"], writer: [TestSupport.toolPath, "testee", "--bug", "unsupported-all"])
        #expect(allowed == 0)
        #expect(allowedJSON["passed"].bool == true)
    }

    @Test func aTesteeAnsweringGarbageFailsWithWhatItSent() async throws {
        // cat echoes the commands back: frames, but not replies.
        let (status, json) = try await run(["--scenario", "spans"], writer: ["/bin/cat"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures == ["TESTEE-PROTOCOL: the testee answered command 1 (create_file) with a frame that is not a Reply, at byte 7 of the stream: a Reply that does not decode: Reply.status (field 2) has wire type 2, expected 0"])
    }

    /// Issue 19: a library that prints to standard output breaks the protocol there; the failure
    /// quotes the text it printed, and with --channel fds (descriptors 3 and 4) the same testee
    /// passes — the reference testee and the C testee both take their descriptors from the variable.
    @Test func aChattyTesteePassesOnTheDescriptorChannel() async throws {
        let chatty = ["/bin/sh", "-c", "echo chatter on standard output; exec \"$@\"", "sh"]
        let (status, json) = try await run(["--scenario", "logs"], writer: chatty + [TestSupport.toolPath, "testee"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.first?.contains("the bytes are text, \"chatter on standard output\\n\"") == true, "\(failures)")
        #expect(failures.first?.contains("--channel fds") == true, "\(failures)")

        let (fds, fdsJSON) = try await run(["--channel", "fds", "--scenario", "logs", "--scenario", "spans"], writer: chatty + [TestSupport.toolPath, "testee"])
        #expect(fds == 0, "\(fdsJSON)")
        try await CWriterTests.build()
        let (c, cJSON) = try await run(["--channel", "fds", "--scenario", "logs"], writer: chatty + [CWriterTests.writer])
        #expect(c == 0, "\(cJSON)")
    }

    @Test func aTesteeAnsweringOutOfOrderFailsWithTheIds() async throws {
        let (status, json) = try await run(["--scenario", "spans"], writer: [TestSupport.toolPath, "testee", "--bug", "wrong-reply-id"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.first == "TESTEE-PROTOCOL: the testee answered with the id 4 while command 3 (start_span) (id 3) waited for its reply: replies must come in the order of the commands", "\(failures)")
    }

    @Test func theBuiltInScenariosAreTheFilesOfTheRepository() async throws {
        // Run from a folder outside the repository, with the scenarios folder named explicitly and not.
        let outside = try TestSupport.temporaryDirectory()
        let builtIn = try await TestSupport.run(["conform", "run", "--format", "json", "--", TestSupport.toolPath, "testee"], timeout: 120, directory: outside)
        #expect(builtIn.status == 0, "\(builtIn.stdout)\(builtIn.stderr)")
        let folder = TestSupport.repositoryRoot.appendingPathComponent("scenarios/writers").path
        let fromFiles = try await TestSupport.run(["conform", "run", "--format", "json", "--scenarios", folder, "--", TestSupport.toolPath, "testee"], timeout: 120)
        // Records read plus records the testee said it dropped: with the runner's short full-ring
        // wait, a loaded machine may turn a read record into a dropped one, never lose it.
        let names = { (text: String) in
            try JSON(parsing: text)["scenarios"].array.map { "\($0["name"].string ?? "") \(($0["records_read"].int ?? -1) + ($0["not_written"].int ?? 0))" }
        }
        #expect(try names(builtIn.stdout) == names(fromFiles.stdout))
        #expect(try names(builtIn.stdout).count == Self.scenarioNames.count)
    }

    @Test func junitHasOneTestCasePerScenario() async throws {
        let result = try await TestSupport.run(["conform", "run", "--format", "junit", "--", TestSupport.toolPath, "testee"], timeout: 120)
        #expect(result.status == 0)
        let collector = try #require(JUnitCollector.parse(result.stdout))
        #expect(collector.testcases == Self.scenarioNames.count)
        #expect(collector.failedCases.isEmpty)
    }
}
