import Logging
import OTLPMmapCore
import OTLPMmapWire
import OTLPMmapLayout
import Synchronization

/// What one signal does with its records; `SignalPipeline` does the rest (its mailbox, exports in
/// flight, checkpoints, handing slots back). A stage lives in its pipeline's task alone.
protocol PipelineStage: SendableMetatype {
    static var signal: OTLPEndpoint.Signal { get }
    static var ring: RingKind { get }
    /// Whether the ring's slots go back to the writer after their records' export (logs: nothing
    /// is left of a log record once it is exported) or after a checkpoint holding the state built
    /// from them (spans and measurements live on in open spans and metric series).
    static var handsBackAfterExport: Bool { get }

    init(_ context: PipelineContext)

    /// A new file: its dictionary, and its checkpoint's state of this signal if it has one.
    mutating func begin(_ session: FileSession, now: UInt64)
    /// Decodes and applies one record read at `now` (monotonic) and `wall`; throws a
    /// `FormatError` for one that breaks a rule (it is then counted and skipped).
    mutating func apply(_ record: RawRecord, now: UInt64, wall: UInt64) throws
    /// Requests due now, at most `room` of them; when `force`, all that is held.
    mutating func takeBatches(now: UInt64, wall: UInt64, force: Bool, room: Int) -> [StageBatch]
    /// A request handed out by `takeBatches` came back.
    mutating func finished(batch: Int, _ outcome: SendOutcome)
    /// The earliest monotonic time something falls due (a batch timeout, span expiry, the metric interval).
    func nextDeadline() -> UInt64?
    /// The file's writer is gone (the file was reset): whatever waits for it is finished now.
    mutating func finishForReset(now: UInt64, wall: UInt64)

    /// Requests handed out and not yet back.
    var inFlight: Int { get }
    /// After-export stages: the oldest sequence still held (pending or in flight, or given up when
    /// the collector stopped), nil when none.
    var oldestHeldSequence: Int64? { get }
    /// After-checkpoint stages: the state changed (an export or expiry) since the last checkpoint.
    var stateChanged: Bool { get set }
    /// After-checkpoint stages: this signal's part of a checkpoint at `now`, or nil when it cannot
    /// be taken now (the metric state has an export in flight).
    func checkpointSection(now: UInt64) -> CheckpointSection?
}

/// A request a stage wants exported.
struct StageBatch {
    let id: Int
    let request: ExportRequest
}

/// One signal's part of a checkpoint.
enum CheckpointSection: Sendable {
    case spans(open: [CheckpointOpenSpan], finished: [CheckpointPendingSpan])
    case metrics(CheckpointMetricState)
}

/// What every stage of a collector shares.
struct PipelineContext: Sendable {
    let configuration: CollectorConfiguration
    let statistics: CollectorStatistics
    let warnings: WarningLog
}

/// Reports findings about the file, at most 20 per 10 seconds (then one line saying how many were
/// left out): a hostile or broken writer must not be able to flood the log.
final class WarningLog: Sendable {
    let logger: Logger
    let time: TimeSource
    private let limiter = Mutex(WarningLimiter())

    init(logger: Logger, time: TimeSource) {
        self.logger = logger
        self.time = time
    }

    func warn(_ error: FormatError) {
        let now = time.monotonic()
        if let line = limiter.withLock({ $0.admit("\(error.rule) at byte \(error.offset): \(error.message)", now: now) }) {
            logger.warning("\(line)")
        }
    }
}

struct WarningLimiter {
    private var windowStart: UInt64?
    private var inWindow = 0
    private var suppressed = 0

    mutating func admit(_ line: String, now: UInt64) -> String? {
        if windowStart.map({ now < $0 || now - $0 >= 10_000_000_000 }) ?? true {
            let note = suppressed > 0 ? " (\(suppressed) similar warnings left out in the last 10 s)" : ""
            windowStart = now
            inWindow = 1
            suppressed = 0
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

extension RawRecord {
    /// Decodes the record and applies the record rules (the generated validator, the same the
    /// checker runs). A record that breaks a MUST rule is refused with that finding, which the
    /// pipeline counts and reports with the record's offset; SHOULD-level findings (a scope_ref of
    /// 0, an enum value the schema does not list) let it through, as OTLP passes such values on.
    func decode<Record: RuleCheckedMessage>(_: Record.Type) throws(FormatError) -> Record {
        let decoded = try payload.withDecodableBytes { bytes throws(FormatError) in
            var reader = ProtoReader(bytes, baseOffset: payloadFileOffset)
            return try Record(from: &reader)
        }
        var broken: [FormatError] = []
        decoded.validate(at: payloadFileOffset, into: &broken)
        if let fatal = broken.first(where: { RuleCatalogue.level(of: $0.rule) == .must }) { throw fatal }
        return decoded
    }
}
