import Foundation
import OTLPMmapWire
import OTLPProto

/// An export request already encoded as OTLP protobuf, with the number of items (spans, log
/// records) it holds. The collector writes trace and log requests' bytes itself: the profile of a gRPC export showed a third
/// of the collector's CPU in swift-protobuf's generic serializer (its size visitor walks every
/// nested message again at each level), against a few percent for these direct writers.
public struct EncodedRequest: Sendable, Equatable {
    public let bytes: [UInt8]
    public let items: Int

    public init(bytes: [UInt8], items: Int) {
        self.bytes = bytes
        self.items = items
    }
}

/// Writes OTLP messages field by field in field-number order, skipping proto3 defaults and writing a
/// message field exactly when swift-protobuf would (`has…`), so that the bytes decode to the same
/// request the generated types would have serialized (tests check both, byte for byte). Field
/// numbers are opentelemetry-proto's (collector/*/v1, trace/v1, logs/v1, common/v1, resource/v1).
package enum RequestEncoding {
    /// Spans grouped by resource, then scope, as `RequestBuilder.group` orders them.
    static func traces(_ groups: [(OTLPResource, [(OTLPScope, [AssembledSpan])])]) -> EncodedRequest {
        encode(groups) { $0 }
    }

    /// Log records grouped by resource, then scope.
    static func logs(_ groups: [(OTLPResource, [(OTLPScope, [TranscodedLogRecord])])]) -> EncodedRequest {
        encode(groups) { $0 }
    }

    /// Every signal nests the same way: request.1 = resource group; group.1 = resource, .2 = scope
    /// group; scope group.1 = scope, .2 = item (span, log record, metric). Sizes are computed
    /// bottom-up, each once.
    private static func encode<Item, Encoded: StreamedMessage>(
        _ groups: [(OTLPResource, [(OTLPScope, [Item])])], _ encoded: (Item) -> Encoded
    ) -> EncodedRequest {
        var items = 0
        let sized = groups.map { resource, scopes in
            let scopeGroups = scopes.map { scope, members in
                let messages = members.map(encoded)
                let sizes = messages.map { $0.encodedSize }   // a closure: a key path here cost a tenth of the CPU (swift_getAtKeyPath)
                let body = WireSize.message(1, size: scope.encoded.encodedSize) + sizes.reduce(0) { $0 + WireSize.message(2, size: $1) }
                items += members.count
                return (scope: scope, messages: messages, sizes: sizes, size: body)
            }
            let body = WireSize.message(1, size: resource.encoded.encodedSize) + scopeGroups.reduce(0) { $0 + WireSize.message(2, size: $1.size) }
            return (resource: resource, scopes: scopeGroups, size: body)
        }
        let total = sized.reduce(0) { $0 + WireSize.message(1, size: $1.size) }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            var writer = ProtoWriter(UnsafeMutableRawBufferPointer(buffer))
            for group in sized {
                writer.writeTag(1, 2)
                writer.writeVarint(UInt64(group.size))
                writer.writeMessage(1, group.resource.encoded)
                for scope in group.scopes {
                    writer.writeTag(2, 2)
                    writer.writeVarint(UInt64(scope.size))
                    writer.writeMessage(1, scope.scope.encoded)
                    for (message, size) in zip(scope.messages, scope.sizes) { writer.writeMessage(2, message, size: size) }
                }
            }
            count = writer.count
        }
        return EncodedRequest(bytes: bytes, items: items)
    }
}

// MARK: the messages

extension WireSink {
    /// A bytes field, not written when empty.
    mutating func writeBytesField<Bytes: ContiguousBytes & Collection>(_ number: Int, _ bytes: Bytes) {
        guard !bytes.isEmpty else { return }
        writeTag(number, 2)
        writeVarint(UInt64(bytes.count))
        bytes.withUnsafeBytes { writeRaw($0) }
    }

    mutating func writeStringField(_ number: Int, _ string: String) {
        guard !string.isEmpty else { return }
        writeTag(number, 2)
        writeLengthDelimited(string)
    }

    mutating func writeVarintField(_ number: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(number, 0)
        writeVarint(value)
    }

    mutating func writeFixed64Field(_ number: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(number, 1)
        writeFixed64(value)
    }

    mutating func writeFixed32Field(_ number: Int, _ value: UInt32) {
        guard value != 0 else { return }
        writeTag(number, 5)
        writeFixed32(value)
    }

    mutating func writeKeyValues(_ number: Int, _ values: [OTLPKeyValue]) {
        for value in values { writeMessage(number, value.encoded) }
    }
}

/// An OTLP AnyValue, written with the size of every message nested in it measured once, in one walk
/// before writing. Sizing each nested message by encoding it on a `SizeCounter` — what
/// `writeMessage` does for a message without an arithmetic size — counts everything below a level
/// again at every level above it, so the work doubled with each level of nesting and a valid record
/// of values nested 20 deep held the collector for good (issue 19). Here a value is walked twice in
/// all (measure, write), whatever its depth. AnyValue: string 1, bool 2, int 3, double 4, array 5,
/// kvlist 6, bytes 7; ArrayValue and KeyValueList: values 1; KeyValue: key 1, value 2.
struct EncodedAnyValue: StreamedMessage {
    let value: OTLPAnyValue
    /// The body size of every message in `value`, itself first, in the order `encode` writes them.
    private let sizes: [Int]

    init(value: OTLPAnyValue) {
        var sizes: [Int] = []
        Self.measure(value, into: &sizes)
        self.value = value
        self.sizes = sizes
    }

    var encodedSize: Int { sizes[0] }

    func encode<Sink: WireSink>(to sink: inout Sink) {
        var next = 1
        Self.writeBody(value, sizes, &next, &sink)
    }

