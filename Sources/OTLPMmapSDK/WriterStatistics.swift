import Atomics
import OTLPMmapLayout

/// What became of one record a caller asked to write.
public enum RecordOutcome: Int, Sendable, CaseIterable {
    /// Published into the ring.
    case written
    /// Dropped because the ring stayed full (no consumer, or a slow one).
    case dropped
    /// Dropped because the record does not fit a slot.
    case tooLarge

    public var isWritten: Bool { self == .written }
}

/// What happened to the records the writer was asked to write, per ring. Readable at any time from
/// any thread.
///
/// Each thread counts into its own slot (`ThreadSlots`), so counting a record costs no locked
/// instruction; reading sums the slots.
public final class WriterStatistics: @unchecked Sendable {
    let slots: ThreadSlots

    init(slots: ThreadSlots) {
        self.slots = slots
    }

    @inline(__always)
    static func index(_ outcome: RecordOutcome, _ ring: RingKind) -> Int {
        ring.rawValue * RecordOutcome.allCases.count + outcome.rawValue
    }

    @inline(__always)
    func count(_ outcome: RecordOutcome, _ ring: RingKind, in slot: ThreadSlot) {
        slots.increment(Self.index(outcome, ring), in: slot)
    }

    public func value(_ outcome: RecordOutcome, _ ring: RingKind) -> Int {
        slots.sum(Self.index(outcome, ring))
    }

    /// Per-thread slots allocated so far: at most the number of threads recording at the same time,
    /// since an exited thread's slot goes to the next new one.
    package var threadSlots: Int { slots.count }

    /// Sum over the three rings.
    public func total(_ outcome: RecordOutcome) -> Int {
        RingKind.allCases.reduce(0) { $0 + value(outcome, $1) }
    }
}
