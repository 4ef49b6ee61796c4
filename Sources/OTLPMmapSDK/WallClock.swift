import Atomics
import CPlatform
import Foundation
import OTLPMmapCore
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time for record timestamps: `CycleClock` where the processor has a counter the
/// kernel itself trusts for timekeeping, `nowUnixNano` elsewhere. The writer's default clock.
public func recordTimeUnixNano() -> UInt64 {
    if let clock = CycleClock.shared { return clock.now() }
    return nowUnixNano()
}

/// Wall-clock nanoseconds from the processor's cycle counter, anchored to CLOCK_REALTIME.
///
/// clock_gettime costs about 37 ns on our 2-core VM, a third of a span record's budget; reading
/// the counter costs 15. A reading is `anchor nanoseconds + (counter - anchor counter) × scale`.
/// The anchor is taken again from clock_gettime once a millisecond has passed since the last one,
/// so the clock follows NTP's adjustments and steps, and the error between anchors stays below
/// the scale's error over one millisecond. The scale is measured at start and re-measured at every
/// anchor over the whole time since the start, so it only gets better.
///
/// The anchor is shared by all threads behind a sequence lock: readers never write shared memory;
/// a reader that finds the anchor being replaced uses clock_gettime for that one reading.
package final class CycleClock: @unchecked Sendable {
    /// The process's clock, or nil where the counter is absent or not trusted (see `isTrusted`).
    package static let shared: CycleClock? = isTrusted() ? CycleClock() : nil

    /// Words: sequence (odd while the anchor changes), anchor counter, anchor nanoseconds, scale
    /// (nanoseconds per tick × 2^32), first counter reading, first nanoseconds.
    private let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    static let sequenceWord = 0, anchorTicksWord = 1, anchorNanosWord = 2, scaleWord = 3, startTicksWord = 4, startNanosWord = 5
    /// Reads the clock; shares `words`, which this object owns.
    let reader: Reader

    /// A clock whose scale is measured over `calibration` (busy waiting, once).
    init(calibration: Duration = .milliseconds(1)) {
        words = .allocate(capacity: 6)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: 6)
        let (startTicks, startNanos) = Self.pairedReading()
        let calibrationNanos = UInt64(calibration.components.seconds) * 1_000_000_000 + UInt64(calibration.components.attoseconds / 1_000_000_000)
        var (ticks, nanos) = Self.pairedReading()
        while nanos &- startNanos < calibrationNanos { (ticks, nanos) = Self.pairedReading() }
        let scale = Self.scale(nanos: nanos &- startNanos, ticks: max(1, ticks &- startTicks))
        // Counter ticks in about one millisecond: how long an anchor is used.
        let reanchorTicks = max(1, (ticks &- startTicks) * 1_000_000 / max(1, nanos &- startNanos))
        reader = Reader(words: words, reanchorTicks: reanchorTicks)
        store(Self.startTicksWord, startTicks)
        store(Self.startNanosWord, startNanos)
        store(Self.anchorTicksWord, ticks)
        store(Self.anchorNanosWord, nanos)
        store(Self.scaleWord, scale)
    }

    deinit { words.deallocate() }

    /// The current wall-clock time in nanoseconds since the Unix epoch.
    @inline(__always)
    package func now() -> UInt64 { reader.now() }

    /// What reading the clock needs, as a trivial value: a writer keeps one, so that taking a
    /// time touches no reference count.
    struct Reader: @unchecked Sendable {
        let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
        let reanchorTicks: UInt64

        @inline(__always)
        func now() -> UInt64 {
            let ticks = otlp_mmap_cycle_counter()
            let sequence = word(CycleClock.sequenceWord).load(ordering: .acquiring)
            let anchorTicks = word(CycleClock.anchorTicksWord).load(ordering: .relaxed)
            let anchorNanos = word(CycleClock.anchorNanosWord).load(ordering: .relaxed)
            let scale = word(CycleClock.scaleWord).load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            let elapsed = ticks &- anchorTicks
            guard sequence & 1 == 0, word(CycleClock.sequenceWord).load(ordering: .relaxed) == sequence,
                  elapsed < reanchorTicks else {
                return reanchor(sequence: sequence)
            }
            let product = elapsed.multipliedFullWidth(by: scale)
            return anchorNanos &+ (product.high << 32 | product.low >> 32)
        }

        /// Takes a new anchor (unless another thread is doing so) and returns clock_gettime's time.
        @inline(never)
        func reanchor(sequence: UInt64) -> UInt64 {
            let (ticks, nanos) = CycleClock.pairedReading()
            guard sequence & 1 == 0,
                  word(CycleClock.sequenceWord).compareExchange(expected: sequence, desired: sequence | 1, ordering: .acquiringAndReleasing).exchanged
            else { return nanos }
            let startTicks = word(CycleClock.startTicksWord).load(ordering: .relaxed)
            let startNanos = word(CycleClock.startNanosWord).load(ordering: .relaxed)
            if ticks > startTicks && nanos > startNanos {
                word(CycleClock.scaleWord).store(CycleClock.scale(nanos: nanos - startNanos, ticks: ticks - startTicks), ordering: .relaxed)
            }
            word(CycleClock.anchorTicksWord).store(ticks, ordering: .relaxed)
            word(CycleClock.anchorNanosWord).store(nanos, ordering: .relaxed)
            word(CycleClock.sequenceWord).store(sequence &+ 2, ordering: .releasing)
            return nanos
        }

        @inline(__always)
        func word(_ index: Int) -> UnsafeAtomic<UInt64> { UnsafeAtomic(at: words + index) }
    }

    /// Nanoseconds per tick × 2^32, without overflow for any realistic run time.
    static func scale(nanos: UInt64, ticks: UInt64) -> UInt64 {
        let (high, low) = (nanos >> 32, nanos << 32)
        guard high < ticks else { return UInt64.max }
        return ticks.dividingFullWidth((high, low)).quotient
    }

    /// A counter reading and a clock_gettime reading taken as close together as possible: the
    /// pair with the shortest counter interval around the clock_gettime call, of three tries.
    static func pairedReading() -> (ticks: UInt64, nanos: UInt64) {
        var best: (width: UInt64, ticks: UInt64, nanos: UInt64) = (.max, 0, 0)
        for _ in 0..<3 {
            let before = otlp_mmap_cycle_counter()
            let nanos = nowUnixNano()
            let after = otlp_mmap_cycle_counter()
            if after &- before < best.width { best = (after &- before, before &+ (after &- before) / 2, nanos) }
        }
        return (best.ticks, best.nanos)
    }

    /// Whether the counter can be trusted across cores and sleeps: on x86-64 only when Linux
    /// itself keeps time with it (its current clocksource is "tsc", which it chooses only for an
    /// invariant, synchronised counter); AArch64's generic timer always qualifies.
    static func isTrusted() -> Bool {
        guard otlp_mmap_has_cycle_counter() != 0 else { return false }
        if otlp_mmap_cycle_counter_frequency() != 0 { return true }
        let source = try? String(contentsOfFile: "/sys/devices/system/clocksource/clocksource0/current_clocksource", encoding: .utf8)
        return source?.trimmingCharacters(in: .whitespacesAndNewlines) == "tsc"
    }

    private func store(_ index: Int, _ value: UInt64) { UnsafeAtomic(at: words + index).store(value, ordering: .relaxed) }
}
