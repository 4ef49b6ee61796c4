import Foundation
import Testing
import TestSupport

/// The writer's zero-allocation claim, checked in the test run as swift-nio checks allocation
/// counts in CI: the allocation probe (Tests/AllocationProbe, linked with counting allocator entry
/// points, built in release as applications run the writer) writes each kind of record after a
/// warm-up and reports the writing thread's heap allocations. tools/test.sh builds it and names it
/// in OTLP_MMAP_ALLOCATION_PROBE; without it the test builds it.
@Suite struct AllocationTests {
    static func probe() async throws -> String {
        if let path = ProcessInfo.processInfo.environment["OTLP_MMAP_ALLOCATION_PROBE"], !path.isEmpty { return path }
        let flags = ["swift", "build", "-c", "release", "--product", "allocation-probe", "--static-swift-stdlib", "--scratch-path", ".build-release"]
        let built = try await TestSupport.run(flags, executable: "/usr/bin/env", timeout: 1_800)
        #expect(built.status == 0, "\(built.stderr.suffix(2_000))")
        let bin = try await TestSupport.run(flags + ["--show-bin-path"], executable: "/usr/bin/env", timeout: 600)
        return bin.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/allocation-probe"
    }

    @Test(.timeLimit(.minutes(30))) func writingARecordAllocatesNothing() async throws {
        let probe = try await Self.probe()
        let file = try TestSupport.temporaryDirectory().appendingPathComponent("probe.otlpmmap").path
        let records = 20_000
        let result = try await TestSupport.run([file, "\(records)"], executable: probe, timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        let measured = rows.filter { !$0[0].hasPrefix("control") }
        #expect(measured.count >= 7, "\(result.stdout)")
        for row in measured {
            #expect(row.count == 4 && row[1] == "0", "\(row[0]): \(row[1]) allocations over \(records) records")
            #expect(row.count == 4 && row[2] == "\(records)", "\(row[0]): only \(row.count > 2 ? row[2] : "?") of \(records) records written")
        }
        // The counting is live: an operation that allocates is seen doing it, once per run.
        let control = try #require(rows.first { $0[0].hasPrefix("control") })
        #expect((Int(control[1]) ?? 0) >= records, "\(control)")
    }
}
