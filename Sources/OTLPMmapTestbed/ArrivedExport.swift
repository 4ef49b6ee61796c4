import OTLPMmapReceiver
import OTLPProto

/// What the receiver accepted, in the expected form (`ExpectedExport`). A request accepted twice
/// with the same content is one export sent again (after a timeout on its answer, say): at least
/// once allows that, so it counts once. Requests answered `partial_success` were accepted.
struct ArrivedExport {
    /// One data point of a series, in the order the points arrived.
    struct Point {
        var time: UInt64
        var count: UInt64
        var value: ExpectedExport.Number
        var min: Double?
        var max: Double?
        var bucketCounts: [UInt64] = []
        var boundaries: [Double] = []
        var scale: Int32 = 0
        var zeroCount: UInt64 = 0
        var positive: (offset: Int32, counts: [UInt64]) = (0, [])
        var negative: (offset: Int32, counts: [UInt64]) = (0, [])
    }

    var spans: [ExpectedExport.Span] = []
    var logRecords: [ExpectedExport.LogRecord] = []
    var metrics: [String: ExpectedExport.Metric] = [:]
    var points: [ExpectedExport.SeriesKey: [Point]] = [:]
    /// Resources the requests named, as canonical attribute text, with how often.
    var resources: [String: Int] = [:]

    var recordCount: Int { spans.count + logRecords.count + points.count }

    init() {}

    init(_ exports: [ReceivedExport]) {
        var traces: [Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest] = []
        var logs: [Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest] = []
        var metrics: [Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest] = []
        for export in exports {
            guard case .accepted = export.answer else { continue }
            switch export.request {
            case .traces(let request) where traces.contains(request): continue
            case .logs(let request) where logs.contains(request): continue
            case .metrics(let request) where metrics.contains(request): continue
            case .traces(let request):
                traces.append(request)
                add(request)
            case .logs(let request):
                logs.append(request)
                add(request)
            case .metrics(let request):
                metrics.append(request)
                add(request)
            }
        }
    }

    static func scope(_ scope: Opentelemetry_Proto_Common_V1_InstrumentationScope) -> String {
        ExpectedExport.scopeText(name: scope.name, version: scope.version, attributes: AttributeText.received(scope.attributes))
    }

    private mutating func add(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) {
        for group in request.resourceSpans {
            resources[AttributeText.received(group.resource.attributes), default: 0] += 1
            for scoped in group.scopeSpans {
                let scope = Self.scope(scoped.scope)
                for span in scoped.spans {
                    let links = span.links.map { link in
                        "\(AttributeText.hex(Array(link.traceID)))/\(AttributeText.hex(Array(link.spanID))) state=\(AttributeText.quoted(link.traceState)) {\(AttributeText.received(link.attributes))}"
                    }
                    spans.append(.init(traceID: AttributeText.hex(Array(span.traceID)), spanID: AttributeText.hex(Array(span.spanID)),
                                       parentSpanID: AttributeText.hex(Array(span.parentSpanID)), name: span.name, kind: span.kind.rawValue,
                                       start: span.startTimeUnixNano, end: span.endTimeUnixNano, statusCode: span.status.code.rawValue,
                                       statusMessage: span.status.message, attributes: AttributeText.received(span.attributes),
                                       links: links.joined(separator: ", "), scope: scope))
                }
            }
        }
    }

    private mutating func add(_ request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest) {
        for group in request.resourceLogs {
            resources[AttributeText.received(group.resource.attributes), default: 0] += 1
            for scoped in group.scopeLogs {
                let scope = Self.scope(scoped.scope)
                for record in scoped.logRecords {
                    logRecords.append(.init(time: record.timeUnixNano, severity: record.severityNumber.rawValue, severityText: record.severityText,
                                            body: record.hasBody ? AttributeText.received(record.body) : "none",
                                            attributes: AttributeText.received(record.attributes), eventName: record.eventName,
                                            traceID: AttributeText.hex(Array(record.traceID)), spanID: AttributeText.hex(Array(record.spanID)),
                                            scope: scope))
                }
            }
        }
    }

    private mutating func add(_ request: Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest) {
        for group in request.resourceMetrics {
            resources[AttributeText.received(group.resource.attributes), default: 0] += 1
            for scoped in group.scopeMetrics {
                let scope = Self.scope(scoped.scope)
                for metric in scoped.metrics {
                    var definition = ExpectedExport.Metric(name: metric.name, description: metric.description_p, unit: metric.unit, kind: .gauge, scope: scope)
                    func key(_ attributes: [Opentelemetry_Proto_Common_V1_KeyValue]) -> ExpectedExport.SeriesKey {
                        .init(metric: metric.name, attributes: AttributeText.received(attributes))
                    }
                    func number(_ point: Opentelemetry_Proto_Metrics_V1_NumberDataPoint) -> ExpectedExport.Number {
                        switch point.value {
                        case .asInt(let value)?: .int(value)
                        case .asDouble(let value)?: .double(value)
                        case nil: .int(0)
                        }
                    }
                    switch metric.data {
                    case .sum(let sum)?:
                        (definition.kind, definition.temporality, definition.monotonic) = (.sum, sum.aggregationTemporality.rawValue, sum.isMonotonic)
                        for point in sum.dataPoints {
                            points[key(point.attributes), default: []].append(Point(time: point.timeUnixNano, count: 1, value: number(point)))
                        }
                    case .gauge(let gauge)?:
                        for point in gauge.dataPoints {
                            points[key(point.attributes), default: []].append(Point(time: point.timeUnixNano, count: 1, value: number(point)))
                        }
                    case .histogram(let histogram)?:
                        (definition.kind, definition.temporality) = (.histogram, histogram.aggregationTemporality.rawValue)
                        definition.boundaries = histogram.dataPoints.first?.explicitBounds ?? []
                        for point in histogram.dataPoints {
                            points[key(point.attributes), default: []].append(Point(
                                time: point.timeUnixNano, count: point.count, value: .double(point.sum), min: point.hasMin ? point.min : nil,
                                max: point.hasMax ? point.max : nil, bucketCounts: point.bucketCounts, boundaries: point.explicitBounds))
                        }
                    case .exponentialHistogram(let histogram)?:
                        (definition.kind, definition.temporality) = (.exponentialHistogram, histogram.aggregationTemporality.rawValue)
                        for point in histogram.dataPoints {
                            points[key(point.attributes), default: []].append(Point(
                                time: point.timeUnixNano, count: point.count, value: .double(point.sum), min: point.hasMin ? point.min : nil,
                                max: point.hasMax ? point.max : nil, scale: point.scale, zeroCount: point.zeroCount,
                                positive: (point.positive.offset, point.positive.bucketCounts), negative: (point.negative.offset, point.negative.bucketCounts)))
                        }
                    case .summary?, nil:
                        continue
                    }
                    self.metrics[metric.name] = definition
                }
            }
        }
    }
}
