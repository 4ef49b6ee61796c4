import Atomics
import OTLPMmapLayout
import OTLPMmapWire

/// Which formula produced the availability flag that made a slot readable (see `RingLayout.flag`).
package enum FlagFormula: String, Sendable, Equatable {
    /// The sequence is below 2^32, where both formulas give the same flag.
    case either
    /// Shift the 64-bit sequence, then truncate: this spec's formula (and the Java writer's).
    case shiftThenTruncate = "shift-then-truncate"
    /// Truncate to 32 bits, then shift: the Rust writer's formula.
    case truncateThenShift = "truncate-then-shift"
}

/// What the consumer finds at a sequence number.
package enum SlotState: Sendable, Equatable {
    /// No producer has claimed this sequence yet.
    case empty
    /// Claimed but its flag does not say published (yet): the consumer must wait.
    case unpublished
    case readable(FlagFormula)
}

/// Why a producer could not write a record.
@usableFromInline package enum ProduceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Every slot holds an unread record (RING-CAPACITY).
    case full(ring: String)
    /// The record and its length prefix exceed the slot; nothing was claimed (RING-SIZE-BEFORE-CLAIM).
    case tooLarge(ring: String, recordBytes: Int, slotBytes: Int)
    /// The ring header is not 8-byte aligned, so compare-and-swap on writer_index is impossible (RING-ALIGN).
    case unaligned(ring: String, offset: Int)
    /// The file was opened read-only.
    case readOnly(ring: String)

    @usableFromInline package var description: String {
        switch self {
        case .full(let ring):
            "the \(ring) ring is full: every slot holds an unread record"
        case .tooLarge(let ring, let recordBytes, let slotBytes):
            "record of \(recordBytes) bytes (length prefix included) does not fit a \(slotBytes)-byte slot of the \(ring) ring; nothing was claimed (RING-SIZE-BEFORE-CLAIM)"
        case .unaligned(let ring, let offset):
            "cannot produce into the \(ring) ring at offset \(offset): its header is not 8-byte aligned (RING-ALIGN)"
        case .readOnly(let ring):
            "cannot produce into the \(ring) ring: the file was opened read-only"
        }
    }
}

/// One ring of a mapped file: the multi-producer claim-then-publish algorithm and the single consumer.
/// Its geometry was validated when it was made; slot accesses cannot leave the ring.
public struct Ring: @unchecked Sendable {
    @usableFromInline package let kind: RingKind
    @usableFromInline package let header: RingHeaderView
    @usableFromInline package let availability: AvailabilityArrayView
    @usableFromInline package let numBuffers: Int64
    @usableFromInline package let bufferSize: Int64
    @usableFromInline package let log2NumBuffers: Int
    /// File offset of slot 0.
    package let slotsFileOffset: Int
    /// Bytes the whole ring takes.
    package let byteSize: Int
    /// Whether the mapping may be written (producing, marking records read).
    @usableFromInline package let writable: Bool
    /// Whether the ring header is 8-byte aligned, so that producers can compare-and-swap.
    @usableFromInline package let isAligned: Bool
    @usableFromInline let slots: UnsafeMutableRawPointer
    /// This process's last reading of reader_index, shared by its producer threads (owned by the
    /// `MmapFile`). reader_index only grows, so a stale copy is a safe lower bound: producers re-read
    /// the real one, a cache line the consumer writes, only when the ring looks full.
    @usableFromInline let readerCache: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    /// Validates the ring at `offset` against `mapping`: RING-POW2, RING-SLOT-SIZE, HDR-SECTION-BOUNDS.
    init(kind: RingKind, mapping: UnsafeMutableRawBufferPointer, offset: Int64, writable: Bool,
         readerCache: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>) throws(FormatError) {
        let headerField = kind.headerFieldOffset
        guard offset >= Int64(FileHeaderView.size), offset <= Int64(mapping.count) else {
            throw FormatError(.hdrSectionBounds, at: headerField, "\(kind.name) ring offset \(offset) is not between \(FileHeaderView.size) and the file size \(mapping.count)")
        }
        let header = try RingHeaderView(in: mapping, at: Int(offset), rule: .hdrSectionBounds)
        let numBuffers = header.numBuffers
        guard numBuffers > 0, numBuffers & (numBuffers - 1) == 0 else {
            throw FormatError(.ringPow2, at: header.fileOffset + RingHeaderView.Offset.numBuffers, "\(kind.name) ring num_buffers \(numBuffers) is not a power of two greater than zero")
        }
        let bufferSize = header.bufferSize
        guard bufferSize >= 2 else {
            throw FormatError(.ringSlotSize, at: header.fileOffset + RingHeaderView.Offset.bufferSize, "\(kind.name) ring buffer_size \(bufferSize) is smaller than 2")
        }
        guard let size = RingLayout.byteSize(numBuffers: numBuffers, bufferSize: bufferSize),
              let slotsOffset = RingLayout.slotsOffset(numBuffers: numBuffers, bufferSize: bufferSize),
              let availabilityOffset = RingLayout.availabilityOffset(numBuffers: numBuffers, bufferSize: bufferSize),
              size <= Int64(mapping.count) - offset
        else {
            throw FormatError(.hdrSectionBounds, at: Int(offset), "\(kind.name) ring (\(numBuffers) slots × \(bufferSize) bytes) at offset \(offset) runs past the end of the \(mapping.count)-byte file")
        }
        self.kind = kind
        self.header = header
        self.availability = try AvailabilityArrayView(in: mapping, at: Int(offset + availabilityOffset), count: Int(numBuffers), rule: .hdrSectionBounds)
        self.numBuffers = numBuffers
        self.bufferSize = bufferSize
        self.log2NumBuffers = numBuffers.trailingZeroBitCount
        self.slotsFileOffset = Int(offset + slotsOffset)
        self.byteSize = Int(size)
        self.writable = writable
        self.isAligned = header.writerIndexIsAligned
        self.readerCache = readerCache
        UnsafeAtomic(at: readerCache).store(header.readerIndex, ordering: .relaxed)
        self.slots = mapping.baseAddress! + Int(offset + slotsOffset)
    }

