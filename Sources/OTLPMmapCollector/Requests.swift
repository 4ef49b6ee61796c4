import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Log records from Event records, written straight as OTLP LogRecord bytes.
enum LogConversion {
    /// The OTLP log record of `event`; `observed` is when the collector read it.
    static func logRecord(_ event: Event, observed: UInt64, cache: DictionaryCache) throws -> TranscodedLogRecord {
        var record = TranscodedLogRecord(timeUnixNano: event.timeUnixNano, observedTimeUnixNano: observed,
                                         severityNumber: event.severityNumber.rawValue, severityText: event.severityText)
        record.body = try cache.transcoded(event.body, nesting: 1)
        record.attributes = try cache.encodedKeyValues(event.attributes, asField: 6)
        if event.eventNameRef != 0 { record.eventName = try cache.string(event.eventNameRef, field: "event_name_ref") }
        // REC-SPAN-CONTEXT, checked by the validator: a context is all zero (none) or whole.
        if let context = event.spanContext, context.spanId.contains(where: { $0 != 0 }) {
            record.traceID = context.traceId
            record.spanID = context.spanId
            record.flags = context.flags
        }
        return record
    }
}

/// An OTLP LogRecord as it is sent, from an Event record: its strings and id arrays are the
/// record's own, its attributes already encoded. LogRecord: time_unix_nano = 1, severity_number = 2,
/// severity_text = 3, body = 5, attributes = 6, dropped_attributes_count = 7, flags = 8,
/// trace_id = 9, span_id = 10, observed_time_unix_nano = 11, event_name = 12.
struct TranscodedLogRecord: StreamedMessage {
    var timeUnixNano: UInt64
    var observedTimeUnixNano: UInt64
    var severityNumber: Int32
    var severityText: String
    var body: TranscodedValue = .absent
    /// KeyValue messages framed as field 6.
    var attributes: [UInt8] = []
    var flags: UInt32 = 0
    var traceID: [UInt8] = []
    var spanID: [UInt8] = []
    var eventName = ""

    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeFixed64Field(1, timeUnixNano)
        sink.writeVarintField(2, UInt64(bitPattern: Int64(severityNumber)))
        sink.writeStringField(3, severityText)
        body.encode(asField: 5, to: &sink)
        attributes.withUnsafeBytes { sink.writeRaw($0) }
        sink.writeFixed32Field(8, flags)
        sink.writeBytesField(9, traceID)
        sink.writeBytesField(10, spanID)
        sink.writeFixed64Field(11, observedTimeUnixNano)
        sink.writeStringField(12, eventName)
    }

    var encodedSize: Int {
        WireSize.fixed64(1, timeUnixNano) + WireSize.enumeration(2, severityNumber) + WireSize.string(3, severityText)
            + body.fieldSize(5) + attributes.count + WireSize.fixed32(8, flags)
            + WireSize.bytes(9, count: traceID.count) + WireSize.bytes(10, count: spanID.count)
            + WireSize.fixed64(11, observedTimeUnixNano) + WireSize.string(12, eventName)
    }
}

/// Nests items under their scope and the scope's resource, as OTLP requests do. Scopes were
/// resolved when their records were read, so building cannot fail here.
enum RequestBuilder {
    /// A traces request, encoded straight to bytes (`RequestEncoding`).
    static func encodedTraces(_ items: [(scopeRef: Int64, span: AssembledSpan)], cache: DictionaryCache) -> EncodedRequest {
        RequestEncoding.traces(group(items.map { ($0.scopeRef, $0.span) }, cache: cache))
    }

    /// A logs request, encoded straight to bytes.
    static func encodedLogs(_ items: [(scopeRef: Int64, record: TranscodedLogRecord)], cache: DictionaryCache) -> EncodedRequest {
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
