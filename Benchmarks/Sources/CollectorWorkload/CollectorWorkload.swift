import Foundation
import Logging
import OTLPMmapBenchmarkSupport
import OTLPMmapCollector
import OTLPMmapSDK

// What the collector benchmarks and `collector-profile` share: the file they drain, the exporter
// that discards, the bare reader that is the baseline.

public let recordsPerRing = 16_384
public let exportedSpans = 8_000
public let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

/// A new file at a new path whose rings hold the records a typical service writes: spans (start
/// and end, three attributes), log records and measurements (three attributes each). A ring of
/// `recordsPerRing` slots is full with one record less (RING-CAPACITY); `slots` makes them larger.
public func writeFullFile(spans spanCount: Int, logsAndMeasurements: Int, slots: Int = recordsPerRing) throws -> (path: String, records: Int) {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("otlp-mmap-bench-collector-\(getpid())-\(UUID().uuidString).otlpmmap").path
    let ring = RingSize(numBuffers: Int64(slots), bufferSize: 512)
    let writer = try TelemetryWriter(configuration: WriterConfiguration(
        path: path, events: ring, spans: ring, measurements: ring, resource: [Attribute("service.name", "bench")]))
    let attributes = try writer.attributes(["http.method": "GET", "http.status_code": 200, "http.route": "/orders/{id}"])
    let counter = try writer.counter("bench.requests")
    for _ in 0..<spanCount {
        writer.startSpan("GET /orders/{id}", kind: .server, attributes: attributes).end(status: .ok)
    }
    for _ in 0..<logsAndMeasurements {
        writer.log(.info, .text("order loaded"), attributes: attributes)
        counter.record(1, attributes: attributes)
    }
    let written = writer.statistics.total(.written), dropped = writer.statistics.total(.dropped)
    guard dropped == 0, written == spanCount * 2 + logsAndMeasurements * 2 else {
        throw BenchmarkFailure("the benchmark file was not written whole: \(written) records written, \(dropped) dropped")
    }
    return (path, written)
}

public struct BenchmarkFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public func remove(_ path: String) {
    for file in [path, path + ".checkpoint"] { try? FileManager.default.removeItem(atPath: file) }
}

/// Accepts every request and forgets it.
public final class DiscardingExporter: Exporter {
    public init() {}
    public func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess? { nil }
    public func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess? { nil }
    public func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess? { nil }
    /// Not decoded: the collector's own encoding is part of its work, decoding it again is not.
    public func export(encodedTraces request: EncodedRequest) async throws(ExportError) -> PartialSuccess? { nil }
    public func export(encodedLogs request: EncodedRequest) async throws(ExportError) -> PartialSuccess? { nil }
    public func shutdown() async {}
}

/// Copies and decodes every record of every ring, the least any consumer must do.
public func bareRead(path: String) throws -> Int {
    try BenchmarkReading.bareRead(path: path)
}

/// Keeps the optimiser from dropping a decoded value (Benchmark's blackHole, without the package).
@inline(never)
public func keep<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// Drains `path` with a collector into a discarding exporter until it has read `records`; seconds.
public func drain(path: String, records: Int, checkpoint: Bool) async -> Double {
    var configuration = CollectorConfiguration(path: path)
    if !checkpoint { configuration.checkpointPath = nil }
    configuration.batchTimeout = .milliseconds(1)
    let collector = Collector(configuration: configuration, exporter: DiscardingExporter(), logger: quiet)
    let start = ContinuousClock.now
    await withTaskGroup(of: Void.self) { group in
        group.addTask { await collector.run() }
        while collector.statistics[.records] < records { try? await Task.sleep(for: .microseconds(100)) }
        collector.stop()
    }
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// CPU time (user + system) of the whole process, every thread, in microseconds.
public func processCPUMicroseconds() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return (Int(usage.ru_utime.tv_sec) + Int(usage.ru_stime.tv_sec)) * 1_000_000 + Int(usage.ru_utime.tv_usec) + Int(usage.ru_stime.tv_usec)
}

/// A new file of log records whose bodies nest `levels` deep (`BenchmarkFiles.writeNestedLogFile`).
public func writeNestedFile(levels: Int, records: Int) throws -> (path: String, records: Int, recordBytes: Int) {
    try BenchmarkFiles.writeNestedLogFile(levels: levels, records: records)
}

extension Int64 {
    var nextPowerOfTwo: Int64 { self <= 1 ? 1 : 1 << (64 - (self - 1).leadingZeroBitCount) }
}
