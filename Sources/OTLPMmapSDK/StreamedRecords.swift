import OTLPMmapLayout
import OTLPMmapWire

// The records the SDK writes, encoded field by field from the caller's values straight into the slot.
// Field numbers come from the generated layout; fields are written in number order and proto3
// defaults are left out, exactly as the generated encoders do (a test compares the bytes).

/// A string's UTF-8 bytes, borrowed for the duration of one recording call (see `withUTF8Text`).
/// Records hold this instead of the `String` so that they are trivial values: no reference counting.
struct UTF8Text {
    let bytes: UnsafeRawBufferPointer
}

/// Calls `body` with `string`'s UTF-8 bytes: in place for native and small strings (no copy, no
/// allocation), from a contiguous copy for the rare string that is not stored as UTF-8.
@inline(__always)
func withUTF8Text<Result>(_ string: String, _ body: (UTF8Text) -> Result) -> Result {
    if let result = string.utf8.withContiguousStorageIfAvailable({ body(UTF8Text(bytes: UnsafeRawBufferPointer($0))) }) {
        return result
    }
    var copy = string
    copy.makeContiguousUTF8()
    return copy.withUTF8 { body(UTF8Text(bytes: UnsafeRawBufferPointer($0))) }
}

/// A SpanEvent: the span's ids, one event, the scope.
struct SpanEventRecord<Body: StreamedMessage>: StreamedMessage {
    let context: SpanContext
    let scopeRef: Int64
    /// Which member of the `event` oneof `body` is.
    let eventField: Int
    let body: Body
    /// The body's size, computed once: both sizing and writing the record need it.
    let bodySize: Int

    @inline(__always)
    init(context: SpanContext, scopeRef: Int64, eventField: Int, body: Body) {
        self.context = context
        self.scopeRef = scopeRef
        self.eventField = eventField
        self.body = body
        bodySize = body.encodedSize
    }

    @inline(__always)
    var encodedSize: Int {
        WireSize.id128(SpanEvent.Field.traceId) + WireSize.id64(SpanEvent.Field.spanId)
            + WireSize.message(eventField, size: bodySize) + WireSize.int64(SpanEvent.Field.scopeRef, scopeRef)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeID128Field(SpanEvent.Field.traceId, high: context.traceID.high, low: context.traceID.low)
        sink.writeID64Field(SpanEvent.Field.spanId, context.spanID.value)
        sink.writeMessageField(eventField, body, size: bodySize)
        sink.writeInt64Field(SpanEvent.Field.scopeRef, scopeRef)
    }
}

struct StartSpanBody: StreamedMessage {
    var parent: SpanID?
    var name: UTF8Text
    var kind: SpanKind
    var startTime: UInt64
    var attributes: AttributeBlock
    var flags: UInt32

    @inline(__always)
    var encodedSize: Int {
        ((parent?.isValid ?? false) ? WireSize.id64(StartSpan.Field.parentSpanId) : 0)
            + WireSize.bytes(StartSpan.Field.name, count: name.bytes.count) + WireSize.enumeration(StartSpan.Field.kind, kind.rawValue)
            + WireSize.fixed64(StartSpan.Field.startTimeUnixNano, startTime)
            + attributes.size(asField: StartSpan.Field.attributes) + WireSize.fixed32(StartSpan.Field.flags, flags)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        if let parent, parent.isValid { sink.writeID64Field(StartSpan.Field.parentSpanId, parent.value) }
        sink.writeBytesField(StartSpan.Field.name, name.bytes)
        sink.writeEnumField(StartSpan.Field.kind, kind.rawValue)
        sink.writeFixed64Field(StartSpan.Field.startTimeUnixNano, startTime)
        attributes.write(asField: StartSpan.Field.attributes, to: &sink)
        sink.writeFixed32Field(StartSpan.Field.flags, flags)
    }
}

struct StatusBody: StreamedMessage {
    var message: UTF8Text
    var code: StatusCode

