import Foundation
import GRPCCore
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapReceiver
import OTLPMmapSDK
import OTLPProto
import SwiftProtobuf
import Testing
import CollectorTestSupport
import TestSupport

/// The OTLP receiver the collector testbed embeds (issue 20): the reference collector exports to it
/// over gRPC and HTTP, as a process and in process, and it answers as its policy says — refusals
/// (with and without a retry delay), partial success, garbage turned away.
@Suite struct EmbeddedReceiverTests {
    enum Transport: String, CaseIterable, Sendable { case grpc, http }

    /// Runs `body` with a receiver serving on loopback; stops it after.
    static func withReceiver<Result: Sendable>(_ body: (OTLPReceiver, OTLPReceiver.Ports) async throws -> Result) async throws -> Result {
        let receiver = OTLPReceiver()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await receiver.run() }
            defer { group.cancelAll() }
            let ports = try await receiver.ports
            return try await body(receiver, ports)
        }
    }

    /// Exports with a failsafe timeout, not the 10 s default: under a full run's load one refused
    /// gRPC export took longer and came back as deadlineExceeded instead of the refusal.
    static func exporter(_ transport: Transport, _ ports: OTLPReceiver.Ports) throws -> any Exporter {
        switch transport {
        case .grpc:
            var endpoint = OTLPEndpoint(transport: .grpc)
            endpoint.endpoint = "http://127.0.0.1:\(ports.grpc)"
            endpoint.timeout = .seconds(60)
            return try GRPCExporter(endpoint: endpoint)
        case .http:
            var endpoint = OTLPEndpoint(transport: .httpProtobuf)
            endpoint.endpoint = "http://127.0.0.1:\(ports.http)"
            endpoint.timeout = .seconds(60)
            return try HTTPExporter(endpoint: endpoint)
        }
    }

    static func spans(_ receiver: OTLPReceiver) -> [Opentelemetry_Proto_Trace_V1_Span] {
        receiver.received.flatMap { export -> [Opentelemetry_Proto_Trace_V1_Span] in
            guard case .traces(let request) = export.request, case .accepted = export.answer else { return [] }
            return request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
        }
    }

    static func logRecords(_ receiver: OTLPReceiver) -> [Opentelemetry_Proto_Logs_V1_LogRecord] {
        receiver.received.flatMap { export -> [Opentelemetry_Proto_Logs_V1_LogRecord] in
            guard case .logs(let request) = export.request, case .accepted = export.answer else { return [] }
            return request.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        }
    }

    @Test(arguments: Transport.allCases)
    func theCollectorsExportsArriveDecoded(_ transport: Transport) async throws {
        try await Self.withReceiver { receiver, ports in
            let writer = try makeWriter("embedded-\(transport.rawValue)")
            let span = writer.startSpan("checkout", kind: .server, attributes: try writer.attributes(["cart.items": 3]), startTime: 1_000)
            span.end(status: .ok, at: 2_000)
            writer.log(.warn, .text("low stock"), attributes: try writer.attributes(["sku": "A-1"]), time: 1_500)
            try writer.counter("orders").record(2, time: 100)
            let (collector, task) = startCollector(writer.file.path, exporter: try Self.exporter(transport, ports))
            // (At least once: an export that timed out on a loaded machine may arrive twice.)
            try await waitFor { Self.spans(receiver).count >= 1 && Self.logRecords(receiver).count >= 1 }
            collector.stop()
            await task.value
            let exported = try #require(Self.spans(receiver).first)
            #expect(exported.name == "checkout" && exported.kind == .server && exported.startTimeUnixNano == 1_000 && exported.endTimeUnixNano == 2_000)
            #expect(exported.attributes.map(\.key) == ["cart.items"] && exported.attributes.first?.value.intValue == 3)
            #expect(Self.logRecords(receiver).first?.body.stringValue == "low stock")
            let metrics = receiver.received.compactMap { export -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest? in
                if case .metrics(let request) = export.request { request } else { nil }
            }
            #expect(metrics.flatMap { $0.resourceMetrics.flatMap { $0.scopeMetrics.flatMap(\.metrics) } }.contains { $0.name == "orders" })
            #expect(receiver.received.allSatisfy { $0.transport.rawValue == transport.rawValue })
            #expect(receiver.malformed.isEmpty, "\(receiver.malformed)")
        }
    }

    /// Refused for a while (UNAVAILABLE / 503, once with a retry delay), then accepted: the collector
    /// retries and nothing is lost; the receiver keeps the refused attempts too.
    /// A refusal keeps what the transport said as the error's cause (gRPC: the `RPCError` with its
    /// code), not only as text.
    @Test(arguments: Transport.allCases)
    func aRefusalKeepsItsCause(_ transport: Transport) async throws {
        try await Self.withReceiver { receiver, ports in
            receiver.setPolicy(ReceiverPolicy(refuseNext: 1), for: .traces)
            let exporter = try Self.exporter(transport, ports)
            let outcome = await withTaskGroup(of: Void.self) { group -> Result<PartialSuccess?, ExportError> in
                // gRPC's connections run in the exporter's `run()`, as the collector runs them.
                if let grpc = exporter as? GRPCExporter { group.addTask { try? await grpc.run() } }
                let outcome: Result<PartialSuccess?, ExportError>
                do throws(ExportError) {
                    outcome = .success(try await exporter.export(Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()))
                } catch {
                    outcome = .failure(error)
                }
                await exporter.shutdown()
                return outcome
            }
            do throws(ExportError) {
                _ = try outcome.get()
                Issue.record("the refused export succeeded")
            } catch {
                #expect(error.retryable)
                switch transport {
                case .grpc:
                    let cause = try #require(error.cause as? RPCError, "\(String(describing: error.cause))")
                    #expect(cause.code == .unavailable)
                case .http:
                    // An answer with a status is the receiver's word, not a transport failure: no cause.
                    #expect(error.message.contains("HTTP 503"), "\(error)")
                }
            }
        }
    }

    @Test(arguments: Transport.allCases)
    func refusalsAreRetriedUntilAccepted(_ transport: Transport) async throws {
        try await Self.withReceiver { receiver, ports in
            receiver.setPolicy(ReceiverPolicy(refuseNext: 3, retryAfter: .milliseconds(200)), for: .logs)
            let writer = try makeWriter("embedded-refuse-\(transport.rawValue)")
            for index in 0..<5 { writer.log(.info, .text("line \(index)"), time: UInt64(index + 1)) }
            let (collector, task) = startCollector(writer.file.path, exporter: try Self.exporter(transport, ports))
            try await waitFor { Set(Self.logRecords(receiver).map(\.body.stringValue)).count == 5 }
            collector.stop()
            await task.value
            let logExports = receiver.received.filter { $0.request.signal == .logs }
            #expect(logExports.prefix(3).allSatisfy { $0.answer == .refused(retryAfter: .milliseconds(200)) }, "\(logExports.map(\.answer))")
            #expect(logExports.dropFirst(3).allSatisfy { $0.answer == .accepted(rejected: 0) })
            // Nothing lost; at least once (a retry after a timeout may deliver a request twice).
            #expect(Set(Self.logRecords(receiver).map(\.body.stringValue)) == Set((0..<5).map { "line \($0)" }))
            // The retry delay was honoured: the fourth attempt came at least 200 ms after the third.
            let third = logExports[2].arrived, fourth = try #require(logExports.dropFirst(3).first).arrived
            #expect(fourth - third >= .milliseconds(190), "\(fourth - third)")
            receiver.setPolicy(.accept, for: .logs)
        }
    }

    @Test(arguments: Transport.allCases)
    func partialSuccessRejectsItemsTheCollectorCounts(_ transport: Transport) async throws {
        try await Self.withReceiver { receiver, ports in
            receiver.setPolicy(ReceiverPolicy(rejectItems: 1), for: .traces)
            let writer = try makeWriter("embedded-partial-\(transport.rawValue)")
            for index in 0..<3 { writer.startSpan("s\(index)", startTime: 10).end(at: 20) }
            let (collector, task) = startCollector(writer.file.path, exporter: try Self.exporter(transport, ports))
            try await waitFor { Set(Self.spans(receiver).map(\.name)).count == 3 }
            collector.stop()
            await task.value
            let answers = receiver.received.filter { $0.request.signal == .traces }.map(\.answer)
            #expect(!answers.isEmpty && answers.allSatisfy { $0 == .accepted(rejected: 1) }, "\(answers)")
            #expect(collector.statistics[.rejectedItems] == Int64(answers.count), "\(collector.statistics)")
        }
    }

    /// The receiver turns away what is not OTLP, and names it.
    @Test func garbageIsTurnedAwayAndNamed() async throws {
        try await Self.withReceiver { receiver, ports in
            let folder = try TestSupport.temporaryDirectory("garbage")
            func post(_ path: String, _ body: [UInt8], type: String = "application/x-protobuf") async throws -> Int {
                let file = folder.appendingPathComponent(UUID().uuidString)
                try Data(body).write(to: file)
                let result = try await TestSupport.run(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: \(type)",
                                                        "--data-binary", "@\(file.path)", "http://127.0.0.1:\(ports.http)\(path)"],
                                                       executable: "/usr/bin/curl")
                return Int(result.stdout) ?? -1
            }
            #expect(try await post("/v1/traces", [0xFF, 0xFF, 0xFF]) == 400)
            #expect(try await post("/v1/spans", []) == 404)
            #expect(try await post("/v1/logs", Array("{}".utf8), type: "application/json") == 415)
            #expect(try await post("/v1/metrics", []) == 200)   // an empty request is a valid one
            let malformed = receiver.malformed.map(\.what)
            #expect(malformed.count == 3, "\(malformed)")
            #expect(malformed.first?.contains("not an ExportTracesServiceRequest") == true, "\(malformed)")
            #expect(receiver.received.count == 1)
        }
    }
}
