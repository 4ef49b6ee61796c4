import Foundation
import OTLPMmapCore
import OTLPMmapLayout

/// Writing and resuming from checkpoints (see `CheckpointFile` for how one reaches the disk).
///
/// Order is everything: the checkpoint holds the state built from the span and measurement rings
/// up to their cursors' positions, and only after it is on disk are those slots handed back to the
/// writer. A collector killed before the hand-back finds the new checkpoint and starts at its
/// positions; one killed before the checkpoint finds the previous one, and the records after that
/// one's positions still in the rings. Either way each record enters the state once.
///
/// What can come twice: spans and metric points exported after the last checkpoint and before the
/// kill are exported again after the restart (the checkpoint still holds them). A checkpoint follows
/// every export round that changed the state, so this is at most one round of exports.
extension Collector {
    /// Writes a checkpoint when one is due: the state changed by an export or expiry, a ring half
    /// full of records not yet handed back, records waiting `checkpointInterval`, or `force`.
    func checkpointIfDue(_ session: Session, now: UInt64, force: Bool) {
        guard let file = session.checkpointFile else { return }
        let spans = session.cursors[RingKind.spans.rawValue], measurements = session.cursors[RingKind.measurements.rawValue]
        let unreleased = spans.unreleased > 0 || measurements.unreleased > 0
        guard session.stateChanged || unreleased else { return }
        if !force {
            let interval = configuration.checkpointInterval.nanoseconds
            if let failure = session.lastCheckpointFailure, now &- failure < interval { return }
            let crowded = spans.unreleased * 2 >= Int(spans.ring.numBuffers) || measurements.unreleased * 2 >= Int(measurements.ring.numBuffers)
            guard session.stateChanged || crowded || now &- session.lastCheckpoint >= interval else { return }
        }
        let (open, finished) = session.assembler.checkpointed()
        let checkpoint = Checkpoint.with {
            $0.version = 1
            $0.file = .with {
                $0.device = session.identity.device
                $0.inode = session.identity.inode
                $0.startTimeUnixNano = session.startTime
            }
            $0.nextSpanSequence = spans.next
            $0.nextMeasurementSequence = measurements.next
            $0.openSpans = open
            $0.finishedSpans = finished
            $0.metrics = session.aggregator.checkpointed()
            $0.writtenUnixNano = now
        }
        do {
            try file.save(checkpoint)
        } catch {
            // The slots stay unreleased: the writer may find its rings full and drop, but nothing
            // read is lost. Tried again after `checkpointInterval`.
            if session.lastCheckpointFailure == nil {
                logger.error("could not write the checkpoint \(file.path): \(error). The span and measurement rings' slots stay with the collector until it can be (the writer will find those rings full); give --checkpoint a path in a writable folder, or --no-checkpoint to keep this state in memory only")
            }
            session.lastCheckpointFailure = now
            statistics.add(.checkpointFailures)
            return
        }
        if session.lastCheckpointFailure != nil { logger.notice("checkpoint \(file.path) written again") }
        session.lastCheckpointFailure = nil
        session.cursors[RingKind.spans.rawValue].release()
        session.cursors[RingKind.measurements.rawValue].release()
        session.stateChanged = false
        session.lastCheckpoint = now
        statistics.add(.checkpointsWritten)
    }

    /// Takes over the state of the session file's checkpoint, if there is one for this very file
    /// (same inode and start time) whose positions fit the rings. Anything else is reported and
    /// ignored: the collector then reads from the rings' reader_index, as without a checkpoint.
    func restoreCheckpoint(_ session: Session) {
        guard let file = session.checkpointFile else { return }
        let checkpoint: Checkpoint
        do {
            guard let loaded = try file.load() else { return }
            checkpoint = loaded
        } catch {
            logger.error("ignoring the unreadable checkpoint \(file.path): \(error)")
            statistics.add(.checkpointsIgnored)
            return
        }
        guard checkpoint.file.device == session.identity.device, checkpoint.file.inode == session.identity.inode,
              checkpoint.file.startTimeUnixNano == session.startTime else {
            logger.notice("ignoring the checkpoint \(file.path): it belongs to an earlier file at this path")
            return
        }
        guard checkpoint.version == 1 else {
            logger.error("ignoring the checkpoint \(file.path): version \(checkpoint.version) is not 1")
            statistics.add(.checkpointsIgnored)
            return
        }
        let spanRing = session.file.ring(.spans), measurementRing = session.file.ring(.measurements)
        guard let spans = try? RingCursor(ring: spanRing, startingAt: checkpoint.nextSpanSequence, releaseEvery: Int.max),
              let measurements = try? RingCursor(ring: measurementRing, startingAt: checkpoint.nextMeasurementSequence, releaseEvery: Int.max) else {
            logger.error("ignoring the checkpoint \(file.path): its ring positions (spans \(checkpoint.nextSpanSequence), measurements \(checkpoint.nextMeasurementSequence)) lie outside the rings' reader and writer indices")
            statistics.add(.checkpointsIgnored)
            return
        }
        session.cursors[RingKind.spans.rawValue] = spans
        session.cursors[RingKind.measurements.rawValue] = measurements
        let malformed = session.assembler.restore(open: checkpoint.openSpans, finished: checkpoint.finishedSpans)
            + session.aggregator.restore(checkpoint.metrics, cache: session.cache)
        if malformed > 0 {
            logger.error("left out \(malformed) entries of the checkpoint \(file.path) that do not fit the file")
            statistics.add(.checkpointsIgnored, malformed)
        }
        statistics.add(.checkpointsRestored)
        logger.info("resuming from the checkpoint \(file.path)", metadata: [
            "open_spans": "\(checkpoint.openSpans.count)", "finished_spans": "\(checkpoint.finishedSpans.count)",
            "metric_series": "\(checkpoint.metrics.series.count)",
        ])
    }
}
