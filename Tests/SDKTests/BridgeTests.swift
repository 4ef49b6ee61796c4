import Foundation
import Instrumentation
import Logging
import Metrics
import OTLPMmapBridges
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import Tracing

/// The swift-distributed-tracing, swift-log and swift-metrics bridges write the right records.
/// They are used through their ecosystem APIs (`withSpan`, `Logger`, `Counter`…), as an app would.
@Suite struct BridgeTests {
    func text(_ file: MmapFile, _ reference: Int64) throws -> String? {
        guard case .string(let text) = try file.dictionary.resolve(reference, as: .string) else { return nil }
        return text
    }

    func attributeMap(_ file: MmapFile, _ attributes: [KeyValueRef]) throws -> [String: AnyValue.ValueChoice] {
        var result: [String: AnyValue.ValueChoice] = [:]
        for attribute in attributes {
            result[try #require(try text(file, attribute.keyRef))] = attribute.value?.value
        }
        return result
    }

    @Test func tracerWritesNestedSpansWithTheirChanges() throws {
        let writer = try makeWriter()
        let tracer = MmapTracer(writer: writer)
        struct Failure: Error {}
        tracer.withSpan("GET /orders", ofKind: .server) { span in
            span.attributes["http.method"] = "GET"
            span.attributes["http.status_code"] = 200
            tracer.withSpan("db.query", ofKind: .client) { child in
                child.operationName = "SELECT orders"
                child.addEvent(Tracing.SpanEvent(name: "rows.fetched", attributes: ["rows": 3]))
                child.recordError(Failure())
                child.setStatus(SpanStatus(code: .error, message: "timeout"))
            }
            span.setStatus(SpanStatus(code: .ok))
        }

        let spans = try drain(SpanEvent.self, writer.file, .spans)
        let events = try drain(Event.self, writer.file, .events)
        // parent start, child start, child rename, child end, parent attributes ×2, parent end
        let kinds = spans.map { record -> String in
            switch record.event {
            case .start(let start)?: "start \(start.name)"
            case .name(let rename)?: "rename \(rename.name)"
            case .attributes?: "attributes"
            case .end(let end)?: "end \(end.status?.code.name ?? "")"
            default: "other"
            }
        }
        #expect(kinds == ["start GET /orders", "attributes", "attributes", "start db.query", "rename SELECT orders",
                          "end STATUS_CODE_ERROR", "end STATUS_CODE_OK"])
        let parent = spans[0], child = spans[3]
        guard case .start(let parentStart)? = parent.event, case .start(let childStart)? = child.event,
              case .end(let childEnd)? = spans[5].event else {
            Issue.record("unexpected records \(spans)")
            return
        }
        #expect(parentStart.kind == .server && childStart.kind == .client)
        #expect(child.traceId == parent.traceId && childStart.parentSpanId == parent.spanId)
        #expect(parentStart.parentSpanId.isEmpty)
        #expect(childEnd.status == Status(message: "timeout", code: .error))
        guard case .attributes(let first)? = spans[1].event, case .attributes(let second)? = spans[2].event else { return }
        #expect(try attributeMap(writer.file, first.attributes) == ["http.method": .stringValue("GET")])
        #expect(try attributeMap(writer.file, second.attributes) == ["http.status_code": .intValue(200)])