    /// Writes a new ring's initial state: sizes, indices -1, every flag -1.
    static func initialize(at pointer: UnsafeMutableRawBufferPointer, offset: Int64, size: FileConfiguration.RingSize) throws(FormatError) {
        let header = try RingHeaderView(in: pointer, at: Int(offset), rule: .hdrSectionBounds)
        let availabilityOffset = RingLayout.availabilityOffset(numBuffers: size.numBuffers, bufferSize: size.bufferSize)!
        let flags = try AvailabilityArrayView(in: pointer, at: Int(offset + availabilityOffset), count: Int(size.numBuffers), rule: .hdrSectionBounds)
        flags.initialize()
        header.initialize(numBuffers: size.numBuffers, bufferSize: size.bufferSize)
    }

    @usableFromInline package var fileOffset: Int { header.fileOffset }

    // MARK: producer

    /// Largest record payload a slot takes, given that its length prefix shares the slot.
    package var maxRecordBytes: Int {
        var payload = Int(bufferSize) - 1
        while payload > 0 && lengthDelimitedSize(payload) > Int(bufferSize) { payload -= 1 }
        return payload
    }

    /// Claims the next sequence number, or nil when the ring is full. Compare-and-swap on writer_index.
    @inlinable @inline(__always)
    package func claim() -> Int64? {
        precondition(writable && isAligned, "claim on the \(kind.name) ring needs a writable file with an aligned ring header")
        let cache = UnsafeAtomic<Int64>(at: readerCache)
        var writer = header.writerIndex
        var reader = cache.load(ordering: .relaxed)
        while true {
            if writer &+ 1 &- numBuffers >= reader {
                // Looks full by the cached reader_index: read the real one before giving up.
                let fresh = header.readerIndex
                if fresh != reader {
                    reader = fresh
                    cache.store(fresh, ordering: .relaxed)
                    continue
                }
                let again = header.writerIndex
                if again == writer { return nil }
                writer = again
                continue
            }
            // Another process may have written any writer_index (RING-INDEX-RANGE); at Int64.max
            // there is no next sequence, and the write is refused rather than trapping the host.
            guard writer < Int64.max else { return nil }
            let (exchanged, original) = header.compareExchangeWriterIndex(expected: writer, desired: writer + 1)
            if exchanged { return writer + 1 }
            writer = original
        }
    }

