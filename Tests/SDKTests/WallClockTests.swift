import Foundation
import OTLPMmapCore
import OTLPMmapLayout
@testable import OTLPMmapSDK
import Testing

/// The writer's default clock reads the cycle counter instead of calling clock_gettime; its times
/// must stay those of the system clock.
@Suite struct WallClockTests {
    @Test func theScaleIsNanosecondsPerTickInThirtyTwoBitFixedPoint() {
        #expect(CycleClock.scale(nanos: 1_000_000, ticks: 1_000_000) == 1 << 32)
        #expect(CycleClock.scale(nanos: 1_000_000, ticks: 3_000_000) == (1 << 32) / 3)
        // A 24 MHz counter (AArch64) ticks every 41.67 ns.
        #expect(CycleClock.scale(nanos: 1_000_000_000, ticks: 24_000_000) == UInt64((1_000_000_000 << 32) / 24_000_000))
        // A week at 3 GHz does not overflow.
        let week: UInt64 = 7 * 86_400 * 1_000_000_000
        #expect(CycleClock.scale(nanos: week, ticks: week * 3) == (1 << 32) / 3)
    }

    @Test func theCycleClockStaysWithFiveMicrosecondsOfTheSystemClock() throws {
        guard CycleClock.isTrusted() else {
            // Elsewhere the writer uses clock_gettime itself; nothing to compare.
            #expect(CycleClock.shared == nil)
            return
        }
        let clock = CycleClock()
        let tolerance: UInt64 = 5_000
        var worst: Int64 = 0
        // Reads spread over 30 ms, so that they fall everywhere between two anchors (one a
        // millisecond), where a wrong scale would show most.
        let end = nowUnixNano() + 30_000_000
        while nowUnixNano() < end {
            let before = nowUnixNano()
            let time = clock.now()
            let after = nowUnixNano()
            #expect(time + tolerance >= before && time <= after + tolerance,
                    "cycle clock \(time) outside [\(before), \(after)] ± \(tolerance) ns")
            worst = max(worst, Int64(bitPattern: before &- time), Int64(bitPattern: time &- after))
            if worst > Int64(tolerance) { break }
            let pause = nowUnixNano() + 7_000
            while nowUnixNano() < pause {}
        }
        #expect(worst < Int64(tolerance), "worst distance from the system clock: \(worst) ns")
    }

    @Test func theWriterTimesRecordsWithTheSystemClockByDefault() throws {
        let writer = try makeWriter()
        let before = nowUnixNano()
        let span = writer.startSpan("timed")
        let after = nowUnixNano()
        let events = try drain(SpanEvent.self, writer.file, .spans)
        guard case .start(let start)? = events.first?.event else {
            Issue.record("no span start record")
            return
        }
        #expect(start.startTimeUnixNano + 5_000 >= before && start.startTimeUnixNano <= after + 5_000)
        _ = span
    }
}
