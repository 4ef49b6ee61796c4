import Foundation
import OTLPMmapCore
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// Real processes: a writer, a collector killed with SIGKILL at random moments and restarted, and
/// a receiver that is itself killed for a while and restarted. Every log record and span the writer
/// published must reach the receiver at least once, and cumulative sums must come out exact.
@Suite(.serialized) struct CollectorCrashTests {
    @Test func everythingSurvivesCollectorKillsAndAReceiverOutage() async throws {
        var receiver = try await ReceiverProcess()
        defer { receiver.stop() }
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("crash.otlpmmap").path
        let collectArguments = ["collect", "--file", path, "--exporter", "otlp-http", "--endpoint", "http://127.0.0.1:\(receiver.httpPort)",
                                "--batch-timeout-ms", "20", "--metric-interval-ms", "200", "--checkpoint-interval-ms", "50"]
        var collector = try TestSupport.start(collectArguments)
        // Small rings, and a writer that waits up to 20 s for room: while no collector runs the
        // writer blocks instead of dropping, so every record is published.
        let spans = 2_000
        let writer = try TestSupport.start(["write", path, "--spans", "\(spans)", "--threads", "1",
                                            "--num-buffers", "64", "--wait-ms", "20000"])
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        while writer.isRunning && kills < 4 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400, using: &generator)))
            kill(collector.process.processIdentifier, SIGKILL)
            await collector.exit()
            kills += 1
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...200, using: &generator)))
            collector = try TestSupport.start(collectArguments)
        }
        // The receiver goes away for a while (the collector retries, the writer waits), then returns.
        receiver.stop()
        try await Task.sleep(for: .milliseconds(Int.random(in: 300...800, using: &generator)))
        receiver = try await ReceiverProcess(grpcPort: receiver.grpcPort, httpPort: receiver.httpPort, output: receiver.output)
        let written = await writer.wait(timeout: 120)
        #expect(written.status == 0, "writer failed: \(written.stderr)")
        #expect(kills >= 1, "the writer finished before the collector could be killed once")

        // Each span I: log record and span "demo-0-I", child span "demo-0-I.child", the cumulative
        // counter demo.requests recording I, the delta histogram demo.latency one value.
        let expectedLogs = Set((0..<spans).map { "s:demo-0-\($0)" })
        let expectedSpans = Set((0..<spans).flatMap { ["demo-0-\($0)", "demo-0-\($0).child"] })
        let expectedSum = Int64(spans * (spans - 1) / 2)
        let deadline = ContinuousClock.now + .seconds(60)
        var logs = Set<String>(), complete = Set<String>(), largestSum: Int64 = 0
        while ContinuousClock.now < deadline {
            logs = Set(receiver.items("logs").map { ReceivedJSON.anyValue($0.item["body"]) })
            complete = Set(receiver.items("traces").compactMap { span in
                ReceivedJSON.attributes(span.item["attributes"])["otlp_mmap.start_missing"] == nil ? span.item["name"] as? String : nil
            })
            largestSum = Self.points(receiver, "demo.requests", "sum").compactMap { ReceivedJSON.int($0["asInt"]) }.max() ?? 0
            if expectedLogs.isSubset(of: logs), expectedSpans.isSubset(of: complete), largestSum >= expectedSum { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(collector.process.processIdentifier, SIGKILL)
        await collector.exit()
        let missingLogs = expectedLogs.subtracting(logs), missingSpans = expectedSpans.subtracting(complete)
        #expect(missingLogs.isEmpty, "\(missingLogs.count) log records never arrived after \(kills) kills, e.g. \(missingLogs.sorted().prefix(5))")
        #expect(missingSpans.isEmpty, "\(missingSpans.count) spans never arrived whole after \(kills) kills, e.g. \(missingSpans.sorted().prefix(5))")
        // A cumulative sum rebuilt from a checkpoint and the records after it counts each record once.
        #expect(largestSum == expectedSum, "demo.requests reached \(largestSum), not \(expectedSum)")
        let histogramCount = Self.points(receiver, "demo.latency", "histogram").compactMap { ReceivedJSON.int($0["count"]) }.reduce(0, +)
        #expect(histogramCount >= Int64(spans), "delta histogram points count \(histogramCount) of \(spans) values")
    }

    /// A collector killed while spans are open and a cumulative sum is counting: after a restart
    /// the spans end whole and the sum goes on — and, without checkpoints, they do not.
    @Test(arguments: [true, false])
    func openSpansAndSumsSurviveASIGKILL(checkpointing: Bool) async throws {
        let receiver = try await ReceiverProcess()
        defer { receiver.stop() }
        let writer = try makeWriter("sigkill-\(checkpointing)", clock: { nowUnixNano() })
        let arguments = ["collect", "--file", writer.file.path, "--exporter", "otlp-http", "--endpoint", "http://127.0.0.1:\(receiver.httpPort)",
                         "--metric-interval-ms", "600000", "--checkpoint-interval-ms", "20"] + (checkpointing ? [] : ["--no-checkpoint"])
        let attributes = try writer.attributes(["phase": "before the kill"])
        let counter = try writer.counter("handled")
        let open = (0..<20).map { writer.startSpan("open-\($0)", kind: .server, attributes: attributes) }
        for _ in 0..<20 { counter.record(1) }

        var collector = try TestSupport.start(arguments)
        try await Self.waitUntilRead(writer)
        kill(collector.process.processIdentifier, SIGKILL)
        await collector.exit()

        for span in open { span.end(status: .ok) }
        for _ in 0..<20 { counter.record(1) }
        collector = try TestSupport.start(arguments)
        try await Self.waitUntilRead(writer)
        kill(collector.process.processIdentifier, SIGTERM)   // a clean stop exports the metrics
        let stopped = await collector.wait(timeout: 30)
        #expect(stopped.status == 0, "collector: \(stopped.stderr)")

        let spans = receiver.items("traces").map(\.item)
        let sums = Self.points(receiver, "handled", "sum").compactMap { ReceivedJSON.int($0["asInt"]) }
        if checkpointing {
            #expect(Set(spans.compactMap { $0["name"] as? String }) == Set((0..<20).map { "open-\($0)" }))
            #expect(spans.allSatisfy { ReceivedJSON.attributes($0["attributes"]) == ["phase": "s:before the kill"] })
            #expect(sums.max() == 40)
        } else {
            #expect(spans.count == 20 && spans.allSatisfy { ReceivedJSON.attributes($0["attributes"])["otlp_mmap.start_missing"] == "b:true" })
            #expect(sums.max() == 20)
        }
    }

    /// Waits until a collector has handed back every span and measurement slot: it has read them
    /// and (with checkpoints) written the checkpoint that holds them.
    static func waitUntilRead(_ writer: TelemetryWriter) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        let rings = [writer.file.ring(.spans), writer.file.ring(.measurements)]
        while rings.contains(where: { $0.header.readerIndex < $0.header.writerIndex }) {
            guard ContinuousClock.now < deadline else { throw ReceiverError("the collector did not read the rings within 30 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The data points of every received metric `name`, whose data is under `kind` (sum, histogram…).
    static func points(_ receiver: ReceiverProcess, _ name: String, _ kind: String) -> [[String: Any]] {
        receiver.items("metrics").filter { $0.item["name"] as? String == name }
            .flatMap { (($0.item[kind] as? [String: Any])?["dataPoints"] as? [[String: Any]]) ?? [] }
    }
}
