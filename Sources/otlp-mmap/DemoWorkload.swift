import Foundation
import OTLPMmapSDK

/// What `otlp-mmap write` records, deterministic per (thread, index) so that tests reading the file
/// can tell which records are there: span `demo-T-I` with a child `demo-T-I.child`, a log record
/// `demo-T-I`, and measurements of `demo.requests` (value I) and `demo.latency`.
struct DemoWorkload: Sendable {
    let writer: TelemetryWriter
    let scope: Scope
    let requests: Instrument
    let latency: Instrument
    let eventName: EventName

    init(writer: TelemetryWriter) throws {
        self.writer = writer
        scope = try writer.scope("otlp-mmap.demo", version: "1.0.0")
        requests = try writer.counter("demo.requests", description: "requests handled", unit: "{request}", scope: scope)
        latency = try writer.histogram("demo.latency", unit: "ms", boundaries: [1, 5, 10, 50, 100], scope: scope)
        eventName = try writer.eventName("demo.event")
    }

    func run(thread: Int, spans: Int) throws {
        let threadAttributes = try writer.attributes(["thread": .int(Int64(thread)), "demo": true])
        let childAttributes = try writer.attributes(["db.system": "sqlite", "db.rows": 3, "db.ratio": 0.5])
        var index = 0
        while index < spans {
            let name = "demo-\(thread)-\(index)"
            let span = writer.startSpan(name, kind: .server, attributes: threadAttributes, scope: scope)
            let child = writer.startSpan(name + ".child", kind: .client, parent: span.context, attributes: childAttributes, scope: scope)
            child.end(status: .ok)
            writer.log(.info, .text(name), eventName: eventName, attributes: threadAttributes, spanContext: span.context, scope: scope)
            requests.record(Int64(index), attributes: threadAttributes, spanContext: span.context)
            latency.record(Double(index % 100) + 0.5, attributes: threadAttributes)
            span.end(status: index % 10 == 9 ? .error : .ok, message: index % 10 == 9 ? "every tenth fails" : "")
            index += 1
        }
    }
}
