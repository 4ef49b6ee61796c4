import OTLPMmapLayout
import OTLPMmapWire

// The records the SDK writes, encoded field by field from the caller's values straight into the slot.
// Field numbers come from the generated layout; fields are written in number order and proto3
// defaults are left out, exactly as the generated encoders do (a test compares the bytes).

extension WireSize {
    @inline(__always) static func traceID(_ number: Int) -> Int { tag(number) + 1 + 16 }
    @inline(__always) static func spanID(_ number: Int) -> Int { tag(number) + 1 + 8 }
    @inline(__always) static func string(_ number: Int, _ value: UTF8Text) -> Int {
        value.bytes.isEmpty ? 0 : tag(number) + lengthDelimitedSize(value.bytes.count)
    }
}

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

extension WireSink {
    // Each field is reserved whole (key, length, value) and stored with plain stores: one bounds
    // check per field. Keys of one byte (field numbers below 16) and two bytes (16 to 2047) are
    // the ones records use; the key bytes are constants after inlining.

    @inline(__always)
    static func writeKey(_ number: Int, _ wireType: Int, at pointer: UnsafeMutableRawPointer) -> Int {
        let key = UInt64(number) << 3 | UInt64(wireType)
        if key < 0x80 {
            pointer.storeBytes(of: UInt8(key), as: UInt8.self)
            return 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: key) | 0x80, as: UInt8.self)
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: key >> 7), toByteOffset: 1, as: UInt8.self)
        return 2
    }

    @inline(__always)
    mutating func writeTraceID(_ number: Int, _ id: TraceID) {
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.traceID(number)) { pointer in
            let at = Self.writeKey(number, 2, at: pointer)
            pointer.storeBytes(of: 16, toByteOffset: at, as: UInt8.self)
            pointer.storeBytes(of: id.high.bigEndian, toByteOffset: at + 1, as: UInt64.self)
            pointer.storeBytes(of: id.low.bigEndian, toByteOffset: at + 9, as: UInt64.self)
        }
    }

    @inline(__always)
    mutating func writeSpanID(_ number: Int, _ id: SpanID) {
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.spanID(number)) { pointer in
            let at = Self.writeKey(number, 2, at: pointer)
            pointer.storeBytes(of: 8, toByteOffset: at, as: UInt8.self)
            pointer.storeBytes(of: id.value.bigEndian, toByteOffset: at + 1, as: UInt64.self)
        }
    }

    @inline(__always)
    mutating func writeInt64(_ number: Int, _ value: Int64) {
        guard value != 0 else { return }
        writeTag(number, 0)
        writeVarint(UInt64(bitPattern: value))
    }

    @inline(__always)
    mutating func writeString(_ number: Int, _ value: UTF8Text) {
        let count = value.bytes.count
        guard count != 0 else { return }
        guard count < 0x80, number < 2048 else {
            writeTag(number, 2)
            writeText(value)
            return
        }
        writeReserved(WireSize.tag(number) + 1 + count) { pointer in
            let at = Self.writeKey(number, 2, at: pointer)
            pointer.storeBytes(of: UInt8(count), toByteOffset: at, as: UInt8.self)
            copySmall(to: pointer + at + 1, from: value.bytes.baseAddress!, count: count)
        }
    }

    /// Length prefix and bytes.
    @inline(__always)
    mutating func writeText(_ value: UTF8Text) {
        writeVarint(UInt64(value.bytes.count))
        writeRaw(value.bytes)
    }

    @inline(__always)
    mutating func writeFixed64(_ number: Int, _ value: UInt64) {
        guard value != 0 else { return }
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.tag(number) + 8) { pointer in
            let at = Self.writeKey(number, 1, at: pointer)
            pointer.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt64.self)
        }
    }

    @inline(__always)
    mutating func writeFixed32(_ number: Int, _ value: UInt32) {
        guard value != 0 else { return }
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.tag(number) + 4) { pointer in
            let at = Self.writeKey(number, 5, at: pointer)
            pointer.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt32.self)
        }
    }

    @inline(__always)
    mutating func writeEnum(_ number: Int, _ value: Int32) {
        guard value != 0 else { return }
        writeTag(number, 0)
        writeVarint(UInt64(bitPattern: Int64(value)))
    }
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
        WireSize.traceID(SpanEvent.Field.traceId) + WireSize.spanID(SpanEvent.Field.spanId)
            + WireSize.message(eventField, size: bodySize) + WireSize.int64(SpanEvent.Field.scopeRef, scopeRef)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeTraceID(SpanEvent.Field.traceId, context.traceID)
        sink.writeSpanID(SpanEvent.Field.spanId, context.spanID)
        sink.writeMessage(eventField, body, size: bodySize)
        sink.writeInt64(SpanEvent.Field.scopeRef, scopeRef)
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
        ((parent?.isValid ?? false) ? WireSize.spanID(StartSpan.Field.parentSpanId) : 0)
            + WireSize.string(StartSpan.Field.name, name) + WireSize.enumeration(StartSpan.Field.kind, kind.rawValue)
            + WireSize.fixed64(StartSpan.Field.startTimeUnixNano, startTime)
            + attributes.size(asField: StartSpan.Field.attributes) + WireSize.fixed32(StartSpan.Field.flags, flags)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        if let parent, parent.isValid { sink.writeSpanID(StartSpan.Field.parentSpanId, parent) }
        sink.writeString(StartSpan.Field.name, name)
        sink.writeEnum(StartSpan.Field.kind, kind.rawValue)
        sink.writeFixed64(StartSpan.Field.startTimeUnixNano, startTime)
        attributes.write(asField: StartSpan.Field.attributes, to: &sink)
        sink.writeFixed32(StartSpan.Field.flags, flags)
    }
}

