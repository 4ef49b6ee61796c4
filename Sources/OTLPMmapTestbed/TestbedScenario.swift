import Foundation
import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapSDK

/// A testbed scenario: it writes into the file through the reference SDK, as an application would,
/// and says what must arrive. (The scenario language of issue 20 will replace these built-ins.)
struct TestbedScenario: Sendable {
    var name: String
    var description: String
    /// The check a record that never arrives fails: what the scenario is about.
    var missing: ReaderCheck = .readContent
    var write: @Sendable (TelemetryWriter) throws -> ExpectedExport

    static let all = [content, badSlot, hole, emptyOneof]

    /// A span written through the SDK (a start and an end record), as it must arrive.
    static func span(_ writer: TelemetryWriter, _ name: String, at time: UInt64) -> ExpectedExport.Span {
        let span = writer.startSpan(name, kind: .internal, startTime: time)
        span.end(status: .unset, at: time + 10)
        return .init(traceID: "\(span.context.traceID)", spanID: "\(span.context.spanID)", name: name, kind: 1,
                     start: time, end: time + 10, statusCode: 0, attributes: "")
    }

    /// Claims a spans slot, puts `bytes` (length prefix included) at its start and publishes it:
    /// a record no conforming writer would write.
    static func publishRaw(_ bytes: [UInt8], in writer: TelemetryWriter) throws {
        let ring = writer.file.ring(.spans)
        guard let sequence = ring.claim() else { throw TestbedError("the spans ring is full") }
        let slot = ring.slot(sequence)
        for (index, byte) in bytes.enumerated() { slot[index] = byte }
        ring.publish(sequence)
    }

    /// A published spans slot whose bytes are no record: a length prefix of 5 and five bytes that
    /// end inside a field (the existing reader stops for good at such a slot).
    static let badSlot = TestbedScenario(name: "bad-slot", description: "a published slot that does not decode between good spans",
                                         missing: .readSkipBad) { writer in
        var expected = ExpectedExport()
        expected.spans.append(span(writer, "before", at: 1_000))
        try publishRaw([5, 0x0A, 0x10, 0x01, 0x02, 0x03], in: writer)
        expected.spans.append(span(writer, "after", at: 2_000))
        return expected
    }

    /// A SpanEvent that names a span and sets no event (trace_id and span_id only): the existing
    /// collector panics on it. The spans around it arrive.
    static let emptyOneof = TestbedScenario(name: "empty-oneof", description: "a SpanEvent with no event between good spans",
                                            missing: .readEmptyOneof) { writer in
        var expected = ExpectedExport()
        expected.spans.append(span(writer, "before", at: 1_000))
        let record: [UInt8] = [0x0A, 16] + [UInt8](repeating: 0xA1, count: 16) + [0x12, 8] + [UInt8](repeating: 0xB2, count: 8)
        try publishRaw([UInt8(record.count)] + record, in: writer)
        expected.spans.append(span(writer, "after", at: 2_000))
        return expected
    }

    /// A spans slot claimed and never published (the existing writer leaves one for every record
    /// too large for its slot), then a good span behind it.
    static let hole = TestbedScenario(name: "hole", description: "a slot claimed and never published before a good span",
                                      missing: .readSkipHole) { writer in
        var expected = ExpectedExport()
        expected.spans.append(span(writer, "before", at: 1_000))
        guard writer.file.ring(.spans).claim() != nil else { throw TestbedError("the spans ring is full") }
        expected.spans.append(span(writer, "after", at: 2_000))
        return expected
    }

    /// Spans (a parent and a child, every AnyValue kind among their attributes, both statuses),
    /// a log record, and a counter: everything arrives, every field exact.
    static let content = TestbedScenario(name: "content", description: "spans, a log record and a counter, attributes of every kind") { writer in
        var expected = ExpectedExport()
        let scope = try writer.scope("testbed", version: "1.0")
        let spanAttributes = [
            Attribute("http.route", "/cart/{id}"), Attribute("cart.items", .int(3)), Attribute("vip", .bool(true)),
            Attribute("ratio", .double(0.1)), Attribute("digest", .bytes([0, 1, 0xFE, 0xFF])),
            Attribute("tags", .array([.string("a"), .int(-1), .array([.bool(false)])])),
            Attribute("owner", .keyValues([Attribute("name", "Zoë"), Attribute("id", .int(Int64.max))])),
        ]
        let parent = writer.startSpan("checkout", kind: .server, attributes: try writer.attributes(spanAttributes), scope: scope, startTime: 1_000)
        let child = writer.startSpan("charge card", kind: .client, parent: parent.context, scope: scope, startTime: 2_000)
        child.end(status: .error, message: "declined", at: 3_000)
        parent.end(status: .ok, at: 4_000)
        expected.spans.append(.init(traceID: "\(parent.context.traceID)", spanID: "\(parent.context.spanID)", name: "checkout", kind: 2,
                                    start: 1_000, end: 4_000, statusCode: 1, attributes: AttributeText.written(spanAttributes)))
        expected.spans.append(.init(traceID: "\(child.context.traceID)", spanID: "\(child.context.spanID)", parentSpanID: "\(parent.context.spanID)",
                                    name: "charge card", kind: 3, start: 2_000, end: 3_000, statusCode: 2, statusMessage: "declined",
                                    attributes: ""))
        let logAttributes = [Attribute("sku", "A-1"), Attribute("left", .int(2))]
        writer.log(.warn, .text("low stock"), attributes: try writer.attributes(logAttributes), scope: scope, time: 2_500)
        expected.logRecords.append(.init(time: 2_500, severity: 13, body: "low stock", attributes: AttributeText.written(logAttributes)))
        let orders = try writer.counter("orders", unit: "{order}", scope: scope)
        orders.record(2, time: 100)
        orders.record(3, time: 200)
        expected.sums["orders"] = 5
        return expected
    }
}
