import Foundation
import Logging
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Reads an OTLP-mmap file written by any conforming writer and exports its records as OTLP.
///
/// One task does everything, ring by ring: read up to a batch of records, turn them into OTLP
/// (spans assembled from their events, logs as they come, measurements aggregated), export what is
/// due, sleep a little longer each time there is nothing to read. Nothing in the file is trusted: a
/// record or reference that breaks a rule is reported with its rule and offset, counted and skipped;
/// a slot that a dead writer claimed and never published is skipped after `holeTimeout`.
///
/// Log records are handed back to the writer (reader_index) only after their export succeeded, so
/// a collector killed in between reads them again: at least once. Spans and measurements live on in
/// the collector (open spans, metric series) long after they were read; their slots are handed back
/// only once a checkpoint holding that state is durably on disk, and a restarted collector resumes
/// from the checkpoint and the records after it. While a receiver refuses
/// exports, the collector retries with backoff and reads no further logs; the writer then finds
/// the ring full and counts its drops instead of the collector's memory growing.
public final class Collector: @unchecked Sendable {
    public let configuration: CollectorConfiguration
    public let statistics = CollectorStatistics()
    let exporter: any Exporter
    let logger: Logger
    private var warnings = WarningLimiter()

    public init(configuration: CollectorConfiguration, exporter: any Exporter, logger: Logger = Logger(label: "otlp-mmap.collector")) {
        self.configuration = configuration
        self.exporter = exporter
        self.logger = logger
    }

    /// Reads and exports until the task is cancelled, then exports what it holds and returns.
    public func run() async {
        var session: Session?
        var idle = IdleWait(maximum: configuration.maxIdleWait)
        var lastStaleCheck: UInt64 = 0
        while !Task.isCancelled {
            guard let current = session ?? openSession() else {
                await idle.sleep()
                continue
            }
            session = current
            let now = nowUnixNano()
            var progress = false
            for kind in [RingKind.spans, .events, .measurements] {
                progress = drain(kind, current, now: now) || progress
            }
            await exportDue(current, now: now, force: false)
            checkpointIfDue(current, now: now, force: false)
            if progress {
                idle.reset()
                continue
            }
            if now &- lastStaleCheck >= 100_000_000 {
                lastStaleCheck = now
                if let reason = current.staleness() {
                    logger.notice("the file was \(reason): exporting what was read and starting over", metadata: ["file": "\(configuration.path)"])
                    // Positions read from the old file mean nothing in the new one (the same mapping
                    // when it was re-initialised in place): nothing is handed back from now on.
                    current.stale = true
                    // The writer of those spans is gone: they are exported as unfinished, not lost.
                    expire(current, now: now, timeout: 0)
                    await exportDue(current, now: now, force: true)
                    current.checkpointFile?.remove()
                    current.close()
                    session = nil
                    statistics.add(.fileResets)
                    continue
                }
            }
            await idle.sleep()
        }
        // Cancellation would also cancel the last exports (an HTTP or gRPC call checks it), so the
        // final flush runs in a task of its own, bounded by `shutdownTimeout` instead.
        shutdownDeadline = ContinuousClock.now + configuration.shutdownTimeout
        let last = session
        await Task {
            if let last {
                let now = nowUnixNano()
                // Exports cut short leave the last checkpoint in place: it and the records after it
                // still hold everything those exports carried.
                if await exportDue(last, now: now, force: true) { checkpointIfDue(last, now: now, force: true) }
                last.close()
            }
            await exporter.shutdown()
        }.value
    }

    /// Set when the collector stops: exports still failing after it are given up.
    private var shutdownDeadline: ContinuousClock.Instant?

    private var stopping: Bool {
        Task.isCancelled || shutdownDeadline.map { ContinuousClock.now >= $0 } ?? false
    }

    // MARK: the file

    private var lastOpenError = ""

    /// Opens the file if it is there and valid; nil (and a message once per distinct reason) otherwise.
    private func openSession() -> Session? {
        do {
            let session = try Session(configuration)
            restoreCheckpoint(session)
            logger.info("reading \(configuration.path)", metadata: ["start_time_unix_nano": "\(session.startTime)"])
            lastOpenError = ""
            return session
        } catch {
            let message = "\(error)"
            if message != lastOpenError {
                logger.notice("waiting for a valid file at \(configuration.path): \(message)")
                lastOpenError = message
            }
            return nil
        }
    }

    // MARK: reading

