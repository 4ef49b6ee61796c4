import Foundation
import Instrumentation
import OTLPMmapSDK
import Tracing

/// A swift-distributed-tracing `Tracer` that records into an OTLP-mmap file. Bootstrap it with
/// `InstrumentationSystem.bootstrap(MmapTracer(writer: writer))` and existing `withSpan` code writes
/// spans without change. Propagates context as W3C `traceparent`.
public struct MmapTracer: Tracer {
    package let writer: TelemetryWriter
    package let scope: Scope

    public init(writer: TelemetryWriter, scope: Scope? = nil) {
        self.writer = writer
        self.scope = scope ?? writer.defaultScope
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: Tracing.SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MmapSpan {
        var context = context()
        let span = writer.startSpan(operationName, kind: Self.kind(kind), parent: context.otlpMmapSpanContext, scope: scope,
                                    startTime: instant().nanosecondsSinceEpoch)
        context.otlpMmapSpanContext = span.context
        return MmapSpan(span: span, context: context, operationName: operationName, writer: writer, scope: scope)
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        guard let spanContext = context.otlpMmapSpanContext else { return }
        injector.inject(TraceParent.format(spanContext), forKey: TraceParent.header, into: &carrier)
    }

    public func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract: Extractor, Extract.Carrier == Carrier {
        guard let value = extractor.extract(key: TraceParent.header, from: carrier), let spanContext = TraceParent.parse(value) else { return }
        context.otlpMmapSpanContext = spanContext
    }

    static func kind(_ kind: Tracing.SpanKind) -> OTLPMmapSDK.SpanKind {
        switch kind {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }
}

/// A span of `MmapTracer`. Each change becomes a record at once (rename, attribute update, link);
/// the status is kept until `end`, which writes it with the end time. Events and errors become log
/// records carrying the span's context.
public final class MmapSpan: Tracing.Span, @unchecked Sendable {
    public let context: InstrumentationContext
    package let span: OTLPMmapSDK.Span
    private let writer: TelemetryWriter
    private let scope: Scope
    private let lock = NSLock()
    private var name: String
    private var currentAttributes: SpanAttributes = [:]
    private var status: SpanStatus?
    private var ended = false

    init(span: OTLPMmapSDK.Span, context: InstrumentationContext, operationName: String, writer: TelemetryWriter, scope: Scope) {
        self.span = span
        self.context = context
        self.name = operationName
        self.writer = writer
        self.scope = scope
    }

    public var operationName: String {
        get { lock.withLock { name } }
        set {
            let changed: Bool = lock.withLock {
                guard !ended, newValue != name else { return false }
                name = newValue
                return true
            }
            if changed { span.rename(newValue) }
        }
    }

    /// Setting writes the attributes whose value changed.
    public var attributes: SpanAttributes {
        get { lock.withLock { currentAttributes } }
        set {
            let changed: [Attribute] = lock.withLock {
                guard !ended else { return [] }
                var changed: [Attribute] = []
                newValue.forEach { key, value in
                    if currentAttributes.get(key) != value { changed.append(Attribute(key, Self.value(value))) }
                }
                currentAttributes = newValue
                return changed
            }
            if !changed.isEmpty, let prepared = try? writer.attributes(changed) { span.setAttributes(prepared) }
        }
    }

    public var isRecording: Bool { lock.withLock { !ended } }

    public func setStatus(_ status: SpanStatus) {
        lock.withLock { if !ended { self.status = status } }
    }

    public func addEvent(_ event: Tracing.SpanEvent) {
        guard isRecording else { return }
        writer.log(.info, .text(event.name), eventName: try? writer.eventName(event.name),
                   attributes: (try? writer.attributes(Self.attributes(event.attributes))) ?? .none,
                   spanContext: span.context, scope: scope, time: event.nanosecondsSinceEpoch)
    }

    public func recordError<Instant: TracerInstant>(_ error: Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard isRecording else { return }
        let details = [Attribute("exception.type", .string(String(reflecting: type(of: error)))), Attribute("exception.message", .string("\(error)"))]
        writer.log(.error, .text("\(error)"), eventName: try? writer.eventName("exception"),
                   attributes: (try? writer.attributes(details + Self.attributes(attributes))) ?? .none,
                   spanContext: span.context, scope: scope, time: instant().nanosecondsSinceEpoch)
    }

    public func addLink(_ link: Tracing.SpanLink) {
        guard isRecording, let target = link.context.otlpMmapSpanContext else { return }
        span.addLinks([OTLPMmapSDK.SpanLink(to: target, attributes: (try? writer.attributes(Self.attributes(link.attributes))) ?? .none)])
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let status: SpanStatus?? = lock.withLock {
            guard !ended else { return .none }
            ended = true
            return .some(self.status)
        }
        guard case .some(let final) = status else { return }
        let code: StatusCode = switch final?.code { case .ok: .ok; case .error: .error; case nil: .unset }
        span.end(status: code, message: final?.message ?? "", at: instant().nanosecondsSinceEpoch)
    }

    static func attributes(_ attributes: SpanAttributes) -> [Attribute] {
        var result: [Attribute] = []
        attributes.forEach { key, value in result.append(Attribute(key, Self.value(value))) }
        return result.sorted { $0.key < $1.key }
    }

    static func value(_ attribute: SpanAttribute) -> AttributeValue {
        switch attribute {
        case .int32(let value): .int(Int64(value))
        case .int64(let value): .int(value)
        case .int32Array(let values): .array(values.map { .int(Int64($0)) })
        case .int64Array(let values): .array(values.map { .int($0) })
        case .double(let value): .double(value)
        case .doubleArray(let values): .array(values.map { .double($0) })
        case .bool(let value): .bool(value)
        case .boolArray(let values): .array(values.map { .bool($0) })
        case .string(let value): .string(value)
        case .stringArray(let values): .array(values.map { .string($0) })
        case .stringConvertible(let value): .string(value.description)
        case .stringConvertibleArray(let values): .array(values.map { .string($0.description) })
        default: .string("\(attribute)")
        }
    }
}
