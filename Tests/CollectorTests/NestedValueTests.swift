import Foundation
@testable import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import OTLPProto
import SwiftProtobuf
import Synchronization
import Testing
import CollectorTestSupport
import TestSupport

/// Values nested as deep as the format allows (WIRE-DEPTH), of every shape, in every place a value
/// can sit, reach the receiver whole — and in bounded time. Issue 19: each level of an array or
/// key-value list re-measured everything below it, so a valid file of values nested 10–20 deep held
/// the collector (every signal, and its stop) for good.
@Suite struct NestedValueTests {
    typealias FormatValue = OTLPMmapLayout.AnyValue

    enum Shape: String, CaseIterable, Sendable {
        /// Arrays inside arrays, inline in the record.
        case array
        /// Key-value lists inside key-value lists, inline.
        case kvlist
        /// A chain of dictionary entries, each an array holding a `value_ref` to the one before.
        case valueRefs
    }

    enum Place: String, CaseIterable, Sendable {
        case logBody, logAttribute, spanAttribute, spanUpdate, linkAttribute, measurementAttribute
    }

    /// A value and the summary (`CollectorHarness`'s `summary`) its OTLP form must have.
    struct Nested {
        let value: FormatValue
        let summary: String
    }

    /// Levels tried per shape and place: past every shape's limit, so each run shows where the
    /// limit is (the deepest value arrives, one level more is refused).
    static let levels = 1...40

    @Test func valuesNestedUpToTheDepthLimitArriveWholeEverywhere() async throws {
        // Writing 720 deep records is blocking work: on a thread of its own, not the cooperative pool.
        let (writer, expected, written) = try await TestSupport.offThePool { try Self.writeEverything() }
        try await collectAndCheck(writer, expected: expected, written: written)
    }

    private static func writeEverything() throws -> (TelemetryWriter, [String: String], Int) {
        let writer = try makeWriter("valuesNestedUpToTheDepthLimit", numBuffers: 4096, bufferSize: 2048)
        let dictionary = writer.file.dictionary
        let deepKey = try dictionary.appendString("deep")
        let levelKey = try dictionary.appendString("n")

        // One chain serves every place: entry k holds an array around a reference to entry k - 1.
        var chain: [Nested] = []
        var previous = try dictionary.append(FormatValue(value: .stringValue("leaf")))
        var summary = "s:leaf"
        for _ in Self.levels {
            previous = try dictionary.append(FormatValue(value: .arrayValue(ArrayValue(values: [FormatValue(value: .valueRef(previous))]))))
            summary = "[\(summary)]"
            chain.append(Nested(value: FormatValue(value: .valueRef(previous)), summary: summary))
        }
        func nested(_ shape: Shape, _ levels: Int) -> Nested {
            switch shape {
            case .valueRefs:
                return chain[levels - 1]
            case .array, .kvlist:
                var value = FormatValue(value: .stringValue("leaf")), summary = "s:leaf"
                for _ in 0..<levels {
                    if shape == .array {
                        value = FormatValue(value: .arrayValue(ArrayValue(values: [value])))
                        summary = "[\(summary)]"
                    } else {
                        value = FormatValue(value: .kvlistValue(KeyValueList(values: [KeyValueRef(keyRef: levelKey, value: value)])))
                        summary = "{n=\(summary)}"
                    }
                }
                return Nested(value: value, summary: summary)
            }
        }

        var expected: [String: String] = [:]   // "place shape level" → summary
        var written = 0
        for place in Place.allCases {
            for shape in Shape.allCases {
                for level in Self.levels {
                    let value = nested(shape, level)
                    let name = "\(place.rawValue) \(shape.rawValue) \(level)"
                    expected[name] = value.summary
                    written += try Self.write(value.value, at: place, name: name, time: UInt64(written + 1), key: deepKey, writer: writer)
                }
            }
        }

        return (writer, expected, written)
    }