    /// Reads up to a batch of records of `kind`; returns whether it read or skipped anything.
    private func drain(_ kind: RingKind, _ session: Session, now: UInt64) -> Bool {
        if kind == .events && session.pendingLogs.count >= configuration.batchSize { return false }
        var cursor = session.cursors[kind.rawValue]
        defer { session.cursors[kind.rawValue] = cursor }
        var handled = 0
        reading: while handled < configuration.batchSize {
            switch cursor.peek() {
            case .empty:
                session.holeSince[kind.rawValue] = nil
                break reading
            case .unpublished:
                guard let since = session.holeSince[kind.rawValue] else {
                    session.holeSince[kind.rawValue] = now
                    break reading
                }
                guard now &- since >= configuration.holeTimeout.nanoseconds else { break reading }
                warn(FormatError(.ringHole, at: cursor.ring.slotFileOffset(cursor.next),
                                 "\(kind.name) sequence \(cursor.next) was claimed but not published for \(configuration.holeTimeout); skipped"))
                statistics.add(.holesSkipped)
                session.holeSince[kind.rawValue] = nil
                cursor.advance()
                handled += 1
            case .readable:
                session.holeSince[kind.rawValue] = nil
                read(kind, sequence: cursor.next, session, now: now)
                cursor.advance()
                handled += 1
            }
        }
        statistics.add(.records, handled)
        // Log records are handed back only after their export (see `exportDue`), spans and
        // measurements after a checkpoint (see `checkpointIfDue`), or at once when there is none.
        if session.releasesOnRead(kind) { cursor.release() }
        return handled > 0
    }

    /// Decodes and applies one record; a record that breaks a rule is reported and skipped.
    private func read(_ kind: RingKind, sequence: Int64, _ session: Session, now: UInt64) {
        let ring = session.file.ring(kind)
        do {
            let (payload, offset) = try ring.copyRecord(sequence)
            let record = try payload.withDecodableBytes { bytes throws(FormatError) -> DecodedRecord in
                switch kind {
                case .spans: .span(try SpanEvent.decode(bytes, baseOffset: offset))
                case .events: .event(try Event.decode(bytes, baseOffset: offset))
                case .measurements: .measurement(try Measurement.decode(bytes, baseOffset: offset))
                }
            }
            switch record {
            case .span(let event):
                _ = try session.cache.scope(event.scopeRef)
                try session.assembler.add(event, cache: session.cache, now: now)
            case .event(let event):
                _ = try session.cache.scope(event.scopeRef)
                let log = try LogConversion.logRecord(event, observed: now, cache: session.cache)
                if session.pendingLogs.isEmpty { session.oldestPendingLog = now }
                session.pendingLogs.append((event.scopeRef, log))
            case .measurement(let measurement):
                try session.aggregator.add(measurement, cache: session.cache)
                _ = try session.cache.scope(session.cache.metric(measurement.metricRef).instrumentationScopeRef)
            }
        } catch let error as FormatError {
            statistics.add(.invalidRecords)
            warn(FormatError(error.rule, at: error.offset, "\(kind.name) sequence \(sequence): \(error.message)"))
        } catch {
            statistics.add(.invalidRecords)
            warn(FormatError(.slotDecode, at: ring.slotFileOffset(sequence), "\(kind.name) sequence \(sequence): \(error)"))
        }
    }

    private enum DecodedRecord {
        case span(SpanEvent)
        case event(Event)
        case measurement(OTLPMmapLayout.Measurement)
    }

    private func warn(_ error: FormatError) {
        if let line = warnings.admit("\(error.rule) at byte \(error.offset): \(error.message)") {
            logger.warning("\(line)")
        }
    }

    // MARK: exporting

