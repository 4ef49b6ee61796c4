import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Spans assembled from the span ring's events, exported when they end (or expire), in batches.
/// The ring's slots go back to the writer after a checkpoint holds the open spans built from them.
struct SpansStage: PipelineStage {
    static let signal = OTLPEndpoint.Signal.traces
    static let ring = RingKind.spans
    static let handsBackAfterExport = false

    private let context: PipelineContext
    private var cache: DictionaryCache?
    private var assembler: SpanAssembler
    /// Batch id → its spans, while in flight: a checkpoint taken meanwhile holds them as finished,
    /// so that a collector killed before the receiver answered exports them again.
    private var sent: [Int: [(scopeRef: Int64, span: AssembledSpan)]] = [:]
    private var nextBatch = 0
    /// Spans whose export was cut short by the stop: in the final checkpoint, never sent again.
    private var stopped: [(scopeRef: Int64, span: AssembledSpan)] = []
    /// When (monotonic) the oldest finished span became ready, and when spans were last expired.
    private var oldestFinished: UInt64?
    private var lastExpiry: UInt64 = 0
    private var reported = (expired: 0, evicted: 0, orphans: 0)
    var stateChanged = false

    init(_ context: PipelineContext) {
        self.context = context
        assembler = SpanAssembler(maxOpen: context.configuration.maxOpenSpans)
    }

    mutating func begin(_ session: FileSession, now: UInt64) {
        let cache = DictionaryCache(dictionary: session.file.dictionary)
        self.cache = cache
        assembler = SpanAssembler(maxOpen: context.configuration.maxOpenSpans)
        sent = [:]
        stopped = []
        reported = (0, 0, 0)
        lastExpiry = now
        stateChanged = false
        if let checkpoint = session.restored {
            let malformed = assembler.restore(open: checkpoint.openSpans, finished: checkpoint.finishedSpans, now: now) {
                $0.idleAge(in: checkpoint)
            }
            if malformed > 0 {
                context.warnings.logger.error("left out \(malformed) spans of the checkpoint that do not fit the file")
                context.statistics.add(.checkpointsIgnored, malformed, signal: Self.signal)
            }
        }
        oldestFinished = assembler.finished.isEmpty ? nil : now
    }

    mutating func apply(_ record: RawRecord, now: UInt64, wall: UInt64) throws {
        guard let cache else { return }
        let event = try record.decode(SpanEvent.self)
        _ = try cache.scope(event.scopeRef)
        let before = assembler.finished.count
        try assembler.add(event, at: record.payloadFileOffset, cache: cache, now: now, wall: wall)
        if before == 0, !assembler.finished.isEmpty { oldestFinished = now }
        report()
    }

    mutating func takeBatches(now: UInt64, wall: UInt64, force: Bool, room: Int) -> [StageBatch] {
        guard let cache else { return [] }
        let configuration = context.configuration
        if now - lastExpiry >= 1_000_000_000 {
            lastExpiry = now
            expire(now: now, wall: wall, timeout: configuration.spanTimeout.wholeNanoseconds)
        }
        var batches: [StageBatch] = []
        while batches.count < room, !assembler.finished.isEmpty,
              force || assembler.finished.count >= configuration.batchSize
                || now - (oldestFinished ?? now) >= configuration.batchTimeout.wholeNanoseconds {
            let spans = Array(assembler.finished.prefix(configuration.batchSize))
            assembler.finished.removeFirst(spans.count)
            nextBatch += 1
            sent[nextBatch] = spans
            batches.append(StageBatch(id: nextBatch, request: .traces(RequestBuilder.encodedTraces(spans, cache: cache))))
            oldestFinished = assembler.finished.isEmpty ? nil : now
        }
        return batches
    }

    mutating func finished(batch: Int, _ outcome: SendOutcome) {
        guard let spans = sent.removeValue(forKey: batch) else { return }
        switch outcome {
        case .sent:
            context.statistics.add(.exportedSpans, spans.count, signal: Self.signal)
            stateChanged = true
        case .refused:
            stateChanged = true
        case .stopped:
            // Kept for the final checkpoint (not re-sent: the collector is stopping).
            stopped += spans
        }
    }

    func nextDeadline() -> UInt64? {
        let expiry = lastExpiry + 1_000_000_000
        guard let oldestFinished else { return assembler.open.isEmpty ? nil : expiry }
        return min(expiry, oldestFinished + context.configuration.batchTimeout.wholeNanoseconds)
    }

    mutating func finishForReset(now: UInt64, wall: UInt64) {
        // The writer of those spans is gone: they are exported as unfinished, not lost.
        expire(now: now, wall: wall, timeout: 0)
    }

    private mutating func expire(now: UInt64, wall: UInt64, timeout: UInt64) {
        let before = assembler.finished.count
        assembler.expire(now: now, wall: wall, timeout: timeout)
        if assembler.finished.count > before {
            stateChanged = true
            if before == 0 { oldestFinished = now }
        }
        report()
    }

    /// Adds to the statistics what the assembler's running counts grew by.
    private mutating func report() {
        let statistics = context.statistics
        statistics.add(.expiredSpans, assembler.expired - reported.expired, signal: Self.signal)
        statistics.add(.evictedSpans, assembler.evicted - reported.evicted, signal: Self.signal)
        statistics.add(.orphanSpanEvents, assembler.orphanEvents - reported.orphans, signal: Self.signal)
        reported = (assembler.expired, assembler.evicted, assembler.orphanEvents)
    }

    var inFlight: Int { sent.count }
    var oldestHeldSequence: Int64? { nil }

    func checkpointSection(now: UInt64) -> CheckpointSection? {
        let inFlight = stopped + sent.keys.sorted().flatMap { sent[$0]! }
        let (open, finished) = assembler.checkpointed(now: now, extra: inFlight)
        return .spans(open: open, finished: finished)
    }
}
