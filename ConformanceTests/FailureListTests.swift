import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// `--failure-list`: a listed failure is expected, a listed check that passes is reported (and fails
/// the run, so the list is kept up to date), an unlisted failure fails the run, and a list naming no
/// known check is refused with its line.
@Suite struct FailureListTests {
    /// Runs `conform run` with a failure list holding `list`.
    func run(_ list: String, _ arguments: [String], writer: [String], format: String = "json") async throws -> (status: Int32, stdout: String, stderr: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("failures-\(UUID().uuidString).txt")
        try list.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await TestSupport.run(["conform", "run", "--format", format, "--failure-list", file.path] + arguments + ["--"] + writer)
        return (result.status, result.stdout, "\(result.stderr)")
    }

    static let losing = [TestSupport.toolPath, "testee", "--bug", "lose-records"]

    @Test(arguments: ["volume/CONTENT-LOST", "CONTENT-LOST", "*/CONTENT-*", "vol?me/*"])
    func aListedFailureIsExpected(_ pattern: String) async throws {
        let result = try await run("# known since the SDK rewrite\n\(pattern)   # loses every fifth record\n", ["--scenario", "volume"], writer: Self.losing)
        #expect(result.status == 0, "\(result.stdout)")
        let json = try JSON(parsing: result.stdout)
        #expect(json["scenarios"][0]["status"].string == "expected failure")
        #expect(json["scenarios"][0]["failures"].count == 0)
        #expect(json["scenarios"][0]["expected_failures"].count > 0)
        #expect(json["summary"].string == "0 passed, 0 failed, 0 skipped, 1 expected failures")
    }

    @Test func anUnlistedFailureFailsTheRun() async throws {
        // The entry is for another scenario (not run, so not reported either).
        let result = try await run("logs/CONTENT-LOST\n", ["--scenario", "volume"], writer: Self.losing)
        #expect(result.status == 1)
        let json = try JSON(parsing: result.stdout)
        #expect(json["scenarios"][0]["status"].string == "failed")
        #expect(json["now_passing"].count == 0)
        #expect(json["summary"].string == "0 passed, 1 failed, 0 skipped, 0 expected failures")
    }

    @Test func aListedCheckThatPassesIsReported() async throws {
        let result = try await run("spans/CONTENT-LOST # fixed?\nvolume/RING-HOLE\n", ["--scenario", "spans"], writer: [TestSupport.toolPath, "testee"], format: "text")
        #expect(result.status == 1)
        #expect(result.stdout.contains("  PASS  spans"), "\(result.stdout)")
        #expect(result.stdout.contains("line 1: spans/CONTENT-LOST  # fixed?"), "\(result.stdout)")
        #expect(!result.stdout.contains("volume/RING-HOLE"), "an entry for a scenario not run is not reported: \(result.stdout)")
        #expect(result.stdout.hasSuffix("1 passed, 0 failed, 0 skipped, 0 expected failures, 1 listed failures now pass\n"), "\(result.stdout)")
    }

    @Test func junitShowsExpectedFailuresAsSkipped() async throws {
        let result = try await run("volume/CONTENT-LOST\n", ["--scenario", "volume", "--scenario", "spans"], writer: Self.losing, format: "junit")
        #expect(result.status == 1, "spans loses records too, unlisted")
        let document = try XMLDocument(data: Data(result.stdout.utf8))
        let cases = try document.nodes(forXPath: "//testcase")
        #expect(cases.count == 2)
        #expect(try document.nodes(forXPath: "//testcase[@name='volume']/skipped[starts-with(@message, 'expected failure: CONTENT-LOST')]").count == 1)
        #expect(try document.nodes(forXPath: "//testcase[@name='spans']/failure").count == 1)
    }

    @Test(arguments: [("NOT-A-CHECK\n", "line 1: 'NOT-A-CHECK' names no rule"), ("\n\na/b/c\n", "line 3: 'a/b/c' is not a check")])
    func aListNamingNoCheckIsRefused(_ list: String, _ message: String) async throws {
        let result = try await run(list, ["--scenario", "spans"], writer: [TestSupport.toolPath, "testee"])
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
