import Foundation
import OTLPMmapBenchmarkSupport
import OTLPProto
import SwiftProtobuf
import Testing

/// The benchmarks' counting receiver counts the items of a request by walking its bytes with the
/// generated OTLP field numbers; swift-protobuf's types build the requests it is checked against.
@Suite struct ItemCountTests {
    typealias TraceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    typealias LogsRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
    typealias MetricsRequest = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest

    static func count(_ message: some SwiftProtobuf.Message, metrics: Bool) throws -> Int {
        let bytes: [UInt8] = try message.serializedBytes()
        return try bytes.withUnsafeBytes { try BenchmarkReading.countItems($0, metrics: metrics) }
    }

    @Test func spansAndLogsAreCountedAcrossResourcesAndScopes() throws {
        var traces = TraceRequest()
        var logs = LogsRequest()
        for (resource, scopes) in [[2, 3], [0, 4]].enumerated() {
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            resourceSpans.resource.attributes = [.with { $0.key = "r"; $0.value.intValue = Int64(resource) }]
            for count in scopes {
                resourceSpans.scopeSpans.append(.with { scope in
                    scope.scope.name = "s"
                    scope.spans = (0..<count).map { index in .with { $0.name = "span \(index)"; $0.traceID = Data(repeating: 1, count: 16) } }
                })
                resourceLogs.scopeLogs.append(.with { scope in
                    scope.logRecords = (0..<count).map { index in .with { $0.body.stringValue = "log \(index)" } }
                })
            }
            traces.resourceSpans.append(resourceSpans)
            logs.resourceLogs.append(resourceLogs)
        }
        #expect(try Self.count(traces, metrics: false) == 9)
        #expect(try Self.count(logs, metrics: false) == 9)
        #expect(try Self.count(TraceRequest(), metrics: false) == 0)
    }

    @Test func metricPointsOfEveryKindAreCounted() throws {
        var metrics = MetricsRequest()
        var scope = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
        scope.metrics = [
            .with { $0.name = "g"; $0.gauge.dataPoints = [.with { $0.asInt = 1 }, .with { $0.asDouble = 2 }] },
            .with { $0.name = "s"; $0.sum.dataPoints = [.with { $0.asInt = 1 }] },
            .with { $0.name = "h"; $0.histogram.dataPoints = [.with { $0.count = 1 }, .with { $0.count = 2 }, .with { $0.count = 3 }] },
            .with { $0.name = "e"; $0.exponentialHistogram.dataPoints = [.with { $0.scale = 1 }] },
            .with { $0.name = "q"; $0.summary.dataPoints = [.with { $0.count = 4 }] },
        ]
        metrics.resourceMetrics = [.with { $0.scopeMetrics = [scope, scope] }]
        #expect(try Self.count(metrics, metrics: true) == 16)
    }

    @Test func aCutRequestIsAnErrorNotACount() throws {
        var traces = TraceRequest()
        traces.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [.with { $0.name = "cut" }] }] }]
        let bytes: [UInt8] = try traces.serializedBytes()
        #expect(throws: (any Error).self) { try bytes.dropLast(2).withUnsafeBytes { try BenchmarkReading.countItems($0, metrics: false) } }
    }
}
