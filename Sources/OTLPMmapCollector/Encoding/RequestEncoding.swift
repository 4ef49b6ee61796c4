import Foundation
import OTLPMmapLayout
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
/// numbers come from spec/otlp's .proto files (`OTLPFields`, generated).
package enum RequestEncoding {
    /// Spans grouped by resource, then scope, as `RequestBuilder.group` orders them.
    static func traces(_ groups: [(OTLPResource, [(OTLPScope, [AssembledSpan])])]) -> EncodedRequest {
        encode(groups) { $0 }
    }

    /// Log records grouped by resource, then scope.
    static func logs(_ groups: [(OTLPResource, [(OTLPScope, [TranscodedLogRecord])])]) -> EncodedRequest {
        encode(groups) { $0 }
    }

    /// Every signal nests the same way: a request holds resource groups, a resource group its
    /// resource and scope groups, a scope group its scope and items (spans, log records). The traces
    /// and logs messages number these fields alike (a static check below keeps it so). Sizes are
    /// computed bottom-up, each once.
    private static func encode<Item, Encoded: StreamedMessage>(
        _ groups: [(OTLPResource, [(OTLPScope, [Item])])], _ encoded: (Item) -> Encoded
    ) -> EncodedRequest {
        var items = 0
        let sized = groups.map { resource, scopes in
            let scopeGroups = scopes.map { scope, members in
                let messages = members.map(encoded)
                let sizes = messages.map { $0.encodedSize }   // a closure: a key path here cost a tenth of the CPU (swift_getAtKeyPath)
                let body = WireSize.message(Nesting.scope, size: scope.encoded.encodedSize) + sizes.reduce(0) { $0 + WireSize.message(Nesting.items, size: $1) }
                items += members.count
                return (scope: scope, messages: messages, sizes: sizes, size: body)
            }
            let body = WireSize.message(Nesting.resource, size: resource.encoded.encodedSize) + scopeGroups.reduce(0) { $0 + WireSize.message(Nesting.scopeGroups, size: $1.size) }
            return (resource: resource, scopes: scopeGroups, size: body)
        }
        let total = sized.reduce(0) { $0 + WireSize.message(Nesting.resourceGroups, size: $1.size) }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            var writer = ProtoWriter(UnsafeMutableRawBufferPointer(buffer))
            for group in sized {
                writer.writeLengthDelimitedHeader(Nesting.resourceGroups, length: group.size)
                writer.writeMessageField(Nesting.resource, group.resource.encoded)
                for scope in group.scopes {
                    writer.writeLengthDelimitedHeader(Nesting.scopeGroups, length: scope.size)
                    writer.writeMessageField(Nesting.scope, scope.scope.encoded)
                    for (message, size) in zip(scope.messages, scope.sizes) { writer.writeMessageField(Nesting.items, message, size: size) }
                }
            }
            count = writer.count
        }
        return EncodedRequest(bytes: bytes, items: items)
    }

    /// The nesting's field numbers, the traces messages' (`encode` serves logs too).
    private enum Nesting {
        static var resourceGroups: Int { OTLPFields.ExportTraceServiceRequest.resourceSpans }
        static var resource: Int { OTLPFields.ResourceSpans.resource }
        static var scopeGroups: Int { OTLPFields.ResourceSpans.scopeSpans }
        static var scope: Int { OTLPFields.ScopeSpans.scope }
        static var items: Int { OTLPFields.ScopeSpans.spans }

        /// True when the logs messages number the nesting as the traces messages do; a test checks it.
        static var logsNestAlike: Bool {
            OTLPFields.ExportLogsServiceRequest.resourceLogs == resourceGroups && OTLPFields.ResourceLogs.resource == resource
                && OTLPFields.ResourceLogs.scopeLogs == scopeGroups && OTLPFields.ScopeLogs.scope == scope
                && OTLPFields.ScopeLogs.logRecords == items
        }
    }

    /// See `Nesting.logsNestAlike`.
    static var logsNestLikeTraces: Bool { Nesting.logsNestAlike }
}

// MARK: the messages

extension WireSink {
    mutating func writeKeyValues(_ number: Int, _ values: [OTLPKeyValue]) {
        for value in values { writeMessageField(number, value.encoded) }
    }
}

