import Foundation
import OTLPMmapCollector
import OTLPProto
import Synchronization
import CollectorTestSupport
import Testing

/// The debug exporter's verbosity levels, as the OpenTelemetry Collector's debug exporter has them.
@Suite struct DebugExporterTests {
    final class Sink: Sendable {
        let texts = Mutex<[String]>([])
        func write(_ text: String) { texts.withLock { $0.append(text) } }
    }

    static func traces() -> TracesRequest {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data([0x0A] + [UInt8](repeating: 0, count: 15))
        span.spanID = Data([0xB1, 0, 0, 0, 0, 0, 0, 2])
        span.name = "GET \"/cart\""
        span.kind = .server
        span.startTimeUnixNano = 1_700_000_000_000_000_000
        span.endTimeUnixNano = 1_700_000_000_012_500_000
        span.status.code = .error
        span.status.message = "timeout"
        var key = Opentelemetry_Proto_Common_V1_KeyValue()
        key.key = "tags"
        var nested = Opentelemetry_Proto_Common_V1_AnyValue()
        nested.arrayValue.values = [.init(), { var v = Opentelemetry_Proto_Common_V1_AnyValue(); v.intValue = -1; return v }()]
        key.value = nested
        span.attributes = [key]
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = "shop"
        scope.spans = [span]
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resource.scopeSpans = [scope]
        var request = TracesRequest()
        request.resourceSpans = [resource]
        return request
    }

    static func logs() -> LogsRequest {
        var record = Opentelemetry_Proto_Logs_V1_LogRecord()
        record.timeUnixNano = 1_700_000_000_000_000_007
        record.severityNumber = .warn2
        record.body.stringValue = "low stock\n"
        var scope = Opentelemetry_Proto_Logs_V1_ScopeLogs()
        scope.logRecords = [record]
        var resource = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resource.scopeLogs = [scope]
        var request = LogsRequest()
        request.resourceLogs = [resource]
        return request
    }

    static func export(_ verbosity: DebugVerbosity) async throws -> [String] {
        let sink = Sink()
        let exporter = DebugExporter(verbosity: verbosity, write: sink.write)
        _ = try await exporter.export(traces())
        _ = try await exporter.export(logs())
        return sink.texts.withLock { $0 }
    }

    @Test func basicIsASummaryPerRequest() async throws {
        #expect(try await Self.export(.basic) == ["traces: 1 span in 1 resource", "logs: 1 log record in 1 resource"])
    }

    @Test func normalIsALinePerRecord() async throws {
        #expect(try await Self.export(.normal) == [
            "span 0a000000000000000000000000000000/b100000000000002 \"GET \\\"/cart\\\"\" server 12.500 ms status=error \"timeout\" tags=[(empty), -1]",
            "log 2023-11-14T22:13:20.000000007Z WARN2 \"low stock\\n\"",
        ])
    }

    @Test func detailedShowsEveryFieldIndented() async throws {
        let texts = try await Self.export(.detailed)
        #expect(texts.count == 2)
        let lines = texts[0].split(separator: "\n").map(String.init)
        #expect(lines.first == "resource (no attributes)")
        #expect(lines.contains("  scope shop"))
        #expect(lines.contains("      kind server  start 2023-11-14T22:13:20.000000000Z  end 2023-11-14T22:13:20.012500000Z  (12.500 ms)"), "\(lines)")
        #expect(lines.contains("      tags = [(empty), -1]"), "\(lines)")
    }

    /// `json` stays the machine-readable default of `collect`: one OTLP/JSON line, ids in hex.
    @Test func jsonIsOneLinePerRequest() async throws {
        let texts = try await Self.export(.json)
        #expect(texts.count == 2 && texts.allSatisfy { !$0.contains("\n") })
        #expect(texts[0].contains("\"spanId\":\"b100000000000002\""), "\(texts[0])")
    }
}
