import Foundation
import OTLPMmapCore
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// `otlp-mmap collect` as a process stopped with SIGTERM: its ServiceGroup shuts the collector
/// down gracefully, which exports what it holds within the shutdown deadline.
@Suite(.serialized) struct ShutdownTests {
    /// Batches and the metric interval far longer than the test: only the stop exports anything.
    func arguments(_ path: String, _ receiver: ReceiverProcess) -> [String] {
        ["collect", "--file", path, "--exporter", "otlp-http", "--endpoint", "http://127.0.0.1:\(receiver.httpPort)",
         "--batch-timeout-ms", "600000", "--metric-interval-ms", "600000", "--shutdown-timeout-ms", "2000",
         "--checkpoint-interval-ms", "20"]
    }

    func write(_ writer: TelemetryWriter) throws {
        let counter = try writer.counter("stopped")
        for index in 0..<50 {
            writer.startSpan("span-\(index)", kind: .internal).end()
            writer.log(.info, .text("log \(index)"))
            counter.record(1)
        }
    }

    @Test func sigtermExportsWhatIsHeld() async throws {
        let receiver = try await ReceiverProcess()
        defer { receiver.stop() }
        let writer = try makeWriter(clock: { nowUnixNano() })
        try write(writer)
        let collector = try TestSupport.start(arguments(writer.file.path, receiver) + ["--log-level", "debug"])
        try await CollectorCrashTests.waitUntilRead(writer)
        // The log records' slots wait for the export, so the ring cannot say they were read: the
        // collector's debug line does.
        #expect(await collector.waitForStandardError(containing: "records of the events ring, up to sequence 49"))
        #expect(receiver.items("traces").isEmpty && receiver.items("logs").isEmpty, "exported before the stop")

        let signalled = ContinuousClock.now
        kill(collector.process.processIdentifier, SIGTERM)
        let stopped = await collector.wait(timeout: 120)
        let took = ContinuousClock.now - signalled
        #expect(stopped.status == 0, "collector: \(stopped.stderr)")
        // Nothing to retry: the held batches go out at once, not after their 600 s batch timeout.
        // The bound tells the two apart and nothing finer (the README's rule for wall-clock bounds:
        // a loaded machine stretches a stop; it cannot stretch it tenfold into the batch timeout).
        #expect(took < .seconds(60), "stopping took \(took)")
        #expect(receiver.items("traces").count == 50)
        #expect(receiver.items("logs").count == 50)
        #expect(CollectorCrashTests.points(receiver, "stopped", "sum").compactMap { ReceivedJSON.int($0["asInt"]) }.max() == 50)
        #expect(writer.file.ring(.events).header.readerIndex == 49, "exported log records were not handed back")
    }

    @Test func sigtermWithARefusingReceiverStopsAtTheDeadlineAndKeepsTheRecords() async throws {
        let receiver = try await ReceiverProcess(failFirst: 1_000_000)
        defer { receiver.stop() }
        let writer = try makeWriter(clock: { nowUnixNano() })
        try write(writer)
        // Batches of 50: the records are exported as soon as they are read, so the refused export
        // of the log records says they are read and held (no fixed pause before the stop).
        let collector = try TestSupport.start(arguments(writer.file.path, receiver) + ["--batch-size", "50"])
        try await CollectorCrashTests.waitUntilRead(writer)
        #expect(await collector.waitForStandardError(containing: "export of logs failed, trying again"))

        let signalled = ContinuousClock.now
        kill(collector.process.processIdentifier, SIGTERM)
        let stopped = await collector.wait(timeout: 30)
        let took = ContinuousClock.now - signalled
        #expect(stopped.status == 0, "collector: \(stopped.stderr)")
        // 2 s of retries, then it gives up: not sooner (it tried), not much later (it must stop).
        // Not sooner than its 2 s deadline (a lower bound a loaded machine cannot break), and it
        // does stop (it does not retry for good): a failsafe bound, as the README's rule says.
        #expect(took >= .milliseconds(1_900) && took < .seconds(60), "stopping took \(took)")
        #expect(stopped.stderr.contains("stopping while the export of logs still fails"))
        // Nothing was delivered, so nothing of the log ring was handed back: the next collector reads it.
        #expect(writer.file.ring(.events).header.readerIndex == -1)
        // The spans whose exports were cut short are in the last checkpoint: a collector started
        // against a receiver that accepts delivers all of it.
        let accepting = try await ReceiverProcess()
        defer { accepting.stop() }
        let next = try TestSupport.start(arguments(writer.file.path, accepting))
        // Signalled once it reads the file, which it does under its ServiceGroup's signal handlers
        // (a fixed pause raced the start under load: a SIGTERM before them kills the process).
        #expect(await next.waitForStandardError(containing: "reading \(writer.file.path)"))
        kill(next.process.processIdentifier, SIGTERM)
        #expect(await next.wait(timeout: 30).status == 0)
        #expect(Set(accepting.items("traces").compactMap { $0.item["name"] as? String }).count == 50)
        #expect(accepting.items("logs").count == 50)
    }
}
