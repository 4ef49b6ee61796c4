import Benchmark
import Foundation
import OTLPMmapBenchmarkSupport
import OTLPMmapSDK

// The writer's hot path: one record per iteration into a ring. "Nobody drains" is simulated by
// moving reader_index up to writer_index every 512 records (one store per 512 records), so the ring
// never fills; "with a consumer" runs a reader thread that copies and releases every record, as a
// collector would. The baseline, measured in the same run, copies pre-encoded bytes of the same size
// through the same claim/publish protocol: the floor for any writer of this format.

final class Fixture: @unchecked Sendable {
    let writer: TelemetryWriter
    let rings: BenchmarkRings
    let attributes: Attributes
    let counter: Instrument
    let span: Span
    let recordBytes: [UInt8]
    var consumer: Drainer?

    /// With a consumer, a producer that finds the ring full waits for it (up to a second) instead of
    /// dropping, so the figures are for records written, not dropped.
    init(label: String, fullRingWait: Duration = .zero) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-bench-\(label)-\(getpid()).otlpmmap").path
        let ring = RingSize(numBuffers: 1024, bufferSize: 512)
        writer = try TelemetryWriter(configuration: WriterConfiguration(path: path, events: ring, spans: ring, measurements: ring,
                                                                        fullRingWait: fullRingWait, resource: [Attribute("service.name", "bench")]))
        rings = BenchmarkRings(writer)
        attributes = try writer.attributes(["http.method": "GET", "http.status_code": 200, "http.route": "/orders/{id}"])
        counter = try writer.counter("bench.requests")
        span = writer.startSpan("warm-up", attributes: attributes)
        // A span start record's bytes, for the baseline.
        recordBytes = try rings.newestSpanRecord()
        release()
    }

    /// Lets the producer reuse every slot: what a consumer that keeps up would do.
    func release() { rings.releaseAll() }

    /// A reader thread that copies and releases every record as the collector does.
    func startConsumer() { consumer = rings.startDraining() }

    func stop() { consumer?.stop() }
}

nonisolated(unsafe) var fixture: Fixture!

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )
    let setup: Benchmark.BenchmarkSetupHook = { fixture = try Fixture(label: "solo") }
    let withConsumer: Benchmark.BenchmarkSetupHook = {
        fixture = try Fixture(label: "consumer", fullRingWait: .seconds(1))
        fixture.startConsumer()
    }
    let teardown: Benchmark.BenchmarkTeardownHook = {
        fixture.stop()
        let statistics = fixture.writer.statistics
        if statistics.total(.dropped) > 0 {
            print("note: \(statistics.total(.dropped)) records dropped (ring full) of \(statistics.total(.written) + statistics.total(.dropped))")
        }
    }

    // `body` runs once per benchmark and returns the per-record operation, with everything it
    // needs already in local constants: the loop then measures the record, not fixture lookups.
    func solo(_ name: String, _ body: @escaping @Sendable (Fixture) -> () -> Void) {
        Benchmark(name, configuration: .init(setup: setup, teardown: teardown)) { benchmark in
            let fixture = fixture!
            let operation = body(fixture)
            for index in benchmark.scaledIterations {
                operation()
                if index & 511 == 511 { fixture.release() }
            }
        }
    }

    func consumed(_ name: String, _ body: @escaping @Sendable (Fixture) -> () -> Void) {
        Benchmark(name, configuration: .init(setup: withConsumer, teardown: teardown)) { benchmark in
            let operation = body(fixture!)
            for _ in benchmark.scaledIterations { operation() }
        }
    }

    let spanStart: @Sendable (Fixture) -> () -> Void = { fixture in
        let writer = fixture.writer, attributes = fixture.attributes
        return { blackHole(writer.startSpan("GET /orders/{id}", kind: .server, attributes: attributes)) }
    }
    let logRecord: @Sendable (Fixture) -> () -> Void = { fixture in
        let writer = fixture.writer, attributes = fixture.attributes
        return { blackHole(writer.log(.info, .text("order loaded"), attributes: attributes)) }
    }
    let measurement: @Sendable (Fixture) -> () -> Void = { fixture in
        let counter = fixture.counter, attributes = fixture.attributes
        return { blackHole(counter.record(1, attributes: attributes)) }
    }

    solo("baseline: copy a span record through claim/publish") { fixture in
        let bytes = fixture.recordBytes, rings = fixture.rings
        return { bytes.withUnsafeBytes { rings.copyIntoSpans($0) } }
    }
    solo("span start, 3 attributes", spanStart)
    solo("span start from a template, 3 attributes") { fixture in
        let writer = fixture.writer
        let template = writer.spanTemplate("GET /orders/{id}", kind: .server, attributes: fixture.attributes)
        return { blackHole(writer.startSpan(template)) }
    }
    solo("span end") { fixture in
        let span = fixture.span
        return { blackHole(span.end(status: .ok)) }
    }
    solo("span from a template, start and end (2 records)") { fixture in
        let writer = fixture.writer
        let template = writer.spanTemplate("GET /orders/{id}", kind: .server, attributes: fixture.attributes)
        return { blackHole(writer.startSpan(template).end(status: .ok)) }
    }
    solo("log record, 3 attributes", logRecord)
    solo("log record from a template, 3 attributes") { fixture in
        let writer = fixture.writer
        let template = writer.logTemplate(.info, .text("order loaded"), attributes: fixture.attributes)
        return { blackHole(writer.log(template)) }
    }
    solo("measurement, 3 attributes", measurement)
    solo("measurement, 3 attributes, time given (no clock read)") { fixture in
        let counter = fixture.counter, attributes = fixture.attributes
        return { blackHole(counter.record(1, attributes: attributes, time: 1_700_000_000_000_000_000)) }
    }
    consumed("span start, 3 attributes, consumer draining", spanStart)
    consumed("log record, 3 attributes, consumer draining", logRecord)
    consumed("measurement, 3 attributes, consumer draining", measurement)
}