    /// Appends the body sizes of `value` and of the messages inside it, in writing order (a
    /// message's slot is taken before its children's, and filled after them); returns its own.
    @discardableResult
    private static func measure(_ value: OTLPAnyValue, into sizes: inout [Int]) -> Int {
        let index = sizes.count
        sizes.append(0)
        let size: Int
        switch value.value {
        case nil: size = 0
        case .stringValue(let text)?: size = 1 + lengthDelimitedSize(text.utf8.count)
        case .boolValue?: size = 2
        case .intValue(let number)?: size = 1 + varintSize(UInt64(bitPattern: number))
        case .doubleValue?: size = 9
        case .bytesValue(let bytes)?: size = 1 + lengthDelimitedSize(bytes.count)
        case .arrayValue(let array)?:
            let list = sizes.count
            sizes.append(0)
            var total = 0
            for element in array.values { total += WireSize.message(1, size: measure(element, into: &sizes)) }
            sizes[list] = total
            size = WireSize.message(5, size: total)
        case .kvlistValue(let map)?:
            let list = sizes.count
            sizes.append(0)
            var total = 0
            for keyValue in map.values {
                let pair = sizes.count
                sizes.append(0)
                var pairSize = WireSize.string(1, keyValue.key)
                if keyValue.hasValue { pairSize += WireSize.message(2, size: measure(keyValue.value, into: &sizes)) }
                sizes[pair] = pairSize
                total += WireSize.message(1, size: pairSize)
            }
            sizes[list] = total
            size = WireSize.message(6, size: total)
        }
        sizes[index] = size
        return size
    }

    /// Writes `value`'s fields, taking the nested messages' sizes from `sizes` at `next` onwards.
    private static func writeBody<Sink: WireSink>(_ value: OTLPAnyValue, _ sizes: [Int], _ next: inout Int, _ sink: inout Sink) {
        func frame(_ number: Int) {
            sink.writeTag(number, 2)
            sink.writeVarint(UInt64(sizes[next]))
            next += 1
        }
        switch value.value {
        case nil:
            break
        case .stringValue(let text)?:
            sink.writeTag(1, 2)
            sink.writeLengthDelimited(text)
        case .boolValue(let flag)?:
            sink.writeTag(2, 0)
            sink.writeVarint(flag ? 1 : 0)
        case .intValue(let number)?:
            sink.writeTag(3, 0)
            sink.writeVarint(UInt64(bitPattern: number))
        case .doubleValue(let number)?:
            sink.writeTag(4, 1)
            sink.writeFixed64(number.bitPattern)
        case .arrayValue(let array)?:
            frame(5)
            for element in array.values {
                frame(1)
                writeBody(element, sizes, &next, &sink)
            }
        case .kvlistValue(let map)?:
            frame(6)
            for keyValue in map.values {
                frame(1)
                sink.writeStringField(1, keyValue.key)
                if keyValue.hasValue {
                    frame(2)
                    writeBody(keyValue.value, sizes, &next, &sink)
                }
            }
        case .bytesValue(let bytes)?:
            sink.writeTag(7, 2)
            sink.writeVarint(UInt64(bytes.count))
            bytes.withUnsafeBytes { sink.writeRaw($0) }
        }
    }
}

/// Resource: attributes = 1, dropped_attributes_count = 2.
struct EncodedResource: StreamedMessage {
    let resource: OTLPResource
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeKeyValues(1, resource.attributes)
        sink.writeVarintField(2, UInt64(resource.droppedAttributesCount))
    }
}

/// InstrumentationScope: name = 1, version = 2, attributes = 3, dropped_attributes_count = 4.
struct EncodedScope: StreamedMessage {
    let scope: OTLPScope
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(1, scope.name)
        sink.writeStringField(2, scope.version)
        sink.writeKeyValues(3, scope.attributes)
        sink.writeVarintField(4, UInt64(scope.droppedAttributesCount))
    }
}

/// Span.Event: time_unix_nano = 1, name = 2, attributes = 3, dropped_attributes_count = 4.
struct EncodedSpanEvent: StreamedMessage {
    let event: Opentelemetry_Proto_Trace_V1_Span.Event
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeFixed64Field(1, event.timeUnixNano)
        sink.writeStringField(2, event.name)
        sink.writeKeyValues(3, event.attributes)
        sink.writeVarintField(4, UInt64(event.droppedAttributesCount))
    }
}

/// Span.Link: trace_id = 1, span_id = 2, trace_state = 3, attributes = 4,
/// dropped_attributes_count = 5, flags = 6.
struct EncodedLink: StreamedMessage {
    let link: Opentelemetry_Proto_Trace_V1_Span.Link
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeBytesField(1, link.traceID)
        sink.writeBytesField(2, link.spanID)
        sink.writeStringField(3, link.traceState)
        sink.writeKeyValues(4, link.attributes)
        sink.writeVarintField(5, UInt64(link.droppedAttributesCount))
        sink.writeFixed32Field(6, link.flags)
    }
}

/// Status: message = 2, code = 3.
struct EncodedStatus: StreamedMessage {
    let status: OTLPStatus
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(2, status.message)
        sink.writeVarintField(3, UInt64(bitPattern: Int64(status.code.rawValue)))
    }
}

extension OTLPKeyValue {
    /// The KeyValue for writing: its value measured once (`EncodedAnyValue`).
    var encoded: TranscodedKeyValue {
        TranscodedKeyValue(key: key, value: hasValue ? .resolved(EncodedAnyValue(value: value)) : .absent)
    }
}
extension OTLPResource { var encoded: EncodedResource { EncodedResource(resource: self) } }
extension OTLPScope { var encoded: EncodedScope { EncodedScope(scope: self) } }
