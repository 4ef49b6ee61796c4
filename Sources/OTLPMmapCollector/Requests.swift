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
        record.attributes = try cache.encodedKeyValues(event.attributes, asField: OTLPFields.LogRecord.attributes)
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
/// record's own, its attributes already encoded.
struct TranscodedLogRecord: StreamedMessage {
    var timeUnixNano: UInt64
    var observedTimeUnixNano: UInt64
    var severityNumber: Int32
    var severityText: String
    var body: TranscodedValue = .absent
    /// KeyValue messages framed as LogRecord.attributes.
    var attributes: [UInt8] = []
    var flags: UInt32 = 0
    var traceID: [UInt8] = []
    var spanID: [UInt8] = []
    var eventName = ""

    private typealias Field = OTLPFields.LogRecord

    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeFixed64Field(Field.timeUnixNano, timeUnixNano)
        sink.writeEnumField(Field.severityNumber, severityNumber)
        sink.writeStringField(Field.severityText, severityText)
        body.encode(asField: Field.body, to: &sink)
        attributes.withUnsafeBytes { sink.writeRaw($0) }
        sink.writeFixed32Field(Field.flags, flags)
        sink.writeBytesField(Field.traceId, traceID)
        sink.writeBytesField(Field.spanId, spanID)
        sink.writeFixed64Field(Field.observedTimeUnixNano, observedTimeUnixNano)
        sink.writeStringField(Field.eventName, eventName)
    }

    var encodedSize: Int {
        WireSize.fixed64(Field.timeUnixNano, timeUnixNano) + WireSize.enumeration(Field.severityNumber, severityNumber)
            + WireSize.string(Field.severityText, severityText) + body.fieldSize(Field.body) + attributes.count
            + WireSize.fixed32(Field.flags, flags) + WireSize.bytes(Field.traceId, count: traceID.count)
            + WireSize.bytes(Field.spanId, count: spanID.count) + WireSize.fixed64(Field.observedTimeUnixNano, observedTimeUnixNano)
            + WireSize.string(Field.eventName, eventName)
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
