import ArgumentParser
import Foundation
import Logging
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapSDK

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Writer and collector together: the reference SDK writes, the collector exports what it reads.",
        discussion: """
            Creates a file in a temporary folder (or --file), starts the collector on it, then has several \
            threads write spans, log records and measurements through the SDK (as `otlp-mmap write` does). \
            Prints what the collector exports — a line per record with the debug exporter (--verbosity) — and a summary \
            on standard error.
            """
    )

    @Option(help: "The file to use (default: a new temporary file).")
    var file: String?

    @Option(help: "Spans per thread (each with a child span, a log record and measurements).")
    var spans = 25

    @Option(help: "Writer threads.")
    var threads = 4

    @OptionGroup var options: CollectorOptions

    func run() async throws {
        let path = file ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("otlp-mmap-demo-\(getpid()).otlpmmap").path
        let writer = try TelemetryWriter(configuration: WriterConfiguration(path: path, fullRingWait: .seconds(5)))
        var (configuration, warnings) = options.configuration(path: path)
        for warning in WriterConfiguration.environmentWarnings() + warnings.map(\.description) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        defer {
            if file == nil {
                for created in [path, configuration.checkpointPath].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: created) }
            }
        }
        if options.metricIntervalMs == nil { configuration.metricInterval = .seconds(1) }
        if options.batchTimeoutMs == nil { configuration.batchTimeout = .milliseconds(50) }
        let collector = Collector(configuration: configuration, exporter: try options.makeExporter(verbosity: .normal),
                                  logger: Logger(label: "otlp-mmap.demo"))
        let workload = try SampleWorkload(writer: writer)
        let failure: (any Error)? = await withTaskGroup(of: Void.self) { running in
            running.addTask { await collector.run() }
            // The writer threads are OS threads: a full ring makes them wait, which must not hold the
            // collector's pool threads.
            var failure: (any Error)?
            do { try await workload.run(threads: threads, spans: spans) } catch { failure = error }
            // Let the collector read everything, then stop it: it exports what it holds on the way out.
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, writer.file.rings.contains(where: { $0.header.readerIndex < $0.header.writerIndex }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
            collector.stop()
            return failure
        }
        if let failure { throw failure }

        let written = writer.statistics.total(.written)
        let stats = collector.statistics
        FileHandle.standardError.write(Data("""
            demo: \(threads) threads wrote \(written) records (\(writer.statistics.total(.dropped)) dropped); \
            the collector read \(stats[.records]) and exported \(stats[.exportedSpans]) spans, \(stats[.exportedLogs]) log records, \
            \(stats[.exportedMetricPoints]) metric points (\(stats[.invalidRecords]) invalid records)

            """.utf8))
    }
}
