import Logging
import NIOPosix
import OTLPMmapCore
import OTLPMmapLayout

/// Writes one file's checkpoint from the latest section each checkpointed pipeline (spans,
/// metrics) submitted, on the collector's own I/O thread (an `NIOThreadPool` of one) — fsync must
/// not hold a thread of the cooperative pool, nor wait behind other users of a shared pool (with
/// NIO's singleton pool, one collector's open waited more than 20 s behind others' fsyncs in the
/// test suite).
///
/// A pipeline hands its ring's slots back only after `save` returned true for its section: the
/// file then on disk holds that section (or a later one of the same pipeline). Writes never
/// overlap; sections submitted while one is written go into the next, together.
actor Checkpointer {
    private let file: CheckpointFile
    private let identity: FileIdentity
    private let startTime: UInt64
    private let logger: Logger
    private let statistics: CollectorStatistics
    private let wall: @Sendable () -> UInt64
    private let io: NIOThreadPool
    private var spans: (next: Int64, open: [CheckpointOpenSpan], finished: [CheckpointPendingSpan])
    private var metrics: (next: Int64, state: CheckpointMetricState)
    private var submitted = 0
    private var written = 0
    private var writing = false
    private var waiters: [(generation: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var failing = false

    /// Starts from the sections of `restored` (the checkpoint the session resumed from), or from
    /// empty state at the rings' first unreleased positions.
    init(file: CheckpointFile, identity: FileIdentity, startTime: UInt64, restored: Checkpoint?, firstToRead: [Int64],
         logger: Logger, statistics: CollectorStatistics, wall: @escaping @Sendable () -> UInt64, io: NIOThreadPool) {
        self.io = io
        self.file = file
        self.identity = identity
        self.startTime = startTime
        self.logger = logger
        self.statistics = statistics
        self.wall = wall
        if let restored {
            // Ages as version 2 keeps them, should this section be written before the span pipeline's own.
            let open = restored.openSpans.map { entry in
                var entry = entry
                entry.idleNanos = entry.idleAge(in: restored)
                entry.lastSeenUnixNano = 0
                return entry
            }
            spans = (restored.nextSpanSequence, open, restored.finishedSpans)
            metrics = (restored.nextMeasurementSequence, restored.metrics)
        } else {
            spans = (firstToRead[RingKind.spans.rawValue], [], [])
            metrics = (firstToRead[RingKind.measurements.rawValue], CheckpointMetricState())
        }
    }

    /// Stores `section` (state up to, not including, sequence `next` of its ring) and returns once
    /// a checkpoint holding it is durably on disk (true) or could not be written (false).
    func save(_ section: CheckpointSection, next: Int64) async -> Bool {
        switch section {
        case .spans(let open, let finished): spans = (next, open, finished)
        case .metrics(let state): metrics = (next, state)
        }
        submitted += 1
        let mine = submitted
        if writing {
            return await withCheckedContinuation { waiters.append((mine, $0)) }
        }
        // The first to find no write going on writes, until every section submitted meanwhile is on disk.
        writing = true
        var myResult = false
        while written < submitted {
            let generation = submitted
            let checkpoint = Checkpoint.with {
                $0.version = 2
                $0.file = .with {
                    $0.device = identity.device
                    $0.inode = identity.inode
                    $0.startTimeUnixNano = startTime
                }
                $0.nextSpanSequence = spans.next
                $0.nextMeasurementSequence = metrics.next
                $0.openSpans = spans.open
                $0.finishedSpans = spans.finished
                $0.metrics = metrics.state
                $0.writtenUnixNano = wall()
            }
            let file = self.file
            let result: Result<Void, any Error>
            do {
                try await io.runIfActive { try file.save(checkpoint) }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            written = generation
            report(result)
            let ok = (try? result.get()) != nil
            if mine <= generation, written == generation { myResult = myResult || ok }
            let done = waiters.filter { $0.generation <= generation }
            waiters.removeAll { $0.generation <= generation }
            for waiter in done { waiter.continuation.resume(returning: ok) }
        }
        writing = false
        return myResult
    }

    private func report(_ result: Result<Void, any Error>) {
        switch result {
        case .success:
            statistics.add(.checkpointsWritten)
            if failing { logger.notice("checkpoint \(file.path) written again") }
            failing = false
        case .failure(let error):
            // The slots stay unreleased: the writer may find its rings full and drop, but nothing
            // read is lost. The pipelines try again after `checkpointInterval`.
            statistics.add(.checkpointFailures)
            if !failing {
                logger.error("could not write the checkpoint \(file.path): \(error). The span and measurement rings' slots stay with the collector until it can be (the writer will find those rings full); give --checkpoint a path in a writable folder, or --no-checkpoint to keep this state in memory only")
            }
            failing = true
        }
    }

    /// Deletes the checkpoint (its file was re-created or re-initialised).
    func remove() async {
        let file = self.file
        try? await io.runIfActive { file.remove() }
    }
}
