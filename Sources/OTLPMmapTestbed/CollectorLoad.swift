import Foundation
import NIOPosix
import OTLPMmapCore
import OTLPMmapReceiver
import OTLPMmapSDK
import OTLPProto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The testbed's performance half (`conform collector --load RATE --duration D`), as the
/// OpenTelemetry Collector's testbed measures a collector: the reference writer writes spans, log
/// records and measurements at a fixed rate into a fresh file while the collector under test reads
/// it and exports to the embedded receiver, which only counts. Per rate: the collector's CPU and
/// peak resident memory (/proc), the records the writer dropped because the rings were full (the
/// collector did not keep up), the records that never arrived, and the latency from write to
/// receipt of spans and log records.
package struct CollectorLoad: Sendable {
    package var command: [String]
    /// Telemetry items per second, a third each spans, log records and measurements.
    package var rates: [Int]
    package var duration: Duration
    /// How long written records may take to arrive after the writing stops.
    package var drainTimeout: Duration = .seconds(30)
    package var stopTimeout: Duration = .seconds(10)
    /// Slots per ring (the writer's default file unless set).
    package var numBuffers: Int64 = FileConfiguration.RingSize.default.numBuffers

    package init(command: [String], rates: [Int], duration: Duration) {
        self.command = command
        self.rates = rates
        self.duration = duration
    }

    /// One rate's figures.
    package struct Result: Sendable {
        package var rate: Int
        package var seconds: Double
        /// Items the writer wrote (spans, log records, measurements), and those it dropped.
        package var written = 0
        package var dropped = 0
        /// Items written but never seen by the receiver (measurements: from the counter's last sum).
        package var lost = 0
        package var cpuPercent: Double?
        package var peakResidentBytes: Int?
        /// Write-to-receipt latency of spans and log records, in milliseconds.
        package var latencyP50: Double?
        package var latencyP99: Double?
        /// Why the run could not be measured, if it could not.
        package var failure: String?

        package var heldWithoutLoss: Bool { failure == nil && dropped == 0 && lost == 0 }
    }

    package func run() async -> [Result] {
        var results: [Result] = []
        for rate in rates { results.append(await run(rate: rate)) }
        return results
    }

    func run(rate: Int) async -> Result {
        var result = Result(rate: rate, seconds: 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("load.otlpmmap").path
        let tally = LoadTally()
        let receiver = OTLPReceiver(keepsRequests: false) { request, arrived in tally.observe(request, arrived: arrived) }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await receiver.run() }
            defer { group.cancelAll() }
            let writer: TelemetryWriter
            let collector: CollectorProcess
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let ring = FileConfiguration.RingSize(numBuffers: numBuffers, bufferSize: FileConfiguration.RingSize.default.bufferSize)
                // A full ring drops at once, as a service under load would rather than wait.
                writer = try TelemetryWriter(configuration: WriterConfiguration(path: path, events: ring, spans: ring, measurements: ring, fullRingWait: .zero))
                let ports = try await receiver.ports
                collector = try CollectorProcess(command: command, places: .init(file: path, grpc: "http://127.0.0.1:\(ports.grpc)", http: "http://127.0.0.1:\(ports.http)"),
                                                 folder: folder)
            } catch {
                result.failure = "could not start: \(error)"
                return result
            }
            let started = ContinuousClock.now
            let before = collector.usage
            let written: LoadWriter.Counts
            do {
                written = try await NIOThreadPool.singleton.runIfActive { [duration] in try LoadWriter(writer: writer).write(rate: rate, for: duration) }
            } catch {
                _ = await collector.stop(grace: stopTimeout)
                result.failure = "the writer failed: \(error)"
                return result
            }
            // Spans and log records arrive as they are exported; wait for them, then stop the
            // collector, which exports the counter's last sum.
            let deadline = ContinuousClock.now + drainTimeout
            while tally.spansAndLogs < written.spans + written.logs, ContinuousClock.now < deadline, collector.isRunning {
                try? await Task.sleep(for: .milliseconds(50))
            }
            let after = collector.usage
            let elapsed = ContinuousClock.now - started
            let ended = collector.ending
            _ = await collector.stop(grace: stopTimeout)
            let metricDeadline = ContinuousClock.now + .seconds(2)
            while tally.measurementSum < Int64(written.measurements), ContinuousClock.now < metricDeadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            result.seconds = seconds
            result.written = written.spans + written.logs + written.measurements
            result.dropped = written.dropped
            let arrived = tally.snapshot()
            result.lost = max(0, written.spans - arrived.spans) + max(0, written.logs - arrived.logs)
                + max(0, written.measurements - Int(clamping: arrived.measurementSum))
            if let before, let after {
                result.cpuPercent = (after.cpuSeconds - before.cpuSeconds) / seconds * 100
                result.peakResidentBytes = after.peakResidentBytes
            }
            let latencies = arrived.latencies.sorted()
            if !latencies.isEmpty {
                func percentile(_ p: Double) -> Double {
                    Double(latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.down)))]) / 1000
                }
                result.latencyP50 = percentile(0.50)
                result.latencyP99 = percentile(0.99)
            }
            if let ended { result.failure = "the collector \(ended) during the run: \(collector.errorTail)" }
            return result
        }
    }
}

/// Writes items at a fixed rate on the calling thread (a thread pool's, never the cooperative
/// pool: it sleeps between bursts).
struct LoadWriter {
    struct Counts: Sendable {
        var spans = 0, logs = 0, measurements = 0, dropped = 0
    }

