import Logging
import NIOPosix
import OTLPMmapCore
import OTLPMmapWire
import OTLPMmapLayout

/// The one task that reads the file: opens it (and resumes from its checkpoint), copies records
/// out of the three rings into their pipelines' mailboxes, skips holes, notices when the file is
/// replaced under it, and sleeps a little longer each time there is nothing to read.
///
/// A ring whose pipeline's mailbox is full is not read at all: the backpressure stays with that
/// ring (whose writer then finds it full and counts drops) and reaches no other signal.
struct RingReader: Sendable {
    let configuration: CollectorConfiguration
    let statistics: CollectorStatistics
    let logger: Logger
    let warnings: WarningLog
    let time: TimeSource
    let stop: StopState
    /// Indexed by `RingKind.rawValue`.
    let mailboxes: [PipelineMailbox]
    /// Given by a mailbox whose pipeline took a chunk while it was full.
    let room: Signal
    /// The collector's own thread for checkpoint files.
    let io: NIOThreadPool

    /// What the reading loop hands to the last pass when the stop ends it.
    private struct Reading: Sendable {
        var session: FileSession?
        var consumers: [RingConsumer?]
    }

    func run() async {
        // The loop runs in a child task that the stop cancels, so that an idle sleep ends at once
        // without racing every sleep against the stop (which an idle collector would pay for 20
        // times a second).
        let reading = await withTaskGroup(of: Reading?.self) { group in
            group.addTask { await self.readUntilCancelled() }
            group.addTask {
                await self.stop.wait()
                return nil
            }
            var result: Reading?
            while let next = await group.next() {
                if let next { result = next }
                group.cancelAll()
            }
            return result
        }
        var session = reading?.session
        var consumers = reading?.consumers ?? []
        // What the writer published before the stop is still exported: one last pass over the
        // rings (a file that just replaced the old one included), as far as the mailboxes take it.
        if session == nil, !Task.isCancelled, let opened = try? await open() { (session, consumers) = opened }
        if let session {
            for _ in 0..<configuration.queueCapacity where !Task.isCancelled {
                var progress = false
                for kind in RingKind.allCases { progress = drain(kind, &consumers[kind.rawValue], session) || progress }
                if !progress { break }
            }
            await end(.shutdown)
            // Without checkpoints, spans and measurements read are handed back now: their content
            // was exported or is lost with the collector's memory anyway.
            if !session.isStale {
                for kind in [RingKind.spans, .measurements] where releasesOnRead(kind) { consumers[kind.rawValue]?.release() }
            }
        }
        for mailbox in mailboxes { mailbox.close() }
    }

    /// Follows the file until the task is cancelled; returns where it got to.
    private func readUntilCancelled() async -> Reading {
        var session: FileSession?
        var consumers: [RingConsumer?] = []
        var idle = IdleWait(maximum: configuration.maxIdleWait)
        /// What the last failed open said, by rule and place: a file whose bad field keeps changing
        /// value (a scribbler) is reported once, not at every poll.
        var lastOpenError = ""
        var lastStaleCheck: UInt64 = 0
        while !Task.isCancelled {
            guard let current = session else {
                do {
                    (session, consumers) = try await open()
                    lastOpenError = ""
                    idle.reset()
                } catch {
                    let message = (error as? FormatError).map { "\($0.rule) at byte \($0.offset)" } ?? "\(error)"
                    if message != lastOpenError {
                        logger.notice("waiting for a valid file at \(configuration.path): \(error)")
                        lastOpenError = message
                    }
                    await idle.sleep(time)
                }
                continue
            }
            var progress = false, blocked = false
            for kind in RingKind.allCases {
                guard mailboxes[kind.rawValue].hasRoom else {
                    blocked = true
                    statistics.add(.readerHeldBack, signal: kind.signal)
                    continue
                }
                progress = drain(kind, &consumers[kind.rawValue], current) || progress
            }
            if progress {
                idle.reset()
                continue
            }
            let now = time.monotonic()
            if now - lastStaleCheck >= 100_000_000 {
                lastStaleCheck = now
                if configuration.bug != .ignoreReset, let reason = current.staleness() {
                    logger.notice("the file was \(reason): exporting what was read and starting over", metadata: ["file": "\(configuration.path)"])
                    current.markStale()
                    await end(.fileReset)
                    await current.checkpointer?.remove()
                    session = nil
                    statistics.add(.fileResets)
                    continue
                }
            }
            if blocked {
                await waitForRoom(&idle)
            } else {
                await idle.sleep(time)
            }
        }
        return Reading(session: session, consumers: consumers)
    }

