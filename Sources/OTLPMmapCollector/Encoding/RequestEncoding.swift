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

struct EncodedAnyValue: StreamedMessage {
    let value: OTLPAnyValue
    func encode<Sink: WireSink>(to sink: inout Sink) {
        switch value.value {
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
            sink.writeMessage(5, EncodedList(values: array.values))
        case .kvlistValue(let list)?:
            sink.writeMessage(6, EncodedKeyValueList(values: list.values))
        case .bytesValue(let bytes)?:
            sink.writeTag(7, 2)
            sink.writeVarint(UInt64(bytes.count))
            bytes.withUnsafeBytes { sink.writeRaw($0) }
        case nil:
            break
        }
    }
}

/// ArrayValue: values = 1.
struct EncodedList: StreamedMessage {
    let values: [OTLPAnyValue]
    func encode<Sink: WireSink>(to sink: inout Sink) {
        for value in values { sink.writeMessage(1, EncodedAnyValue(value: value)) }
    }
}

/// KeyValueList: values = 1.
struct EncodedKeyValueList: StreamedMessage {
    let values: [OTLPKeyValue]
    func encode<Sink: WireSink>(to sink: inout Sink) { sink.writeKeyValues(1, values) }
}

/// KeyValue: key = 1, value = 2.
struct EncodedKeyValue: StreamedMessage {
    let keyValue: OTLPKeyValue
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(1, keyValue.key)
        if keyValue.hasValue { sink.writeMessage(2, EncodedAnyValue(value: keyValue.value)) }
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

extension OTLPKeyValue { var encoded: EncodedKeyValue { EncodedKeyValue(keyValue: self) } }
extension OTLPResource { var encoded: EncodedResource { EncodedResource(resource: self) } }
extension OTLPScope { var encoded: EncodedScope { EncodedScope(scope: self) } }
