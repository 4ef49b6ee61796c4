import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import TestSupport

/// What the writer records is exactly what comes out of the file.
@Suite struct RecordingTests {
    static let everyValue: [Attribute] = [
        Attribute("s", "text"), Attribute("b", true), Attribute("i", -7), Attribute("d", 2.5),
        Attribute("bytes", .bytes([0, 255])), Attribute("list", .array(["a", 1, false])),
        Attribute("map", .keyValues([Attribute("inner", 3)])), Attribute("empty", ""),
    ]

    @Test func spansDecodeToWhatWasRecorded() throws {
        let writer = try makeWriter()
        let scope = try writer.scope("tests.scope", version: "9.9")
        let attributes = try writer.attributes(Self.everyValue)
        let parent = writer.startSpan("parent", kind: .server, attributes: attributes, scope: scope, startTime: 1000)
        let child = writer.startSpan("child", kind: .client, parent: parent.context, scope: scope, startTime: 1100)
        #expect(child.rename("child renamed") == .written)
        #expect(child.setAttributes(try writer.attributes(["late": 1])) == .written)
        let other = SpanContext(traceID: TraceID(high: 0xEE, low: 0xEE), spanID: SpanID(0xDD), flags: 0)
        #expect(child.addLinks([SpanLink(to: other, traceState: "k=v", attributes: try writer.attributes(["why": "retry"]))]) == .written)
        #expect(child.end(status: .ok, at: 1500) == .written)
        #expect(parent.end(status: .error, message: "boom", at: 2000) == .written)

        #expect(parent.context.traceID.isValid && parent.context.spanID.isValid)
        #expect(child.context.traceID == parent.context.traceID && child.context.spanID != parent.context.spanID)

        let records = try drain(SpanEvent.self, writer.file, .spans)
        #expect(records.count == 7)
        #expect(records.allSatisfy { $0.scopeRef == scope.ref })
        #expect(records.map { $0.traceId } == Array(repeating: parent.context.traceID.bytes, count: 7))
        #expect(records.map { $0.spanId } == [parent, child, child, child, child, child, parent].map { $0.context.spanID.bytes })
        #expect(records[0].event == .start(StartSpan(name: "parent", kind: .server, startTimeUnixNano: 1000,
                                                     attributes: try keyValues(writer, Self.everyValue), flags: 1)))
        #expect(records[1].event == .start(StartSpan(parentSpanId: parent.context.spanID.bytes, name: "child", kind: .client, startTimeUnixNano: 1100, flags: 1)))
        #expect(records[2].event == .name(ChangeSpanName(name: "child renamed")))
        #expect(records[3].event == .attributes(UpdateAttributes(attributes: try keyValues(writer, [Attribute("late", 1)]))))
        #expect(records[4].event == .link(AddLink(links: [Link(traceId: other.traceID.bytes, spanId: other.spanID.bytes, traceState: "k=v",
                                                               attributes: try keyValues(writer, [Attribute("why", "retry")]))])))
        #expect(records[5].event == .end(EndSpan(endTimeUnixNano: 1500, status: Status(code: .ok))))
        #expect(records[6].event == .end(EndSpan(endTimeUnixNano: 2000, status: Status(message: "boom", code: .error))))

        let scopeValue = resolved(writer.file, .reference(kind: "InstrumentationScope", offset: scope.ref))["value"]
        #expect(scopeValue?["name_ref"]?["value"] == .string("tests.scope"))
        #expect(scopeValue?["version_ref"]?["value"] == .string("9.9"))
        #expect(scopeValue?["resource_ref"]?["value"]?["attributes"]?.serialized().contains("\"sdk-tests\"") == true)
    }

    @Test func logsDecodeToWhatWasRecorded() throws {
        let writer = try makeWriter()
        let context = SpanContext(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), flags: 1)
        let name = try writer.eventName("app.event")
        let body = try writer.value(.keyValues([Attribute("nested", true)]))
        #expect(writer.log(.warn, .text("careful"), severityText: "WARN", eventName: name, attributes: try writer.attributes(Self.everyValue), spanContext: context, time: 42) == .written)
        #expect(writer.log(.error, .prepared(body), time: 43) == .written)
        #expect(writer.log(.debug, .none, time: 44) == .written)
        #expect(writer.log(.info, .text(""), time: 45) == .written)

        let events = try drain(Event.self, writer.file, .events)
        #expect(events.count == 4)
        #expect(events[0] == Event(scopeRef: writer.defaultScope.ref, timeUnixNano: 42, severityNumber: .warn, severityText: "WARN",
                                   body: AnyValue(value: .stringValue("careful")), eventNameRef: name.ref,
                                   spanContext: OTLPMmapLayout.SpanContext(spanId: SpanID(3).bytes, traceId: TraceID(high: 1, low: 2).bytes, flags: 1),
                                   attributes: try keyValues(writer, Self.everyValue)))
        #expect(events[1].body == AnyValue(value: .kvlistValue(KeyValueList(values: try keyValues(writer, [Attribute("nested", true)])))))
        #expect(events[2].body == nil && events[2].severityNumber == .debug)
        #expect(events[3].body == AnyValue(value: .stringValue("")), "an empty text body is still a body")
    }

    @Test func everyInstrumentKindDefinesItsMetricOnce() throws {
        let writer = try makeWriter()
        let counter = try writer.counter("c", description: "a counter", unit: "1")
        let sameCounter = try writer.counter("c", description: "a counter", unit: "1")
        #expect(counter.metricRef == sameCounter.metricRef)
        let instruments = [
            counter,
            try writer.upDownCounter("u"),
            try writer.gauge("g", unit: "By"),
            try writer.histogram("h", unit: "ms", boundaries: [1, 2, 5]),
            try writer.exponentialHistogram("e", maxBuckets: 40, maxScale: 8),
        ]
        let attributes = try writer.attributes(["k": "v"])
        let context = SpanContext(traceID: TraceID(high: 5, low: 6), spanID: SpanID(7))
        for (index, instrument) in instruments.enumerated() {
            #expect(instrument.record(Int64(index) - 2, attributes: attributes, spanContext: context, time: 100) == .written)
            #expect(instrument.record(Double(index) + 0.25, time: 101) == .written)
        }
        let measurements = try drain(Measurement.self, writer.file, .measurements)
        #expect(measurements.count == 10)
        for (index, instrument) in instruments.enumerated() {
            #expect(measurements[2 * index] == Measurement(metricRef: instrument.metricRef, attributes: try keyValues(writer, [Attribute("k", "v")]),
                                                           timeUnixNano: 100, spanContext: OTLPMmapLayout.SpanContext(spanId: SpanID(7).bytes, traceId: TraceID(high: 5, low: 6).bytes, flags: 1),
                                                           value: .asLong(Int64(index) - 2)))
            #expect(measurements[2 * index + 1] == Measurement(metricRef: instrument.metricRef, timeUnixNano: 101, value: .asDouble(Double(index) + 0.25)))
        }
        func aggregation(_ instrument: Instrument) throws -> MetricRef.AggregationChoice? {
            let (bytes, offset) = try writer.file.dictionary.payload(at: instrument.metricRef)
            return try bytes.withDecodableBytes { raw throws(FormatError) in try MetricRef.decode(raw, baseOffset: offset) }.aggregation
        }
        #expect(try aggregation(instruments[0]) == .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: true)))
        #expect(try aggregation(instruments[1]) == .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: false)))
        #expect(try aggregation(instruments[2]) == .gauge(Gauge()))
        #expect(try aggregation(instruments[3]) == .histogram(Histogram(aggregationTemporality: .delta, bucketBoundaries: [1, 2, 5])))
        #expect(try aggregation(instruments[4]) == .expHist(ExponentialHistogram(aggregationTemporality: .delta, maxBuckets: 40, maxScale: 8)))
    }

    @Test func theFilePassesInspectWithNoErrors() async throws {
        let writer = try makeWriter()
        let workload = try writer.attributes(Self.everyValue)
        for index in 0..<20 {
            let span = writer.startSpan("s\(index)", attributes: workload)
            writer.log(.info, "log \(index)", attributes: workload, spanContext: span.context)
            span.end()
        }
        let result = try await TestSupport.run(["inspect", "--json", writer.file.path])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("\"error\""))
        #expect(!result.stdout.contains("\"warning\""))
    }

    @Test func aRecordTooLargeForItsSlotIsCountedNotWritten() throws {
        let writer = try makeWriter(numBuffers: 8, bufferSize: 64)
        #expect(writer.log(.info, String(repeating: "x", count: 100)) == .tooLarge)
        #expect(writer.statistics.value(.tooLarge, .events) == 1)
        #expect(writer.file.ring(.events).header.writerIndex == -1, "nothing claimed")
        #expect(writer.log(.info, "fits") == .written)
        #expect(writer.statistics.value(.written, .events) == 1)
    }

    @Test func theFileIsPrivateToItsOwner() throws {
        let writer = try makeWriter()
        let mode = try FileManager.default.attributesOfItem(atPath: writer.file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func resourceAttributesComeFromTheEnvironment() {
        let attributes = WriterConfiguration.resourceFromEnvironment(["OTEL_RESOURCE_ATTRIBUTES": "host.name=h1, deployment.environment=prod%20eu", "OTEL_SERVICE_NAME": "checkout"])
        #expect(attributes == [Attribute("service.name", "checkout"), Attribute("host.name", "h1"), Attribute("deployment.environment", "prod eu")])
        #expect(WriterConfiguration.environmentWarnings(["OTEL_RESOURCE_ATTRIBUTES": "host.name=h1, deployment.environment=prod%20eu"]).isEmpty)
    }

    @Test func unusableResourceAttributesAreNamedNotDroppedSilently() {
        let environment = ["OTEL_RESOURCE_ATTRIBUTES": "host.name=h1,broken,=nokey,team=a%zz,,", "OTEL_SERVICE_NAME": "checkout"]
        #expect(WriterConfiguration.resourceFromEnvironment(environment)
            == [Attribute("service.name", "checkout"), Attribute("host.name", "h1"), Attribute("team", "a%zz")])
        #expect(WriterConfiguration.environmentWarnings(environment) == [
            "OTEL_RESOURCE_ATTRIBUTES: 'broken' is not key=value; left out",
            "OTEL_RESOURCE_ATTRIBUTES: '=nokey' has an empty key; left out",
            "OTEL_RESOURCE_ATTRIBUTES: the value of 'team' is not valid percent-encoding; used as written",
        ])
    }

    /// The streamed encoding must give the generated encoder's bytes: it is the same format.
    @Test func streamedRecordsAreByteForByteTheGeneratedEncoding() throws {
        let writer = try makeWriter()
        let attributes = try writer.attributes(Self.everyValue)
        let span = writer.startSpan("bytes", kind: .producer, attributes: attributes, startTime: 77)
        let child = writer.startSpan(String(repeating: "long name ", count: 20), parent: span.context, startTime: 0, flags: 0)
        child.rename("")
        child.setAttributes(attributes)
        child.addLinks([SpanLink(to: span.context, traceState: "a=b", attributes: attributes), SpanLink(to: child.context)])
        child.end(at: 0)
        span.end(status: .error, message: "m", at: 88)
        writer.log(.fatal, .text("t"), severityText: "F", attributes: attributes, spanContext: span.context, time: 99)
        writer.log(.unspecified, .prepared(try writer.value(.array([1, "two", .keyValues([Attribute("k", 2.5)])]))), time: 0)
        writer.log(.info, .none)
        try writer.counter("n").record(-5, attributes: attributes, spanContext: span.context, time: 111)
        try writer.gauge("g").record(-0.0, time: 0)
        for kind in RingKind.allCases {
            let ring = writer.file.ring(kind)
            var sequence: Int64 = 0
            while sequence <= ring.header.writerIndex {
                let (payload, offset) = try ring.copyRecord(sequence)
                let reencoded: [UInt8]
                switch kind {
                case .spans: reencoded = encodeGenerated(try decodeGenerated(SpanEvent.self, payload, offset))
                case .events: reencoded = encodeGenerated(try decodeGenerated(Event.self, payload, offset))
                case .measurements: reencoded = encodeGenerated(try decodeGenerated(Measurement.self, payload, offset))
                }
                #expect(reencoded == payload, "\(kind) record \(sequence)")
                sequence += 1
            }
        }
    }

    /// The KeyValueRefs `attributes` should have become, built independently of the SDK: each key's
    /// reference is found by searching the file's dictionary for a string entry with that text.
    func keyValues(_ writer: TelemetryWriter, _ attributes: [Attribute]) throws -> [KeyValueRef] {
        var strings: [String: Int64] = [:]
        for entry in try writer.file.dictionary.entries() {
            let (bytes, _) = try writer.file.dictionary.payload(at: entry.offset)
            if let text = String(validating: bytes, as: UTF8.self), strings[text] == nil { strings[text] = entry.offset }
        }
        func anyValue(_ value: AttributeValue) throws -> AnyValue {
            switch value {
            case .string(let text): return AnyValue(value: .stringValue(text))
            case .bool(let flag): return AnyValue(value: .boolValue(flag))
            case .int(let number): return AnyValue(value: .intValue(number))
            case .double(let number): return AnyValue(value: .doubleValue(number))
            case .bytes(let bytes): return AnyValue(value: .bytesValue(bytes))
            case .array(let values): return AnyValue(value: .arrayValue(ArrayValue(values: try values.map(anyValue))))
            case .keyValues(let pairs): return AnyValue(value: .kvlistValue(KeyValueList(values: try convert(pairs))))
            }
        }
        func convert(_ pairs: [Attribute]) throws -> [KeyValueRef] {
            try pairs.map { KeyValueRef(keyRef: try #require(strings[$0.key], "key \($0.key) not in the dictionary"), value: try anyValue($0.value)) }
        }
        return try convert(attributes)
    }
}

func decodeGenerated<M: WireMessage>(_ type: M.Type, _ payload: [UInt8], _ offset: Int) throws -> M {
    try decodeMessage(type, payload, baseOffset: offset)
}

func encodeGenerated<M: WireMessage>(_ message: M) -> [UInt8] { encodeMessage(message) }
