import OTLPMmapLayout
import OTLPMmapWire

// Prepared records: what stays the same from one span start (or log record) to the next — name,
// kind, attributes, scope; severity, body, event name — encoded once, in the exact bytes the
// general path writes. Recording from a template copies those bytes and fills in only what changes
// per call (ids, time, flags, parent, span context). A test checks that both paths write the same
// bytes for the same inputs. Per-call fields use the general path's helpers, which leave out
// proto3 defaults the same way (a zero time or flags).

/// Byte segments of a prepared record, kept in one allocation and handed to the recording path as
/// raw pointers (no reference counting per record).
final class TemplateBytes: @unchecked Sendable {
    private let allocation: UnsafeMutableRawPointer
    /// The three segments every template has (a tuple: no array bounds checks on the hot path).
    let segments: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer)

    init(_ first: [UInt8], _ second: [UInt8], _ third: [UInt8]) {
        let parts = [first, second, third]
        let allocation = UnsafeMutableRawPointer.allocate(byteCount: max(parts.reduce(0) { $0 + $1.count }, 1), alignment: 8)
        self.allocation = allocation
        var offset = 0
        var pointers: [UnsafeRawBufferPointer] = []
        for part in parts {
            part.withUnsafeBytes { if $0.count > 0 { (allocation + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            pointers.append(UnsafeRawBufferPointer(start: allocation + offset, count: part.count))
            offset += part.count
        }
        segments = (pointers[0], pointers[1], pointers[2])
    }

    deinit { allocation.deallocate() }

    /// The bytes `message` encodes to.
    static func encoded<Message: StreamedMessage>(_ message: Message) -> [UInt8] {
        encoded(size: message.encodedSize) { message.encode(to: &$0) }
    }

    /// The `size` bytes `write` writes (single fields of a template).
    static func encoded(size: Int, _ write: (inout ProtoWriter) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(raw)
            write(&writer)
            precondition(writer.count == size, "template piece sized wrongly")
        }
        return bytes
    }
}

/// A span start prepared once (`TelemetryWriter.spanTemplate`): name, kind, attributes and scope
/// are encoded; `startSpan(_:parent:startTime:flags:)` adds ids, time and flags.
public struct SpanTemplate: Sendable {
    let bytes: TemplateBytes
    let scopeRef: Int64

    init(name: String, kind: SpanKind, attributes: Attributes, scopeRef: Int64) {
        self.scopeRef = scopeRef
        // StartSpan's fields in number order: parent (4, per call), name (5) and kind (6) here,
        // time (7, per call), attributes (9) here, flags (16, per call); then SpanEvent's scope (20).
        let nameAndKind = withUTF8Text(name) { name in
            TemplateBytes.encoded(StartSpanBody(parent: nil, name: name, kind: kind, startTime: 0, attributes: Attributes.none.block, flags: 0))
        }
        let attributeBytes = withExtendedLifetime(attributes) {
            TemplateBytes.encoded(size: attributes.block.size(asField: StartSpan.Field.attributes)) {
                attributes.block.write(asField: StartSpan.Field.attributes, to: &$0)
            }
        }
        let scope = TemplateBytes.encoded(size: WireSize.int64(SpanEvent.Field.scopeRef, scopeRef)) {
            $0.writeInt64Field(SpanEvent.Field.scopeRef, scopeRef)
        }
        bytes = TemplateBytes(nameAndKind, attributeBytes, scope)
    }
}

/// The SpanEvent of a span start from a template.
struct TemplateSpanStartRecord: StreamedMessage {
    let context: SpanContext
    let parent: SpanID?
    let startTime: UInt64
    let nameAndKind: UnsafeRawBufferPointer
    let attributes: UnsafeRawBufferPointer
    let scope: UnsafeRawBufferPointer
    let bodySize: Int

    @inline(__always)
    init(template: TemplateBytes, context: SpanContext, parent: SpanID?, startTime: UInt64) {
        self.context = context
        self.parent = (parent?.isValid ?? false) ? parent : nil
        self.startTime = startTime
        (nameAndKind, attributes, scope) = template.segments
        bodySize = (self.parent == nil ? 0 : WireSize.id64(StartSpan.Field.parentSpanId)) + nameAndKind.count
            + WireSize.fixed64(StartSpan.Field.startTimeUnixNano, startTime) + attributes.count
            + WireSize.fixed32(StartSpan.Field.flags, context.flags)
    }

    @inline(__always)
    var encodedSize: Int {
        WireSize.id128(SpanEvent.Field.traceId) + WireSize.id64(SpanEvent.Field.spanId)
            + WireSize.message(SpanEvent.Field.start, size: bodySize) + scope.count
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeID128Field(SpanEvent.Field.traceId, high: context.traceID.high, low: context.traceID.low)
        sink.writeID64Field(SpanEvent.Field.spanId, context.spanID.value)
        sink.writeLengthDelimitedHeader(SpanEvent.Field.start, length: bodySize)
        if let parent { sink.writeID64Field(StartSpan.Field.parentSpanId, parent.value) }
        sink.writeRaw(nameAndKind)
        sink.writeFixed64Field(StartSpan.Field.startTimeUnixNano, startTime)
        sink.writeRaw(attributes)
        sink.writeFixed32Field(StartSpan.Field.flags, context.flags)
        sink.writeRaw(scope)
    }
}

/// A log record prepared once (`TelemetryWriter.logTemplate`): severity, body, event name,
/// attributes and scope are encoded; `log(_:spanContext:time:)` adds the time and span context.
public struct LogTemplate: Sendable {
    let bytes: TemplateBytes

    init(scopeRef: Int64, severity: SeverityNumber, severityText: String, body: LogBody, eventNameRef: Int64, attributes: Attributes) {
        // Event's fields in number order: scope (1) here, time (2, per call), severity (3), text (4),
        // body (5) and event name (6) here, span context (7, per call), attributes (8) here.
        let scope = TemplateBytes.encoded(size: WireSize.int64(Event.Field.scopeRef, scopeRef)) {
            $0.writeInt64Field(Event.Field.scopeRef, scopeRef)
        }
        let middle = withUTF8Text(severityText) { severityText in
            withBodyBytes(body) { body in
                TemplateBytes.encoded(EventRecord(scopeRef: 0, time: 0, severity: severity, severityText: severityText, body: body,
                                                  eventNameRef: eventNameRef, context: nil, attributes: Attributes.none.block))
            }
        }
        let attributeBytes = withExtendedLifetime(attributes) {
            TemplateBytes.encoded(size: attributes.block.size(asField: Event.Field.attributes)) {
                attributes.block.write(asField: Event.Field.attributes, to: &$0)
            }
        }
        bytes = TemplateBytes(scope, middle, attributeBytes)
    }
}

/// The Event of a log record from a template.
struct TemplateEventRecord: StreamedMessage {
    let time: UInt64
    let context: SpanContext?
    let scope: UnsafeRawBufferPointer
    let middle: UnsafeRawBufferPointer
    let attributes: UnsafeRawBufferPointer

    @inline(__always)
    init(template: TemplateBytes, time: UInt64, context: SpanContext?) {
        self.time = time
        self.context = context
        (scope, middle, attributes) = template.segments
    }

    @inline(__always)
    var encodedSize: Int {
        var size = scope.count + WireSize.fixed64(Event.Field.timeUnixNano, time) + middle.count + attributes.count
        if let context { size += WireSize.message(Event.Field.spanContext, size: SpanContextBody(context: context).encodedSize) }
        return size
    }

    @inline(__always)
    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeRaw(scope)
        sink.writeFixed64Field(Event.Field.timeUnixNano, time)
        sink.writeRaw(middle)
        if let context { sink.writeMessageField(Event.Field.spanContext, SpanContextBody(context: context)) }
        sink.writeRaw(attributes)
    }
}
