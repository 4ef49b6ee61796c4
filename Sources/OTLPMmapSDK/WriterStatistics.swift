import Atomics
import OTLPMmapLayout

/// What happened to the records the writer was asked to write, per ring. Readable at any time from
/// any thread.
public final class WriterStatistics: Sendable {
    private let counters: [ManagedAtomic<Int>]

    init() { counters = (0..<(RingKind.allCases.count * 3)).map { _ in ManagedAtomic(0) } }

    public enum Outcome: Int, Sendable, CaseIterable {
        /// Published into the ring.
        case written
        /// Dropped because the ring stayed full (no consumer, or a slow one).
        case dropped
        /// Dropped because the record does not fit a slot.
        case tooLarge
    }

    func count(_ outcome: Outcome, _ ring: RingKind) {
        counters[ring.rawValue * 3 + outcome.rawValue].wrappingIncrement(ordering: .relaxed)
    }

    public func value(_ outcome: Outcome, _ ring: RingKind) -> Int {
        counters[ring.rawValue * 3 + outcome.rawValue].load(ordering: .relaxed)
    }

    /// Sum over the three rings.
    public func total(_ outcome: Outcome) -> Int {
        RingKind.allCases.reduce(0) { $0 + value(outcome, $1) }
    }
}
