import Foundation
import Logging
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import TestSupport

// What the collector's tests and the receiver's tests share: a collector started on a file, a
// writer with a fixed clock, a condition waited for.

/// A configuration for tests: short batch delay, idle wait and retry waits; a failsafe shutdown deadline.
package func testConfiguration(_ path: String, configure: (inout CollectorConfiguration) -> Void = { _ in }) -> CollectorConfiguration {
    var configuration = CollectorConfiguration(path: path)
    configuration.batchTimeout = .milliseconds(20)
    configuration.maxIdleWait = .milliseconds(5)
    configuration.retryInitialWait = .milliseconds(10)
    configuration.retryMaxWait = .milliseconds(100)
    // A failsafe, not the 5 s default: a stopping collector's last checkpoint is an fsync, which
    // waited past 5 s behind other tests' disk work in a full run (three CheckpointTests found no
    // checkpoint, its write cancelled by the deadline). Tests of the deadline set their own.
    configuration.shutdownTimeout = .seconds(60)
    configure(&configuration)
    return configuration
}

/// Starts a collector on `path` in a task of its own.
package func startCollector(
    _ path: String, exporter: any Exporter, logger: Logger = Logger(label: "otlp-mmap.collector"),
    configure: (inout CollectorConfiguration) -> Void = { _ in }
) -> (collector: Collector, task: Task<Void, Never>) {
    let collector = Collector(configuration: testConfiguration(path, configure: configure), exporter: exporter, logger: logger)
    return (collector, Task { await collector.run() })
}

/// A writer with a fixed clock and id seed, so that tests know every time.
package func makeWriter(
    _ label: String = #function, at existingPath: String? = nil, numBuffers: Int64 = 256, bufferSize: Int64 = 512,
    clock: @escaping @Sendable () -> UInt64 = { 1_700_000_000_000_000_000 }
) throws -> TelemetryWriter {
    let path = try existingPath ?? TestSupport.temporaryDirectory(label).appendingPathComponent("collected.otlpmmap").path
    let ring = RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
    var configuration = WriterConfiguration(path: path, events: ring, spans: ring, measurements: ring,
                                            resource: [Attribute("service.name", "collector-tests"), Attribute("host.id", .int(7))])
    configuration.idSeed = 7
    configuration.clock = clock
    return try TelemetryWriter(configuration: configuration)
}

/// Polls `condition` every 5 ms for up to 60 s (a bound for failing, not a speed goal: a loaded
/// machine stretches waits); throws when it does not hold by then, which fails the test.
package func waitFor(_ condition: @Sendable () -> Bool, _ what: String = "condition", file: String = #fileID, line: Int = #line) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(description: "\(what) not met within 60 s (\(file):\(line))") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// `waitFor`'s condition did not hold in time.
package struct WaitTimedOut: Error, CustomStringConvertible {
    package var description: String
}