    let writer: TelemetryWriter

    func write(rate: Int, for duration: Duration) throws -> Counts {
        let span = writer.spanTemplate("GET /load/{id}", kind: .server, attributes: try writer.attributes(["http.route": "/load/{id}", "load.rate": .int(Int64(rate))]))
        let log = writer.logTemplate(.info, .text("a request under load"), attributes: try writer.attributes(["load.rate": .int(Int64(rate))]))
        let counter = try writer.counter(LoadTally.counterName)
        var counts = Counts()
        let start = ContinuousClock.now
        var items = 0
        while true {
            let elapsed = ContinuousClock.now - start
            if elapsed >= duration { break }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let due = Int(Double(rate) * seconds)
            while items < due {
                let now = recordTimeUnixNano()
                switch items % 3 {
                case 0:
                    let started = writer.startSpan(span, startTime: now)
                    let ended = started.end(at: now)
                    if ended.isWritten { counts.spans += 1 } else { counts.dropped += 1 }
                case 1:
                    if writer.log(log, time: now).isWritten { counts.logs += 1 } else { counts.dropped += 1 }
                default:
                    if counter.record(1, time: now).isWritten { counts.measurements += 1 } else { counts.dropped += 1 }
                }
                items += 1
            }
            usleep(500)
        }
        return counts
    }
}

/// What the receiver saw of a load run: spans and log records counted with their write-to-receipt
/// latency (from their end or event time), and the load counter's last cumulative sum.
final class LoadTally: Sendable {
    static let counterName = "testbed.load.measurements"

    struct Snapshot: Sendable {
        var spans = 0, logs = 0
        var measurementSum: Int64 = 0
        /// Microseconds.
        var latencies: [UInt32] = []
    }

    private let state = Mutex(Snapshot())

    var spansAndLogs: Int { state.withLock { $0.spans + $0.logs } }
    var measurementSum: Int64 { state.withLock { $0.measurementSum } }
    func snapshot() -> Snapshot { state.withLock { $0 } }

    func observe(_ request: ReceivedExport.Request, arrived: UInt64) {
        func latency(_ time: UInt64) -> UInt32 { UInt32(clamping: arrived > time ? (arrived - time) / 1000 : 0) }
        switch request {
        case .traces(let request):
            let times = request.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.endTimeUnixNano) } }
            state.withLock { state in
                state.spans += times.count
                state.latencies.append(contentsOf: times.map(latency))
            }
        case .logs(let request):
            let times = request.resourceLogs.flatMap { $0.scopeLogs.flatMap { $0.logRecords.map(\.timeUnixNano) } }
            state.withLock { state in
                state.logs += times.count
                state.latencies.append(contentsOf: times.map(latency))
            }
        case .metrics(let request):
            let sums = request.resourceMetrics.flatMap { $0.scopeMetrics.flatMap { $0.metrics.filter { $0.name == Self.counterName } } }
                .flatMap { $0.sum.dataPoints.map(\.asInt) }
            if let last = sums.max() { state.withLock { $0.measurementSum = max($0.measurementSum, last) } }
        }
    }
}

extension CollectorLoad.Result {
    /// The highest rate of `results` held with nothing dropped and nothing lost.
    package static func highestHeld(_ results: [CollectorLoad.Result]) -> Int? {
        results.filter(\.heldWithoutLoss).map(\.rate).max()
    }
}

extension CollectorLoad {
    /// The load report: one row per rate and the highest rate held, as text or JSON.
    package static func render(_ results: [Result], json: Bool, command: [String]) -> String {
        let highest = Result.highestHeld(results)
        if json {
            let rows: [[String: Any]] = results.map { result in
                var row: [String: Any] = ["rate": result.rate, "seconds": result.seconds, "written": result.written,
                                          "dropped": result.dropped, "lost": result.lost, "held": result.heldWithoutLoss]
                if let cpu = result.cpuPercent { row["cpu_percent"] = cpu }
                if let peak = result.peakResidentBytes { row["peak_rss_bytes"] = peak }
                if let p50 = result.latencyP50 { row["latency_p50_ms"] = p50 }
                if let p99 = result.latencyP99 { row["latency_p99_ms"] = p99 }
                if let failure = result.failure { row["failure"] = failure }
                return row
            }
            let document: [String: Any] = ["command": command, "rates": rows, "highest_rate_held": highest as Any? ?? NSNull()]
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        }
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "-" }
        var out = "conform collector --load: \(command.joined(separator: " "))\n"
        out += "| items/s | seconds | written | dropped | lost | collector CPU % | peak RSS MiB | latency p50 ms | latency p99 ms |\n"
        out += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for result in results {
            out += "| \(result.rate) | \(String(format: "%.1f", result.seconds)) | \(result.written) | \(result.dropped) | \(result.lost) | "
                + "\(number(result.cpuPercent, "%.1f")) | \(number(result.peakResidentBytes.map { Double($0) / 1_048_576 }, "%.1f")) | "
                + "\(number(result.latencyP50, "%.1f")) | \(number(result.latencyP99, "%.1f")) |\n"
            if let failure = result.failure { out += "  \(result.rate)/s: \(failure)\n" }
        }
        out += highest.map { "highest rate held with nothing dropped or lost: \($0) items/s\n" } ?? "no rate was held with nothing dropped or lost\n"
        return out
    }
}
