import OTLPMmapCore
import OTLPMmapWire
import OTLPMmapLayout
import OTLPProto
import Synchronization

/// A published record copied out of its slot by the reader; decoded by its signal's pipeline.
struct RawRecord: Sendable {
    let sequence: Int64
    let payload: [UInt8]
    let payloadFileOffset: Int
}

/// What the reader hands a pipeline, in ring order.
enum PipelineInput: Sendable {
    /// A file was opened: resolve references against it, take over its checkpoint's state.
    case begin(FileSession)
    /// Records read in one go, and the ring's next sequence after them (holes and invalid slots
    /// the reader skipped lie before it too).
    case records([RawRecord], next: Int64)
    /// The session ends: export everything held, then resume the continuation.
    case end(SessionEnd, CheckedContinuation<Void, Never>)
}

enum SessionEnd: Sendable {
    /// The collector stops: export what is held (open spans stay open, in the final checkpoint).
    case shutdown
    /// The file was re-created, re-initialised or truncated: its writer is gone, so open spans are
    /// exported unfinished, and nothing more is handed back to the old rings.
    case fileReset
}

/// What comes back to a pipeline from the tasks it started.
enum PipelineControl: Sendable {
    case exported(batch: Int, SendOutcome)
    case checkpointed(nextSequence: Int64, durable: Bool)
}

/// One export request, of any signal.
enum ExportRequest: Sendable {
    case traces(EncodedRequest)
    case logs(EncodedRequest)
    case metrics(MetricsRequest)
}

/// How an export ended.
enum SendOutcome: Sendable, Equatable {
    case sent
    /// The receiver refused for good (reported, counted as dropped).
    case refused
    /// The collector is stopping while the receiver still refuses (or the request was cancelled).
    case stopped
}

/// One mapped file as the reader and the pipelines share it.
///
/// Slots are handed back to the writer (reader_index stored) only through `release`, which refuses
/// once the session is stale: positions of the old file mean nothing in a new one, even when it is
/// the same mapping re-initialised in place.
final class FileSession: Sendable {
    let file: MmapFile
    let path: String
    let identity: FileIdentity
    let startTime: UInt64
    let truncationEvents: Int
    /// The checkpoint this session resumes from, if one of this very file fitted its rings.
    let restored: Checkpoint?
    /// Per ring: the first sequence the reader reads.
    let firstToRead: [Int64]
    /// Where the span and metric pipelines checkpoint; nil when state lives in memory only.
    let checkpointer: Checkpointer?
    private let state: Mutex<(stale: Bool, releasedNext: [Int64])>
    /// The hold-slots bug: nothing is ever handed back.
    private let holdsSlots: Bool

    init(file: MmapFile, path: String, identity: FileIdentity, truncationEvents: Int, restored: Checkpoint?,
         firstUnreleased: [Int64], firstToRead: [Int64], checkpointer: Checkpointer?, holdsSlots: Bool = false) {
        self.holdsSlots = holdsSlots
        self.file = file
        self.path = path
        self.identity = identity
        startTime = file.startTimeUnixNano
        self.truncationEvents = truncationEvents
        self.restored = restored
        self.firstToRead = firstToRead
        self.checkpointer = checkpointer
        state = Mutex((false, firstUnreleased))
    }

    /// Why this session no longer reads the writer's file, or nil: another file now at the path
    /// (the writer re-created it), the header re-initialised in place, or the file shrunk.
    func staleness() -> String? {
        if let now = FileIdentity(path: path), now != identity { return "re-created" }
        if file.header.startTimeUnixNano != startTime { return "re-initialised" }
        if file.file.truncationEvents != truncationEvents { return "truncated" }
        return nil
    }

    /// Hands back every slot of `kind` before `next`, unless the session is stale or they were already.
    func release(_ kind: RingKind, before next: Int64) {
        state.withLock { state in
            guard !state.stale, !holdsSlots, next > state.releasedNext[kind.rawValue] else { return }
            // Exports end long after the records were read: the writer may have re-initialised the
            // file in place meanwhile, and its new rings keep their own reader_index.
            guard file.handBack(kind, through: next - 1, replacing: state.releasedNext[kind.rawValue] - 1, startTime: startTime) else { return }
            state.releasedNext[kind.rawValue] = next
        }
    }

    /// The first sequence of `kind` not yet handed back.
    func releasedNext(_ kind: RingKind) -> Int64 { state.withLock { $0.releasedNext[kind.rawValue] } }

    func markStale() { state.withLock { $0.stale = true } }
    var isStale: Bool { state.withLock { $0.stale } }
}

/// Set once the collector is asked to stop; from then on failing exports are retried only until
/// `deadline` (monotonic nanoseconds).
final class StopState: Sendable {
    private struct State {
        var deadline: UInt64?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    var deadline: UInt64? { state.withLock { $0.deadline } }

    /// Asks to stop; the first call sets the deadline.
    func stop(deadline: UInt64) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.deadline == nil else { return [] }
            state.deadline = deadline
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once `stop` was called (at once if it was), or when the task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.deadline != nil || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
