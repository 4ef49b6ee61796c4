import Foundation
import Logging
import Synchronization
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import OTLPProto
import CollectorTestSupport
import TestSupport

/// Keeps every request the collector exports; can refuse the first `failures` attempts.
final class CapturingExporter: Exporter, Sendable {
    private struct State {
        var traces: [TracesRequest] = []
        var logs: [LogsRequest] = []
        var metrics: [MetricsRequest] = []
        var failuresLeft: Int
    }
    private let state: Mutex<State>
    private let retryable: Bool

    init(failures: Int = 0, retryable: Bool = true) {
        state = Mutex(State(failuresLeft: failures))
        self.retryable = retryable
    }

    var traces: [TracesRequest] { state.withLock { $0.traces } }
    var logs: [LogsRequest] { state.withLock { $0.logs } }
    var metrics: [MetricsRequest] { state.withLock { $0.metrics } }

    var spans: [Opentelemetry_Proto_Trace_V1_Span] { traces.flatMap { $0.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) } } }
    var logRecords: [Opentelemetry_Proto_Logs_V1_LogRecord] { logs.flatMap { $0.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) } } }
    var metricList: [Opentelemetry_Proto_Metrics_V1_Metric] { metrics.flatMap { $0.resourceMetrics.flatMap { $0.scopeMetrics.flatMap(\.metrics) } } }

    private func admit() throws(ExportError) {
        let fail: Bool = state.withLock {
            guard $0.failuresLeft > 0 else { return false }
            $0.failuresLeft -= 1
            return true
        }
        if fail { throw ExportError(retryable: retryable, "refused by the test") }
    }

    func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess? {
        try admit()
        state.withLock { $0.traces.append(request) }
        return nil
    }
    func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess? {
        try admit()
        state.withLock { $0.logs.append(request) }
        return nil
    }
    func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess? {
        try admit()
        state.withLock { $0.metrics.append(request) }
        return nil
    }
    func shutdown() async {}
}

/// Runs a collector on `path` until `done` holds (or `timeout`), then stops it (it flushes).
@discardableResult
func collect(
    _ path: String, exporter: CapturingExporter, timeout: Duration = .seconds(20),
    configure: (inout CollectorConfiguration) -> Void = { _ in },
    until done: @escaping @Sendable (Collector) -> Bool
) async -> Collector {
    let (collector, task) = startCollector(path, exporter: exporter, configure: configure)
    let deadline = ContinuousClock.now + timeout
    while !done(collector), ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(5))
    }
    collector.stop()
    await task.value
    return collector
}

extension Opentelemetry_Proto_Common_V1_AnyValue {
    /// A compact description for assertions: "s:text", "i:3", "b:true", "d:1.5", "[..]", "{k=..}".
    var summary: String {
        switch value {
        case .stringValue(let text): "s:\(text)"
        case .intValue(let number): "i:\(number)"
        case .boolValue(let flag): "b:\(flag)"
        case .doubleValue(let number): "d:\(number)"
        case .bytesValue(let bytes): "x:\(bytes.map { String(format: "%02x", $0) }.joined())"
        case .arrayValue(let array): "[" + array.values.map(\.summary).joined(separator: ",") + "]"
        case .kvlistValue(let list): "{" + list.values.map { "\($0.key)=\($0.value.summary)" }.joined(separator: ",") + "}"
        case nil: "none"
        }
    }
}

extension Array where Element == Opentelemetry_Proto_Common_V1_KeyValue {
    var summary: [String: String] { Dictionary(map { ($0.key, $0.value.summary) }, uniquingKeysWith: { _, last in last }) }
}

func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

/// Keeps every line logged through `logger`, for tests of what the collector reports.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    var logger: Logger {
        Logger(label: "captured") { _ in Handler(capture: self) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.storage.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}
