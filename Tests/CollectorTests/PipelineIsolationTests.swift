import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// Each signal has its own pipeline: a receiver that refuses one signal stalls that signal's ring
/// only, and the collector's memory stays bounded while it does.
@Suite(.serialized) struct PipelineIsolationTests {
    /// Traces and metrics go to a receiver that accepts, logs (the signal's own endpoint, as
    /// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT sets it) to one that refuses every request.
    func exporter(_ transport: ReceiverTests.Transport, accepting: ReceiverProcess, refusing: ReceiverProcess) throws -> any Exporter {
        switch transport {
        case .grpc:
            let endpoint = try OTLPEndpoint.fromEnvironment(.grpc, [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(accepting.grpcPort)",
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:\(refusing.grpcPort)",
            ])
            return try GRPCExporter(endpoint: endpoint)
        case .http:
            let endpoint = try OTLPEndpoint.fromEnvironment(.httpProtobuf, [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(accepting.httpPort)",
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:\(refusing.httpPort)/v1/logs",
            ])
            return try HTTPExporter(endpoint: endpoint)
        }
    }

    @Test(arguments: ReceiverTests.Transport.allCases)
    func aRefusingLogsEndpointDoesNotStopSpansAndMetrics(_ transport: ReceiverTests.Transport) async throws {
        let accepting = try await ReceiverProcess()
        defer { accepting.stop() }
        let refusing = try await ReceiverProcess(failFirst: 1_000_000)
        defer { refusing.stop() }
        let writer = try makeWriter("isolation-\(transport.rawValue)", numBuffers: 1024)
        let (collector, task) = startCollector(writer.file.path, exporter: try exporter(transport, accepting: accepting, refusing: refusing)) {
            $0.metricInterval = .milliseconds(200)
            $0.batchSize = 64
            $0.shutdownTimeout = .milliseconds(500)
        }
        let counter = try writer.counter("handled")
        // More log records than the logs ring and the collector's logs queue hold together: the
        // writer must find that ring full, and only that one.
        let spans = 400
        for index in 0..<spans {
            writer.startSpan("span-\(index)", kind: .server).end()
            counter.record(1)
            for _ in 0..<8 { writer.log(.info, .text("log \(index)")) }
            if index % 50 == 49 { try await Task.sleep(for: .milliseconds(20)) }   // a writer at work, not a burst
        }
        // Distinct names: a request that timed out under load is sent again (at least once).
        let names = { @Sendable in Set(accepting.items("traces").compactMap { $0.item["name"] as? String }) }
        try await waitFor { names().count >= spans }
        try await waitFor {
            accepting.items("metrics").contains { ($0.item["sum"] as? [String: Any]).map { ReceivedJSON.int(($0["dataPoints"] as? [[String: Any]])?.first?["asInt"]) == Int64(spans) } ?? false }
        }
        #expect(names().count == spans)
        #expect(accepting.items("logs").isEmpty && refusing.items("logs").isEmpty)
        #expect(collector.statistics[.failedExports, signal: .logs] >= 1)
        #expect(writer.statistics.value(.dropped, .events) > 0, "the refused signal's ring never filled")
        #expect(writer.statistics.value(.dropped, .spans) == 0 && writer.statistics.value(.dropped, .measurements) == 0)
        collector.stop()
        await task.value
    }

    @Test func whatTheCollectorHoldsUnderARefusingReceiverIsBounded() async throws {
        // The bound CollectorConfiguration.heldRecordsPerSignal states.
        let writer = try makeWriter(numBuffers: 16_384)
        let exporter = CapturingExporter(failures: .max)
        let configure: (inout CollectorConfiguration) -> Void = {
            $0.batchSize = 32
            $0.queueCapacity = 4
            $0.maxInFlight = 2
            $0.shutdownTimeout = .milliseconds(500)
        }
        var configuration = CollectorConfiguration(path: "")
        configure(&configuration)
        let bound = configuration.heldRecordsPerSignal
        for index in 0..<(bound * 20) { writer.log(.info, .text("log \(index)")) }
        #expect(writer.statistics.value(.dropped, .events) == 0)
        let (collector, task) = startCollector(writer.file.path, exporter: exporter, configure: configure)
        try await waitFor { collector.statistics[.failedExports] >= 5 }
        // The reader came back to the log ring and left it alone, twice: it could have read more.
        try await waitFor { collector.statistics[.readerHeldBack, signal: .logs] >= 2 }
        let read = collector.statistics[.records, signal: .logs]
        #expect(read > 0 && read <= bound, "read \(read) log records while none could be exported; the bound is \(bound)")
        #expect(writer.file.ring(.events).header.readerIndex == -1)
        collector.stop()
        await task.value
    }
}

/// OTLP's partial success: a receiver that accepts a request but rejects some of its items.
@Suite(.serialized) struct PartialSuccessTests {
    @Test(arguments: ReceiverTests.Transport.allCases)
    func rejectedItemsAreCountedAndReportedOncePerReason(_ transport: ReceiverTests.Transport) async throws {
        let receiver = try await ReceiverProcess(extraArguments: ["--reject-one"])
        defer { receiver.stop() }
        let writer = try makeWriter("partial-\(transport.rawValue)")
        let logs = LogCapture()
        let (collector, task) = startCollector(writer.file.path, exporter: try ReceiverTests().exporter(transport, receiver),
                                               logger: logs.logger) { $0.batchSize = 2 }
        for index in 0..<6 { writer.log(.info, .text("log \(index)")) }
        try await waitFor { collector.statistics[.rejectedItems, signal: .logs] >= 3 }
        #expect(collector.statistics[.rejectedItems, signal: .logs] >= 3,
                "statistics \(collector.statistics.snapshot), log: \(logs.lines.suffix(15))")
        collector.stop()
        await task.value
        #expect(receiver.items("logs").count == 6)
        #expect(collector.statistics[.exportedLogs] == 6 && collector.statistics[.droppedRequests] == 0)
        #expect(collector.statistics[.rejectedItems, signal: .logs] == 3, "one rejected per request of two")
        let reports = logs.lines.filter { $0.contains("rejected by --reject-one") }
        #expect(reports.count == 1, "\(reports)")
    }
}