    @inline(__always)
    var encodedSize: Int { WireSize.bytes(Status.Field.message, count: message.bytes.count) + WireSize.enumeration(Status.Field.code, code.rawValue) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeBytesField(Status.Field.message, message.bytes)
        sink.writeEnumField(Status.Field.code, code.rawValue)
    }
}

struct EndSpanBody: StreamedMessage {
    var endTime: UInt64
    var status: StatusBody

    @inline(__always)
    var encodedSize: Int {
        WireSize.fixed64(EndSpan.Field.endTimeUnixNano, endTime) + WireSize.message(EndSpan.Field.status, size: status.encodedSize)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeFixed64Field(EndSpan.Field.endTimeUnixNano, endTime)
        sink.writeMessageField(EndSpan.Field.status, status)
    }
}

struct ChangeSpanNameBody: StreamedMessage {
    var name: UTF8Text

    @inline(__always)
    var encodedSize: Int { WireSize.bytes(ChangeSpanName.Field.name, count: name.bytes.count) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeBytesField(ChangeSpanName.Field.name, name.bytes)
    }
}

struct UpdateAttributesBody: StreamedMessage {
    var attributes: AttributeBlock

    @inline(__always)
    var encodedSize: Int { attributes.size(asField: UpdateAttributes.Field.attributes) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        attributes.write(asField: UpdateAttributes.Field.attributes, to: &sink)
    }
}

/// A link from one span to another.
public struct SpanLink: Sendable, Equatable {
    public var context: SpanContext
    public var traceState: String
    public var attributes: Attributes

    public init(to context: SpanContext, traceState: String = "", attributes: Attributes = .none) {
        self.context = context
        self.traceState = traceState
        self.attributes = attributes
    }
}

struct LinkBody: StreamedMessage {
    var link: SpanLink

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeID128Field(Link.Field.traceId, high: link.context.traceID.high, low: link.context.traceID.low)
        sink.writeID64Field(Link.Field.spanId, link.context.spanID.value)
        withUTF8Text(link.traceState) { sink.writeBytesField(Link.Field.traceState, $0.bytes) }
        withExtendedLifetime(link.attributes) { link.attributes.block.write(asField: Link.Field.attributes, to: &sink) }
        sink.writeFixed32Field(Link.Field.flags, link.context.flags)
    }
}

struct AddLinkBody: StreamedMessage {
    var links: [SpanLink]

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        for link in links { sink.writeMessageField(AddLink.Field.links, LinkBody(link: link)) }
    }
}

struct SpanContextBody: StreamedMessage {
    var context: SpanContext

    @inline(__always)
    var encodedSize: Int {
        WireSize.id64(OTLPMmapLayout.SpanContext.Field.spanId) + WireSize.id128(OTLPMmapLayout.SpanContext.Field.traceId)
            + WireSize.fixed32(OTLPMmapLayout.SpanContext.Field.flags, context.flags)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeID64Field(OTLPMmapLayout.SpanContext.Field.spanId, context.spanID.value)
        sink.writeID128Field(OTLPMmapLayout.SpanContext.Field.traceId, high: context.traceID.high, low: context.traceID.low)
        sink.writeFixed32Field(OTLPMmapLayout.SpanContext.Field.flags, context.flags)
    }
}

/// A log body: plain text streamed as is, or a value prepared with `TelemetryWriter.value(_:)`.
public enum LogBody: Sendable, Equatable {
    case none
    case text(String)
    case prepared(PreparedValue)
}

/// An AnyValue encoded once, for bodies that are not plain text.
public struct PreparedValue: Sendable, Equatable {
    let encoded: [UInt8]
}

struct TextValueBody: StreamedMessage {
    var text: UTF8Text

    @inline(__always)
    var encodedSize: Int { WireSize.tag(AnyValue.Field.stringValue) + lengthDelimitedSize(text.bytes.count) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        // A oneof member is written even when empty.
        sink.writeLengthDelimitedHeader(AnyValue.Field.stringValue, length: text.bytes.count)
        sink.writeRaw(text.bytes)
    }
}

/// A log body as the record holds it: borrowed bytes, like `UTF8Text`.
enum BodyBytes {
    case none
    case text(UTF8Text)
    /// An encoded AnyValue.
    case prepared(UnsafeRawBufferPointer)
}