    private func collectAndCheck(_ writer: TelemetryWriter, expected: [String: String], written: Int) async throws {
        // The `otlp-mmap collect` process reads the file (a collector stuck converting is then a
        // process that does not hand the log slots back, not a cooperative pool starved for good).
        // A long shutdown timeout: this test is about what arrives, and on a loaded machine the
        // debug build's flush of deep records at the stop takes seconds.
        let process = try TestSupport.start(["collect", "--file", writer.file.path, "--exporter", "debug", "--batch-timeout-ms", "20",
                                             "--metric-interval-ms", "20", "--no-checkpoint", "--shutdown-timeout-ms", "30000", "--statistics"])
        let events = writer.file.ring(.events).header, spans = writer.file.ring(.spans).header
        let measurements = writer.file.ring(.measurements).header
        let deadline = ContinuousClock.now + .seconds(90)
        while [events, spans, measurements].contains(where: { $0.readerIndex < $0.writerIndex }), process.isRunning,
              ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let readInTime = ![events, spans, measurements].contains(where: { $0.readerIndex < $0.writerIndex })
        kill(process.process.processIdentifier, SIGTERM)
        let result = await process.wait(timeout: 30)
        #expect(readInTime, "the collector did not read every record within 90 s")
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")

        // What arrived, by name, with the summary of its "deep" value.
        var arrived: [String: String] = [:]
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if let request = try? LogsRequest(jsonString: line) {
                for record in request.resourceLogs.flatMap({ $0.scopeLogs.flatMap(\.logRecords) }) {
                    if let name = record.attributes.summary["name"].map({ String($0.dropFirst(2)) }) {   // "s:…"
                        arrived[name] = name.hasPrefix("logBody") ? record.body.summary : record.attributes.summary["deep"]
                    }
                }
            } else if let request = try? TracesRequest(jsonString: line) {
                for span in request.resourceSpans.flatMap({ $0.scopeSpans.flatMap(\.spans) }) where !span.name.isEmpty {
                    let value = span.name.hasPrefix("linkAttribute") ? span.links.first?.attributes.summary["deep"] : span.attributes.summary["deep"]
                    if let value { arrived[span.name] = value }
                }
            } else if let request = try? MetricsRequest(jsonString: line) {
                for metric in request.resourceMetrics.flatMap({ $0.scopeMetrics.flatMap(\.metrics) }) {
                    if let value = metric.sum.dataPoints.first?.attributes.summary["deep"] { arrived[metric.name] = value }
                }
            } else {
                Issue.record("not an OTLP request: \(line.prefix(200))")
            }
        }

