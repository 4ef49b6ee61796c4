import Logging
import OTLPMmapCore
import Synchronization

/// Sends one request until it is accepted, refused for good, or the collector stops: exponential
/// backoff between attempts (or as long as the receiver asked), waits on the monotonic clock.
struct ExportSender: Sendable {
    let exporter: any Exporter
    let statistics: CollectorStatistics
    let logger: Logger
    let time: TimeSource
    let stop: StopState
    let initialWait: Duration
    let maxWait: Duration

    /// A defect planted on purpose (`collect --bug`).
    var bug: CollectorBug?

    func send(_ request: ExportRequest, signal: OTLPEndpoint.Signal) async -> SendOutcome {
        guard bug == .oneQueue else { return await attempts(request, signal: signal) }
        while !OneQueue.busy.withLock({ busy in if busy { return false }; busy = true; return true }) {
            if Task.isCancelled { return .stopped }
            try? await time.sleep(for: .milliseconds(20))
        }
        defer { OneQueue.busy.withLock { $0 = false } }
        return await attempts(request, signal: signal)
    }

    private func attempts(_ request: ExportRequest, signal: OTLPEndpoint.Signal) async -> SendOutcome {
        var wait = initialWait
        var resent = false
        while true {
            do throws(ExportError) {
                let rejected: PartialSuccess?
                switch request {
                case .traces(let request): rejected = try await exporter.export(encodedTraces: request)
                case .logs(let request): rejected = try await exporter.export(encodedLogs: request)
                case .metrics(let request): rejected = try await exporter.export(request)
                }
                if let rejected { statistics.record(rejected, signal: signal, logger: logger) }
                if bug == .resendPartial, rejected != nil, !resent {
                    resent = true
                    continue
                }
                return .sent
            } catch {
                statistics.add(.failedExports, signal: signal)
                guard error.retryable else {
                    logger.error("export of \(signal.noun) failed and is dropped: \(error.message)")
                    statistics.add(.droppedRequests, signal: signal)
                    return .refused
                }
                let now = time.monotonic()
                if Task.isCancelled { return .stopped }
                if let deadline = stop.deadline, now >= deadline {
                    logger.warning("stopping while the export of \(signal.noun) still fails: \(error.message)")
                    return .stopped
                }
                var pause = (bug == .retryAtOnce ? .milliseconds(10) : error.retryAfter ?? wait).wholeNanoseconds
                if let deadline = stop.deadline { pause = min(pause, deadline - now) }
                logger.warning("export of \(signal.noun) failed, trying again in \(Duration.nanoseconds(Int64(clamping: pause))): \(error.message)")
                do { try await time.sleepUntil(now + pause) } catch { return .stopped }
                wait = min(wait * 2, maxWait)
            }
        }
    }
}

/// The one-queue bug's shared state: whether some signal's export (with its retries) is under way;
/// every other signal's export waits for it.
enum OneQueue {
    static let busy = Mutex(false)
}

extension OTLPEndpoint.Signal {
    /// What a message names this signal's items.
    var noun: String {
        switch self {
        case .traces: "spans"
        case .logs: "logs"
        case .metrics: "metrics"
        }
    }
}
