import OTLPMmapLayout
import OTLPMmapWire

/// Attributes prepared for recording: keys interned in the dictionary and every KeyValueRef already
/// encoded. Prepare them once (`TelemetryWriter.attributes`) and reuse them; recording copies the
/// bytes and allocates nothing.
public struct Attributes: Sendable, Equatable {
    /// Immutable after creation; a class so that passing attributes around costs one reference count.
    /// Bytes and key offsets share one allocation and are reached through raw pointers, so the hot
    /// path can hand them on as a trivial `AttributeBlock` without touching reference counts.
    final class Storage: @unchecked Sendable {
        /// Each element as it appears in a record: a one-byte field key (a placeholder, patched to the
        /// enclosing field's key when written), the KeyValueRef's varint length, its bytes.
        let encoded: UnsafeRawBufferPointer
        /// Where each element's key byte lies in `encoded`.
        let keyOffsets: UnsafeBufferPointer<Int32>
        /// `encoded` once per field number of `AttributeBlock.prekeyedFields`, keys already set:
        /// the records the SDK writes copy these without patching.
        let prekeyed: UnsafeRawPointer
        /// Bytes from one prekeyed copy to the next.
        let prekeyedStride: Int
        private let allocation: UnsafeMutableRawPointer

        init(encoded: [UInt8], keyOffsets: [Int]) {
            let stride = (encoded.count + 7) & ~7
            let fields = AttributeBlock.prekeyedFields
            precondition(fields.enumerated().allSatisfy { AttributeBlock.prekeyedIndex($1) == $0 }, "prekeyedIndex disagrees with prekeyedFields")
            let offsetsStart = stride * (1 + fields.count)
            let allocation = UnsafeMutableRawPointer.allocate(byteCount: max(offsetsStart + 4 * keyOffsets.count, 1), alignment: 8)
            self.allocation = allocation
            for copy in 0...fields.count {
                encoded.withUnsafeBytes { if $0.count > 0 { (allocation + copy * stride).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            }
            let offsets = (allocation + offsetsStart).bindMemory(to: Int32.self, capacity: keyOffsets.count)
            for (index, offset) in keyOffsets.enumerated() {
                precondition(offset >= 0 && offset < encoded.count, "key offset outside the attribute block")
                offsets[index] = Int32(offset)
                for (copy, number) in fields.enumerated() {
                    (allocation + (copy + 1) * stride).storeBytes(of: UInt8(number << 3 | 2), toByteOffset: offset, as: UInt8.self)
                }
            }
            self.encoded = UnsafeRawBufferPointer(start: allocation, count: encoded.count)
            self.keyOffsets = UnsafeBufferPointer(start: offsets, count: keyOffsets.count)
            prekeyed = UnsafeRawPointer(allocation + stride)
            prekeyedStride = stride
        }

        deinit { allocation.deallocate() }
    }

    let storage: Storage

    public static let none = Attributes(encoded: [], keyOffsets: [])

    public var count: Int { storage.keyOffsets.count }
    public var isEmpty: Bool { storage.keyOffsets.isEmpty }

    init(encoded: [UInt8], keyOffsets: [Int]) {
        storage = Storage(encoded: encoded, keyOffsets: keyOffsets)
    }

    init(_ keyValues: [KeyValueRef]) {
        var encoded: [UInt8] = []
        var keyOffsets: [Int] = []
        for keyValue in keyValues {
            let size = keyValue.encodedSize
            let start = encoded.count
            keyOffsets.append(start)
            encoded += [UInt8](repeating: 0, count: 1 + lengthDelimitedSize(size))
            encoded.withUnsafeMutableBytes { raw in
                var writer = ProtoWriter(UnsafeMutableRawBufferPointer(rebasing: raw[(start + 1)...]))
                writer.writeVarint(UInt64(size))
                keyValue.encode(to: &writer)
            }
        }
        self.init(encoded: encoded, keyOffsets: keyOffsets)
    }

    public static func == (lhs: Attributes, rhs: Attributes) -> Bool {
        lhs.storage.keyOffsets.elementsEqual(rhs.storage.keyOffsets) && lhs.storage.encoded.elementsEqual(rhs.storage.encoded)
    }

    /// The bytes as a trivial value for the recording path. Valid only while these attributes are
    /// alive: recording functions keep them alive with `withExtendedLifetime` around the write.
    var block: AttributeBlock {
        AttributeBlock(encoded: storage.encoded, keyOffsets: storage.keyOffsets, prekeyed: storage.prekeyed, prekeyedStride: storage.prekeyedStride)
    }

    /// These attributes followed by `other`'s (a later key does not replace an earlier one).
    public func appending(_ other: Attributes) -> Attributes {
        let shift = storage.encoded.count
        return Attributes(encoded: Array(storage.encoded) + Array(other.storage.encoded),
                          keyOffsets: (storage.keyOffsets + other.storage.keyOffsets.map { $0 + Int32(shift) }).map(Int.init))
    }
}

/// Prepared attributes as raw pointers, so that records holding them are trivial values: building,
/// copying and dropping a record then costs no reference counting (an atomic operation each).
struct AttributeBlock {
    let encoded: UnsafeRawBufferPointer
    let keyOffsets: UnsafeBufferPointer<Int32>
    let prekeyed: UnsafeRawPointer
    let prekeyedStride: Int

    /// The attribute fields of the records the SDK writes, each with a ready-keyed copy.
    static let prekeyedFields = [Measurement.Field.attributes, Link.Field.attributes, Event.Field.attributes, StartSpan.Field.attributes]

    /// Which prekeyed copy serves field `number` (a constant at every call site, so this folds away).
    @inline(__always)
    static func prekeyedIndex(_ number: Int) -> Int? {
        switch number {
        case Measurement.Field.attributes: 0
        case Link.Field.attributes: 1
        case Event.Field.attributes: 2
        case StartSpan.Field.attributes: 3
        default: nil
        }
    }

    /// Bytes `write(asField:to:)` writes. Every field that holds attributes has a number below 16,
    /// so its key is one byte.
    @inline(__always)
    func size(asField number: Int) -> Int { encoded.count }

    /// Writes the attributes as repeated field `number` of the enclosing message: a ready-keyed copy
    /// when there is one, else the block followed by each element's key byte.
    @inline(__always)
    func write<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        guard !keyOffsets.isEmpty else { return }
        precondition(number < 16, "attribute fields have one-byte keys")
        if let index = Self.prekeyedIndex(number) {
            sink.writeRaw(UnsafeRawBufferPointer(start: prekeyed + index * prekeyedStride, count: encoded.count))
        } else {
            sink.writeRaw(encoded, settingBytesAt: keyOffsets, to: UInt8(number << 3 | 2))
        }
    }
}