    /// A pipeline is behind and its ring waits: sleep until it takes a chunk, or for the idle wait
    /// (the other rings), whichever comes first. A pipeline that stays behind (its receiver
    /// refuses) thus costs no polling.
    private func waitForRoom(_ idle: inout IdleWait) async {
        let pause = idle.current, room = self.room, time = self.time
        let woken = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await room.wait()
                return !Task.isCancelled
            }
            group.addTask {
                try? await time.sleep(for: pause)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if woken { idle.reset() } else { idle.grow() }
    }

    /// Reads up to a batch of records of `kind` into its mailbox; whether it read or skipped anything.
    private func drain(_ kind: RingKind, _ slot: inout RingConsumer?, _ session: FileSession) -> Bool {
        let mailbox = mailboxes[kind.rawValue]
        guard mailbox.hasRoom, var consumer = slot else { return false }
        defer { slot = consumer }
        let signal = kind.signal
        var records: [RawRecord] = []
        var handled = 0
        let now = time.monotonic()
        reading: while handled < configuration.batchSize {
            switch consumer.poll(now: now) {
            case .nothing:
                break reading
            case .record(let sequence, let payload, let offset):
                records.append(RawRecord(sequence: sequence, payload: payload, payloadFileOffset: offset))
            case .invalid(_, let error):
                statistics.add(.invalidRecords, signal: signal)
                warnings.warn(error)
            case .hole(_, let error):
                statistics.add(.holesSkipped, signal: signal)
                warnings.warn(FormatError(error.rule, at: error.offset, error.message + "; skipped"))
            case .broken(let error):
                // Not asked for (checksIndices is off): the cursor was checked when the file was opened.
                warnings.warn(error)
                break reading
            case .flagAhead(_, let error):
                statistics.add(.invalidRecords, signal: signal)
                warnings.warn(error)
                break reading
            }
            handled += 1
        }
        guard handled > 0 else { return false }
        // HDR-INIT-ORDER: a writer re-initialising the file in place (same inode, O_TRUNC) zeroes it,
        // and a zero availability flag reads as published. Copies are trusted only if the start
        // time is still this session's after they were taken; otherwise they are dropped, and the
        // staleness check (within 100 ms) starts a new session that reads the file afresh.
        guard session.file.header.startTimeUnixNano == session.startTime else { return false }
        statistics.add(.records, records.count, signal: signal)
        mailbox.offer(.records(records, next: consumer.next))
        if releasesOnRead(kind) { consumer.release() }
        return true
    }

    /// Spans and measurements without checkpoints go back to the writer as soon as they are read.
    private func releasesOnRead(_ kind: RingKind) -> Bool {
        if configuration.bug == .holdSlots { return false }
        if configuration.bug == .releaseBeforeExport { return true }
        return kind != .events && configuration.checkpointPath == nil
    }