struct StatusBody: StreamedMessage {
    var message: UTF8Text
    var code: StatusCode

    @inline(__always)
    var encodedSize: Int { WireSize.string(Status.Field.message, message) + WireSize.enumeration(Status.Field.code, code.rawValue) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeString(Status.Field.message, message)
        sink.writeEnum(Status.Field.code, code.rawValue)
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
        sink.writeFixed64(EndSpan.Field.endTimeUnixNano, endTime)
        sink.writeMessage(EndSpan.Field.status, status)
    }
}

struct ChangeSpanNameBody: StreamedMessage {
    var name: UTF8Text

    @inline(__always)
    var encodedSize: Int { WireSize.string(ChangeSpanName.Field.name, name) }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeString(ChangeSpanName.Field.name, name)
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
        sink.writeTraceID(Link.Field.traceId, link.context.traceID)
        sink.writeSpanID(Link.Field.spanId, link.context.spanID)
        withUTF8Text(link.traceState) { sink.writeString(Link.Field.traceState, $0) }
        withExtendedLifetime(link.attributes) { link.attributes.block.write(asField: Link.Field.attributes, to: &sink) }
        sink.writeFixed32(Link.Field.flags, link.context.flags)
    }
}

struct AddLinkBody: StreamedMessage {
    var links: [SpanLink]

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        for link in links { sink.writeMessage(AddLink.Field.links, LinkBody(link: link)) }
    }
}

struct SpanContextBody: StreamedMessage {
    var context: SpanContext

    @inline(__always)
    var encodedSize: Int {
        WireSize.spanID(OTLPMmapLayout.SpanContext.Field.spanId) + WireSize.traceID(OTLPMmapLayout.SpanContext.Field.traceId)
            + WireSize.fixed32(OTLPMmapLayout.SpanContext.Field.flags, context.flags)
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeSpanID(OTLPMmapLayout.SpanContext.Field.spanId, context.spanID)
        sink.writeTraceID(OTLPMmapLayout.SpanContext.Field.traceId, context.traceID)
        sink.writeFixed32(OTLPMmapLayout.SpanContext.Field.flags, context.flags)
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
        sink.writeTag(AnyValue.Field.stringValue, 2)
        sink.writeText(text)
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
            + WireSize.enumeration(Event.Field.severityNumber, severity.rawValue) + WireSize.string(Event.Field.severityText, severityText)
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
        sink.writeInt64(Event.Field.scopeRef, scopeRef)
        sink.writeFixed64(Event.Field.timeUnixNano, time)
        sink.writeEnum(Event.Field.severityNumber, severity.rawValue)
        sink.writeString(Event.Field.severityText, severityText)
        switch body {
        case .none: break
        case .text(let text): sink.writeMessage(Event.Field.body, TextValueBody(text: text))
        case .prepared(let value):
            sink.writeTag(Event.Field.body, 2)
            sink.writeVarint(UInt64(value.count))
            sink.writeRaw(value)
        }
        sink.writeInt64(Event.Field.eventNameRef, eventNameRef)
        if let context { sink.writeMessage(Event.Field.spanContext, SpanContextBody(context: context)) }
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
        sink.writeInt64(Measurement.Field.metricRef, metricRef)
        attributes.write(asField: Measurement.Field.attributes, to: &sink)
        sink.writeFixed64(Measurement.Field.timeUnixNano, time)
        switch value {
        case .long(let number):
            sink.writeTag(Measurement.Field.asLong, 0)
            sink.writeVarint(UInt64(bitPattern: number))
        case .double(let number):
            sink.writeTag(Measurement.Field.asDouble, 1)
            sink.writeFixed64(number.bitPattern)
        }
        if let context { sink.writeMessage(Measurement.Field.spanContext, SpanContextBody(context: context)) }
    }
}
