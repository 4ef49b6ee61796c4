import Foundation
import Synchronization

/// Threads for testee sessions. A session blocks (it polls the testee's pipe and sleeps between
/// looks at the file), so it runs on a thread of its own, never on Swift's cooperative pool, whose
/// few threads a waiting runner would hold from the rest of the process.
enum Workers {
    /// Runs `body` on `count` threads at once and returns when all have returned. While waiting,
    /// the calling thread calls `tick` about every `interval` (for a progress line).
    static func run(_ count: Int, every interval: Duration? = nil, tick: () -> Void = {}, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = DispatchSemaphore(value: 0)
        for worker in 0..<max(1, count) {
            let thread = Thread {
                body(worker)
                finished.signal()
            }
            // Deep values are decoded and compared recursively.
            thread.stackSize = 8 << 20
            thread.start()
        }
        var left = max(1, count)
        while left > 0 {
            if let interval {
                let nanoseconds = Int(clamping: interval.wholeNanoseconds)
                if finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut {
                    tick()
                    continue
                }
            } else {
                finished.wait()
            }
            left -= 1
        }
    }

    /// Runs `script` up to `times` times on up to `jobs` threads; with `until`, no new run starts once
    /// one result satisfies it. The results come back in the order the runs were started.
    static func repeatRuns(of script: TesteeScript, times: Int, jobs: Int, runner: TesteeRunner,
                           until stop: (@Sendable (ScenarioResult) -> Bool)? = nil) -> [ScenarioResult] {
        struct State { var next = 0; var done = false; var results: [Int: ScenarioResult] = [:] }
        let state = Mutex(State())
        run(min(jobs, times)) { _ in
            while true {
                let index: Int? = state.withLock { state in
                    guard !state.done, state.next < times else { return nil }
                    defer { state.next += 1 }
                    return state.next
                }
                guard let index else { return }
                let result = runner.run(script)
                state.withLock { state in
                    state.results[index] = result
                    if let stop, stop(result) { state.done = true }
                }
            }
        }
        return state.withLock { state in state.results.sorted { $0.key < $1.key }.map(\.value) }
    }
}
