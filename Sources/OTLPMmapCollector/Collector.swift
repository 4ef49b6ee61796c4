import Logging
import NIOPosix
import OTLPMmapCore
import OTLPMmapLayout
import ServiceLifecycle

/// Reads an OTLP-mmap file written by any conforming writer and exports its records as OTLP; a
/// swift-service-lifecycle `Service` (graceful shutdown exports what it holds).
///
/// Inside, structured concurrency: one `RingReader` copies records out of the three rings into
/// bounded per-signal mailboxes, and one `SignalPipeline` per signal turns them into OTLP (spans
/// assembled from their events, logs as they come, measurements aggregated) and exports them with
/// its own retries, several requests at a time. A signal whose receiver refuses stalls only its
/// own ring. Nothing in the file is trusted: a record or reference that breaks a rule is reported
/// with its rule and offset, counted and skipped; a slot that a dead writer claimed and never
/// published is skipped after `holeTimeout` (on the monotonic clock).
///
/// Log records are handed back to the writer (reader_index) only after their export succeeded, so
/// a collector killed in between reads them again: at least once. Spans and measurements live on in
/// the collector (open spans, metric series) long after they were read; their slots are handed back
/// only once a checkpoint holding that state is durably on disk, and a restarted collector resumes
/// from the checkpoint and the records after it (see `Checkpointer`).
public final class Collector: Service, Sendable {
    public let configuration: CollectorConfiguration
    public let statistics = CollectorStatistics()
    let exporter: any Exporter
    let logger: Logger
    let time: TimeSource
    private let stopState = StopState()

    public convenience init(configuration: CollectorConfiguration, exporter: any Exporter, logger: Logger = Logger(label: "otlp-mmap.collector")) {
        self.init(configuration: configuration, exporter: exporter, logger: logger, time: .system)
    }

    /// The same, with the clock the collector's deadlines and timestamps come from (tests inject one).
    package init(configuration: CollectorConfiguration, exporter: any Exporter, logger: Logger = Logger(label: "otlp-mmap.collector"), time: TimeSource) {
        self.configuration = configuration
        self.exporter = exporter
        self.logger = logger
        self.time = time
    }

    /// Asks the collector to stop: it reads no more, exports what it holds (retrying failures for
    /// at most `shutdownTimeout`), writes its last checkpoint, and `run` returns.
    public func stop() {
        stopState.stop(deadline: time.monotonic() + configuration.shutdownTimeout.wholeNanoseconds)
    }

    /// Reads and exports until `stop` or a graceful shutdown of its service group. Cancelling the
    /// task stops at once instead: what was not exported stays in the rings and the checkpoint.
    public func run() async {
        await withGracefulShutdownHandler {
            await runPipelines()
        } onGracefulShutdown: {
            self.stop()
        }
    }

    private func runPipelines() async {
        let warnings = WarningLog(logger: logger, time: time)
        let context = PipelineContext(configuration: configuration, statistics: statistics, warnings: warnings)
        let sender = ExportSender(exporter: exporter, statistics: statistics, logger: logger, time: time, stop: stopState,
                                  initialWait: configuration.retryInitialWait, maxWait: configuration.retryMaxWait, bug: configuration.bug)
        // Checkpoint files are read and written (with fsync) on a thread of the collector's own.
        let io = NIOThreadPool(numberOfThreads: 1)
        io.start()
        let room = Signal()
        let mailboxes = RingKind.allCases.map { _ in PipelineMailbox(capacity: configuration.queueCapacity, room: room) }
        let reader = RingReader(configuration: configuration, statistics: statistics, logger: logger, warnings: warnings,
                                time: time, stop: stopState, mailboxes: mailboxes, room: room, io: io)
        func pipeline<Stage: PipelineStage>(_ stage: Stage.Type) -> SignalPipeline<Stage> {
            SignalPipeline<Stage>(mailbox: mailboxes[Stage.ring.rawValue], context: context, sender: sender, time: time)
        }
        let spans = pipeline(SpansStage.self), logs = pipeline(LogsStage.self), metrics = pipeline(MetricsStage.self)

        await withDiscardingTaskGroup { outer in
            let exporter = self.exporter, logger = self.logger
            outer.addTask {
                do { try await exporter.run() } catch { logger.error("the exporter's connections failed: \(error)") }
            }
            await withTaskGroup(of: Bool.self) { work in
                work.addTask { await reader.run(); return false }
                work.addTask { await spans.run(); return false }
                work.addTask { await logs.run(); return false }
                work.addTask { await metrics.run(); return false }
                // Exports that neither succeed nor fail (a receiver that accepts the connection and
                // never answers) must not hold the stop beyond the shutdown deadline.
                let stop = stopState, time = self.time
                work.addTask {
                    await stop.wait()
                    guard let deadline = stop.deadline, !Task.isCancelled else { return false }
                    do { try await time.sleepUntil(deadline + 500_000_000) } catch { return false }
                    return true
                }
                var running = 4
                while let overdue = await work.next() {
                    if overdue {
                        logger.warning("exports still running \(configuration.shutdownTimeout) after the stop are cancelled")
                        work.cancelAll()
                        continue
                    }
                    running -= 1
                    if running == 0 { work.cancelAll() }
                }
            }
            await exporter.shutdown()
        }
        try? await io.shutdownGracefully()
    }
}
