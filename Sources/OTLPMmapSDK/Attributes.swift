import OTLPMmapLayout
import OTLPMmapWire

/// Attributes prepared for recording: keys interned in the dictionary and every KeyValueRef already
/// encoded. Prepare them once (`TelemetryWriter.attributes`) and reuse them; recording copies the
/// bytes and allocates nothing.
public struct Attributes: Sendable, Equatable {
    /// Immutable after creation; a class so that passing attributes around costs one reference count.
    final class Storage: @unchecked Sendable {
        /// Each element as it appears in a record: a one-byte field key (a placeholder, patched to the
        /// enclosing field's key when written), the KeyValueRef's varint length, its bytes.
        let encoded: UnsafeRawBufferPointer
        /// Where each element's key byte lies in `encoded`.
        let keyOffsets: [Int]

        init(encoded: [UInt8], keyOffsets: [Int]) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(encoded.count, 1), alignment: 8)
            encoded.withUnsafeBytes { if $0.count > 0 { buffer.copyMemory(from: $0) } }
            self.encoded = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<encoded.count])
            self.keyOffsets = keyOffsets
        }

        deinit { UnsafeMutableRawPointer(mutating: encoded.baseAddress)?.deallocate() }
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
        lhs.storage.keyOffsets == rhs.storage.keyOffsets && lhs.storage.encoded.elementsEqual(rhs.storage.encoded)
    }

    /// Bytes `write(asField:to:)` writes. Every field that holds attributes has a number below 16,
    /// so its key is one byte.
    func size(asField number: Int) -> Int { storage.encoded.count }

    /// Writes the attributes as repeated field `number` of the enclosing message: the whole block at
    /// once, then each element's key byte.
    func write<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        let storage = self.storage
        guard !storage.keyOffsets.isEmpty else { return }
        precondition(number < 16, "attribute fields have one-byte keys")
        sink.writeRaw(storage.encoded, settingBytesAt: storage.keyOffsets, to: UInt8(number << 3 | 2))
    }

    /// These attributes followed by `other`'s (a later key does not replace an earlier one).
    public func appending(_ other: Attributes) -> Attributes {
        let shift = storage.encoded.count
        return Attributes(encoded: Array(storage.encoded) + Array(other.storage.encoded),
                          keyOffsets: storage.keyOffsets + other.storage.keyOffsets.map { $0 + shift })
    }
}
