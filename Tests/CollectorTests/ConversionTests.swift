import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import OTLPProto
import CollectorTestSupport
import Testing

/// What the reference writer records arrives as the right OTLP: ids, times, names, attributes of
/// every value type, resource, scope, status, links, aggregation values and temporality.
@Suite struct ConversionTests {
    @Test func spansAreAssembledFromTheirEvents() async throws {
        let writer = try makeWriter()
        let scope = try writer.scope("orders", version: "2.1", attributes: [Attribute("team", "checkout")])
        let parentAttributes = try writer.attributes(["http.route": "/orders/{id}", "retries": 3, "cached": false, "ratio": 0.25])
        let parent = writer.startSpan("GET /orders/{id}", kind: .server, attributes: parentAttributes, scope: scope, startTime: 1_000)
        let child = writer.startSpan("query", kind: .client, parent: parent.context, startTime: 2_000)
        child.rename("SELECT orders")
        child.setAttributes(try writer.attributes(["db.rows": 12, "db.system": "sqlite"]))
        child.setAttributes(try writer.attributes(["db.rows": 13, "tags": .array([.string("a"), .int(1)])]))
        let other = SpanContext(traceID: TraceID(high: 0x0102030405060708, low: 0x090a0b0c0d0e0f10), spanID: SpanID(0x1112131415161718), flags: 0)
        child.addLinks([SpanLink(to: other, traceState: "vendor=1", attributes: try writer.attributes(["link.kind": "follows"]))])
        child.end(status: .error, message: "no such order", at: 3_000)
        parent.end(status: .ok, at: 4_000)
        let never = writer.startSpan("never ends", startTime: 5_000)

        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedSpans] >= 2 }
        #expect(collector.statistics[.invalidRecords] == 0)
        let spans = exporter.spans
        #expect(spans.count == 2, "only ended spans are exported; the open one waits for its end or the span timeout")
        let exportedChild = try #require(spans.first { $0.name == "SELECT orders" })
        let exportedParent = try #require(spans.first { $0.name == "GET /orders/{id}" })

        #expect(hex(exportedParent.traceID) == parent.context.traceID.description)
        #expect(hex(exportedParent.spanID) == parent.context.spanID.description)
        #expect(exportedParent.parentSpanID.isEmpty)
        #expect(exportedParent.kind == .server)
        #expect(exportedParent.startTimeUnixNano == 1_000 && exportedParent.endTimeUnixNano == 4_000)
        #expect(exportedParent.attributes.summary == ["http.route": "s:/orders/{id}", "retries": "i:3", "cached": "b:false", "ratio": "d:0.25"])
        #expect(exportedParent.status.code == .ok && exportedParent.flags == 1)

        #expect(hex(exportedChild.traceID) == parent.context.traceID.description)
        #expect(hex(exportedChild.parentSpanID) == parent.context.spanID.description)
        #expect(hex(exportedChild.spanID) == child.context.spanID.description)
        #expect(exportedChild.kind == .client)
        #expect(exportedChild.startTimeUnixNano == 2_000 && exportedChild.endTimeUnixNano == 3_000)
        #expect(exportedChild.attributes.summary == ["db.rows": "i:13", "db.system": "s:sqlite", "tags": "[s:a,i:1]"])
        #expect(exportedChild.status.code == .error && exportedChild.status.message == "no such order")
        let link = try #require(exportedChild.links.first)
        #expect(hex(link.traceID) == "0102030405060708090a0b0c0d0e0f10" && hex(link.spanID) == "1112131415161718")
        #expect(link.traceState == "vendor=1" && link.attributes.summary == ["link.kind": "s:follows"])

        // Resource and scope come from the dictionary: the parent in "orders", the child in the default scope.
        let trace = try #require(exporter.traces.first)
        let resource = try #require(trace.resourceSpans.first)
        #expect(resource.resource.attributes.summary == ["service.name": "s:collector-tests", "host.id": "i:7"])
        let scopes = Dictionary(uniqueKeysWithValues: exporter.traces.flatMap { $0.resourceSpans.flatMap(\.scopeSpans) }.map { ($0.spans[0].name, $0.scope) })
        #expect(scopes["GET /orders/{id}"]?.name == "orders" && scopes["GET /orders/{id}"]?.version == "2.1")
        #expect(scopes["GET /orders/{id}"]?.attributes.summary == ["team": "s:checkout"])
        #expect(scopes["SELECT orders"]?.name == "otlp-mmap-swift")
        _ = never
    }

    @Test func spansThatNeverEndAreExportedMarkedAfterTheTimeout() async throws {
        let writer = try makeWriter()
        _ = writer.startSpan("left open", startTime: 1_000)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter, configure: { $0.spanTimeout = .milliseconds(50) }) {
            $0.statistics[.exportedSpans] >= 1
        }
        let span = try #require(exporter.spans.first)
        #expect(span.name == "left open" && span.endTimeUnixNano >= span.startTimeUnixNano)
        #expect(span.attributes.summary["otlp_mmap.unfinished"] == "b:true")
        #expect(collector.statistics[.expiredSpans] == 1)
    }

    @Test func eventsOfASpanWhoseStartWasNeverReadAreKeptAndMarked() async throws {
        let writer = try makeWriter()
        let span = writer.startSpan("lost start", startTime: 1_000)
        writer.file.ring(.spans).markRead(0)   // the start record was read by a collector that died
        span.rename("renamed later")
        span.end(status: .ok, at: 9_000)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedSpans] >= 1 }
        let exported = try #require(exporter.spans.first)
        #expect(exported.name == "renamed later" && hex(exported.spanID) == span.context.spanID.description)
        #expect(exported.startTimeUnixNano == 9_000 && exported.endTimeUnixNano == 9_000 && exported.status.code == .ok)
        #expect(exported.attributes.summary["otlp_mmap.start_missing"] == "b:true")
        #expect(collector.statistics[.orphanSpanEvents] == 2)
    }

    @Test func logRecordsKeepEveryField() async throws {
        let writer = try makeWriter()
        let span = writer.startSpan("around", startTime: 1)
        let event = try writer.eventName("order.loaded")
        let body = try writer.value(.keyValues([Attribute("id", .int(42)), Attribute("items", .array([.string("book"), .double(9.5)])),
                                                Attribute("raw", .bytes([0xde, 0xad]))]))
        writer.log(.warn, .prepared(body), severityText: "WARN", eventName: event,
                   attributes: try writer.attributes(["user": "ann"]), spanContext: span.context, time: 10)
        writer.log(.info, .text("plain"), time: 20)
        writer.log(.unspecified, .none, time: 30)

        let exporter = CapturingExporter()
        await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedLogs] >= 3 }
        let records = exporter.logRecords
        #expect(records.count == 3)
        let first = try #require(records.first { $0.timeUnixNano == 10 })
        #expect(first.severityNumber == .warn && first.severityText == "WARN" && first.eventName == "order.loaded")
        #expect(first.body.summary == "{id=i:42,items=[s:book,d:9.5],raw=x:dead}")
        #expect(first.attributes.summary == ["user": "s:ann"])
        #expect(hex(first.traceID) == span.context.traceID.description && hex(first.spanID) == span.context.spanID.description)
        #expect(first.flags == 1 && first.observedTimeUnixNano > 0)
        let second = try #require(records.first { $0.timeUnixNano == 20 })
        #expect(second.body.summary == "s:plain" && second.traceID.isEmpty && second.severityNumber == .info)
        let third = try #require(records.first { $0.timeUnixNano == 30 })
        #expect(third.body.summary == "none")
    }

    @Test func measurementsAreAggregatedAsTheirMetricSays() async throws {
        let writer = try makeWriter()
        let get = try writer.attributes(["method": "GET"])
        let post = try writer.attributes(["method": "POST"])
        let requests = try writer.counter("requests", description: "handled", unit: "{request}")
        let inFlight = try writer.upDownCounter("in_flight", temporality: .delta)
        let temperature = try writer.gauge("temperature", unit: "Cel")
        let latency = try writer.histogram("latency", unit: "ms", boundaries: [10, 100])
        let sizes = try writer.exponentialHistogram("sizes", maxBuckets: 4, maxScale: 3)
        for value in [1, 2, 3] { requests.record(value, attributes: get, time: 100) }
        requests.record(10, attributes: post, time: 100)
        inFlight.record(5, time: 100)
        inFlight.record(-2, time: 100)
        temperature.record(20.5, time: 100)
        temperature.record(21.5, time: 300)
        temperature.record(19.0, time: 200)   // older than the last: the gauge keeps 21.5
        for value in [5.0, 10.0, 50.0, 500.0] { latency.record(value, time: 100) }
        for value in [0.0, 1.0, 2.0, 3.0, 1000.0] { sizes.record(value, time: 100) }

        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.records] >= 15 }
        #expect(collector.statistics[.invalidRecords] == 0)
        let metrics = Dictionary(uniqueKeysWithValues: exporter.metricList.map { ($0.name, $0) })

        let sum = try #require(metrics["requests"]?.sum)
        #expect(metrics["requests"]?.description_p == "handled" && metrics["requests"]?.unit == "{request}")
        #expect(sum.isMonotonic && sum.aggregationTemporality == .cumulative)
        let byMethod = Dictionary(uniqueKeysWithValues: sum.dataPoints.map { ($0.attributes.summary["method"] ?? "", $0.asInt) })
        #expect(byMethod == ["s:GET": 6, "s:POST": 10])
        #expect(sum.dataPoints.allSatisfy { $0.startTimeUnixNano == 100 })

        let upDown = try #require(metrics["in_flight"]?.sum)
        #expect(!upDown.isMonotonic && upDown.aggregationTemporality == .delta && upDown.dataPoints.map(\.asInt) == [3])

        let gauge = try #require(metrics["temperature"]?.gauge)
        #expect(gauge.dataPoints.map(\.asDouble) == [21.5] && gauge.dataPoints.map(\.timeUnixNano) == [300])

        let histogram = try #require(metrics["latency"]?.histogram)
        let point = try #require(histogram.dataPoints.first)
        #expect(histogram.aggregationTemporality == .delta)
        #expect(point.explicitBounds == [10, 100] && point.bucketCounts == [2, 1, 1] && point.count == 4)
        #expect(point.sum == 565 && point.min == 5 && point.max == 500)

        let exponential = try #require(metrics["sizes"]?.exponentialHistogram.dataPoints.first)
        #expect(exponential.count == 5 && exponential.zeroCount == 1 && exponential.sum == 1006)
        #expect(exponential.positive.bucketCounts.reduce(0, +) == 4)
        #expect(exponential.positive.bucketCounts.count <= 4, "at most max_buckets buckets")
        // Every value lies in its bucket: (base^index, base^(index+1)] with base = 2^(2^-scale).
        let base = pow(2.0, pow(2.0, -Double(exponential.scale)))
        var remaining = [1.0, 2.0, 3.0, 1000.0]
        for (offset, count) in exponential.positive.bucketCounts.enumerated() where count > 0 {
            let index = Int(exponential.positive.offset) + offset
            let inBucket = remaining.filter { $0 > pow(base, Double(index)) * (1 - 1e-12) && $0 <= pow(base, Double(index + 1)) * (1 + 1e-12) }
            #expect(inBucket.count == Int(count), "bucket \(index) at scale \(exponential.scale)")
            remaining.removeAll { inBucket.contains($0) }
        }
        #expect(remaining.isEmpty)
    }
}
