import Foundation
import OTLPMmapCore
import OTLPProto

/// How much the debug exporter prints, as the OpenTelemetry Collector's debug exporter has it:
/// `basic` a summary line per request, `normal` a line per span, log record and data point,
/// `detailed` every field indented, and `json` each request as one OTLP/JSON line (for machines).
package enum DebugVerbosity: String, Sendable, CaseIterable {
    case basic, normal, detailed, json
}

/// The human-readable forms of OTLP requests the debug exporter prints.
enum DebugText {
    // MARK: basic

    static func summary(_ request: TracesRequest) -> String {
        let spans = request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
        return "traces: \(spans) span\(spans == 1 ? "" : "s") in \(request.resourceSpans.count) resource\(request.resourceSpans.count == 1 ? "" : "s")"
    }

    static func summary(_ request: LogsRequest) -> String {
        let records = request.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
        return "logs: \(records) log record\(records == 1 ? "" : "s") in \(request.resourceLogs.count) resource\(request.resourceLogs.count == 1 ? "" : "s")"
    }

    static func summary(_ request: MetricsRequest) -> String {
        let metrics = request.resourceMetrics.flatMap { $0.scopeMetrics.flatMap(\.metrics) }
        let points = metrics.reduce(0) { $0 + pointCount($1) }
        return "metrics: \(metrics.count) metric\(metrics.count == 1 ? "" : "s"), \(points) data point\(points == 1 ? "" : "s")"
    }

    static func pointCount(_ metric: OTLPMetric) -> Int {
        switch metric.data {
        case .sum(let sum): sum.dataPoints.count
        case .gauge(let gauge): gauge.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case .exponentialHistogram(let histogram): histogram.dataPoints.count
        case .summary(let summary): summary.dataPoints.count
        case nil: 0
        }
    }

    // MARK: normal

    static func lines(_ request: TracesRequest) -> [String] {
        request.resourceSpans.flatMap { $0.scopeSpans.flatMap { scope in scope.spans.map { span in
            var line = "span \(hex(span.traceID))/\(hex(span.spanID)) \(quoted(span.name)) \(kind(span.kind))"
            line += " \(duration(span.startTimeUnixNano, span.endTimeUnixNano))"
            if !span.parentSpanID.isEmpty { line += " parent=\(hex(span.parentSpanID))" }
            if span.status.code != .unset { line += " status=\(status(span.status))" }
            if !span.attributes.isEmpty { line += " " + attributes(span.attributes) }
            if !span.events.isEmpty { line += " events=\(span.events.count)" }
            if !span.links.isEmpty { line += " links=\(span.links.count)" }
            return line
        } } }
    }

    static func lines(_ request: LogsRequest) -> [String] {
        request.resourceLogs.flatMap { $0.scopeLogs.flatMap { scope in scope.logRecords.map { record in
            var line = "log \(time(record.timeUnixNano)) \(severity(record))"
            if !record.eventName.isEmpty { line += " event=\(quoted(record.eventName))" }
            line += " " + value(record.body)
            if !record.traceID.isEmpty { line += " trace=\(hex(record.traceID))/\(hex(record.spanID))" }
            if !record.attributes.isEmpty { line += " " + attributes(record.attributes) }
            return line
        } } }
    }

    static func lines(_ request: MetricsRequest) -> [String] {
        request.resourceMetrics.flatMap { $0.scopeMetrics.flatMap { scope in scope.metrics.flatMap { metric in
            points(metric).map { point in "metric \(metric.name) \(point)" }
        } } }
    }

