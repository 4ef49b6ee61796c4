import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// The collector against a real OTLP receiver in another process (tools/otlp-receiver.py), over
/// gRPC and over HTTP: everything the reference writer wrote arrives, field for field.
@Suite(.serialized) struct ReceiverTests {
    enum Transport: String, CaseIterable, Sendable {
        case grpc, http
    }

    func exporter(_ transport: Transport, _ receiver: ReceiverProcess) throws -> any Exporter {
        switch transport {
        case .grpc:
            var endpoint = OTLPEndpoint(transport: .grpc)
            endpoint.endpoint = "http://127.0.0.1:\(receiver.grpcPort)"
            endpoint.headers = [.init("x-test", "grpc")]
            return try GRPCExporter(endpoint: endpoint)
        case .http:
            var endpoint = OTLPEndpoint(transport: .httpProtobuf)
            endpoint.endpoint = "http://127.0.0.1:\(receiver.httpPort)"
            endpoint.headers = [.init("x-test", "http")]
            return try HTTPExporter(endpoint: endpoint)
        }
    }

    @Test(arguments: Transport.allCases)
    func everythingTheWriterWroteArrivesAtTheReceiver(_ transport: Transport) async throws {
        let receiver = try await ReceiverProcess()
        defer { receiver.stop() }
        let writer = try makeWriter("receiver-\(transport.rawValue)")
        let scope = try writer.scope("shop", version: "3.0")
        let parent = writer.startSpan("checkout", kind: .server, attributes: try writer.attributes(["cart.items": 3, "vip": true]),
                                      scope: scope, startTime: 1_000)
        let child = writer.startSpan("charge card", kind: .client, parent: parent.context, startTime: 2_000)
        child.addLinks([SpanLink(to: parent.context, attributes: try writer.attributes(["why": "retry"]))])
        child.end(status: .error, message: "declined", at: 3_000)
        parent.end(status: .ok, at: 4_000)
        writer.log(.error, .text("card declined"), severityText: "ERROR", attributes: try writer.attributes(["amount": 12.5]),
                   spanContext: child.context, scope: scope, time: 2_500)
        let orders = try writer.counter("orders", unit: "{order}", scope: scope)
        orders.record(2, time: 100)
        orders.record(3, time: 200)
        let latency = try writer.histogram("latency", unit: "ms", boundaries: [100], scope: scope)
        latency.record(50.0, time: 100)
        latency.record(150.0, time: 100)

        let (collector, task) = startCollector(writer.file.path, exporter: try exporter(transport, receiver))
        try await waitFor { receiver.items("traces").count >= 2 && receiver.items("logs").count >= 1 }
        collector.stop()   // the final flush reports the metrics
        await task.value
        #expect(collector.statistics[.droppedRequests] == 0 && collector.statistics[.invalidRecords] == 0)
        #expect(receiver.requests().allSatisfy { $0.transport == transport.rawValue })

        let spans = receiver.items("traces")
        let exportedParent = try #require(spans.first { $0.item["name"] as? String == "checkout" })
        let exportedChild = try #require(spans.first { $0.item["name"] as? String == "charge card" })
        #expect(ReceivedJSON.hex(exportedParent.item["traceId"]) == parent.context.traceID.description)
        #expect(ReceivedJSON.hex(exportedParent.item["spanId"]) == parent.context.spanID.description)
        #expect(ReceivedJSON.hex(exportedChild.item["parentSpanId"]) == parent.context.spanID.description)
        #expect(ReceivedJSON.hex(exportedChild.item["traceId"]) == parent.context.traceID.description)
        #expect(ReceivedJSON.int(exportedParent.item["startTimeUnixNano"]) == 1_000 && ReceivedJSON.int(exportedParent.item["endTimeUnixNano"]) == 4_000)
        #expect(exportedParent.item["kind"] as? String == "SPAN_KIND_SERVER" && exportedChild.item["kind"] as? String == "SPAN_KIND_CLIENT")
        #expect(ReceivedJSON.attributes(exportedParent.item["attributes"]) == ["cart.items": "i:3", "vip": "b:true"])
        #expect((exportedChild.item["status"] as? [String: Any])?["code"] as? String == "STATUS_CODE_ERROR")
        #expect((exportedChild.item["status"] as? [String: Any])?["message"] as? String == "declined")
        let link = try #require((exportedChild.item["links"] as? [[String: Any]])?.first)
        #expect(ReceivedJSON.hex(link["spanId"]) == parent.context.spanID.description)
        #expect(ReceivedJSON.attributes(link["attributes"]) == ["why": "s:retry"])
        #expect(exportedParent.scope["name"] as? String == "shop" && exportedParent.scope["version"] as? String == "3.0")
        #expect(ReceivedJSON.attributes(exportedParent.resource["attributes"])["service.name"] == "s:collector-tests")

        let log = try #require(receiver.items("logs").first)
        #expect(log.item["severityNumber"] as? String == "SEVERITY_NUMBER_ERROR" && log.item["severityText"] as? String == "ERROR")
        #expect(ReceivedJSON.anyValue(log.item["body"]) == "s:card declined")
        #expect(ReceivedJSON.int(log.item["timeUnixNano"]) == 2_500)
        #expect(ReceivedJSON.hex(log.item["spanId"]) == child.context.spanID.description)
        #expect(ReceivedJSON.attributes(log.item["attributes"]) == ["amount": "d:12.5"])
        #expect(log.scope["name"] as? String == "shop")

        let metrics = Dictionary(receiver.items("metrics").map { ($0.item["name"] as? String ?? "", $0.item) }, uniquingKeysWith: { first, _ in first })
        let sum = try #require(metrics["orders"]?["sum"] as? [String: Any])
        #expect(sum["aggregationTemporality"] as? String == "AGGREGATION_TEMPORALITY_CUMULATIVE" && sum["isMonotonic"] as? Bool == true)
        #expect(ReceivedJSON.int((sum["dataPoints"] as? [[String: Any]])?.first?["asInt"]) == 5)
        #expect(metrics["orders"]?["unit"] as? String == "{order}")
        let histogram = try #require(metrics["latency"]?["histogram"] as? [String: Any])
        let point = try #require((histogram["dataPoints"] as? [[String: Any]])?.first)
        #expect(histogram["aggregationTemporality"] as? String == "AGGREGATION_TEMPORALITY_DELTA")
        #expect((point["bucketCounts"] as? [Any])?.compactMap(ReceivedJSON.int) == [1, 1] && ReceivedJSON.int(point["count"]) == 2)
        #expect(point["sum"] as? Double == 200 && (point["explicitBounds"] as? [Double]) == [100])
    }

