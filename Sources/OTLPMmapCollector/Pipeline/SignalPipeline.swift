import Logging
import OTLPMmapCore
import OTLPMmapWire
import OTLPMmapLayout

typealias PipelineMailbox = Mailbox<PipelineInput, PipelineControl>

/// One signal's way from its ring to the receiver: records from the reader, through its stage
/// (decode, convert, assemble or aggregate, batch), to exports — up to `maxInFlight` at once, each
/// retried with its own backoff — and back to the writer as released slots, in ring order.
///
/// Everything a pipeline holds lives in its task; what happens elsewhere (an export or checkpoint
/// that finished) comes back through its mailbox. A receiver that refuses stalls this pipeline
/// only: its mailbox fills, the reader leaves its ring alone, and that ring's writer sees it full.
struct SignalPipeline<Stage: PipelineStage>: Sendable {
    let mailbox: PipelineMailbox
    let context: PipelineContext
    let sender: ExportSender
    let time: TimeSource

    private var configuration: CollectorConfiguration { context.configuration }

    func run() async {
        var stage = Stage(context)
        var session: FileSession?
        var checkpointer: Checkpointer?
        /// The first sequence not yet applied to the stage.
        var appliedNext: Int64 = 0
        var checkpointInFlight = false
        var lastCheckpoint: UInt64 = 0
        /// With the stop-at-bad-slot bug: a record broke a rule, and no later one is converted.
        var stoppedAtBadRecord = false
        var lastCheckpointFailure: UInt64?
        /// When to look again at a checkpoint that is wanted but was not taken.
        var checkpointWake: UInt64?
        var ending: (kind: SessionEnd, done: CheckedContinuation<Void, Never>, flushed: Bool, finalCheckpoint: Bool)?

        await withDiscardingTaskGroup { group in
            while true {
                let accepting = ending == nil && stage.inFlight < configuration.maxInFlight
                // With every export slot taken, a due batch cannot leave before an export returns,
                // and that return wakes the loop: waiting for the batch's (past) deadline instead
                // would spin, a core busy for as long as the receiver takes to answer.
                var deadline = stage.inFlight < configuration.maxInFlight ? stage.nextDeadline() : nil
                if let checkpointWake { deadline = min(deadline ?? checkpointWake, checkpointWake) }
                guard let message = await mailbox.receive(acceptsData: accepting, deadline: deadline, time: time) else { break }
                let now = time.monotonic(), wall = time.wall()

                switch message {
                case .data(.begin(let new)):
                    session = new
                    appliedNext = new.firstToRead[Stage.ring.rawValue]
                    stage.begin(new, now: now)
                    checkpointer = new.checkpointer
                    lastCheckpoint = now
                    lastCheckpointFailure = nil
                case .data(.records(let records, let next)):
                    var converted = next
                    for record in records {
                        // A cancelled collector stops between records, not after a whole batch.
                        if Task.isCancelled {
                            converted = record.sequence
                            break
                        }
                        if stoppedAtBadRecord { continue }
                        do {
                            try stage.apply(record, now: now, wall: wall)
                        } catch let error as FormatError {
                            if configuration.bug == .stopAtBadSlot { stoppedAtBadRecord = true }
                            if configuration.bug == .crashOnEmptyOneof { CollectorBug.crashIfEmptyOneof(error) }
                            invalid(error, record)
                        } catch {
                            invalid(FormatError(.slotDecode, at: record.payloadFileOffset, "\(error)"), record)
                        }
                    }
                    appliedNext = converted
                    context.warnings.logger.debug(
                        "read \(records.count) records of the \(Stage.ring.name) ring, up to sequence \(converted - 1)",
                        metadata: ["held": "\(stage.oldestHeldSequence.map { converted - $0 } ?? 0)"])
                case .data(.end(let kind, let done)):
                    ending = (kind, done, false, false)
                    if kind == .fileReset { stage.finishForReset(now: now, wall: wall) }
                case .control(.exported(let batch, let outcome)):
                    stage.finished(batch: batch, outcome)
                case .control(.checkpointed(let next, let durable)):
                    checkpointInFlight = false
                    if durable {
                        session?.release(Stage.ring, before: next)
                        lastCheckpoint = now
                        lastCheckpointFailure = nil
                    } else {
                        lastCheckpointFailure = now
                        stage.stateChanged = true
                    }
                case .timeout:
                    break
                }

                // Exports: what is due, or everything once when the session ends.
                let flush = ending.map { !$0.flushed } ?? false
                let room = flush ? Int.max : configuration.maxInFlight - stage.inFlight
                for batch in stage.takeBatches(now: now, wall: wall, force: flush, room: room) {
                    let sender = self.sender, mailbox = self.mailbox
                    group.addTask {
                        let outcome = await sender.send(batch.request, signal: Stage.signal)
                        mailbox.post(.exported(batch: batch.id, outcome))
                    }
                }
                if flush { ending?.flushed = true }

                // Handing slots back.
                if let session, Stage.handsBackAfterExport, ending?.kind != .fileReset {
                    session.release(Stage.ring, before: stage.oldestHeldSequence ?? appliedNext)
                }
                if !Stage.handsBackAfterExport, let session, let checkpointer, !checkpointInFlight, ending?.kind != .fileReset {
                    let unreleased = appliedNext - session.releasedNext(Stage.ring)
                    let final = ending.map { $0.flushed && stage.inFlight == 0 && !$0.finalCheckpoint } ?? false
                    let interval = configuration.checkpointInterval.wholeNanoseconds
                    let crowded = unreleased * 2 >= (session.file.soundRing(Stage.ring)?.numBuffers ?? .max)
                    let retryWait = lastCheckpointFailure.map { now - $0 < interval } ?? false
                    // The last one always: it also brings the open spans' idle ages up to date.
                    let due = final || ((stage.stateChanged || unreleased > 0)
                        && !retryWait && (stage.stateChanged || crowded || now - lastCheckpoint >= interval))
                    if final { ending?.finalCheckpoint = true }
                    checkpointWake = nil
                    if due, let section = stage.checkpointSection(now: now) {
                        checkpointInFlight = true
                        stage.stateChanged = false
                        let next = appliedNext, mailbox = self.mailbox
                        group.addTask {
                            let durable = await checkpointer.save(section, next: next)
                            mailbox.post(.checkpointed(nextSequence: next, durable: durable))
                        }
                    } else if stage.stateChanged || unreleased > 0 {
                        // Wanted but not taken: not due yet, waiting after a failure, or the state
                        // not ready (an export in flight, whose return wakes the pipeline anyway).
                        let planned = (retryWait ? lastCheckpointFailure! : lastCheckpoint) + interval
                        checkpointWake = planned > now ? planned : now + interval
                    }
                } else {
                    checkpointWake = nil
                }

                // The session's end, once everything it held went out (and into the last checkpoint).
                if let end = ending, end.flushed, stage.inFlight == 0, !checkpointInFlight,
                   end.finalCheckpoint || checkpointer == nil || Stage.handsBackAfterExport || end.kind == .fileReset {
                    end.done.resume()
                    ending = nil
                    session = nil
                    checkpointer = nil
                }
            }
            // Cancelled, or closed and drained: nobody waits on what is left.
            ending?.done.resume()
            for leftover in mailbox.closeAndDrain() {
                if case .end(_, let done) = leftover { done.resume() }
            }
        }
    }

    private func invalid(_ error: FormatError, _ record: RawRecord) {
        context.statistics.add(.invalidRecords, signal: Stage.signal)
        // A finding about the record as a whole (a missing oneof, an id of the wrong size) names the record's offset.
        let offset = error.offset == 0 ? record.payloadFileOffset : error.offset
        context.warnings.warn(FormatError(error.rule, at: offset, "\(Stage.ring.name) sequence \(record.sequence): \(error.message)"))
    }
}