    /// Each data point of `metric` as "KIND {attributes} = VALUE".
    static func points(_ metric: OTLPMetric) -> [String] {
        func labelled(_ attributes: [OTLPKeyValue]) -> String { attributes.isEmpty ? "" : " {\(Self.attributes(attributes))}" }
        switch metric.data {
        case .sum(let sum):
            let kind = "sum \(sum.aggregationTemporality == .delta ? "delta" : "cumulative")\(sum.isMonotonic ? " monotonic" : "")"
            return sum.dataPoints.map { "\(kind)\(labelled($0.attributes)) = \(number($0))" }
        case .gauge(let gauge):
            return gauge.dataPoints.map { "gauge\(labelled($0.attributes)) = \(number($0))" }
        case .histogram(let histogram):
            return histogram.dataPoints.map { point in
                "histogram\(labelled(point.attributes)) count=\(point.count) sum=\(point.sum) buckets=\(point.bucketCounts) bounds=\(point.explicitBounds)"
            }
        case .exponentialHistogram(let histogram):
            return histogram.dataPoints.map { point in
                "exponential histogram\(labelled(point.attributes)) count=\(point.count) sum=\(point.sum) scale=\(point.scale) zero=\(point.zeroCount) positive=\(point.positive.offset):\(point.positive.bucketCounts) negative=\(point.negative.offset):\(point.negative.bucketCounts)"
            }
        case .summary(let summary):
            return summary.dataPoints.map { "summary\(labelled($0.attributes)) count=\($0.count) sum=\($0.sum)" }
        case nil:
            return ["(no data)"]
        }
    }

    // MARK: detailed

    static func dump(_ request: TracesRequest) -> String {
        var out = ""
        for resource in request.resourceSpans {
            out += "resource " + (resource.resource.attributes.isEmpty ? "(no attributes)" : attributes(resource.resource.attributes)) + "\n"
            for scope in resource.scopeSpans {
                out += "  scope \(scopeName(scope.scope))\n"
                for span in scope.spans {
                    out += "    span \(quoted(span.name))\n"
                    out += "      trace_id \(hex(span.traceID))  span_id \(hex(span.spanID))  parent \(span.parentSpanID.isEmpty ? "-" : hex(span.parentSpanID))\n"
                    out += "      kind \(kind(span.kind))  start \(time(span.startTimeUnixNano))  end \(time(span.endTimeUnixNano))  (\(duration(span.startTimeUnixNano, span.endTimeUnixNano)))\n"
                    out += "      status \(status(span.status))  flags \(span.flags)\n"
                    for attribute in span.attributes { out += "      \(attribute.key) = \(value(attribute.value))\n" }
                    for event in span.events { out += "      event \(quoted(event.name)) at \(time(event.timeUnixNano)) \(attributes(event.attributes))\n" }
                    for link in span.links { out += "      link \(hex(link.traceID))/\(hex(link.spanID)) \(attributes(link.attributes))\n" }
                }
            }
        }
        return out
    }

    static func dump(_ request: LogsRequest) -> String {
        var out = ""
        for resource in request.resourceLogs {
            out += "resource " + (resource.resource.attributes.isEmpty ? "(no attributes)" : attributes(resource.resource.attributes)) + "\n"
            for scope in resource.scopeLogs {
                out += "  scope \(scopeName(scope.scope))\n"
                for record in scope.logRecords {
                    out += "    log record at \(time(record.timeUnixNano)) (observed \(time(record.observedTimeUnixNano)))\n"
                    out += "      severity \(severity(record))\(record.eventName.isEmpty ? "" : "  event \(quoted(record.eventName))")\n"
                    out += "      body \(value(record.body))\n"
                    if !record.traceID.isEmpty { out += "      trace_id \(hex(record.traceID))  span_id \(hex(record.spanID))\n" }
                    for attribute in record.attributes { out += "      \(attribute.key) = \(value(attribute.value))\n" }
                }
            }
        }
        return out
    }

    static func dump(_ request: MetricsRequest) -> String {
        var out = ""
        for resource in request.resourceMetrics {
            out += "resource " + (resource.resource.attributes.isEmpty ? "(no attributes)" : attributes(resource.resource.attributes)) + "\n"
            for scope in resource.scopeMetrics {
                out += "  scope \(scopeName(scope.scope))\n"
                for metric in scope.metrics {
                    out += "    metric \(metric.name)\(metric.unit.isEmpty ? "" : " (\(metric.unit))")\(metric.description_p.isEmpty ? "" : ": \(metric.description_p)")\n"
                    for point in points(metric) { out += "      \(point)\n" }
                }
            }
        }
        return out
    }