    @Test(arguments: Transport.allCases)
    func aReceiverThatIsDownForAWhileLosesNothing(_ transport: Transport) async throws {
        // The receiver refuses the first exports (UNAVAILABLE / 503), then dies, then comes back.
        let first = try await ReceiverProcess(failFirst: 2)
        let writer = try makeWriter("outage-\(transport.rawValue)")
        for index in 0..<20 { writer.log(.info, .text("before \(index)"), time: UInt64(index + 1)) }
        let (collector, task) = startCollector(writer.file.path, exporter: try exporter(transport, first))
        defer { task.cancel() }
        try await waitFor { first.items("logs").count >= 20 }
        #expect(collector.statistics[.failedExports] >= 2)

        let failedBefore = collector.statistics[.failedExports]
        first.stop()
        for index in 0..<20 { writer.log(.info, .text("during \(index)"), time: UInt64(index + 100)) }
        // The receiver is down when the collector tries: wait for an attempt to have failed.
        try await waitFor { collector.statistics[.failedExports] > failedBefore }
        let second = try await ReceiverProcess(grpcPort: first.grpcPort, httpPort: first.httpPort, output: first.output)
        defer { second.stop() }
        // At least once: a request may arrive twice (a retry after a reply lost with a dropped
        // connection), so the wait is for every body, not for a count.
        let expected = Set((0..<20).map { "s:before \($0)" } + (0..<20).map { "s:during \($0)" })
        try await waitFor { expected.isSubset(of: Set(second.items("logs").map { ReceivedJSON.anyValue($0.item["body"]) })) }
        collector.stop()
        await task.value
        let bodies = Set(second.items("logs").map { ReceivedJSON.anyValue($0.item["body"]) })
        #expect(expected.isSubset(of: bodies), "missing: \(expected.subtracting(bodies).sorted())")
        #expect(collector.statistics[.droppedRequests] == 0)
    }
}
