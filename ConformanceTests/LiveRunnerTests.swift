import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// `conform run` against real writer processes: the reference writer passes every scenario; broken,
/// crashing, failing and hanging writers fail with the reason, and the runner never hangs.
@Suite struct LiveRunnerTests {
    static let scenarioNames = ["dictionary", "logs", "metrics", "spans", "volume"]

    func run(_ arguments: [String], writer: [String]) throws -> (status: Int32, json: JSON) {
        let result = try TestSupport.run(["conform", "run", "--format", "json"] + arguments + ["--"] + writer, timeout: 120)
        return (result.status, try JSON(parsing: result.stdout))
    }

    @Test func theReferenceWriterPassesEveryScenario() throws {
        let (status, json) = try run([], writer: [TestSupport.toolPath, "scenario-writer"])
        #expect(status == 0, "\(json)")
        #expect(json["scenarios"].array.map { $0["name"].string ?? "" } == Self.scenarioNames)
        #expect(json["scenarios"].array.allSatisfy { $0["passed"].bool == true })
        #expect(json["scenarios"].array.first { $0["name"].string == "volume" }?["records_read"].int == 1_000)
        #expect(json["scenarios"].array.first { $0["name"].string == "dictionary" }?["records_read"].int == 12)
    }

    @Test(arguments: ["SLOT-LENGTH", "RING-HOLE", "REC-SPAN-ID"])
    func aWriterBreakingARuleIsReportedWithExactlyThatRule(_ rule: String) throws {
        let (status, json) = try run(["--scenario", "spans", "--hole-timeout", "1"], writer: [TestSupport.toolPath, "scenario-writer", "--break", rule])
        #expect(status == 1)
        let scenario = json["scenarios"][0]
        #expect(scenario["passed"].bool == false)
        #expect(scenario["rules"].array.map { $0.string } == [rule])
    }

    @Test func aCrashingWriterFailsWithItsSignal() throws {
        let (status, json) = try run(["--scenario", "metrics"], writer: [TestSupport.toolPath, "scenario-writer", "--break", "CRASH"])
        #expect(status == 1)
        #expect(json["scenarios"][0]["failures"].array.contains { $0.string?.contains("died of signal 9") == true })
    }

    @Test func aWriterExitingWithAnErrorFails() throws {
        let (status, json) = try run(["--scenario", "metrics"], writer: ["/bin/sh", "-c", "echo broken >&2; exit 3"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("exited with status 3") && $0.contains("broken") })
        #expect(failures.contains { $0.contains("never created the file") })
    }

    @Test func aHangingWriterIsKilledAtTheTimeout() throws {
        let started = Date()
        let (status, json) = try run(["--scenario", "spans", "--timeout", "2"], writer: ["/bin/sleep", "100"])
        #expect(status == 1)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(json["scenarios"][0]["failures"].array.contains { $0.string?.contains("did not finish within 2.0 s") == true })
    }

    @Test func aWriterThatShrinksItsFileDoesNotCrashTheRunner() throws {
        let script = "\"$0\" scenario-writer && truncate -s 100 \"$SDK_MMAP_EXPORTER_FILE\" && sleep 0.5"
        let (status, json) = try run(["--scenario", "metrics"], writer: ["/bin/sh", "-c", script, TestSupport.toolPath])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("HDR-") }, "\(failures)")
    }

    @Test func aWriterOfOtherContentFailsTheComparison() throws {
        // The demo writer ignores the scenario: valid records, wrong content.
        let (status, json) = try run(["--scenario", "spans"], writer: [TestSupport.toolPath, "write", "--spans", "1", "--threads", "1"])
        #expect(status == 1)
        #expect(json["scenarios"][0]["rules"].array.isEmpty)
        #expect(json["scenarios"][0]["failures"].array.contains { $0.string?.contains("spans: read 4 records, the scenario expects 7") == true })
    }

    @Test func junitHasOneTestCasePerScenario() throws {
        let result = try TestSupport.run(["conform", "run", "--format", "junit", "--", TestSupport.toolPath, "scenario-writer"], timeout: 120)
        #expect(result.status == 0)
        let collector = try #require(JUnitCollector.parse(result.stdout))
        #expect(collector.testcases == Self.scenarioNames.count)
        #expect(collector.failedCases.isEmpty)
    }
}
