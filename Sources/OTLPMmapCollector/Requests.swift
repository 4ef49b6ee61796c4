import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Log records from Event records.
enum LogConversion {
    /// The OTLP log record of `event`; `observed` is when the collector read it.
    static func logRecord(_ event: Event, observed: UInt64, cache: DictionaryCache) throws -> OTLPLogRecord {
        var record = OTLPLogRecord()
        record.timeUnixNano = event.timeUnixNano
        record.observedTimeUnixNano = observed
        record.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: Int(event.severityNumber.rawValue)) ?? .unspecified
        record.severityText = event.severityText
        if let body = event.body { record.body = try cache.anyValue(body) }
        record.attributes = try cache.keyValues(event.attributes)
        if event.eventNameRef != 0 { record.eventName = try cache.string(event.eventNameRef, field: "event_name_ref") }
        // REC-SPAN-CONTEXT, checked by the validator: a context is all zero (none) or whole.
        if let context = event.spanContext, context.spanId.contains(where: { $0 != 0 }) {
            record.traceID = Data(context.traceId)
            record.spanID = Data(context.spanId)
            record.flags = context.flags
        }
        return record
    }
}

/// Nests items under their scope and the scope's resource, as OTLP requests do. Scopes were
/// resolved when their records were read, so building cannot fail here.
enum RequestBuilder {
    static func traces(_ items: [(scopeRef: Int64, span: OTLPSpan)], cache: DictionaryCache) -> TracesRequest {
        var request = TracesRequest()
        request.resourceSpans = nest(items.map { ($0.scopeRef, $0.span) }, cache: cache,
            scope: { first, second in Opentelemetry_Proto_Trace_V1_ScopeSpans.with { $0.scope = first; $0.spans = second } },
            resource: { first, second in Opentelemetry_Proto_Trace_V1_ResourceSpans.with { $0.resource = first; $0.scopeSpans = second } })
        return request
    }

    /// The same request as `traces`, encoded straight to bytes (`RequestEncoding`).
    static func encodedTraces(_ items: [(scopeRef: Int64, span: OTLPSpan)], cache: DictionaryCache) -> EncodedRequest {
        RequestEncoding.traces(group(items.map { ($0.scopeRef, $0.span) }, cache: cache))
    }

    static func logs(_ items: [(scopeRef: Int64, record: OTLPLogRecord)], cache: DictionaryCache) -> LogsRequest {
        var request = LogsRequest()
        request.resourceLogs = nest(items.map { ($0.scopeRef, $0.record) }, cache: cache,
            scope: { first, second in Opentelemetry_Proto_Logs_V1_ScopeLogs.with { $0.scope = first; $0.logRecords = second } },
            resource: { first, second in Opentelemetry_Proto_Logs_V1_ResourceLogs.with { $0.resource = first; $0.scopeLogs = second } })
        return request
    }

    /// The same request as `logs`, encoded straight to bytes.
    static func encodedLogs(_ items: [(scopeRef: Int64, record: OTLPLogRecord)], cache: DictionaryCache) -> EncodedRequest {
        RequestEncoding.logs(group(items.map { ($0.scopeRef, $0.record) }, cache: cache))
    }

    static func metrics(_ items: [(scopeRef: Int64, metric: OTLPMetric)], cache: DictionaryCache) -> MetricsRequest {
        var request = MetricsRequest()
        request.resourceMetrics = nest(items.map { ($0.scopeRef, $0.metric) }, cache: cache,
            scope: { first, second in Opentelemetry_Proto_Metrics_V1_ScopeMetrics.with { $0.scope = first; $0.metrics = second } },
            resource: { first, second in Opentelemetry_Proto_Metrics_V1_ResourceMetrics.with { $0.resource = first; $0.scopeMetrics = second } })
        return request
    }

    /// The OTLP nesting resource → scope → items, built with the signal's own message types.
    private static func nest<Item, ScopeGroup, ResourceGroup>(
        _ items: [(scopeRef: Int64, item: Item)], cache: DictionaryCache,
        scope: (OTLPScope, [Item]) -> ScopeGroup, resource: (OTLPResource, [ScopeGroup]) -> ResourceGroup
    ) -> [ResourceGroup] {
        group(items, cache: cache).map { entry, scopes in resource(entry, scopes.map(scope)) }
    }

    /// Items grouped by resource, then scope, each group in order of first appearance.
    static func group<Item>(_ items: [(scopeRef: Int64, item: Item)], cache: DictionaryCache)
        -> [(OTLPResource, [(OTLPScope, [Item])])] {
        var resourceOrder: [Int64] = []
        var scopesByResource: [Int64: [Int64]] = [:]
        var itemsByScope: [Int64: [Item]] = [:]
        for (scopeRef, item) in items {
            let resourceRef = (try? cache.scope(scopeRef).resourceRef) ?? 0
            if itemsByScope[scopeRef] == nil {
                if scopesByResource[resourceRef] == nil { resourceOrder.append(resourceRef) }
                scopesByResource[resourceRef, default: []].append(scopeRef)
            }
            itemsByScope[scopeRef, default: []].append(item)
        }
        return resourceOrder.map { resourceRef in
            let resource = (try? cache.resource(resourceRef)) ?? OTLPResource()
            let scopes = scopesByResource[resourceRef, default: []].map { scopeRef in
                ((try? cache.scope(scopeRef).scope) ?? OTLPScope(), itemsByScope[scopeRef, default: []])
            }
            return (resource, scopes)
        }
    }
}
