import OTLPMmapLayout
import OTLPMmapWire

/// Attributes prepared for recording: keys interned in the dictionary and every KeyValueRef already
/// encoded. Prepare them once (`TelemetryWriter.attributes`) and reuse them; recording copies the
/// bytes and allocates nothing.
public struct Attributes: Sendable, Equatable {
    /// Each element's KeyValueRef payload, preceded by its varint length, back to back.
    let encoded: [UInt8]
    /// Where each element (length prefix included) lies in `encoded`.
    let elements: [Range<Int>]

    public static let none = Attributes(encoded: [], elements: [])

    public var count: Int { elements.count }
    public var isEmpty: Bool { elements.isEmpty }

    init(encoded: [UInt8], elements: [Range<Int>]) {
        self.encoded = encoded
        self.elements = elements
    }

    init(_ keyValues: [KeyValueRef]) {
        var encoded: [UInt8] = []
        var elements: [Range<Int>] = []
        for keyValue in keyValues {
            let size = keyValue.encodedSize
            let start = encoded.count
            encoded += [UInt8](repeating: 0, count: lengthDelimitedSize(size))
            encoded.withUnsafeMutableBytes { raw in
                var writer = ProtoWriter(UnsafeMutableRawBufferPointer(rebasing: raw[start...]))
                writer.writeVarint(UInt64(size))
                keyValue.encode(to: &writer)
            }
            elements.append(start..<encoded.count)
        }
        self.init(encoded: encoded, elements: elements)
    }

    /// Writes the attributes as repeated field `number` of the enclosing message.
    func write<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        guard !elements.isEmpty else { return }
        encoded.withUnsafeBytes { bytes in
            for range in elements {
                sink.writeTag(number, 2)
                sink.writeRaw(UnsafeRawBufferPointer(rebasing: bytes[range]))
            }
        }
    }

    /// These attributes followed by `other`'s (a later key does not replace an earlier one).
    public func appending(_ other: Attributes) -> Attributes {
        let shift = encoded.count
        return Attributes(encoded: encoded + other.encoded, elements: elements + other.elements.map { ($0.lowerBound + shift)..<($0.upperBound + shift) })
    }
}
