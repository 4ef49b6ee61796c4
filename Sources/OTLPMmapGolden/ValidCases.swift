import Foundation
import Synchronization
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire

/// Valid golden files, written by the reference writer with a fixed clock and fixed ids, so that the
/// same writer always produces the same bytes: a change of format shows as a changed file.
package enum ValidCases {
    /// A clock that starts at a fixed instant and advances 1 µs per reading.
    final class FixedClock: Sendable {
        private let now = Mutex<UInt64>(1_700_000_000_000_000_000)
        func read() -> UInt64 { now.withLock { $0 += 1_000; return $0 } }
    }

    static func writer(_ path: String, slots: Int64 = 16, slotBytes: Int64 = 256, dictionaryBytes: Int64 = 1024) throws -> TelemetryWriter {
        let clock = FixedClock()
        var configuration = WriterConfiguration(
            path: path,
            events: .init(numBuffers: slots, bufferSize: slotBytes), spans: .init(numBuffers: slots, bufferSize: slotBytes),
            measurements: .init(numBuffers: slots, bufferSize: slotBytes), dictionaryBytes: dictionaryBytes,
            resource: [Attribute("service.name", "golden"), Attribute("host.name", "golden-host")])
        configuration.clock = { clock.read() }
        configuration.idSeed = 42
        return try TelemetryWriter(configuration: configuration)
    }

    static let cases: [(name: String, description: String, slots: Int64, dictionaryBytes: Int64, write: @Sendable (TelemetryWriter) throws -> Void)] = [
        ("empty", "a new file: header, three empty rings, the resource and default scope in the dictionary", 16, 1024, { _ in }),
        ("every-ring", "one span (start and end), one log record and one measurement", 16, 1024, { writer in
            let span = writer.startSpan("GET /", kind: .server)
            writer.log(.info, "hello", spanContext: span.context)
            try writer.counter("requests").record(1, spanContext: span.context)
            span.end(status: .ok)
        }),
        ("any-values", "log bodies and attributes of every AnyValue kind, and a value_ref to an AnyValue entry", 16, 1024, { writer in
            let values: [AttributeValue] = ["text", true, -42, 3.25, .bytes([0, 1, 255]), .array([1, "two"]), .keyValues([Attribute("k", false)])]
            for value in values {
                writer.log(.debug, .prepared(try writer.value(value)), attributes: try writer.attributes([Attribute("attribute", value)]))
            }
            // value_ref: an AnyValue entry shared by reference, as other writers may write.
            let shared = try writer.file.dictionary.append(AnyValue(value: .stringValue("shared value")))
            try writer.file.ring(.events).write(Event(scopeRef: writer.defaultScope.ref, timeUnixNano: 1_700_000_000_000_999_000, severityNumber: .info,
                                                      body: AnyValue(value: .valueRef(shared))))
        }),
        ("span-changes", "a parent and a child span with rename, attribute update, links and every status", 16, 1024, { writer in
            let parent = writer.startSpan("parent", kind: .server, attributes: try writer.attributes(["http.method": "GET"]))
            let child = writer.startSpan("child", kind: .client, parent: parent.context)
            child.rename("child renamed")
            child.setAttributes(try writer.attributes(["db.rows": 3]))
            child.addLinks([SpanLink(to: parent.context, traceState: "k=v", attributes: try writer.attributes(["link.kind": "parent"]))])
            child.end(status: .error, message: "timeout")
            writer.startSpan("unset").end()
            parent.end(status: .ok)
        }),
        ("metric-kinds", "every aggregation kind, with integer and floating-point measurements", 16, 1024, { writer in
            let attributes = try writer.attributes(["route": "/"])
            try writer.counter("counter", unit: "1").record(5, attributes: attributes)
            try writer.upDownCounter("updown").record(-2)
            try writer.gauge("gauge", unit: "By").record(1.5)
            try writer.histogram("histogram", unit: "ms", boundaries: [0, 10, 100]).record(12.5)
            try writer.exponentialHistogram("exponential", maxBuckets: 40, maxScale: 10).record(0.25)
        }),
        ("grown-dictionary", "a dictionary that outgrew its first 64 bytes, so the file was extended", 16, 64, { writer in
            let keys = try (0..<40).map { try writer.attributes([Attribute("grown.key.\($0)", .int(Int64($0)))]) }
            for (index, key) in keys.enumerated() where index % 8 == 0 { writer.log(.info, "grown \(index)", attributes: key) }
        }),
        ("wrapped-ring", "4-slot rings that wrapped several times: 13 records read, 3 unread", 4, 1024, { writer in
            let ring = writer.file.ring(.events)
            for index in 0..<16 {
                writer.log(.info, "record \(index)")
                if index < 13 { ring.markRead(Int64(index)) }
            }
        }),
        ("out-of-order", "three producers' claims published in the order 2, 0, 1", 16, 1024, { writer in
            let ring = writer.file.ring(.measurements)
            let metric = try writer.gauge("order")
            let sequences = (0..<3).map { _ in ring.claim()! }
            for position in [2, 0, 1] {
                let sequence = sequences[position]
                let record = Measurement(metricRef: metric.metricRef, timeUnixNano: 1_700_000_000_001_000_000 + UInt64(position), value: .asLong(Int64(position)))
                var slotWriter = ProtoWriter(ring.slot(sequence))
                slotWriter.writeVarint(UInt64(record.encodedSize))
                record.encode(to: &slotWriter)
                ring.publish(sequence)
            }
        }),
    ]

    /// Writes every valid case into `folder` and returns them with their expected decodes.
    package static func make(in folder: URL) throws -> [GoldenFile] {
        try cases.map { entry in
            let path = folder.appendingPathComponent(entry.name + ".otlpmmap").path
            let writer = try writer(path, slots: entry.slots, dictionaryBytes: entry.dictionaryBytes)
            try entry.write(writer)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let reopened = try MmapFile.open(path: path)
            var decode = Inspector.inspect(reopened)
            if case .object(var pairs) = decode, let index = pairs.firstIndex(where: { $0.0 == "file" }) {
                pairs[index].1 = .string("valid/\(entry.name).otlpmmap")
                decode = .object(pairs)
            }
            return GoldenFile(name: entry.name, description: entry.description, bytes: bytes, expectedDecode: decode.serialized(), rules: [])
        }
    }
}

typealias Measurement = OTLPMmapLayout.Measurement