        var refused = 0
        for place in Place.allCases {
            for shape in Shape.allCases {
                let reached = Self.levels.filter { arrived["\(place.rawValue) \(shape.rawValue) \($0)"] != nil }
                let deepest = reached.max() ?? 0
                // Every level up to the deepest arrived, none beyond: the limit is one place, not a gap.
                #expect(reached == Array(1...max(deepest, 1)), "\(place) \(shape): arrived at levels \(reached)")
                #expect(deepest >= (shape == .array ? 25 : 15), "\(place) \(shape): only \(deepest) levels arrived")
                #expect(deepest < Self.levels.upperBound, "\(place) \(shape): the limit was not reached")
                for level in reached {
                    let name = "\(place.rawValue) \(shape.rawValue) \(level)"
                    #expect(arrived[name] == expected[name], "\(name)")
                }
                refused += Self.levels.count - reached.count
            }
        }
        // Each value past the limit was refused as one invalid record, for WIRE-DEPTH, and said so.
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains(" sequence ") }
        #expect(!warnings.isEmpty && warnings.allSatisfy { $0.contains("WIRE-DEPTH") }, "\(warnings.prefix(3))")
        #expect(result.stderr.contains("\"invalid_records\":\(refused)"),
                "\(refused) records refused; the collector said: \(result.stderr.suffix(1500))")
    }

    /// Writes `value` at `place`; returns how many records that took.
    private static func write(_ value: FormatValue, at place: Place, name: String, time: UInt64, key: Int64, writer: TelemetryWriter) throws -> Int {
        let dictionary = writer.file.dictionary
        let nameRef = try dictionary.appendString("name")
        let nameValue = FormatValue(value: .stringValue(name))
        let deep = KeyValueRef(keyRef: key, value: value)
        var traceId = [UInt8](repeating: 0, count: 16), spanId = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: time.bigEndian) { bytes in
            traceId.replaceSubrange(8..<16, with: bytes)
            spanId.replaceSubrange(0..<8, with: bytes)
        }
        func span(_ events: [SpanEvent.EventChoice]) throws -> Int {
            for event in events { try writer.file.ring(.spans).write(SpanEvent(traceId: traceId, spanId: spanId, event: event)) }
            return events.count
        }
        switch place {
        case .logBody:
            try writer.file.ring(.events).write(Event(timeUnixNano: time, body: value, attributes: [KeyValueRef(keyRef: nameRef, value: nameValue)]))
            return 1
        case .logAttribute:
            try writer.file.ring(.events).write(Event(timeUnixNano: time, attributes: [KeyValueRef(keyRef: nameRef, value: nameValue), deep]))
            return 1
        case .spanAttribute:
            return try span([.start(StartSpan(name: name, startTimeUnixNano: time, attributes: [deep])), .end(EndSpan(endTimeUnixNano: time + 1))])
        case .spanUpdate:
            return try span([.start(StartSpan(name: name, startTimeUnixNano: time)), .attributes(UpdateAttributes(attributes: [deep])),
                             .end(EndSpan(endTimeUnixNano: time + 1))])
        case .linkAttribute:
            let link = Link(traceId: traceId, spanId: spanId, attributes: [deep])
            return try span([.start(StartSpan(name: name, startTimeUnixNano: time)), .link(AddLink(links: [link])), .end(EndSpan(endTimeUnixNano: time + 1))])
        case .measurementAttribute:
            let metric = try dictionary.append(MetricRef(name: name, aggregation: .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: true))))
            try writer.file.ring(.measurements).write(Measurement(metricRef: metric, attributes: [deep], timeUnixNano: time, value: .asLong(1)))
            return 1
        }
    }

    /// The repro file of issue 19 (a fuzzing writer's file: 6 log records whose attributes hold
    /// arrays and key-value lists nested 10–20 deep; `conform check --final` passes it) is exported
    /// whole by the `otlp-mmap collect` process, which then stops on SIGTERM.
    @Test func theReproFileIsExportedAndTheCollectorStops() async throws {
        let fixture = TestSupport.fixture("repro/nested-values-collector-spins.otlpmmap")
        let folder = try TestSupport.temporaryDirectory()
        let path = folder.appendingPathComponent("nested.otlpmmap").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        let check = try await TestSupport.run(["conform", "check", "--final", path])
        #expect(check.status == 0, "the repro file is valid: \(check.stdout)")

        let collector = try TestSupport.start(["collect", "--file", path, "--exporter", "debug", "--batch-timeout-ms", "20",
                                               "--no-checkpoint", "--shutdown-timeout-ms", "2000"])
        let deadline = ContinuousClock.now + .seconds(60)
        while collector.isRunning, ContinuousClock.now < deadline,
              Self.occurrences(of: "\"logRecords\"", in: collector.standardOutput) < 1
                || Self.occurrences(of: "\"timeUnixNano\"", in: collector.standardOutput) < 6 {
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(collector.process.processIdentifier, SIGTERM)
        let stopped = ContinuousClock.now
        let result = await collector.wait(timeout: 30)
        #expect(ContinuousClock.now - stopped < .seconds(10), "the collector took \(ContinuousClock.now - stopped) to stop")
        #expect(result.status == 0, "\(result.stderr)")
        // Six log records, each exported once; nothing was refused.
        let records = result.stdout.split(separator: "\n").compactMap { line -> [Opentelemetry_Proto_Logs_V1_LogRecord]? in
            guard let request = try? LogsRequest(jsonString: String(line)) else { return nil }
            return request.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        }.flatMap { $0 }
        #expect(records.count == 6, "\(result.stderr)")
        #expect(!result.stderr.contains("invalid"), "\(result.stderr)")
        let deepest = records.map { $0.attributes.map { depth(of: $0.value) }.max() ?? 0 }.max() ?? 0
        #expect(deepest >= 10, "the file's values are nested 10–20 deep; the deepest exported is \(deepest)")
    }

    /// SIGTERM while the collector is busy converting a ring full of large, deeply nested records:
    /// the process ends within its shutdown timeout (plus the watchdog's second and a loaded
    /// machine's margin), and log records it did not export stay in the ring for the next reader.
    @Test func sigtermWhileConvertingDeepRecordsEndsTheProcessInTime() async throws {
        // The stop must come mid-conversion. On a machine the whole suite loads, this task may wake
        // only after the collector has exported everything: such an attempt proves nothing and is
        // made again (small batches keep the collector busy longer, to the same end).
        for attempt in 1...3 {
            if try await stopMidConversion(attempt: attempt) { return }
        }
        Issue.record("in 3 attempts the collector had exported all 1500 records before the test could stop it")
    }

    /// One attempt; false when everything was exported before the stop.
    private func stopMidConversion(attempt: Int) async throws -> Bool {
        let writer = try makeWriter("sigterm-deep-\(attempt)", numBuffers: 2048, bufferSize: 4096)
        let key = try writer.file.dictionary.appendString("deep")
        var column = FormatValue(value: .intValue(7))
        for _ in 0..<12 { column = FormatValue(value: .arrayValue(ArrayValue(values: [column, FormatValue(value: .boolValue(true))]))) }
        let wide = FormatValue(value: .arrayValue(ArrayValue(values: Array(repeating: column, count: 30))))
        // Encoded once, written 1500 times (the debug build's encoder takes milliseconds per copy).
        let record = encodeMessage(Event(timeUnixNano: 1, body: wide, attributes: [KeyValueRef(keyRef: key, value: column)]))
        try record.withUnsafeBytes { bytes in
            for _ in 0..<1500 { try writer.file.ring(.events).write(size: bytes.count) { $0.writeRaw(bytes) } }
        }
        let process = try TestSupport.start(["collect", "--file", writer.file.path, "--exporter", "debug", "--batch-timeout-ms", "20", "--batch-size", "16",
                                             "--no-checkpoint", "--shutdown-timeout-ms", "1000", "--statistics"])
        #expect(await process.waitForStandardError(containing: "reading"))
        let ring = writer.file.ring(.events).header
        while process.isRunning, ring.readerIndex < 0 { try await Task.sleep(for: .milliseconds(1)) }   // converting and exporting
        let signalled = ContinuousClock.now, handedBackAtTheStop = ring.readerIndex + 1
        kill(process.process.processIdentifier, SIGTERM)
        let result = await process.wait(timeout: 60)
        guard handedBackAtTheStop < 1500 else { return false }
        let took = ContinuousClock.now - signalled
        // It ends by itself — cooperatively (status 0), or, when the debug build's flush overruns
        // on a loaded machine, by the watchdog one second after the 1 s timeout (status 1, saying
        // so). Before the fix it never ended. The bound is loose on purpose: wall time on a loaded
        // machine says nothing finer.
        #expect(took < .seconds(20), "stopping took \(took)")
        let watchdog = result.status == 1 && result.stderr.contains("did not stop within 2.0 seconds of the stop")
        #expect(result.status == 0 || watchdog, "\(result.stderr.suffix(1500))")
        // At least once: what was handed back was exported; the rest is still in the ring.
        // (Log records counted by their one "timeUnixNano" key: decoding 1500 deep records' JSON
        // takes the debug build seconds.)
        let exported = Self.occurrences(of: "\"timeUnixNano\"", in: result.stdout)
        #expect(exported >= Int(ring.readerIndex) + 1, "\(exported) exported, \(ring.readerIndex + 1) handed back")
        #expect(watchdog || result.stderr.contains("\"invalid_records\":0"), "\(result.stderr.suffix(1500))")
        return true
    }

    /// Nesting depth of an OTLP value: a scalar is 0, each array or list adds one.
    private func depth(of value: Opentelemetry_Proto_Common_V1_AnyValue) -> Int {
        switch value.value {
        case .arrayValue(let array)?: 1 + (array.values.map(depth(of:)).max() ?? 0)
        case .kvlistValue(let list)?: 1 + (list.values.map { depth(of: $0.value) }.max() ?? 0)
        default: 0
        }
    }

    /// A value nested 64 levels, of alternating arrays and key-value lists, encodes to the bytes
    /// swift-protobuf writes for it — after one measuring walk; re-measuring each level (the bug)
    /// would take 2^64 steps, so the bound below is what fails before the fix.
    @Test func aValueNested64DeepIsTheBytesSwiftProtobufWrites() async throws {
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        value.stringValue = "leaf"
        for level in 0..<64 {
            var outer = Opentelemetry_Proto_Common_V1_AnyValue()
            if level % 2 == 0 {
                outer.arrayValue.values = [value, .with { $0.intValue = Int64(level) }]
            } else {
                var pair = Opentelemetry_Proto_Common_V1_KeyValue()
                pair.key = "k\(level)"
                pair.value = value
                outer.kvlistValue.values = [pair]
            }
            value = outer
        }
        let input = value
        let (ours, theirs) = try await withinBound(.seconds(60)) {
            try await TestSupport.offThePool {
                let encoded = EncodedAnyValue(value: input)
                let bytes = [UInt8].encoded(size: encoded.encodedSize) { writer in encoded.encode(to: &writer) }
                return (bytes, [UInt8](try input.serializedBytes() as [UInt8]))
            }
        }
        #expect(ours == theirs)
    }
}