    // MARK: values

    static func hex(_ bytes: Data) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// A string as a JSON string literal (one escaping for the whole toolkit: `JSONValue`'s).
    static func quoted(_ text: String) -> String {
        var out = ""
        JSONValue.appendQuoted(text, to: &out)
        return out
    }

    /// key=value pairs; nested values in brackets and braces, as deep as the value goes (the
    /// collector has already bounded the nesting it builds).
    static func attributes(_ attributes: [OTLPKeyValue]) -> String {
        attributes.map { "\($0.key)=\(value($0.value))" }.joined(separator: " ")
    }

    static func value(_ value: OTLPAnyValue) -> String {
        switch value.value {
        case .stringValue(let text): quoted(text)
        case .boolValue(let flag): "\(flag)"
        case .intValue(let number): "\(number)"
        case .doubleValue(let number): "\(number)"
        case .bytesValue(let bytes): "0x" + hex(bytes)
        case .arrayValue(let array): "[" + array.values.map(Self.value).joined(separator: ", ") + "]"
        case .kvlistValue(let list): "{" + list.values.map { "\($0.key)=\(Self.value($0.value))" }.joined(separator: ", ") + "}"
        case nil: "(empty)"
        }
    }

    static func number(_ point: OTLPNumberDataPoint) -> String {
        switch point.value {
        case .asInt(let value): "\(value)"
        case .asDouble(let value): "\(value)"
        case nil: "(empty)"
        }
    }

    static func time(_ nanoseconds: UInt64) -> String {
        guard nanoseconds > 0 else { return "-" }
        let seconds = Double(nanoseconds / 1_000_000_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let text = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return text.replacingOccurrences(of: "Z", with: String(format: ".%09dZ", Int(nanoseconds % 1_000_000_000)))
    }

    static func duration(_ start: UInt64, _ end: UInt64) -> String {
        guard end >= start, start > 0 else { return "open" }
        let nanoseconds = Double(end - start)
        if nanoseconds >= 1e9 { return String(format: "%.3f s", nanoseconds / 1e9) }
        if nanoseconds >= 1e6 { return String(format: "%.3f ms", nanoseconds / 1e6) }
        return String(format: "%.1f µs", nanoseconds / 1e3)
    }

    static func kind(_ kind: Opentelemetry_Proto_Trace_V1_Span.SpanKind) -> String {
        switch kind {
        case .internal: "internal"
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        default: "unspecified"
        }
    }

    static func status(_ status: OTLPStatus) -> String {
        let code = switch status.code {
        case .ok: "ok"
        case .error: "error"
        default: "unset"
        }
        return status.message.isEmpty ? code : "\(code) \(quoted(status.message))"
    }

    /// TRACE … FATAL with the step within the range (INFO2) as OTLP names them, and the writer's
    /// own text when it gave one.
    static func severity(_ record: OTLPLogRecord) -> String {
        let number = record.severityNumber.rawValue
        let names = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        var name = (1...24).contains(number) ? names[(number - 1) / 4] : "UNSPECIFIED"
        if (1...24).contains(number), (number - 1) % 4 > 0 { name += "\((number - 1) % 4 + 1)" }
        return record.severityText.isEmpty || record.severityText == name ? name : "\(name) (\(record.severityText))"
    }

    static func scopeName(_ scope: OTLPScope) -> String {
        let name = scope.name.isEmpty ? "(unnamed)" : scope.name
        return (scope.version.isEmpty ? name : "\(name) \(scope.version)") + (scope.attributes.isEmpty ? "" : " " + attributes(scope.attributes))
    }
}
