import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapTestee
import OTLPMmapWire

/// What must arrive in each ring, derived from the commands the runner sent and the testee's
/// replies: a record for every command answered OK, none for one answered DROPPED or TOO_LARGE.
/// The runner chose every id, time and string, so the expected content is exact.
struct ExpectedContent {
    struct Record {
        var content: RecordContent
        /// The scope the record must carry, when the command named one (scope 0: any scope).
        var scope: RecordContent?
        /// Which thread of commands it came from: records of one stream arrive in command order.
        var stream: Int
        /// The command, for reports.
        var origin: String
    }

    private(set) var records: [RingKind: [Record]] = [:]
    /// Records the testee said it did not write: finding one is a failure.
    private(set) var notWritten: [RingKind: [RecordContent: String]] = [:]
    /// The resource attributes the file must carry (canonical), from create_file.
    private(set) var resource: JSONValue?
    private var scopes: [Int64: JSONValue] = [:]
    private var metrics: [Int64: JSONValue] = [:]

    /// Adds what `command` (answered `reply`) makes the file hold. Definitions are remembered for
    /// the records that refer to them.
    mutating func add(_ command: Command, _ reply: Reply, stream: Int, origin: String) {
        switch command.command {
        case .createFile(let create)?:
            resource = RecordContent.canonical(.object([("attributes", Self.attributes(create.resource))])).value
        case .defineScope(let define)?:
            scopes[define.scopeId] = Self.object([("name", .string(define.name)), ("version", .string(define.version)),
                                                  ("attributes", Self.attributes(define.attributes))])
        case .defineInstrument(let define)?:
            metrics[define.instrumentId] = metric(define)
        case let choice?:
            guard let (kind, record, scopeID) = self.record(choice) else { return }
            let content = RecordContent.canonical(record)
            switch reply.status {
            case .ok:
                let scope = scopeID.flatMap { scopes[$0] }.map { RecordContent.canonical($0) }
                records[kind, default: []].append(Record(content: content, scope: scope, stream: stream, origin: origin))
            case .dropped, .tooLarge:
                notWritten[kind, default: [:]][content] = "\(origin) was answered \(reply.status.name ?? "")"
            default:
                break
            }
        case nil:
            break
        }
    }

    /// The record a record command writes, its ring, and the scope it names (nil: not compared).
    private func record(_ choice: Command.CommandChoice) -> (RingKind, JSONValue, Int64?)? {
        switch choice {
        case .startSpan(let start):
            let body = Self.object([
                ("parent_span_id", .string(hexString(start.parentSpanId))), ("name", .string(start.name)),
                ("kind", Self.enumeration(SpanKind(rawValue: Int32(truncatingIfNeeded: start.kind)).name, start.kind)),
                ("start_time_unix_nano", .uint(start.startTimeUnixNano)), ("attributes", Self.attributes(start.attributes)),
                ("flags", .uint(UInt64(start.flags))),
            ])
            return (.spans, Self.spanEvent(start.traceId, start.spanId, "start", body), start.scopeId == 0 ? nil : start.scopeId)
        case .setSpanAttributes(let update):
            return (.spans, Self.spanEvent(update.traceId, update.spanId, "attributes", Self.object([("attributes", Self.attributes(update.attributes))])), nil)
        case .renameSpan(let rename):
            return (.spans, Self.spanEvent(rename.traceId, rename.spanId, "name", Self.object([("name", .string(rename.name))])), nil)
        case .addSpanLinks(let add):
            let links = add.links.map { link in
                Self.object([("trace_id", .string(hexString(link.traceId))), ("span_id", .string(hexString(link.spanId))),
                             ("trace_state", .string(link.traceState)), ("attributes", Self.attributes(link.attributes)),
                             ("flags", .uint(UInt64(link.flags)))])
            }
            return (.spans, Self.spanEvent(add.traceId, add.spanId, "link", Self.object([("links", .array(links))])), nil)
        case .endSpan(let end):
            let status = Self.object([("message", .string(end.statusMessage)),
                                      ("code", Self.enumeration(StatusCode(rawValue: Int32(truncatingIfNeeded: end.statusCode)).name, end.statusCode))])
            return (.spans, Self.spanEvent(end.traceId, end.spanId, "end", Self.object([
                ("end_time_unix_nano", .uint(end.endTimeUnixNano)), ("status", status)])), nil)
        case .log(let log):
            return (.events, Self.object([
                ("time_unix_nano", .uint(log.timeUnixNano)),
                ("severity_number", Self.enumeration(SeverityNumber(rawValue: Int32(truncatingIfNeeded: log.severityNumber)).name, log.severityNumber)),
                ("severity_text", .string(log.severityText)), ("body", log.body.map(Self.value) ?? .null),
                ("event_name", .string(log.eventName)), ("span_context", Self.context(log.traceId, log.spanId, log.flags)),
                ("attributes", Self.attributes(log.attributes)),
            ]), log.scopeId == 0 ? nil : log.scopeId)
        case .record(let measurement):
            let value: (String, JSONValue) = switch measurement.value {
            case .asLong(let number)?: ("as_long", .int(number))
            case .asDouble(let number)?: ("as_double", .double(number))
            case nil: ("as_long", .null)
            }
            let definition = metrics[measurement.instrumentId]
            return (.measurements, Self.object([
                ("metric", definition?["metric"] ?? .string("instrument \(measurement.instrumentId) was never defined")),
                ("attributes", Self.attributes(measurement.attributes)), ("time_unix_nano", .uint(measurement.timeUnixNano)), value,
                ("span_context", Self.context(measurement.traceId, measurement.spanId, measurement.flags)),
            ]), definition?["scope_id"].flatMap { if case .int(let id) = $0, id != 0 { id } else { nil } })
        default:
            return nil
        }
    }