    /// Exports the logs, finished spans and metrics that are due (all of them when `force`).
    /// Returns false when an export was cut short by the collector stopping.
    @discardableResult
    private func exportDue(_ session: Session, now: UInt64, force: Bool) async -> Bool {
        var complete = true
        let timeout = configuration.batchTimeout.nanoseconds
        if !session.pendingLogs.isEmpty,
           force || session.pendingLogs.count >= configuration.batchSize || now &- session.oldestPendingLog >= timeout {
            let logs = session.pendingLogs
            let request = RequestBuilder.logs(logs, cache: session.cache)
            let outcome = await send("logs") { () async throws(ExportError) in try await exporter.export(request) }
            if outcome == .sent { statistics.add(.exportedLogs, logs.count) }
            if outcome == .stopped { complete = false }
            if outcome != .stopped {
                // Handed back to the writer only now: sent, or refused for good and reported. A
                // collector stopped before that leaves them for the next one to read again.
                session.pendingLogs = []
                if !session.stale { session.cursors[RingKind.events.rawValue].release() }
            }
        }

        if force || now &- session.lastSpanExpiry >= 1_000_000_000 {
            session.lastSpanExpiry = now
            expire(session, now: now, timeout: configuration.spanTimeout.nanoseconds)
        }
        report(.orphanSpanEvents, total: session.assembler.orphanEvents, session)
        report(.evictedSpans, total: session.assembler.evicted, session)
        report(.overflowMeasurements, total: session.aggregator.overflowed, session)
        for name in session.aggregator.newlyOverflowed {
            logger.warning("metric \(name) has more than \(configuration.maxSeriesPerMetric) attribute sets: measurements with further ones are aggregated into one series marked otel.metric.overflow")
        }
        session.aggregator.newlyOverflowed = []
        while !session.assembler.finished.isEmpty,
              force || session.assembler.finished.count >= configuration.batchSize || now &- session.lastSpanExport >= timeout {
            let spans = Array(session.assembler.finished.prefix(configuration.batchSize))
            session.assembler.finished.removeFirst(spans.count)
            session.lastSpanExport = now
            let request = RequestBuilder.traces(spans, cache: session.cache)
            switch await send("spans", { () async throws(ExportError) in try await exporter.export(request) }) {
            case .sent: statistics.add(.exportedSpans, spans.count)
            case .refused: break
            case .stopped: complete = false
            }
            session.stateChanged = true
        }
        if session.assembler.finished.isEmpty { session.lastSpanExport = now }

        if force || now &- session.lastMetricExport >= configuration.metricInterval.nanoseconds {
            session.lastMetricExport = now
            let metrics = session.aggregator.collect(now: now, cache: session.cache)
            if !metrics.isEmpty {
                let request = RequestBuilder.metrics(metrics, cache: session.cache)
                let points = metrics.reduce(0) { $0 + $1.metric.pointCount }
                switch await send("metrics", { () async throws(ExportError) in try await exporter.export(request) }) {
                case .sent: statistics.add(.exportedMetricPoints, points)
                case .refused: break
                case .stopped: complete = false
                }
                session.stateChanged = true
            }
        }
        return complete
    }

    /// Adds to `counter` what `total` (a count kept by the assembler or aggregator) grew by since
    /// it was last reported.
    private func report(_ counter: CollectorStatistics.Counter, total: Int, _ session: Session) {
        statistics.add(counter, total - session.reported[counter, default: 0])
        session.reported[counter] = total
    }

    /// Finishes the spans idle for `timeout` nanoseconds as unfinished (all of them for 0).
    private func expire(_ session: Session, now: UInt64, timeout: UInt64) {
        let before = session.assembler.expired
        session.assembler.expire(now: now, timeout: timeout)
        let expired = session.assembler.expired - before
        statistics.add(.expiredSpans, expired)
        if expired > 0 { session.stateChanged = true }
    }

    enum SendOutcome {
        case sent
        /// The receiver refused for good (reported, counted as dropped).
        case refused
        /// The collector is stopping while the receiver still refuses.
        case stopped
    }

    /// Runs `operation` until it succeeds, fails for good, or the task is cancelled; waits with
    /// exponential backoff (or as long as the receiver asked) between attempts.
    private func send(_ what: String, _ operation: () async throws(ExportError) -> Void) async -> SendOutcome {
        var wait = configuration.retryInitialWait
        while true {
            do throws(ExportError) {
                try await operation()
                return .sent
            } catch {
                statistics.add(.failedExports)
                guard error.retryable else {
                    logger.error("export of \(what) failed and is dropped: \(error.message)")
                    statistics.add(.droppedRequests)
                    return .refused
                }
                guard !stopping else {
                    logger.warning("stopping while the export of \(what) still fails: \(error.message)")
                    return .stopped
                }
                var pause = error.retryAfter ?? wait
                if let deadline = shutdownDeadline { pause = min(pause, max(.zero, deadline - ContinuousClock.now)) }
                logger.warning("export of \(what) failed, trying again in \(pause): \(error.message)")
                try? await Task.sleep(for: pause)
                wait = min(wait * 2, configuration.retryMaxWait)
            }
        }
    }
}