/// An OTLP AnyValue, written with the size of every message nested in it measured once, in one walk
/// before writing. Sizing each nested message by encoding it on a `SizeCounter` — what
/// `writeMessage` does for a message without an arithmetic size — counts everything below a level
/// again at every level above it, so the work doubled with each level of nesting and a valid record
/// of values nested 20 deep held the collector for good (issue 19). Here a value is walked twice in
/// all (measure, write), whatever its depth.
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

    /// OTLP AnyValue's `value` oneof: a member is written even at its default.
    private typealias Member = OTLPFields.AnyValue

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
        case .stringValue(let text)?: size = WireSize.tag(Member.stringValue) + lengthDelimitedSize(text.utf8.count)
        case .boolValue?: size = WireSize.tag(Member.boolValue) + 1
        case .intValue(let number)?: size = WireSize.tag(Member.intValue) + varintSize(UInt64(bitPattern: number))
        case .doubleValue?: size = WireSize.tag(Member.doubleValue) + 8
        case .bytesValue(let bytes)?: size = WireSize.tag(Member.bytesValue) + lengthDelimitedSize(bytes.count)
        case .arrayValue(let array)?:
            let list = sizes.count
            sizes.append(0)
            var total = 0
            for element in array.values { total += WireSize.message(OTLPFields.ArrayValue.values, size: measure(element, into: &sizes)) }
            sizes[list] = total
            size = WireSize.message(Member.arrayValue, size: total)
        case .kvlistValue(let map)?:
            let list = sizes.count
            sizes.append(0)
            var total = 0
            for keyValue in map.values {
                let pair = sizes.count
                sizes.append(0)
                var pairSize = WireSize.string(OTLPFields.KeyValue.key, keyValue.key)
                if keyValue.hasValue { pairSize += WireSize.message(OTLPFields.KeyValue.value, size: measure(keyValue.value, into: &sizes)) }
                sizes[pair] = pairSize
                total += WireSize.message(OTLPFields.KeyValueList.values, size: pairSize)
            }
            sizes[list] = total
            size = WireSize.message(Member.kvlistValue, size: total)
        }
        sizes[index] = size
        return size
    }

    /// Writes `value`'s fields, taking the nested messages' sizes from `sizes` at `next` onwards.
    private static func writeBody<Sink: WireSink>(_ value: OTLPAnyValue, _ sizes: [Int], _ next: inout Int, _ sink: inout Sink) {
        func frame(_ number: Int) {
            sink.writeLengthDelimitedHeader(number, length: sizes[next])
            next += 1
        }
        switch value.value {
        case nil:
            break
        case .stringValue(let text)?:
            sink.writeKey(Member.stringValue, WireType.lengthDelimited)
            sink.writeLengthDelimited(text)
        case .boolValue(let flag)?:
            sink.writeKey(Member.boolValue, WireType.varint)
            sink.writeVarint(flag ? 1 : 0)
        case .intValue(let number)?:
            sink.writeKey(Member.intValue, WireType.varint)
            sink.writeVarint(UInt64(bitPattern: number))
        case .doubleValue(let number)?:
            sink.writeKey(Member.doubleValue, WireType.fixed64)
            sink.writeFixed64(number.bitPattern)
        case .arrayValue(let array)?:
            frame(Member.arrayValue)
            for element in array.values {
                frame(OTLPFields.ArrayValue.values)
                writeBody(element, sizes, &next, &sink)
            }
        case .kvlistValue(let map)?:
            frame(Member.kvlistValue)
            for keyValue in map.values {
                frame(OTLPFields.KeyValueList.values)
                sink.writeStringField(OTLPFields.KeyValue.key, keyValue.key)
                if keyValue.hasValue {
                    frame(OTLPFields.KeyValue.value)
                    writeBody(keyValue.value, sizes, &next, &sink)
                }
            }
        case .bytesValue(let bytes)?:
            sink.writeKey(Member.bytesValue, WireType.lengthDelimited)
            sink.writeVarint(UInt64(bytes.count))
            bytes.withUnsafeBytes { sink.writeRaw($0) }
        }
    }
}

struct EncodedResource: StreamedMessage {
    let resource: OTLPResource
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeKeyValues(OTLPFields.Resource.attributes, resource.attributes)
        sink.writeUInt64Field(OTLPFields.Resource.droppedAttributesCount, UInt64(resource.droppedAttributesCount))
    }
}

struct EncodedScope: StreamedMessage {
    let scope: OTLPScope
    private typealias Field = OTLPFields.InstrumentationScope
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(Field.name, scope.name)
        sink.writeStringField(Field.version, scope.version)
        sink.writeKeyValues(Field.attributes, scope.attributes)
        sink.writeUInt64Field(Field.droppedAttributesCount, UInt64(scope.droppedAttributesCount))
    }
}

struct EncodedSpanEvent: StreamedMessage {
    let event: Opentelemetry_Proto_Trace_V1_Span.Event
    private typealias Field = OTLPFields.Span.Event
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeFixed64Field(Field.timeUnixNano, event.timeUnixNano)
        sink.writeStringField(Field.name, event.name)
        sink.writeKeyValues(Field.attributes, event.attributes)
        sink.writeUInt64Field(Field.droppedAttributesCount, UInt64(event.droppedAttributesCount))
    }
}

struct EncodedLink: StreamedMessage {
    let link: Opentelemetry_Proto_Trace_V1_Span.Link
    private typealias Field = OTLPFields.Span.Link
    func encode<Sink: WireSink>(to sink: inout Sink) {
        link.traceID.withUnsafeBytes { sink.writeBytesField(Field.traceId, $0) }
        link.spanID.withUnsafeBytes { sink.writeBytesField(Field.spanId, $0) }
        sink.writeStringField(Field.traceState, link.traceState)
        sink.writeKeyValues(Field.attributes, link.attributes)
        sink.writeUInt64Field(Field.droppedAttributesCount, UInt64(link.droppedAttributesCount))
        sink.writeFixed32Field(Field.flags, link.flags)
    }
}

struct EncodedStatus: StreamedMessage {
    let status: OTLPStatus
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(OTLPFields.Status.message, status.message)
        sink.writeEnumField(OTLPFields.Status.code, Int32(truncatingIfNeeded: status.code.rawValue))
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
