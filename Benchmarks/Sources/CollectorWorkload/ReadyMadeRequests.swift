import Foundation
import OTLPMmapCollector
import OTLPProto

/// What the collector would send for `count` spans, ready-made in requests of 512 spans.
public func readyMadeRequests(count: Int) -> [TracesRequest] {
    var attribute = Opentelemetry_Proto_Common_V1_KeyValue()
    attribute.key = "http.route"
    attribute.value.stringValue = "/orders/{id}"
    return stride(from: 0, to: count, by: 512).map { first in
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = "otlp-mmap-swift"
        scope.spans = (first..<min(count, first + 512)).map { index in
            var span = Opentelemetry_Proto_Trace_V1_Span()
            span.traceID = Data((0..<16).map { UInt8(truncatingIfNeeded: index &+ $0) })
            span.spanID = Data((0..<8).map { UInt8(truncatingIfNeeded: index &* 7 &+ $0) })
            span.name = "GET /orders/{id}"
            span.kind = .server
            span.startTimeUnixNano = 1_700_000_000_000_000_000
            span.endTimeUnixNano = 1_700_000_000_000_100_000
            span.attributes = [attribute, attribute, attribute]
            span.status.code = .ok
            return span
        }
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resource.resource.attributes = [attribute]
        resource.scopeSpans = [scope]
        var request = TracesRequest()
        request.resourceSpans = [resource]
        return request
    }
}
