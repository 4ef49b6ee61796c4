import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

extension Collector {
    /// Runs the collector in a `ServiceGroup` that shuts it down gracefully on SIGINT or SIGTERM
    /// (or after `duration`): it stops reading, exports what it holds within `shutdownTimeout`,
    /// writes its last checkpoint and returns. A second signal, or a shutdown that overruns by
    /// two seconds, cancels it; what was not exported then stays in the rings and the checkpoint.
    /// Whatever the collector is doing, the process ends at most `shutdownTimeout` plus one second
    /// after the stop began (`StopWatchdog`): a task that does not return when cancelled cannot
    /// hold it.
    package func runUntilSignalled(stopAfter duration: Duration? = nil) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: self, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let duration {
            services.append(.init(service: StopAfter(duration: duration), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        // Last, so that it is told of the shutdown first (the group stops services in reverse order).
        services.append(.init(service: StopWatchdog(bound: self.configuration.shutdownTimeout + .seconds(1), logger: logger),
                              successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = self.configuration.shutdownTimeout + .seconds(2)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Returns after `duration`, or at once when the group shuts down: `--duration-s`.
private struct StopAfter: Service {
    let duration: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

/// Ends the process when a stop overruns its bound. Graceful shutdown and cancellation are both
/// cooperative: work that never reaches a suspension point (a conversion that takes too long, a
/// library call that hangs) would keep the process alive after SIGTERM for as long as it runs.
/// Once the shutdown begins, a thread of its own — not a task, which the same work could starve —
/// waits `bound` and exits with status 1, after saying so. What was not exported stays in the rings
/// and the last durable checkpoint, as after a kill.
private struct StopWatchdog: Service {
    let bound: Duration
    let logger: Logger

    func run() async throws {
        _ = try? await gracefulShutdown()   // returns when the shutdown begins, throws when cancelled: either way, arm
        let bound = self.bound, logger = self.logger
        let thread = Thread {
            Thread.sleep(forTimeInterval: Double(bound.components.seconds) + Double(bound.components.attoseconds) / 1e18)
            logger.critical("the collector did not stop within \(bound) of the stop; exiting now (unexported records stay in the file)")
            exit(1)
        }
        thread.start()
    }
}
