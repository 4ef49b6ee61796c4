import OTLPMmapLayout
import OTLPMmapWire

/// The consumer of one ring that keeps up with live producers: its position (a `RingCursor`) and
/// its policy for holes — a sequence claimed by a producer and never published, most likely because
/// that producer died between claim and publish (RING-HOLE). Such a slot blocks the ring for
/// `holeTimeout`, then it is skipped so that the records behind it are not held hostage.
///
/// Time comes in as `now`, nanoseconds of a monotonic clock chosen by the caller: a wall clock
/// stepped back or forward must change neither which slots count as holes nor when.
///
/// What is done with a hole is the caller's policy (`HolePolicy`) on the same finding. The runner
/// also has every poll check the ring's indices (`checksIndices`), which a collector's hot path
/// leaves to the flags.
package struct RingConsumer: Sendable {
    package enum HolePolicy: Sendable {
        /// Move past the hole and hand its slot back (a collector: the records behind it matter more).
        case skip
        /// Stay on the hole, its slot unreleased (a conformance runner: the writer failed; the
        /// file stays as the writer left it for the checks that follow).
        case stop
    }

    package private(set) var cursor: RingCursor
    package let holeTimeout: Duration
    package let holePolicy: HolePolicy
    package let checksIndices: Bool
    private let holeTimeoutNanos: UInt64
    /// When (monotonic) `cursor.next` was first seen claimed but unpublished.
    private var holeSince: UInt64?
    /// writer_index when `holeSince` was set: every sequence below it was already claimed then, so
    /// it has been unpublished at least as long as the hole being waited on.
    private var claimedBySince: Int64 = 0
    /// The highest writer_index `checksIndices` has seen: it never decreases.
    private var highestWriter: Int64 = -1
    /// writer_index as last loaded: sequences up to it were claimed. Loaded again only for a
    /// sequence past it, so that the hot path does not read the line producers fight over per record.
    private var claimedThrough: Int64 = .min
    /// The sequence whose flag was last reported as raised ahead of writer_index (once per sequence).
    private var reportedFlagAhead: Int64?

    /// A record copied out of its slot, or the reason the slot holds none.
    package enum Next: Sendable {
        /// A published record's payload (length prefix removed), copied out of shared memory.
        case record(sequence: Int64, payload: [UInt8], payloadFileOffset: Int)
        /// A published slot whose length prefix breaks SLOT-LENGTH; skipped.
        case invalid(sequence: Int64, FormatError)
        /// A claimed slot unpublished for `holeTimeout` (RING-HOLE); with `.skip` the consumer moved past it.
        case hole(sequence: Int64, FormatError)
        /// The ring's indices break a rule (only with `checksIndices`): nothing can be read from it.
        case broken(FormatError)
        /// The next sequence's flag says published but writer_index says nobody claimed it (RING-FLAG:
        /// a stale or scribbled flag). Its slot is not read; reported once, then `.nothing` until a
        /// producer claims the sequence.
        case flagAhead(sequence: Int64, FormatError)
        /// Nothing to read now: the next sequence is not claimed, or claimed and not yet overdue.
        case nothing
    }

    package init(cursor: RingCursor, holeTimeout: Duration, holePolicy: HolePolicy = .skip, checksIndices: Bool = false) {
        self.cursor = cursor
        self.holeTimeout = holeTimeout
        self.holePolicy = holePolicy
        self.checksIndices = checksIndices
        holeTimeoutNanos = holeTimeout.wholeNanoseconds
    }

    package var ring: Ring { cursor.ring }
    package var next: Int64 { cursor.next }
    /// Whether the next sequence is claimed but not yet published (and not yet a hole).
    package var isWaitingOnAClaimedSlot: Bool { holeSince != nil }

    /// Reads the next sequence, if it can be read or must be skipped, and moves past it.
    package mutating func poll(now: UInt64) -> Next {
        let sequence = cursor.next
        if checksIndices {
            do throws(FormatError) {
                let (_, writer) = try ring.indices()
                guard writer >= highestWriter else {
                    return .broken(FormatError(.ringIndexOrder, at: ring.header.fileOffset + RingHeaderView.Offset.writerIndex,
                        "\(ring.kind.name) writer_index went backwards from \(highestWriter) to \(writer): a torn or non-atomic store (it is an 8-byte atomic field)"))
                }
                highestWriter = writer
            } catch { return .broken(error) }
        }
        switch cursor.peek() {
        case .empty:
            holeSince = nil
            return .nothing
        case .unpublished:
            guard let since = holeSince else {
                holeSince = now
                claimedBySince = ring.header.writerIndex
                return .nothing
            }
            // Saturating: a caller's clock cannot run backwards, but a hostile caller cannot make it wrap either.
            guard now >= since, now - since >= holeTimeoutNanos else { return .nothing }
            if holePolicy == .skip {
                cursor.advance()
                // Holes in a row (a producer that died holding many claims, issue 24): a later slot
                // claimed before this hole was first seen has waited as long, and is skipped at
                // its first poll if still unpublished, not one timeout after another.
                if cursor.next >= claimedBySince { holeSince = nil }
            }
            return .hole(sequence: sequence, FormatError(.ringHole, at: ring.slotFileOffset(sequence),
                "\(ring.kind.name) sequence \(sequence) was claimed but not published for \(holeTimeout)"))
        case .readable:
            holeSince = nil
            // A flag is a producer's word only for a sequence it claimed. writer_index is loaded
            // after the flag, so the claim of the producer that raised it is visible.
            if sequence > claimedThrough {
                claimedThrough = ring.header.writerIndex
                if sequence > claimedThrough {
                    guard reportedFlagAhead != sequence else { return .nothing }
                    reportedFlagAhead = sequence
                    return .flagAhead(sequence: sequence, FormatError(.ringFlag, at: ring.flagFileOffset(sequence),
                        "\(ring.kind.name) sequence \(sequence) is flagged published, but writer_index is \(claimedThrough): no producer claimed it; its slot is not read"))
                }
            }
            defer { cursor.advance() }
            do {
                let (payload, offset) = try ring.copyRecord(sequence)
                return .record(sequence: sequence, payload: payload, payloadFileOffset: offset)
            } catch {
                return .invalid(sequence: sequence, error)
            }
        }
    }

    /// Hands every consumed slot back to producers (stores reader_index).
    package mutating func release() { cursor.release() }
}

extension Duration {
    /// Whole nanoseconds, 0 for a negative duration and saturating at UInt64.max: deadlines and ages
    /// in the collector, the writer and the runner are kept as such counts of a monotonic clock.
    package var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        return whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000)).partialValue
    }
}
