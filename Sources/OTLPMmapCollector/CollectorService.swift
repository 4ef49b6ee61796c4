import Logging
import ServiceLifecycle
import UnixSignals

extension Collector {
    /// Runs the collector in a `ServiceGroup` that shuts it down gracefully on SIGINT or SIGTERM
    /// (or after `duration`): it stops reading, exports what it holds within `shutdownTimeout`,
    /// writes its last checkpoint and returns. A second signal, or a shutdown that overruns by
    /// two seconds, cancels it; what was not exported then stays in the rings and the checkpoint.
    public func runUntilSignalled(stopAfter duration: Duration? = nil) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: self, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let duration {
            services.append(.init(service: StopAfter(duration: duration), successTerminationBehavior: .gracefullyShutdownGroup))
        }
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
