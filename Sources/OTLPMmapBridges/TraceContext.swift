import Instrumentation
import OTLPMmapSDK

/// The key under which the active OTLP-mmap span context travels in an `InstrumentationContext`
/// (swift-distributed-tracing's task-local context), so that child spans, logs and measurements
/// find their parent.
public enum OTLPMmapSpanContextKey: InstrumentationContextKey {
    public typealias Value = SpanContext
    public static var nameOverride: String? { "otlp-mmap-span-context" }
}

extension InstrumentationContext {
    /// The OTLP-mmap span context of the active span, if any.
    public var otlpMmapSpanContext: SpanContext? {
        get { self[OTLPMmapSpanContextKey.self] }
        set { self[OTLPMmapSpanContextKey.self] = newValue }
    }
}

/// W3C Trace Context `traceparent` header: `00-<trace id>-<span id>-<flags>`.
enum TraceParent {
    static let header = "traceparent"

    static func format(_ context: SpanContext) -> String {
        let flags = String(context.flags & 0xFF, radix: 16)
        return "00-\(context.traceID)-\(context.spanID)-\(flags.count == 1 ? "0" + flags : flags)"
    }

    static func parse(_ value: String) -> SpanContext? {
        let parts = value.split(separator: "-")
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              let high = UInt64(parts[1].prefix(16), radix: 16), let low = UInt64(parts[1].suffix(16), radix: 16),
              let span = UInt64(parts[2], radix: 16), let flags = UInt32(parts[3], radix: 16)
        else { return nil }
        let context = SpanContext(traceID: TraceID(high: high, low: low), spanID: SpanID(span), flags: flags)
        return context.traceID.isValid && context.spanID.isValid ? context : nil
    }
}
