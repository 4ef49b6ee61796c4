import Foundation
import Testing
import TestSupport

/// Real processes: a writer, a collector killed with SIGKILL at random moments and restarted, and
/// a receiver that is itself killed for a while and restarted. Every log record the writer
/// published must reach the receiver at least once.
@Suite(.serialized) struct CollectorCrashTests {
    @Test func logRecordsSurviveCollectorKillsAndAReceiverOutage() async throws {
        var receiver = try ReceiverProcess()
        defer { receiver.stop() }
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("crash.otlpmmap").path
        let collectArguments = ["collect", "--file", path, "--exporter", "otlp-http",
                                "--endpoint", "http://127.0.0.1:\(receiver.httpPort)", "--batch-timeout-ms", "20"]
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
            collector.process.waitUntilExit()
            kills += 1
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...200, using: &generator)))
            collector = try TestSupport.start(collectArguments)
        }
        // The receiver goes away for a while (the collector retries, the writer waits), then returns.
        receiver.stop()
        try await Task.sleep(for: .milliseconds(Int.random(in: 300...800, using: &generator)))
        receiver = try ReceiverProcess(grpcPort: receiver.grpcPort, httpPort: receiver.httpPort, output: receiver.output)
        let written = writer.wait(timeout: 120)
        #expect(written.status == 0, "writer failed: \(written.stderr)")
        #expect(kills >= 1, "the writer finished before the collector could be killed once")

        let expected = Set((0..<spans).map { "s:demo-0-\($0)" })
        let deadline = ContinuousClock.now + .seconds(60)
        var received = Set<String>()
        while ContinuousClock.now < deadline {
            received = Set(receiver.items("logs").map { ReceivedJSON.anyValue($0.item["body"]) })
            if expected.isSubset(of: received) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(collector.process.processIdentifier, SIGKILL)
        collector.process.waitUntilExit()
        let missing = expected.subtracting(received)
        #expect(missing.isEmpty, "\(missing.count) log records never arrived after \(kills) kills, e.g. \(missing.sorted().prefix(5))")
    }
}