    /// Sends every pipeline the end of the session and waits until each exported what it held.
    private func end(_ kind: SessionEnd) async {
        await withDiscardingTaskGroup { group in
            for mailbox in mailboxes {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        if !mailbox.force(.end(kind, done)) { done.resume() }
                    }
                }
            }
        }
    }

    // MARK: opening

    /// Maps the file, resumes from its checkpoint when one fits, and tells the pipelines. A ring
    /// that breaks a rule (its header, its place in the file, its indices) is reported and left
    /// unread, and the sound rings are read; only a bad header or dictionary, or three bad rings,
    /// refuse the file.
    private func open() async throws -> (FileSession, [RingConsumer?]) {
        let file = try MmapFile.open(path: configuration.path, writable: true, soundRingsOnly: true)
        let truncationEvents = file.file.truncationEvents
        let identity = try file.file.identity()
        let checkpointFile = configuration.checkpointPath.map(CheckpointFile.init)
        var findings = file.ringFindings
        var cursors: [RingCursor?] = RingKind.allCases.map { kind in
            guard let ring = file.soundRing(kind) else { return nil }
            do throws(FormatError) {
                // Log records are released by their pipeline after export, the others after a
                // checkpoint; without checkpoints, every 32 records as they are read.
                return try RingCursor(ring: ring, releaseEvery: kind == .events || checkpointFile != nil || configuration.bug == .holdSlots ? Int.max : 32, file: file)
            } catch {
                findings[kind] = error
                return nil
            }
        }
        guard cursors.contains(where: { $0 != nil }) else {
            throw RingKind.allCases.compactMap { findings[$0] }.first!
        }
        for kind in RingKind.allCases {
            guard let finding = findings[kind] else { continue }
            logger.error("not reading the \(kind.name) ring of \(configuration.path): \(finding.rule) at byte \(finding.offset): \(finding.message); the other rings are read")
            statistics.add(.ringsUnread, signal: kind.signal)
        }
        let firstUnreleased = cursors.map { $0?.next ?? 0 }
        var restored: Checkpoint?
        if let checkpointFile, configuration.bug != .ignoreCheckpoint, let checkpoint = await loadCheckpoint(checkpointFile, file: file, identity: identity) {
            if let spans = file.soundRing(.spans), let measurements = file.soundRing(.measurements),
               let spanCursor = try? RingCursor(ring: spans, startingAt: checkpoint.nextSpanSequence, releaseEvery: Int.max, file: file),
               let measurementCursor = try? RingCursor(ring: measurements, startingAt: checkpoint.nextMeasurementSequence, releaseEvery: Int.max, file: file) {
                cursors[RingKind.spans.rawValue] = spanCursor
                cursors[RingKind.measurements.rawValue] = measurementCursor
                restored = checkpoint
                statistics.add(.checkpointsRestored)
                logger.info("resuming from the checkpoint \(checkpointFile.path)", metadata: [
                    "open_spans": "\(checkpoint.openSpans.count)", "finished_spans": "\(checkpoint.finishedSpans.count)",
                    "metric_series": "\(checkpoint.metrics.series.count)",
                ])
            } else {
                logger.error("ignoring the checkpoint \(checkpointFile.path): its ring positions (spans \(checkpoint.nextSpanSequence), measurements \(checkpoint.nextMeasurementSequence)) lie outside the rings' reader and writer indices, or a ring is unread")
                statistics.add(.checkpointsIgnored)
            }
        }
        let firstToRead = cursors.map { $0?.next ?? 0 }
        let checkpointer = checkpointFile.map {
            Checkpointer(file: $0, identity: identity, startTime: file.startTimeUnixNano, restored: restored, firstToRead: firstToRead,
                         logger: logger, statistics: statistics, wall: time.wall, io: io)
        }
        let session = FileSession(file: file, path: configuration.path, identity: identity, truncationEvents: truncationEvents,
                                  restored: restored, firstUnreleased: firstUnreleased, firstToRead: firstToRead, checkpointer: checkpointer,
                                  holdsSlots: configuration.bug == .holdSlots)
        logger.info("reading \(configuration.path)", metadata: ["start_time_unix_nano": "\(session.startTime)"])
        for mailbox in mailboxes { mailbox.force(.begin(session)) }
        let holeTimeout = configuration.bug == .stallAtHole ? .seconds(1 << 30) : configuration.holeTimeout
        let consumers = cursors.map { $0.map { RingConsumer(cursor: $0, holeTimeout: holeTimeout) } }
        return (session, consumers)
    }

    /// The checkpoint of this very file (same inode and start time, a version this collector
    /// reads), read on the collector's I/O thread; anything else is reported and ignored, and the
    /// collector then reads from the rings' reader_index as without one.
    private func loadCheckpoint(_ checkpointFile: CheckpointFile, file: MmapFile, identity: FileIdentity) async -> Checkpoint? {
        let checkpoint: Checkpoint
        do {
            guard let loaded = try await io.runIfActive({ try checkpointFile.load() }) else { return nil }
            checkpoint = loaded
        } catch {
            logger.error("ignoring the unreadable checkpoint \(checkpointFile.path): \(error)")
            statistics.add(.checkpointsIgnored)
            return nil
        }
        guard checkpoint.file.device == identity.device, checkpoint.file.inode == identity.inode,
              checkpoint.file.startTimeUnixNano == file.startTimeUnixNano else {
            logger.notice("ignoring the checkpoint \(checkpointFile.path): it belongs to an earlier file at this path")
            return nil
        }
        guard [1, 2].contains(checkpoint.version) else {
            logger.error("ignoring the checkpoint \(checkpointFile.path): version \(checkpoint.version) is not one this collector reads (1 or 2)")
            statistics.add(.checkpointsIgnored)
            return nil
        }
        return checkpoint
    }
}

extension RingKind {
    /// The OTLP signal of this ring's records.
    var signal: OTLPEndpoint.Signal {
        switch self {
        case .spans: .traces
        case .events: .logs
        case .measurements: .metrics
        }
    }
}

/// Sleeps between polls of an idle file: 50 µs at first, doubling up to `maximum`, so that a busy
/// file is read promptly and an idle one costs almost nothing.
struct IdleWait {
    let maximum: Duration
    private(set) var current: Duration = .microseconds(50)

    init(maximum: Duration) {
        self.maximum = maximum
    }

    mutating func reset() { current = .microseconds(50) }

    mutating func sleep(_ time: TimeSource) async {
        try? await time.sleep(for: current)
        grow()
    }

    mutating func grow() { current = min(current * 2, maximum) }
}
