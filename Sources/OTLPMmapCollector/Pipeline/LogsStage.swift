import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Log records from the events ring, batched by count and age; each batch's slots go back to the
/// writer once it was exported (or refused for good and reported), in ring order.
struct LogsStage: PipelineStage {
    static let signal = OTLPEndpoint.Signal.logs
    static let ring = RingKind.events
    static let handsBackAfterExport = true

    private let context: PipelineContext
    private var cache: DictionaryCache?
    private var pending: [(sequence: Int64, scopeRef: Int64, record: TranscodedLogRecord)] = []
    /// When (monotonic) the oldest pending record was read.
    private var oldestPending: UInt64 = 0
    /// Batch id → its first sequence and record count, for batches in flight.
    private var sent: [Int: (first: Int64, count: Int)] = [:]
    /// First sequences of batches given up when the collector stopped: never handed back, so that
    /// the next collector reads them again.
    private var abandoned: [Int64] = []
    private var nextBatch = 0

    init(_ context: PipelineContext) {
        self.context = context
    }

    mutating func begin(_ session: FileSession, now: UInt64) {
        cache = DictionaryCache(dictionary: session.file.dictionary)
        pending = []
        sent = [:]
        abandoned = []
    }

    mutating func apply(_ record: RawRecord, now: UInt64, wall: UInt64) throws {
        guard let cache else { return }
        let event = try record.decode(Event.self)
        _ = try cache.scope(event.scopeRef)
        let log = try LogConversion.logRecord(event, observed: wall, cache: cache)
        if pending.isEmpty { oldestPending = now }
        pending.append((record.sequence, event.scopeRef, log))
    }

    mutating func takeBatches(now: UInt64, wall: UInt64, force: Bool, room: Int) -> [StageBatch] {
        guard let cache else { return [] }
        let size = context.configuration.batchSize
        var batches: [StageBatch] = []
        while batches.count < room, !pending.isEmpty,
              force || pending.count >= size || now - oldestPending >= context.configuration.batchTimeout.wholeNanoseconds {
            let items = pending.prefix(size)
            pending.removeFirst(items.count)
            let request = RequestBuilder.encodedLogs(items.map { ($0.scopeRef, $0.record) }, cache: cache)
            nextBatch += 1
            sent[nextBatch] = (items.first!.sequence, items.count)
            batches.append(StageBatch(id: nextBatch, request: .logs(request)))
            if !pending.isEmpty { oldestPending = now }
        }
        return batches
    }

    mutating func finished(batch: Int, _ outcome: SendOutcome) {
        guard let (first, count) = sent.removeValue(forKey: batch) else { return }
        switch outcome {
        case .sent: context.statistics.add(.exportedLogs, count, signal: Self.signal)
        case .refused: break
        case .stopped: abandoned.append(first)
        }
    }

    func nextDeadline() -> UInt64? {
        pending.isEmpty ? nil : oldestPending + context.configuration.batchTimeout.wholeNanoseconds
    }

    mutating func finishForReset(now: UInt64, wall: UInt64) {}

    var inFlight: Int { sent.count }

    var oldestHeldSequence: Int64? {
        [pending.first?.sequence, sent.values.map(\.first).min(), abandoned.min()].compactMap { $0 }.min()
    }

    var stateChanged: Bool {
        get { false }
        set {}
    }

    func checkpointSection(now: UInt64) -> CheckpointSection? { nil }
}
