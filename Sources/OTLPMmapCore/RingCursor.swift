import OTLPMmapLayout
import OTLPMmapWire

/// A consumer's position in one ring, for a consumer that keeps up with live producers.
///
/// Producers and the consumer share the ring header's cache line (writer_index and reader_index
/// sit side by side, as the layout requires). A consumer that reads writer_index before every
/// record and stores reader_index after it moves that line between the cores on every record, and
/// the producers pay for it in their compare-and-swap. This cursor does neither: a slot's
/// availability flag alone says whether its sequence is published (a flag equal to the sequence's
/// lap cannot be left over from another sequence), writer_index is read only when the flag says
/// no, and reader_index is stored once per `releaseEvery` records and whenever the cursor catches up.
package struct RingCursor: Sendable {
    package let ring: Ring
    /// The next sequence to read.
    package private(set) var next: Int64
    /// Sequences consumed but not yet handed back to producers.
    package private(set) var unreleased = 0
    package let releaseEvery: Int
    /// The reader_index this cursor stored last, or found when it started.
    private var released: Int64
    /// The file's start time when the cursor started: slots are handed back only while it holds.
    private let startTime: UInt64?
    private let file: MmapFile?

    /// Starts after the ring's reader_index, which must be valid (RING-INDEX-RANGE, RING-INDEX-ORDER,
    /// RING-CAPACITY).
    package init(ring: Ring, releaseEvery: Int = 32) throws(FormatError) {
        try self.init(ring: ring, releaseEvery: releaseEvery, file: nil)
    }

    /// As `init(ring:releaseEvery:)`, for a ring of `file`: slots are handed back only while the
    /// file is still the one the cursor started in (`MmapFile.handBack`, HDR-INIT-ORDER).
    package init(ring: Ring, releaseEvery: Int = 32, file: MmapFile?) throws(FormatError) {
        self.ring = ring
        self.releaseEvery = max(1, releaseEvery)
        // reader_index may be Int64.max only with nothing unread; the cursor then wraps, as the
        // sequence space would, instead of trapping.
        next = try ring.indices().reader &+ 1
        released = next &- 1
        self.file = file
        startTime = file?.startTimeUnixNano
    }

    /// Starts at `sequence`, a position the consumer recorded itself (a checkpoint): records from
    /// reader_index + 1 up to it were consumed but not yet handed back. Nil unless it lies between
    /// reader_index + 1 and writer_index + 1, the only places such a position can be.
    package init?(ring: Ring, startingAt sequence: Int64, releaseEvery: Int = 32, file: MmapFile? = nil) throws(FormatError) {
        try self.init(ring: ring, releaseEvery: releaseEvery, file: file)
        guard sequence >= next, sequence <= (try ring.indices().writer) + 1 else { return nil }
        unreleased = Int(sequence - next)
        next = sequence
    }

    /// Whether `next` is published, by its flag alone (either formula): the consumer's hot test,
    /// which reads nothing producers write besides that flag.
    @inlinable
    package var isNextPublished: Bool {
        let index = Int(RingLayout.slotIndex(sequence: next, numBuffers: ring.numBuffers))
        let flag = ring.availability[index]
        return flag == RingLayout.flag(sequence: next, log2NumBuffers: ring.log2NumBuffers)
            || flag == RingLayout.alternativeFlag(sequence: next, log2NumBuffers: ring.log2NumBuffers)
    }

    /// Whether `next` is published, claimed but not yet published, or not claimed at all.
    @inlinable
    package func peek() -> SlotState {
        let index = Int(RingLayout.slotIndex(sequence: next, numBuffers: ring.numBuffers))
        let flag = ring.availability[index]
        let primary = RingLayout.flag(sequence: next, log2NumBuffers: ring.log2NumBuffers)
        if flag == primary {
            return .readable(primary == RingLayout.alternativeFlag(sequence: next, log2NumBuffers: ring.log2NumBuffers) ? .either : .shiftThenTruncate)
        }
        return ring.state(of: next)
    }

    /// Marks `next` consumed and moves on; hands slots back to producers every `releaseEvery` records.
    package mutating func advance() {
        next += 1
        unreleased += 1
        if unreleased >= releaseEvery { release() }
    }

    /// Stores reader_index for everything consumed so far: call when `peek` finds nothing to read
    /// and before stopping, so that producers never wait on records already consumed.
    package mutating func release() {
        guard unreleased > 0 else { return }
        if let file, let startTime {
            // A file re-initialised meanwhile keeps its own reader_index; the reader notices the
            // new start time and starts over.
            if file.handBack(ring.kind, through: next - 1, replacing: released, startTime: startTime) { released = next - 1 }
        } else {
            ring.markRead(next - 1)
            released = next &- 1
        }
        unreleased = 0
    }
}