    /// The slot that sequence `sequence` uses.
    @inlinable @inline(__always)
    package func slot(_ sequence: Int64) -> UnsafeMutableRawBufferPointer {
        let index = Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers))
        return UnsafeMutableRawBufferPointer(start: slots + index * Int(bufferSize), count: Int(bufferSize))
    }

    /// File offset of the slot that sequence `sequence` uses.
    package func slotFileOffset(_ sequence: Int64) -> Int {
        slotsFileOffset + Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers)) * Int(bufferSize)
    }

    /// File offset of the availability flag that sequence `sequence` uses.
    package func flagFileOffset(_ sequence: Int64) -> Int {
        fileOffset + Int(RingLayout.availabilityOffset(numBuffers: numBuffers, bufferSize: bufferSize) ?? 0)
            + Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers)) * RingLayout.availabilityElementSize
    }

    /// Publishes a claimed slot: stores its flag with release ordering, after the record's bytes.
    @inlinable @inline(__always)
    package func publish(_ sequence: Int64) {
        let index = Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers))
        availability[index] = RingLayout.flag(sequence: sequence, log2NumBuffers: log2NumBuffers)
    }

    /// Encodes `record` straight into the next free slot and publishes it. The size is checked before
    /// claiming, so a record that does not fit never leaves a claimed-but-unpublished hole.
    @discardableResult
    package func write<Record: WireMessage>(_ record: Record) throws(ProduceError) -> Int64 {
        try write(size: record.encodedSize) { record.encode(to: &$0) }
    }

    /// The same for a record streamed from the caller's values (the SDK's allocation-free path).
    @discardableResult
    @inlinable
    package func write<Record: StreamedMessage>(streamed record: Record) throws(ProduceError) -> Int64 {
        try write(size: record.encodedSize) { record.encode(to: &$0) }
    }

    /// Checks the size, claims, lets `encode` write exactly `size` bytes after the length prefix, publishes.
    @discardableResult
    @inlinable
    package func write(size: Int, _ encode: (inout ProtoWriter) -> Void) throws(ProduceError) -> Int64 {
        let (sequence, payload) = try claim(payloadSize: size)
        var writer = ProtoWriter(payload)
        encode(&writer)
        precondition(writer.count == size, "the record wrote \(writer.count) bytes, not the \(size) it announced")
        publish(sequence)
        return sequence
    }

    /// Checks the size, claims a slot and writes the length prefix; returns the sequence to publish
    /// and the `payloadSize` bytes to fill first. The caller encodes into a writer of its own, which
    /// the compiler keeps in registers (through a closure's `inout` every byte would go via memory).
    @inlinable @inline(__always)
    package func claim(payloadSize size: Int) throws(ProduceError) -> (sequence: Int64, payload: UnsafeMutableRawBufferPointer) {
        switch tryClaim(payloadSize: size) {
        case .claimed(let sequence, let payload): return (sequence, payload)
        case .full: throw .full(ring: kind.name)
        case .tooLarge: throw .tooLarge(ring: kind.name, recordBytes: lengthDelimitedSize(size), slotBytes: Int(bufferSize))
        case .notWritable: throw writable ? .unaligned(ring: kind.name, offset: fileOffset) : .readOnly(ring: kind.name)
        }
    }

    /// What `tryClaim` found.
    public enum ClaimOutcome {
        case claimed(sequence: Int64, payload: UnsafeMutableRawBufferPointer)
        /// Every slot holds an unread record.
        case full
        /// The record and its length prefix exceed a slot; nothing was claimed.
        case tooLarge
        /// Read-only file or unaligned ring header.
        case notWritable
    }

    /// `claim(payloadSize:)` without building an error: the writer's hot path, where an error
    /// value that carries the ring's name would cost even when nothing fails.
    @inlinable @inline(__always)
    package func tryClaim(payloadSize size: Int) -> ClaimOutcome {
        let total = lengthDelimitedSize(size)
        guard total <= Int(bufferSize) else { return .tooLarge }
        guard writable && isAligned else { return .notWritable }
        guard let sequence = claim() else { return .full }
        let slot = self.slot(sequence)
        var prefix = ProtoWriter(slot)
        prefix.writeVarint(UInt64(size))
        return .claimed(sequence: sequence, payload: UnsafeMutableRawBufferPointer(rebasing: slot[prefix.count..<total]))
    }

    // MARK: consumer

    /// reader_index and writer_index, read in that order so that a live producer can only make the
    /// gap look larger, never negative. Violations of RING-INDEX-RANGE and RING-INDEX-ORDER are errors.
    package func indices() throws(FormatError) -> (reader: Int64, writer: Int64) {
        let reader = header.readerIndex
        let writer = header.writerIndex
        guard reader >= -1 else {
            throw FormatError(.ringIndexRange, at: header.fileOffset + RingHeaderView.Offset.readerIndex, "\(kind.name) ring reader_index \(reader) is below -1")
        }
        guard writer >= -1 else {
            throw FormatError(.ringIndexRange, at: header.fileOffset + RingHeaderView.Offset.writerIndex, "\(kind.name) ring writer_index \(writer) is below -1")
        }
        guard reader <= writer else {
            throw FormatError(.ringIndexOrder, at: header.fileOffset + RingHeaderView.Offset.readerIndex, "\(kind.name) ring reader_index \(reader) is past writer_index \(writer)")
        }
        guard let gap = Self.unread(reader: reader, writer: writer), gap <= numBuffers - 1 else {
            throw FormatError(.ringCapacity, at: header.fileOffset + RingHeaderView.Offset.writerIndex, "\(kind.name) ring has \(Self.unread(reader: reader, writer: writer).map(String.init) ?? "more than Int64.max") unread records (writer_index \(writer), reader_index \(reader)), more than num_buffers - 1 = \(numBuffers - 1)")
        }
        return (reader, writer)
    }

    /// writer_index − reader_index, the unread records, for indices read from a file: nil when
    /// the difference does not fit an Int64 (every index computation on file values is checked).
    package static func unread(reader: Int64, writer: Int64) -> Int64? {
        let (gap, overflow) = writer.subtractingReportingOverflow(reader)
        return overflow ? nil : gap
    }

    /// Whether `sequence` is readable: its slot's flag equals flag(sequence) by either formula.
    package func state(of sequence: Int64) -> SlotState {
        guard sequence <= header.writerIndex else { return .empty }
        let index = Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers))
        let flag = availability[index]
        let primary = RingLayout.flag(sequence: sequence, log2NumBuffers: log2NumBuffers)
        let alternative = RingLayout.alternativeFlag(sequence: sequence, log2NumBuffers: log2NumBuffers)
        if flag == primary { return .readable(primary == alternative ? .either : .shiftThenTruncate) }
        if flag == alternative { return .readable(.truncateThenShift) }
        return .unpublished
    }

    /// Copies the record of a readable sequence out of shared memory and returns its payload.
    /// Copying first means a hostile writer changing the slot cannot change bytes under the decoder.
    package func copyRecord(_ sequence: Int64) throws(FormatError) -> (payload: [UInt8], payloadFileOffset: Int) {
        let slot = self.slot(sequence)
        let fileOffset = slotFileOffset(sequence)
        let copy = Array(UnsafeRawBufferPointer(slot))
        let range: Range<Int>
        do {
            range = try copy.withDecodableBytes { bytes throws(FormatError) in
                try readLengthPrefixed(bytes, baseOffset: fileOffset, rule: .slotLength)
            }
        } catch {
            throw FormatError(.slotLength, at: error.offset, "\(kind.name) slot of sequence \(sequence): \(error.message) (buffer_size \(bufferSize))")
        }
        return (Array(copy[range]), fileOffset + range.lowerBound)
    }

    /// Copies and decodes the record of a readable sequence as this ring's record type.
    package func decodeRecord(_ sequence: Int64) throws(FormatError) -> RecordValue {
        let (payload, offset) = try copyRecord(sequence)
        return try payload.withDecodableBytes { bytes throws(FormatError) in
            try kind.decodeRecord(bytes, baseOffset: offset)
        }
    }

    /// Marks `sequence` read: stores reader_index with release ordering, handing the slot back to producers.
    package func markRead(_ sequence: Int64) {
        precondition(writable, "markRead on the \(kind.name) ring of a file opened read-only")
        header.readerIndex = sequence
    }

    /// Marks `sequence` read only if reader_index still holds `previous`, the value this consumer
    /// stored last (or found when it started); whether it was stored. A reader_index someone else
    /// changed — a writer re-initialising the file in place — is left alone.
    package func markRead(_ sequence: Int64, replacing previous: Int64) -> Bool {
        precondition(writable, "markRead on the \(kind.name) ring of a file opened read-only")
        return header.compareExchangeReaderIndex(expected: previous, desired: sequence).exchanged
    }

    /// The consumer's step: the next sequence and its state, or nil when the ring is empty.
    package func next() throws(FormatError) -> (sequence: Int64, state: SlotState)? {
        let (reader, writer) = try indices()
        guard writer > reader else { return nil }
        let sequence = reader + 1
        return (sequence, state(of: sequence))
    }
}