/// What the collector holds for one file: the mapping, the cursors and everything read but not
/// yet exported.
final class Session {
    let file: MmapFile
    let path: String
    let identity: FileIdentity
    let startTime: UInt64
    let truncationEvents: Int
    let cache: DictionaryCache
    var cursors: [RingCursor]
    var holeSince: [UInt64?]
    let assembler: SpanAssembler
    let aggregator: MetricAggregator
    var pendingLogs: [(scopeRef: Int64, record: OTLPLogRecord)] = []
    var oldestPendingLog: UInt64 = 0
    var lastSpanExport: UInt64
    var lastSpanExpiry: UInt64
    var lastMetricExport: UInt64
    /// The assembler's and aggregator's running counts as last added to the statistics.
    var reported: [CollectorStatistics.Counter: Int] = [:]
    /// Where this session's state is checkpointed; nil when it lives in memory only.
    let checkpointFile: CheckpointFile?
    /// Exports or expiry changed the state since the last checkpoint.
    var stateChanged = false
    /// The file was re-created, re-initialised or truncated under this session.
    var stale = false
    var lastCheckpoint: UInt64
    var lastCheckpointFailure: UInt64?

    init(_ configuration: CollectorConfiguration) throws {
        let path = configuration.path
        truncationEvents = TruncationGuard.events
        file = try MmapFile.open(path: path, writable: true)
        self.path = path
        identity = try file.file.identity()
        startTime = file.startTimeUnixNano
        cache = DictionaryCache(dictionary: file.dictionary)
        checkpointFile = configuration.checkpointPath.map(CheckpointFile.init)
        assembler = SpanAssembler(maxOpen: configuration.maxOpenSpans)
        let mapped = file
        let checkpointing = checkpointFile != nil
        cursors = try RingKind.allCases.map { kind throws in
            // Log records are released explicitly after export, the others after a checkpoint;
            // without checkpoints, every 32 records.
            try RingCursor(ring: mapped.ring(kind), releaseEvery: kind == .events || checkpointing ? Int.max : 32)
        }
        holeSince = [UInt64?](repeating: nil, count: RingKind.allCases.count)
        let now = nowUnixNano()
        aggregator = MetricAggregator(start: now, maxSeriesPerMetric: configuration.maxSeriesPerMetric)
        lastSpanExport = now
        lastSpanExpiry = now
        lastMetricExport = now
        lastCheckpoint = now
    }

    /// Whether records of `kind` are handed back as soon as they are read.
    func releasesOnRead(_ kind: RingKind) -> Bool {
        kind != .events && checkpointFile == nil
    }

    /// Why this session no longer reads the writer's file, or nil: another file now at the path
    /// (the writer re-created it), the header re-initialised in place, or the file shrunk.
    func staleness() -> String? {
        if let now = FileIdentity(path: path), now != identity { return "re-created" }
        if file.header.startTimeUnixNano != startTime { return "re-initialised" }
        if TruncationGuard.events != truncationEvents { return "truncated" }
        return nil
    }

    /// Without checkpoints, hands back the spans and measurements read (their content was exported
    /// or is lost with the collector's memory). With them, only a checkpoint does; log records are
    /// handed back only by a successful export.
    func close() {
        guard !stale else { return }
        for kind in [RingKind.spans, .measurements] where releasesOnRead(kind) { cursors[kind.rawValue].release() }
    }
}

/// Sleeps between polls of an idle file: 50 µs at first, doubling up to `maximum`, so that a busy
/// file is read promptly and an idle one costs almost nothing.
struct IdleWait {
    let maximum: Duration
    private var current: Duration = .microseconds(50)

    init(maximum: Duration) {
        self.maximum = maximum
    }

    mutating func reset() { current = .microseconds(50) }

    mutating func sleep() async {
        try? await Task.sleep(for: current)
        current = min(current * 2, maximum)
    }
}

/// At most 20 warnings per 10 seconds, then one line saying how many were left out: a hostile or
/// broken writer must not be able to flood the log.
struct WarningLimiter {
    private var windowStart: UInt64 = 0
    private var inWindow = 0
    private var suppressed = 0

    mutating func admit(_ line: String) -> String? {
        let now = nowUnixNano()
        if now &- windowStart >= 10_000_000_000 {
            let note = suppressed > 0 ? " (\(suppressed) similar warnings left out in the last 10 s)" : ""
            windowStart = now
            inWindow = 0
            suppressed = 0
            inWindow += 1
            return line + note
        }
        guard inWindow < 20 else {
            suppressed += 1
            return nil
        }
        inWindow += 1
        return line
    }
}

extension OTLPMetric {
    var pointCount: Int {
        switch data {
        case .gauge(let gauge): gauge.dataPoints.count
        case .sum(let sum): sum.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case .exponentialHistogram(let histogram): histogram.dataPoints.count
        case .summary(let summary): summary.dataPoints.count
        case nil: 0
        }
    }
}
