import Benchmark
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import OTLPMmapCollector
import OTLPMmapSDK
import OTLPProto
import CollectorWorkload

// The collector's three figures, each next to a baseline measured in the same run:
// - draining a full file (every ring full of span, log and measurement records) into an exporter
//   that discards, with and without checkpoints — against a bare reader that only copies and
//   decodes each record (the floor for any consumer of this format);
// - spans exported over gRPC to a receiver on the loopback interface — against the same exporter
//   sending the same number of spans in ready-made requests (the transport's own cost);
// - the CPU a collector watching an idle file uses — against the same process doing nothing.
// One iteration is one whole file (or one second of idling); records/s and CPU are custom metrics.

/// Runs a collector on `path` until it has read `records` (or exported `spans` to `sink`), timing
/// only that; returns the seconds it took.
func timeCollector(_ benchmark: Benchmark, path: String, checkpoint: Bool, exporter: any Exporter,
                   until done: @escaping @Sendable (Collector) -> Bool) async -> Double {
    var configuration = CollectorConfiguration(path: path)
    if !checkpoint { configuration.checkpointPath = nil }
    configuration.batchTimeout = .milliseconds(1)
    let collector = Collector(configuration: configuration, exporter: exporter, logger: quiet)
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    let start = clock.now
    let task = Task { await collector.run() }
    while !done(collector) { try? await Task.sleep(for: .microseconds(100)) }
    let elapsed = clock.now - start
    benchmark.stopMeasurement()
    collector.stop()
    await task.value
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

// MARK: the loopback receiver

/// An OTLP trace receiver that counts the spans it is sent.
final class TraceSink: Opentelemetry_Proto_Collector_Trace_V1_TraceService.SimpleServiceProtocol, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var spans: Int { lock.withLock { count } }
    func reset() { lock.withLock { count = 0 } }

    func export(request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
                context: ServerContext) async throws -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        let received = request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
        lock.withLock { count += received }
        return .init()
    }
}

final class Receiver: Sendable {
    let sink = TraceSink()
    let port: Int
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let serving: Task<Void, Never>

    init() async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [sink])
        self.server = server
        serving = Task { try? await server.serve() }
        guard let address = try await transport.listeningAddress.ipv4 else { throw CancellationError() }
        port = address.port
    }

    func exporter() throws -> any Exporter {
        var endpoint = OTLPEndpoint(transport: .grpc)
        endpoint.endpoint = "http://127.0.0.1:\(port)"
        return try endpoint.makeExporter()
    }

    func stop() async {
        server.beginGracefulShutdown()
        await serving.value
    }
}

// MARK: idle CPU


/// CPU microseconds the process uses per second of `seconds` while `body`'s collector (if any) runs.
func cpuPerSecond(seconds: Double) async -> Int {
    let before = processCPUMicroseconds()
    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    return Int(Double(processCPUMicroseconds() - before) / seconds)
}

nonisolated(unsafe) var receiver: Receiver!

