import Foundation
import Testing
import TestSupport

/// The third-party writer in C (tools/c-writer), written from the protocol alone and driven through
/// the testee protocol, passes `conform run` on every scenario, and fails as intended when told to
/// break a rule.
@Suite(.serialized) struct CWriterTests {
    static let writer = TestSupport.repositoryRoot.appendingPathComponent("tools/c-writer/build/otlp-mmap-c-writer").path

    /// Builds the writer (tools/test.sh installs protobuf-c first); the build's output explains a failure.
    static func build() throws {
        let result = try TestSupport.run(["-C", TestSupport.repositoryRoot.appendingPathComponent("tools/c-writer").path], executable: "/usr/bin/make")
        #expect(result.status == 0, "make -C tools/c-writer failed: \(result.stdout)\(result.stderr)")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, json: JSON) {
        try Self.build()
        let result = try TestSupport.run(["conform", "run", "--format", "json"] + arguments, timeout: 120)
        return (result.status, try JSON(parsing: result.stdout))
    }

    @Test func theCWriterPassesEveryScenario() throws {
        let (status, json) = try run(["--", Self.writer])
        #expect(status == 0, "\(json)")
        #expect(json["scenarios"].count == LiveRunnerTests.scenarioNames.count)
        #expect(json["scenarios"].array.allSatisfy { $0["passed"].bool == true })
    }

    @Test(arguments: ["SLOT-LENGTH", "RING-HOLE", "REC-SPAN-ID", "HDR-VERSION"])
    func theCWriterBreakingARuleIsReportedWithExactlyThatRule(_ rule: String) throws {
        let (status, json) = try run(["--scenario", "spans", "--hole-timeout", "1", "--", Self.writer, "--break", rule])
        #expect(status == 1)
        #expect(json["scenarios"][0]["rules"].array.map { $0.string } == [rule])
    }
}