/// Calls `body` with `logBody`'s bytes borrowed.
@inline(__always)
func withBodyBytes<Result>(_ logBody: LogBody, _ body: (BodyBytes) -> Result) -> Result {
    switch logBody {
    case .none: body(.none)
    case .text(let text): withUTF8Text(text) { body(.text($0)) }
    case .prepared(let value): value.encoded.withUnsafeBytes { body(.prepared($0)) }
    }
}

struct EventRecord: StreamedMessage {
    var scopeRef: Int64
    var time: UInt64
    var severity: SeverityNumber
    var severityText: UTF8Text
    var body: BodyBytes
    var eventNameRef: Int64
    var context: SpanContext?
    var attributes: AttributeBlock

    @inline(__always)
    var encodedSize: Int {
        var size = WireSize.int64(Event.Field.scopeRef, scopeRef) + WireSize.fixed64(Event.Field.timeUnixNano, time)
            + WireSize.enumeration(Event.Field.severityNumber, severity.rawValue) + WireSize.bytes(Event.Field.severityText, count: severityText.bytes.count)
            + WireSize.int64(Event.Field.eventNameRef, eventNameRef) + attributes.size(asField: Event.Field.attributes)
        switch body {
        case .none: break
        case .text(let text): size += WireSize.message(Event.Field.body, size: TextValueBody(text: text).encodedSize)
        case .prepared(let value): size += WireSize.message(Event.Field.body, size: value.count)
        }
        if let context { size += WireSize.message(Event.Field.spanContext, size: SpanContextBody(context: context).encodedSize) }
        return size
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeInt64Field(Event.Field.scopeRef, scopeRef)
        sink.writeFixed64Field(Event.Field.timeUnixNano, time)
        sink.writeEnumField(Event.Field.severityNumber, severity.rawValue)
        sink.writeBytesField(Event.Field.severityText, severityText.bytes)
        switch body {
        case .none: break
        case .text(let text): sink.writeMessageField(Event.Field.body, TextValueBody(text: text))
        case .prepared(let value):
            sink.writeEncodedMessageField(Event.Field.body, value)
        }
        sink.writeInt64Field(Event.Field.eventNameRef, eventNameRef)
        if let context { sink.writeMessageField(Event.Field.spanContext, SpanContextBody(context: context)) }
        attributes.write(asField: Event.Field.attributes, to: &sink)
    }
}

/// A measurement's value: integer or floating point, as the instrument records it.
public enum MeasurementValue: Sendable, Equatable {
    case long(Int64)
    case double(Double)
}

struct MeasurementRecord: StreamedMessage {
    var metricRef: Int64
    var attributes: AttributeBlock
    var time: UInt64
    var value: MeasurementValue
    var context: SpanContext?

    @inline(__always)
    var encodedSize: Int {
        var size = WireSize.int64(Measurement.Field.metricRef, metricRef) + attributes.size(asField: Measurement.Field.attributes)
            + WireSize.fixed64(Measurement.Field.timeUnixNano, time)
        switch value {
        case .long(let number): size += WireSize.tag(Measurement.Field.asLong) + varintSize(UInt64(bitPattern: number))
        case .double: size += WireSize.tag(Measurement.Field.asDouble) + 8
        }
        if let context { size += WireSize.message(Measurement.Field.spanContext, size: SpanContextBody(context: context).encodedSize) }
        return size
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeInt64Field(Measurement.Field.metricRef, metricRef)
        attributes.write(asField: Measurement.Field.attributes, to: &sink)
        sink.writeFixed64Field(Measurement.Field.timeUnixNano, time)
        switch value {
        case .long(let number):
            sink.writeKey(Measurement.Field.asLong, WireType.varint)
            sink.writeVarint(UInt64(bitPattern: number))
        case .double(let number):
            sink.writeKey(Measurement.Field.asDouble, WireType.fixed64)
            sink.writeFixed64(number.bitPattern)
        }
        if let context { sink.writeMessageField(Measurement.Field.spanContext, SpanContextBody(context: context)) }
    }
}
