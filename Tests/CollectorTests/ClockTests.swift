import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// Every deadline of the collector runs on its monotonic clock: here a manual one that the test
/// drives, next to a wall clock that the test steps as an administrator or NTP would.
@Suite struct ClockTests {
    static let wallStart: UInt64 = 1_700_000_000_000_000_000

    @Test(arguments: [-3_600, 86_400])
    func steppingTheWallClockChangesNeitherHolesNorSpanExpiry(stepSeconds: Int64) async throws {
        let writer = try makeWriter("step-\(stepSeconds)")
        let events = writer.file.ring(.events)
        _ = try #require(events.claim())                       // a hole: its writer "died" after claiming
        writer.log(.info, .text("behind the hole"), time: 7)
        let span = writer.startSpan("left open", kind: .internal)

        let clock = ManualClock()
        let wall = SteppableWallClock(Self.wallStart)
        let exporter = CapturingExporter()
        let collector = Collector(configuration: testConfiguration(writer.file.path) {
            $0.holeTimeout = .seconds(1)
            $0.spanTimeout = .seconds(5)
            $0.checkpointPath = nil
        }, exporter: exporter, time: TimeSource(clock: clock, wall: wall.read))
        let task = Task { await collector.run() }

        // At most 50 ms of manual time to read the span: the hole's age below counts from here.
        try await drive(clock, for: .milliseconds(50), until: { collector.statistics[.records, signal: .traces] >= 1 })
        wall.step(by: stepSeconds * 1_000_000_000)

        // 0.9 s after the hole was first seen: still waited for, whatever the wall clock did.
        try await drive(clock, for: .milliseconds(900))
        #expect(collector.statistics[.holesSkipped] == 0, "a wall clock stepped by \(stepSeconds) s made the hole overdue")
        #expect(exporter.logRecords.isEmpty)
        // Past the hole timeout: skipped once, and the record behind it arrives.
        try await drive(clock, for: .milliseconds(200), until: { exporter.logRecords.count >= 1 })
        #expect(collector.statistics[.holesSkipped] == 1)
        #expect(exporter.logRecords.map(\.timeUnixNano) == [7])

        // The open span expires 5 s (monotonic) after it was seen, not when the wall clock jumps.
        try await drive(clock, for: .seconds(3))
        #expect(collector.statistics[.expiredSpans] == 0, "a wall clock stepped by \(stepSeconds) s expired the span early")
        try await drive(clock, for: .seconds(3), until: { exporter.spans.count >= 1 })
        #expect(collector.statistics[.expiredSpans] == 1)
        // Its end, a timestamp, is wall time: the stepped clock's.
        let end = try #require(exporter.spans.first?.endTimeUnixNano)
        #expect(Int64(end) - Int64(Self.wallStart) >= stepSeconds * 1_000_000_000)

        collector.stop()
        await task.value
        _ = span
    }

    @Test func aRestartedCollectorKeepsTheIdleAgeOfOpenSpansNotTheirInstant() async throws {
        // The checkpoint keeps how long a span has been idle; a restarted collector (a new
        // monotonic origin) counts the rest of the timeout from there.
        let writer = try makeWriter()
        _ = writer.startSpan("idle", kind: .internal)
        let checkpoint = writer.file.path + ".checkpoint"
        let first = ManualClock(), wall = SteppableWallClock(Self.wallStart)
        let configure: (inout CollectorConfiguration) -> Void = {
            $0.spanTimeout = .seconds(10)
            $0.checkpointPath = checkpoint
            $0.checkpointInterval = .milliseconds(10)
        }
        let exporter = CapturingExporter()
        let collector = Collector(configuration: testConfiguration(writer.file.path, configure: configure), exporter: exporter,
                                  time: TimeSource(clock: first, wall: wall.read))
        let task = Task { await collector.run() }
        // At most 2 + 6 s of manual time: the span (timeout 10 s) must not expire here.
        try await drive(first, for: .seconds(2), until: { collector.statistics[.checkpointsWritten] >= 1 })
        try await drive(first, for: .seconds(6))
        collector.stop()
        await task.value
        #expect(exporter.spans.isEmpty)

        // The wall clock says a day went by; the age says 6 s. 3 s later the span is still open, 5 s later not.
        wall.step(by: 86_400 * 1_000_000_000)
        let second = ManualClock(), again = CapturingExporter()
        let restarted = Collector(configuration: testConfiguration(writer.file.path, configure: configure), exporter: again,
                                  time: TimeSource(clock: second, wall: wall.read))
        let next = Task { await restarted.run() }
        // The age counts on from the restore: at most 0.5 + 3 s later the span has been idle under 10 s.
        try await drive(second, for: .milliseconds(500), until: { restarted.statistics[.checkpointsRestored] >= 1 })
        try await drive(second, for: .seconds(3))
        #expect(restarted.statistics[.expiredSpans] == 0)
        try await drive(second, for: .seconds(2), until: { again.spans.count >= 1 })
        #expect(restarted.statistics[.expiredSpans] == 1)
        restarted.stop()
        await next.value
    }
}

/// Advances `clock` in 10 ms steps, letting the collector's tasks run in between (real time only
/// for that), for `duration` of manual time or — with `until` — until the condition holds. When
/// `duration` of manual time has passed and the condition still does not hold, waits up to 20 s of
/// real time without advancing the clock (failing the test after that): on a loaded machine the
/// collector's tasks fall behind the clock, and a clock run on past a bound the test relies on (a
/// span timeout, say) would change what the test sees.
func drive(_ clock: ManualClock, for duration: Duration? = nil, until condition: (@Sendable () -> Bool)? = nil,
           sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let limit = duration ?? .seconds(60)
    var elapsed = Duration.zero
    while elapsed < limit {
        if let condition, condition() { return }
        clock.advance(by: .milliseconds(10))
        elapsed += .milliseconds(10)
        try await Task.sleep(for: .milliseconds(1))
    }
    guard let condition else { return }
    let deadline = ContinuousClock.now + .seconds(20)
    while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
    if !condition() { Issue.record("condition not met within \(limit) of manual time and 20 s of real time", sourceLocation: sourceLocation) }
}
