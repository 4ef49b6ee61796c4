import Atomics
import OTLPMmapLayout

/// What happened to the records the writer was asked to write, per ring. Readable at any time from
/// any thread.
///
/// The counters live in one manually allocated block of atomics, so counting a record is one atomic
/// add with no reference counting on the way.
public final class WriterStatistics: @unchecked Sendable {
    private let counters: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>
    private static let count = RingKind.allCases.count * Outcome.allCases.count

    init() {
        counters = .allocate(capacity: Self.count)
        counters.initialize(repeating: UnsafeAtomic<Int>.Storage(0), count: Self.count)
    }

    deinit {
        counters.deinitialize(count: Self.count)
        counters.deallocate()
    }

    public enum Outcome: Int, Sendable, CaseIterable {
        /// Published into the ring.
        case written
        /// Dropped because the ring stayed full (no consumer, or a slow one).
        case dropped
        /// Dropped because the record does not fit a slot.
        case tooLarge
    }

    private func counter(_ outcome: Outcome, _ ring: RingKind) -> UnsafeAtomic<Int> {
        UnsafeAtomic(at: counters + ring.rawValue * Outcome.allCases.count + outcome.rawValue)
    }

    func count(_ outcome: Outcome, _ ring: RingKind) {
        counter(outcome, ring).wrappingIncrement(ordering: .relaxed)
    }

    public func value(_ outcome: Outcome, _ ring: RingKind) -> Int {
        counter(outcome, ring).load(ordering: .relaxed)
    }

    /// Sum over the three rings.
    public func total(_ outcome: Outcome) -> Int {
        RingKind.allCases.reduce(0) { $0 + value(outcome, $1) }
    }
}