        #expect(events.count == 2)
        #expect(events.allSatisfy { $0.spanContext?.spanId == child.spanId && $0.spanContext?.traceId == child.traceId })
        #expect(try text(writer.file, events[0].eventNameRef) == "rows.fetched")
        #expect(try attributeMap(writer.file, events[0].attributes) == ["rows": .intValue(3)])
        #expect(events[1].severityNumber == .error)
        #expect(try text(writer.file, events[1].eventNameRef) == "exception")
        #expect(try attributeMap(writer.file, events[1].attributes)["exception.type"] != nil)
    }

    @Test func tracerPropagatesW3CTraceParent() throws {
        let writer = try makeWriter()
        let tracer = MmapTracer(writer: writer)
        struct DictionaryInjector: Injector { func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value } }
        struct DictionaryExtractor: Extractor { func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] } }
        var headers: [String: String] = [:]
        let span = tracer.startSpan("outgoing", ofKind: .client)
        tracer.inject(span.context, into: &headers, using: DictionaryInjector())
        span.end()
        let header = try #require(headers["traceparent"])
        #expect(header == "00-\(span.span.context.traceID)-\(span.span.context.spanID)-01")

        var extracted = InstrumentationContext.topLevel
        tracer.extract(headers, into: &extracted, using: DictionaryExtractor())
        let remoteChild = tracer.startSpan("incoming", context: extracted, ofKind: .server)
        remoteChild.end()
        #expect(remoteChild.span.context.traceID == span.span.context.traceID)
        let records = try drain(SpanEvent.self, writer.file, .spans)
        guard case .start(let start)? = records[2].event else { Issue.record("no start"); return }
        #expect(start.parentSpanId == span.span.context.spanID.bytes)
    }

    @Test func logHandlerWritesEventsWithMetadataAndTheActiveSpan() throws {
        let writer = try makeWriter()
        var logger = Logger(label: "bridge.logger") { MmapLogHandler(label: $0, writer: writer) }
        logger.logLevel = .debug
        logger[metadataKey: "request.id"] = "r-1"
        logger.trace("not written: below the level")
        logger.warning("disk almost full", metadata: ["free.bytes": "1024", "mounts": ["/", "/data"]])
        let tracer = MmapTracer(writer: writer)
        let spanContext: OTLPMmapSDK.SpanContext = tracer.withSpan("handler") { span in
            logger.info("inside a span")
            return span.span.context
        }
        logger.critical("fatal")

        let events = try drain(Event.self, writer.file, .events)
        #expect(events.map(\.severityNumber) == [.warn, .info, .fatal])
        #expect(events.map(\.severityText) == ["WARNING", "INFO", "CRITICAL"])
        #expect(events.map { $0.body } == ["disk almost full", "inside a span", "fatal"].map { AnyValue(value: .stringValue($0)) })
        let attributes = try attributeMap(writer.file, events[0].attributes)
        #expect(attributes["request.id"] == .stringValue("r-1"))
        #expect(attributes["free.bytes"] == .stringValue("1024"))
        #expect(attributes["mounts"] == .arrayValue(ArrayValue(values: [AnyValue(value: .stringValue("/")), AnyValue(value: .stringValue("/data"))])))
        #expect(attributes["code.line.number"] != nil)
        #expect(events[0].spanContext == nil)
        #expect(events[1].spanContext?.spanId == spanContext.spanID.bytes && events[1].spanContext?.traceId == spanContext.traceID.bytes)
        let scope = try writer.file.dictionary.resolve(events[0].scopeRef, as: .instrumentationScope)
        guard case .reference(_, let nameRef)? = scope[field: "name_ref"] else { Issue.record("scope without name"); return }
        #expect(try text(writer.file, nameRef) == "bridge.logger")
    }

    @Test func metricsFactoryDefinesEachKindAndRecordsMeasurements() throws {
        let writer = try makeWriter()
        let factory = MmapMetricsFactory(writer: writer)
        let counter = Counter(label: "requests", dimensions: [("route", "/a")], factory: factory)
        counter.increment(by: 3)
        let floating = FloatingPointCounter(label: "bytes", factory: factory)
        floating.increment(by: 1.5)
        let meter = Meter(label: "queue.depth", factory: factory)
        meter.set(10)
        meter.increment(by: 2)
        meter.decrement(by: 5)
        let recorder = Recorder(label: "payload.size", factory: factory)
        recorder.record(512)
        let timer = Metrics.Timer(label: "latency", factory: factory)
        timer.recordNanoseconds(1_500)

        let measurements = try drain(Measurement.self, writer.file, .measurements)
        var byMetric: [String: [Measurement.ValueChoice?]] = [:]
        var definitions: [String: MetricRef] = [:]
        for measurement in measurements {
            let (bytes, offset) = try writer.file.dictionary.payload(at: measurement.metricRef)
            let definition = try decodeGenerated(MetricRef.self, bytes, offset)
            definitions[definition.name] = definition
            byMetric[definition.name, default: []].append(measurement.value)
        }
        #expect(byMetric["requests"] == [.asLong(3)])
        #expect(byMetric["bytes"] == [.asDouble(1.5)])
        #expect(byMetric["queue.depth"] == [.asLong(10), .asDouble(12), .asDouble(7)])
        #expect(byMetric["payload.size"] == [.asLong(512)])
        #expect(byMetric["latency"] == [.asLong(1_500)])
        #expect(definitions["requests"]?.aggregation == .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: true)))
        #expect(definitions["queue.depth"]?.aggregation == .gauge(Gauge()))
        #expect(definitions["payload.size"]?.aggregation == .histogram(Histogram(aggregationTemporality: .delta, bucketBoundaries: MmapMetricsFactory.defaultBoundaries)))
        if case .expHist? = definitions["latency"]?.aggregation {} else { Issue.record("a timer should be an exponential histogram") }
        #expect(definitions["latency"]?.unit == "ns")
        let requests = try #require(measurements.first)
        #expect(try attributeMap(writer.file, requests.attributes) == ["route": .stringValue("/a")])
    }
}

