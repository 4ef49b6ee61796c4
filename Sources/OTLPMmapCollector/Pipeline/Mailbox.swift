import OTLPMmapCore
import OTLPMmapWire
import Synchronization

/// The bounded queue in front of one signal's pipeline, with one consumer.
///
/// Two lanes. Data (records read from the ring, session boundaries) is bounded: the reader offers
/// a chunk only when there is room and otherwise leaves that ring unread, so a stalled pipeline
/// fills its own ring and nothing else — and the collector's memory stays bounded. Control (an
/// export or checkpoint finished, a wake-up) is small, always admitted, and comes first, so that
/// a pipeline with all its requests in flight can still learn that one came back.
final class Mailbox<Data: Sendable, Control: Sendable>: Sendable {
    enum Message: Sendable {
        case data(Data)
        case control(Control)
        /// The deadline given to `receive` passed.
        case timeout
    }

    private struct Waiter {
        let acceptsData: Bool
        let continuation: CheckedContinuation<Message?, Never>
    }

    private struct State {
        var data: [Data] = []
        var dataHead = 0
        var control: [Control] = []
        var closed = false
        var waiter: Waiter?

        var dataCount: Int { data.count - dataHead }

        mutating func take(acceptsData: Bool) -> Message? {
            if !control.isEmpty { return .control(control.removeFirst()) }
            guard acceptsData, dataHead < data.count else { return nil }
            let item = data[dataHead]
            dataHead += 1
            if dataHead > 64, dataHead * 2 > data.count {
                data.removeFirst(dataHead)
                dataHead = 0
            }
            return .data(item)
        }

        /// The waiter to resume and what with, after something arrived.
        mutating func wake() -> (CheckedContinuation<Message?, Never>, Message?)? {
            guard let waiter else { return nil }
            if let message = take(acceptsData: waiter.acceptsData) {
                self.waiter = nil
                return (waiter.continuation, message)
            }
            if closed && dataCount == 0 {
                self.waiter = nil
                return (waiter.continuation, nil)
            }
            return nil
        }
    }

    /// The most data messages held.
    let capacity: Int
    /// Told when the consumer has taken the mailbox down to half its capacity: the producer (the
    /// reader) waits on it instead of polling a ring it cannot hand on.
    let room: Signal?
    private let state = Mutex(State())

    init(capacity: Int, room: Signal? = nil) {
        self.capacity = max(1, capacity)
        self.room = room
    }

    /// Takes the next message for the consumer; tells `room` when that left the mailbox half
    /// empty — not on every chunk, so that a producer kept waiting wakes once per half-capacity
    /// of chunks rather than once per chunk.
    private func take(_ state: inout State, acceptsData: Bool) -> (Message?, madeRoom: Bool) {
        let message = state.take(acceptsData: acceptsData)
        if case .data = message { return (message, state.dataCount == capacity / 2) }
        return (message, false)
    }

    /// Whether `offer` would accept a message now.
    var hasRoom: Bool { state.withLock { !$0.closed && $0.dataCount < capacity } }

    /// Adds data if there is room; false when full or closed.
    @discardableResult
    func offer(_ data: Data) -> Bool { enqueue(data, force: false) }

    /// Adds data whatever the capacity (a session boundary, which must follow its records); false when closed.
    @discardableResult
    func force(_ data: Data) -> Bool { enqueue(data, force: true) }

    private func enqueue(_ data: Data, force: Bool) -> Bool {
        let wake = state.withLock { state -> ((CheckedContinuation<Message?, Never>, Message?)?, Bool) in
            guard !state.closed, force || state.dataCount < capacity else { return (nil, false) }
            state.data.append(data)
            return (state.wake(), true)
        }
        if let (continuation, message) = wake.0 { continuation.resume(returning: message) }
        return wake.1
    }

    /// Adds a control message (dropped once closed and drained: nobody is left to act on it).
    func post(_ control: Control) {
        let wake = state.withLock { state in
            state.control.append(control)
            return state.wake()
        }
        if let (continuation, message) = wake { continuation.resume(returning: message) }
    }

    /// No more data will come; `receive` returns nil once everything queued was taken.
    func close() {
        let wake = state.withLock { state in
            state.closed = true
            return state.wake()
        }
        if let (continuation, message) = wake { continuation.resume(returning: message) }
    }

    /// Closes the mailbox and takes the data nobody will receive (a pipeline that stops early
    /// resumes the session ends among it, so that the reader waiting on them goes on).
    func closeAndDrain() -> [Data] {
        state.withLock { state in
            state.closed = true
            defer {
                state.data = []
                state.dataHead = 0
            }
            return Array(state.data[state.dataHead...])
        }
    }

    /// The next message: control first, data only when `acceptsData`. Returns `.timeout` once
    /// `time.monotonic` reaches `deadline`, nil when closed and drained or when the task is cancelled.
    func receive(acceptsData: Bool, deadline: UInt64?, time: TimeSource) async -> Message? {
        let (immediate, madeRoom): (Message??, Bool) = state.withLock { state in
            let (message, madeRoom) = take(&state, acceptsData: acceptsData)
            if let message { return (.some(message), madeRoom) }
            if state.closed && state.dataCount == 0 { return (.some(nil), false) }
            return (nil, false)
        }
        if madeRoom { room?.signal() }
        if let immediate { return immediate }
        guard let deadline else { return await wait(acceptsData: acceptsData) }
        if time.monotonic() >= deadline { return .timeout }
        return await withTaskGroup(of: Message?.self) { group in
            group.addTask { await self.wait(acceptsData: acceptsData) }
            group.addTask {
                do { try await time.sleepUntil(deadline) } catch { return nil }
                return .timeout
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            let second = await group.next() ?? nil
            // A message that arrived as the deadline passed must not be lost with the timeout.
            switch (first, second) {
            case (.some(.timeout), .some(let message)) where !Self.isTimeout(message): return message
            case (nil, let other): return other
            default: return first
            }
        }
    }

    private static func isTimeout(_ message: Message) -> Bool {
        if case .timeout = message { return true }
        return false
    }

    private func wait(acceptsData: Bool) async -> Message? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Message?, Never>) in
                let (ready, madeRoom): (Message??, Bool) = state.withLock { state in
                    let (message, madeRoom) = take(&state, acceptsData: acceptsData)
                    if let message { return (.some(message), madeRoom) }
                    if state.closed && state.dataCount == 0 { return (.some(nil), false) }
                    state.waiter = Waiter(acceptsData: acceptsData, continuation: continuation)
                    return (nil, false)
                }
                if madeRoom { room?.signal() }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.continuation.resume(returning: nil)
        }
    }
}

/// A wake-up one task waits for and others give: remembered when given with nobody waiting, so
/// that a wait that starts just after it returns at once.
final class Signal: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns once signalled (at once if it was since the last wait), or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
