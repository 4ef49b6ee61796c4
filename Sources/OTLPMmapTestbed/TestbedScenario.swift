import Foundation
import OTLPMmapSDK

/// A testbed scenario: it writes into the file through the reference SDK, as an application would,
/// and says what must arrive. (The scenario language of issue 20 will replace these built-ins.)
struct TestbedScenario: Sendable {
    var name: String
    var description: String
    var write: @Sendable (TelemetryWriter) throws -> ExpectedExport

    static let all = [content]

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