let benchmarks: @Sendable () -> Void = {
    let recordsPerSecond = BenchmarkMetric.custom("records/s", polarity: .prefersLarger, useScalingFactor: false)
    let spansPerSecond = BenchmarkMetric.custom("spans/s", polarity: .prefersLarger, useScalingFactor: false)
    let cpu = BenchmarkMetric.custom("CPU µs per s", polarity: .prefersSmaller, useScalingFactor: false)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident],
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 10
    )

    let drain = Benchmark.Configuration(metrics: [.wallClock, recordsPerSecond, .mallocCountTotal, .peakMemoryResident])
    Benchmark("baseline: copy and decode every record of a full file (\(recordsPerRing) per ring)", configuration: drain) { benchmark in
        let (path, records) = try writeFullFile(spans: recordsPerRing / 2 - 1, logsAndMeasurements: recordsPerRing - 1)
        defer { remove(path) }
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        let read = try bareRead(path: path)
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        precondition(read == records, "the bare reader read \(read) of \(records) records")
        benchmark.measurement(recordsPerSecond, Int(Double(records) / elapsed.seconds))
    }
    for checkpoint in [false, true] {
        Benchmark("collector: drain a full file (\(recordsPerRing) per ring)\(checkpoint ? ", checkpoints" : ", no checkpoint")", configuration: drain) { benchmark in
            let (path, records) = try writeFullFile(spans: recordsPerRing / 2 - 1, logsAndMeasurements: recordsPerRing - 1)
            defer { remove(path) }
            let seconds = await timeCollector(benchmark, path: path, checkpoint: checkpoint, exporter: DiscardingExporter()) {
                $0.statistics[.records] >= records
            }
            benchmark.measurement(recordsPerSecond, Int(Double(records) / seconds))
        }
    }

    // Issue 19: converting nested values must cost time linear in the record's size, whatever its
    // depth (each level used to re-measure everything below it). Levels 1, 8, 16 and 31 of arrays
    // put the record's deepest message at depth 3, 17, 33 and 63 (WIRE-DEPTH allows 64); ns per
    // record and per record byte, the depth-1 row being the same run's baseline.
    let nsPerRecord = BenchmarkMetric.custom("ns/record", polarity: .prefersSmaller, useScalingFactor: false)
    let nsPerKB = BenchmarkMetric.custom("ns/record KB", polarity: .prefersSmaller, useScalingFactor: false)
    let nested = Benchmark.Configuration(metrics: [.wallClock, nsPerRecord, nsPerKB])
    for levels in [1, 8, 16, 31] {
        Benchmark("collector: drain 8192 log records, body nested to depth \(2 * levels + 1)", configuration: nested) { benchmark in
            let (path, records, recordBytes) = try writeNestedFile(levels: levels, records: 8192)
            defer { remove(path) }
            let seconds = await timeCollector(benchmark, path: path, checkpoint: false, exporter: DiscardingExporter()) {
                $0.statistics[.exportedLogs] >= records
            }
            benchmark.measurement(nsPerRecord, Int(seconds * 1e9 / Double(records)))
            benchmark.measurement(nsPerKB, Int(seconds * 1e9 / Double(records) / (Double(recordBytes) / 1024)))
        }
    }

    let export = Benchmark.Configuration(
        metrics: [.wallClock, spansPerSecond, .peakMemoryResident],
        setup: { receiver = try await Receiver() },
        teardown: { await receiver.stop() })
    Benchmark("baseline: send \(exportedSpans) ready-made spans over gRPC to a loopback receiver", configuration: export) { benchmark in
        let requests = readyMadeRequests(count: exportedSpans)
        let exporter = try receiver.exporter()
        try await exporter.export(TracesRequest())   // connects
        receiver.sink.reset()
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        for request in requests { try await exporter.export(request) }
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        await exporter.shutdown()
        precondition(receiver.sink.spans == exportedSpans)
        benchmark.measurement(spansPerSecond, Int(Double(exportedSpans) / elapsed.seconds))
    }
    for checkpoint in [true, false] {
        Benchmark("collector: read and export \(exportedSpans) spans over gRPC to a loopback receiver\(checkpoint ? ", checkpoints" : ", no checkpoint")", configuration: export) { benchmark in
            let (path, _) = try writeFullFile(spans: exportedSpans, logsAndMeasurements: 0)
            defer { remove(path) }
            let exporter = try receiver.exporter()
            try await exporter.export(TracesRequest())
            receiver.sink.reset()
            let sink = receiver.sink
            let seconds = await timeCollector(benchmark, path: path, checkpoint: checkpoint, exporter: exporter) { _ in sink.spans >= exportedSpans }
            benchmark.measurement(spansPerSecond, Int(Double(exportedSpans) / seconds))
        }
    }

    let idle = Benchmark.Configuration(metrics: [cpu], maxIterations: 5)
    Benchmark("baseline: CPU of this process doing nothing for 1 s", configuration: idle) { benchmark in
        benchmark.measurement(cpu, await cpuPerSecond(seconds: 1))
    }
    Benchmark("collector: CPU while watching an idle file for 1 s", configuration: idle) { benchmark in
        let (path, _) = try writeFullFile(spans: 0, logsAndMeasurements: 0)
        defer { remove(path) }
        let collector = Collector(configuration: CollectorConfiguration(path: path), exporter: DiscardingExporter(), logger: quiet)
        let task = Task { await collector.run() }
        try await Task.sleep(for: .milliseconds(300))   // past the first polls, at the longest idle wait
        benchmark.measurement(cpu, await cpuPerSecond(seconds: 1))
        collector.stop()
        await task.value
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
