import OTLPMmapLayout
import OTLPMmapWire

/// Attributes prepared for recording: keys interned in the dictionary and every KeyValueRef already
/// encoded. Prepare them once (`TelemetryWriter.attributes`) and reuse them; recording copies the
/// bytes and allocates nothing.
public struct Attributes: Sendable, Equatable {
    /// Each element as it appears in a record: a one-byte field key (a placeholder, patched to the
    /// enclosing field's key when written), the KeyValueRef's varint length, its bytes.
    let encoded: [UInt8]
    /// Where each element's key byte lies in `encoded`.
    let keyOffsets: [Int]

    public static let none = Attributes(encoded: [], keyOffsets: [])

    public var count: Int { keyOffsets.count }
    public var isEmpty: Bool { keyOffsets.isEmpty }

    init(encoded: [UInt8], keyOffsets: [Int]) {
        self.encoded = encoded
        self.keyOffsets = keyOffsets
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

    /// Bytes `write(asField:to:)` writes. Every field that holds attributes has a number below 16,
    /// so its key is one byte (the generated layout's field numbers are checked by a test).
    func size(asField number: Int) -> Int { encoded.count }

    /// Writes the attributes as repeated field `number` of the enclosing message: the whole block at
    /// once, then each element's key byte.
    func write<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        guard !keyOffsets.isEmpty else { return }
        precondition(number < 16, "attribute fields have one-byte keys")
        encoded.withUnsafeBytes { sink.writeRaw($0, settingBytesAt: keyOffsets, to: UInt8(number << 3 | 2)) }
    }

    /// These attributes followed by `other`'s (a later key does not replace an earlier one).
    public func appending(_ other: Attributes) -> Attributes {
        let shift = encoded.count
        return Attributes(encoded: encoded + other.encoded, keyOffsets: keyOffsets + other.keyOffsets.map { $0 + shift })
    }
}