/// Runs `body`, recording an issue (and throwing) if it has not finished within `bound`: a hang
/// fails the test instead of holding the suite. The body runs in a task of its own, not a child
/// task — a task group would wait for a body that never returns — and is abandoned on a timeout.
func withinBound<Result: Sendable>(_ bound: Duration, _ body: @escaping @Sendable () async throws -> Result,
                                   sourceLocation: SourceLocation = #_sourceLocation) async throws -> Result {
    let outcome: Result? = try await withCheckedThrowingContinuation { continuation in
        let once = FirstOutcome(continuation)
        Task { once.finish(await Swift.Result(catching: { try await body() })) }
        Task {
            try? await Task.sleep(for: bound)
            once.finish(.success(nil))
        }
    }
    guard let outcome else {
        Issue.record("did not finish within \(bound)", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    return outcome
}

/// Resumes a continuation with the first outcome it is given.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private let waiting: Mutex<CheckedContinuation<Value?, any Error>?>
    init(_ continuation: CheckedContinuation<Value?, any Error>) { waiting = Mutex(continuation) }
    func finish(_ outcome: Swift.Result<Value?, any Error>) {
        waiting.withLock { continuation in
            continuation?.resume(with: outcome)
            continuation = nil
        }
    }
}

extension Swift.Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// The debug exporter's OTLP JSON: ids in hex, everything else as swift-protobuf wrote it.
@Suite struct DebugJSONTests {
    @Test func idsBecomeHexAndTextThatLooksLikeAnIdStaysText() throws {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data((0..<16).map { UInt8($0) })
        span.spanID = Data([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3])
        span.parentSpanID = Data([0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8])
        span.name = #""spanId":"AAAAAAAAAAA=""#           // a key and a base64 value inside a string
        var attribute = Opentelemetry_Proto_Common_V1_KeyValue()
        attribute.key = "traceId"                           // a key that is an attribute's key: text
        attribute.value.stringValue = "AAECAwQFBgcICQoLDA0ODw=="
        span.attributes = [attribute]
        var request = TracesRequest()
        request.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }]

        let json = try DebugExporter.otlpJSON(request)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let spanObject = try #require(((((parsed["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?
            .first?["spans"]) as? [[String: Any]])?.first)
        #expect(spanObject["traceId"] as? String == "000102030405060708090a0b0c0d0e0f")
        #expect(spanObject["spanId"] as? String == "deadbeef00010203")
        #expect(spanObject["parentSpanId"] as? String == "fffefdfcfbfaf9f8")
        #expect(spanObject["name"] as? String == span.name)
        let attributes = try #require(spanObject["attributes"] as? [[String: Any]])
        #expect(attributes.first?["key"] as? String == "traceId")
        #expect((attributes.first?["value"] as? [String: Any])?["stringValue"] as? String == "AAECAwQFBgcICQoLDA0ODw==")
    }
}

extension NestedValueTests {
    /// How often `needle` occurs in `text`, by bytes: megabytes of JSON split with Foundation's
    /// `components(separatedBy:)` held a cooperative thread for minutes in the debug build, and the
    /// tests beside it (waiting for receivers and collectors) timed out.
    static func occurrences(of needle: String, in text: String) -> Int {
        let pattern = Array(needle.utf8)
        var count = 0
        var text = text
        text.withUTF8 { bytes in
            guard let first = pattern.first, bytes.count >= pattern.count else { return }
            var index = 0
            while index <= bytes.count - pattern.count {
                if bytes[index] == first && pattern.indices.allSatisfy({ bytes[index + $0] == pattern[$0] }) {
                    count += 1
                    index += pattern.count
                } else {
                    index += 1
                }
            }
        }
        return count
    }
}
