import Foundation
import Synchronization

/// `conform fuzz`: runs generated cases against a testee until one fails, the case count is
/// reached or the time is up; shrinks the failing case and saves it as a replay file.
package struct Fuzzer: Sendable {
    package enum Limit: Sendable, Equatable {
        case cases(Int)
        case duration(Duration)
    }

    /// Where a run stands, for a progress line.
    package struct Progress: Sendable {
        package var cases: Int
        package var records: Int
        /// Cases that failed some check the policy does not count (listed, or Recommended and not
        /// enforced); a counted failure ends the run.
        package var toleratedFailures = 0
        package var elapsed: Duration
        package var casesPerSecond: Double { cases == 0 ? 0 : Double(cases) / max(0.001, elapsed.seconds) }
    }

    /// How often a case failed the check in question when run again.
    package struct Reproduction: Sendable, Equatable, CustomStringConvertible {
        package var failed: Int
        package var runs: Int
        package var always: Bool { failed == runs }
        package var description: String { "fails \(failed) of \(runs) replays" }
    }

    package struct Failure: Sendable {
        package var caseIndex: Int
        /// The generated case's result and size.
        package var original: ScenarioResult
        package var originalSteps: Int
        /// How often the generated case failed again; nil when it was not replayed (no testee could start).
        package var originalReproduction: Reproduction?
        /// The shrunk case, its result, and the candidates run to find it.
        package var shrunk: TesteeScript
        package var shrunkResult: ScenarioResult
        package var trials: Int
        /// Runs of each candidate while shrinking: more than one for a failure that does not always reproduce.
        package var attemptsPerCandidate = 1
        /// How often the shrunk case failed when replayed.
        package var shrunkReproduction: Reproduction?
        /// Where the shrunk case was saved; nil when it could not be.
        package var replayPath: String?
        package var saveError: String?
    }

    package struct Report: Sendable {
        package var seed: UInt64
        package var progress: Progress
        package var failure: Failure?
    }

    package var runner: TesteeRunner
    package var seed: UInt64
    package var limit: Limit
    /// At most this many candidates are run while shrinking.
    package var shrinkBudget = 400
    /// Cases run at once, each with its own testee process and file, on a thread of its own.
    package var jobs = Fuzzer.defaultJobs
    /// One job more than processors: a job is a runner thread and a testee process that take turns
    /// (a command, its reply), so one job per processor leaves the processors idle at times
    /// (measured on 2 cores: 3 jobs ran the reference testee's cases 10 % faster than 2).
    package static var defaultJobs: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) + 1 }
    /// How many times a failing case, and then its shrunk form, is replayed to learn how often it fails.
    package var reproductionRuns = 10
    /// Folder the replay file of a failure goes to (created when needed).
    package var replayFolder: String
    /// Which failed checks count: known failures and unenforced Recommended checks do not stop the run.
    package var policy = VerdictPolicy()
    /// How often `progress` is called; nil: never.
    package var progressInterval: Duration? = .seconds(2)

    package init(runner: TesteeRunner, seed: UInt64, limit: Limit, replayFolder: String) {
        self.runner = runner
        self.seed = seed
        self.limit = limit
        self.replayFolder = replayFolder
    }

    /// Runs cases on `jobs` threads until the limit or a counted failure. Cases are numbered as
    /// they are handed out; after a failure no new case starts, those running finish, and the
    /// lowest-numbered failure is the one shrunk — the one a run with one job would have found.
    package func run(progress: (Progress) -> Void = { _ in }) -> Report {
        struct Found { var index: Int; var script: TesteeScript; var result: ScenarioResult; var check: String? }
        struct State { var next = 0; var progress = Progress(cases: 0, records: 0, elapsed: .zero); var found: Found? }
        let clock = ContinuousClock()
        let started = clock.now
        let state = Mutex(State())
        let (limit, seed, runner, policy) = (self.limit, self.seed, self.runner, self.policy)
        Workers.run(jobs, every: progressInterval, tick: {
            let now = state.withLock { state in
                state.progress.elapsed = clock.now - started
                return state.progress
            }
            progress(now)
        }) { _ in
            while true {
                let index: Int? = state.withLock { state in
                    guard state.found == nil else { return nil }
                    switch limit {
                    case .cases(let count) where state.next >= count: return nil
                    case .duration(let duration) where clock.now - started >= duration: return nil
                    default: break
                    }
                    defer { state.next += 1 }
                    return state.next
                }
                guard let index else { return }
                let script = FuzzCases.generate(seed: seed, index: index)
                let result = runner.run(script)
                let counted = result.testeeDidNotStart ? nil : policy.unexpectedFailures(ofFuzzCase: result).first
                state.withLock { state in
                    state.progress.cases += 1
                    state.progress.records += result.recordsRead
                    if result.testeeDidNotStart || counted != nil {
                        if state.found.map({ index < $0.index }) ?? true {
                            state.found = Found(index: index, script: script, result: result, check: counted?.check)
                        }
                    } else if !result.passed {
                        state.progress.toleratedFailures += 1
                    }
                }
            }
        }
        var (summary, found) = state.withLock { ($0.progress, $0.found) }
        summary.elapsed = clock.now - started
        guard let found else { return Report(seed: seed, progress: summary) }
        guard let wanted = found.check else {
            // Nothing to shrink or save: no case can run.
            return Report(seed: seed, progress: summary, failure: Failure(caseIndex: found.index, original: found.result, originalSteps: found.script.steps.count,
                                                                           shrunk: found.script, shrunkResult: found.result, trials: 0))
        }
        return Report(seed: seed, progress: summary, failure: shrink(found.script, index: found.index, found.result, wanted: wanted))
    }

    /// Runs a saved case `times` times, `jobs` at once (`--replay --repeat`); results in start order.
    package static func replay(_ script: TesteeScript, times: Int, jobs: Int, runner: TesteeRunner) -> [ScenarioResult] {
        Workers.repeatRuns(of: script, times: times, jobs: jobs, runner: runner)
    }

    /// The verdict of a case replayed several times: the first run in which it failed (else the
    /// last), and in how many runs it failed. A run that read no record is no failure of the case
    /// (a shrunk case may write nothing when the bug does not strike); the replay as a whole fails
    /// for having checked nothing only when no run read anything.
    package static func judgeReplays(_ results: [ScenarioResult], policy: VerdictPolicy) -> (shown: RunVerdict, failed: Int) {
        var lenient = policy
        lenient.allowSkipped = true
        let verdicts = results.map { lenient.judge([$0]) }
        let failed = verdicts.filter { !$0.passed }.count
        var shown = verdicts.first { !$0.passed } ?? verdicts.last ?? lenient.judge([])
        if failed == 0 { shown.checkedNothing = policy.judge(results).checkedNothing }
        return (shown, failed)
    }

    /// How often `script` fails `wanted` in `reproductionRuns` runs, and the first such failure.
    func reproduce(_ script: TesteeScript, wanted: String) -> (Reproduction, ScenarioResult?) {
        let results = Workers.repeatRuns(of: script, times: reproductionRuns, jobs: jobs, runner: runner)
        let failing = results.filter { $0.failedChecks.contains(wanted) }
        return (Reproduction(failed: failing.count, runs: results.count), failing.first)
    }

    /// Runs of each candidate so that a failure seen in `rate` of the runs is missed by at most one
    /// candidate in twenty (1 when it always reproduced; at most 12).
    static func attempts(for rate: Reproduction) -> Int {
        guard rate.failed > 0, !rate.always else { return 1 }
        let p = Double(rate.failed) / Double(rate.runs)
        return min(12, max(2, Int((log(0.05) / log(1 - p)).rounded(.up))))
    }

    /// Learns how often the case fails `wanted`, shrinks it to a small case that still fails it
    /// (each candidate run as often as that rate needs), learns the shrunk case's rate, and saves it.
    func shrink(_ script: TesteeScript, index: Int, _ result: ScenarioResult, wanted: String) -> Failure {
        let (rate, _) = reproduce(script, wanted: wanted)
        var failure = Failure(caseIndex: index, original: result, originalSteps: script.steps.count, originalReproduction: rate,
                              shrunk: script, shrunkResult: result, trials: 0)
        var shrunk = script
        if rate.failed > 0 {
            let attempts = Self.attempts(for: rate)
            failure.attemptsPerCandidate = attempts
            var lastFailing = result
            var runs = 0
            var shrinker = Shrinker(budget: shrinkBudget) { candidate in
                let results = Workers.repeatRuns(of: candidate, times: attempts, jobs: jobs, runner: runner) { $0.failedChecks.contains(wanted) }
                runs += results.count
                guard let failing = results.first(where: { $0.failedChecks.contains(wanted) }) else { return false }
                lastFailing = failing
                return true
            }
            shrunk = shrinker.shrink(script)
            failure.trials = runs
            failure.shrunkResult = lastFailing
            let (shrunkRate, shrunkFailure) = reproduce(shrunk, wanted: wanted)
            failure.shrunkReproduction = shrunkRate
            if let shrunkFailure { failure.shrunkResult = shrunkFailure }
        } else {
            // It never failed again: nothing to shrink against; the case is saved whole, for --repeat.
            failure.shrunkReproduction = rate
        }
        shrunk.name = "\(script.name)\(rate.failed > 0 ? " (shrunk)" : "")"
        failure.shrunk = shrunk
        let path = (replayFolder as NSString).appendingPathComponent("seed-\(seed)-case-\(index).replay")
        do {
            try FileManager.default.createDirectory(atPath: replayFolder, withIntermediateDirectories: true)
            try ReplayFile.write(shrunk, to: path)
            failure.replayPath = path
        } catch {
            failure.saveError = "\(error)"
        }
        return failure
    }
}
