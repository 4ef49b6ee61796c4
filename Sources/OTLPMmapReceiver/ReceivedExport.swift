import Foundation
import OTLPProto

/// The three OTLP signals, by the names their HTTP paths use.
package enum OTLPSignal: String, Sendable, CaseIterable {
    case traces, logs, metrics

    /// `/v1/traces` and so on.
    package var httpPath: String { "/v1/\(rawValue)" }
}

/// One export the receiver was sent, whatever it answered.
package struct ReceivedExport: Sendable {
    package enum Transport: String, Sendable { case grpc, http }

    /// The decoded request of one signal.
    package enum Request: Sendable, Equatable {
        case traces(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest)
        case logs(Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest)
        case metrics(Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest)

        package var signal: OTLPSignal {
            switch self {
            case .traces: .traces
            case .logs: .logs
            case .metrics: .metrics
            }
        }

        /// Spans, log records or data points in the request.
        package var itemCount: Int64 {
            switch self {
            case .traces(let request):
                Int64(request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } })
            case .logs(let request):
                Int64(request.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } })
            case .metrics(let request):
                Int64(request.resourceMetrics.reduce(0) { total, resource in
                    total + resource.scopeMetrics.reduce(0) { $0 + $1.metrics.reduce(0) { $0 + Self.points(in: $1) } }
                })
            }
        }

        static func points(in metric: Opentelemetry_Proto_Metrics_V1_Metric) -> Int {
            switch metric.data {
            case .gauge(let gauge)?: gauge.dataPoints.count
            case .sum(let sum)?: sum.dataPoints.count
            case .histogram(let histogram)?: histogram.dataPoints.count
            case .exponentialHistogram(let histogram)?: histogram.dataPoints.count
            case .summary(let summary)?: summary.dataPoints.count
            case nil: 0
            }
        }
    }

    package var transport: Transport
    package var request: Request
    package var answer: ReceiverAnswer
    /// When it arrived, on the receiver's monotonic clock.
    package var arrived: ContinuousClock.Instant
}

/// A request the receiver could not take at all: a body that is not the signal's request message,
/// a path or content type OTLP does not define. A collector that sends these is exporting garbage.
package struct MalformedExport: Sendable, CustomStringConvertible {
    package var transport: ReceivedExport.Transport
    package var what: String
    package var description: String { "\(transport.rawValue): \(what)" }
}