    /// The MetricRef an instrument definition makes, with the scope handle beside it.
    private func metric(_ define: DefineInstrument) -> JSONValue {
        let temporality = Self.enumeration(AggregationTemporality(rawValue: Int32(truncatingIfNeeded: define.temporality)).name, define.temporality)
        let aggregation: (String, JSONValue) = switch define.kind {
        case .counter: ("sum", Self.object([("aggregation_temporality", temporality), ("is_monotonic", .bool(true))]))
        case .upDownCounter: ("sum", Self.object([("aggregation_temporality", temporality), ("is_monotonic", .bool(false))]))
        case .histogram: ("histogram", Self.object([("aggregation_temporality", temporality),
                                                   ("bucket_boundaries", .array(define.boundaries.map { .double($0) }))]))
        case .exponentialHistogram: ("exp_hist", Self.object([("aggregation_temporality", temporality), ("max_buckets", .int(define.maxBuckets)),
                                                             ("max_scale", .int(define.maxScale))]))
        default: ("gauge", .object([]))
        }
        let metric = Self.object([("name", .string(define.name)), ("description", .string(define.description)),
                                  ("unit", .string(define.unit)), aggregation])
        return .object([("metric", metric), ("scope_id", .int(define.scopeId))])
    }

    static func spanEvent(_ trace: [UInt8], _ span: [UInt8], _ event: String, _ body: JSONValue) -> JSONValue {
        .object([("trace_id", .string(hexString(trace))), ("span_id", .string(hexString(span))), (event, body)])
    }

    static func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(pairs) }

    static func enumeration(_ name: String?, _ number: UInt32) -> JSONValue {
        name.map { .string($0) } ?? .int(Int64(Int32(truncatingIfNeeded: number)))
    }

    static func context(_ trace: [UInt8], _ span: [UInt8], _ flags: UInt32) -> JSONValue {
        guard !trace.isEmpty || !span.isEmpty else { return .null }
        return object([("span_id", .string(hexString(span))), ("trace_id", .string(hexString(trace))), ("flags", .uint(UInt64(flags)))])
    }

    static func attributes(_ list: [KeyValue]) -> JSONValue {
        .array(list.map { object([("key", .string($0.key)), ("value", $0.value.map(value) ?? .null)]) })
    }

    static func value(_ value: Value) -> JSONValue {
        switch value.value {
        case .stringValue(let text)?: object([("string_value", .string(text))])
        case .boolValue(let flag)?: object([("bool_value", .bool(flag))])
        case .intValue(let number)?: object([("int_value", .int(number))])
        case .doubleValue(let number)?: object([("double_value", .double(number))])
        case .bytesValue(let bytes)?: object([("bytes_value", .string(hexString(bytes)))])
        case .arrayValue(let array)?: object([("array_value", object([("values", .array(array.values.map(Self.value)))]))])
        case .kvlistValue(let map)?: object([("kvlist_value", object([("values", attributes(map.values))]))])
        case nil: .object([])
        }
    }
}
