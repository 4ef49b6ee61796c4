import Foundation

/// `conform fuzz`: runs generated cases against a testee until one fails, the case count is
/// reached or the time is up; shrinks the failing case and saves it as a replay file.
public struct Fuzzer: Sendable {
    public enum Limit: Sendable, Equatable {
        case cases(Int)
        case duration(Duration)
    }

    /// Where a run stands, for a progress line.
    public struct Progress: Sendable {
        public var cases: Int
        public var records: Int
        /// Cases that failed some check the policy does not count (listed, or Recommended and not
        /// enforced); a counted failure ends the run.
        public var toleratedFailures = 0
        public var elapsed: Duration
        public var casesPerSecond: Double { cases == 0 ? 0 : Double(cases) / max(0.001, elapsed.seconds) }
    }

    public struct Failure: Sendable {
        public var caseIndex: Int
        /// The generated case's result and size.
        public var original: ScenarioResult
        public var originalSteps: Int
        /// The shrunk case, its result, and the candidates run to find it.
        public var shrunk: TesteeScript
        public var shrunkResult: ScenarioResult
        public var trials: Int
        /// Where the shrunk case was saved; nil when it could not be.
        public var replayPath: String?
        public var saveError: String?
    }

    public struct Report: Sendable {
        public var seed: UInt64
        public var progress: Progress
        public var failure: Failure?
    }

    public var runner: TesteeRunner
    public var seed: UInt64
    public var limit: Limit
    /// At most this many candidates are run while shrinking.
    public var shrinkBudget = 400
    /// Folder the replay file of a failure goes to (created when needed).
    public var replayFolder: String
    /// Which failed checks count: known failures and unenforced Recommended checks do not stop the run.
    public var policy = VerdictPolicy()
    /// How often `progress` is called; nil: never.
    public var progressInterval: Duration? = .seconds(2)

    public init(runner: TesteeRunner, seed: UInt64, limit: Limit, replayFolder: String) {
        self.runner = runner
        self.seed = seed
        self.limit = limit
        self.replayFolder = replayFolder
    }

    public func run(progress: (Progress) -> Void = { _ in }) -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        var state = Progress(cases: 0, records: 0, elapsed: .zero)
        var lastReport = started
        while true {
            switch limit {
            case .cases(let count) where state.cases >= count: return Report(seed: seed, progress: state)
            case .duration(let duration) where clock.now - started >= duration: return Report(seed: seed, progress: state)
            default: break
            }
            let script = FuzzCases.generate(seed: seed, index: state.cases)
            let result = runner.run(script)
            state.cases += 1
            state.records += result.recordsRead
            state.elapsed = clock.now - started
            if let interval = progressInterval, clock.now - lastReport >= interval {
                progress(state)
                lastReport = clock.now
            }
            if result.testeeDidNotStart {
                // Nothing to shrink or save: no case can run.
                return Report(seed: seed, progress: state, failure: Failure(caseIndex: state.cases - 1, original: result, originalSteps: script.steps.count,
                                                                            shrunk: script, shrunkResult: result, trials: 0))
            }
            let counted = policy.unexpectedFailures(ofFuzzCase: result)
            if let first = counted.first {
                return Report(seed: seed, progress: state, failure: shrink(script, index: state.cases - 1, result, wanted: first.check))
            }
            if !result.passed { state.toleratedFailures += 1 }
        }
    }

    /// Shrinks `script` to a small case that still fails `wanted`, and saves it.
    func shrink(_ script: TesteeScript, index: Int, _ result: ScenarioResult, wanted: String) -> Failure {
        var lastFailing = result
        var shrinker = Shrinker(budget: shrinkBudget) { candidate in
            let attempt = runner.run(candidate)
            guard attempt.failedChecks.contains(wanted) else { return false }
            lastFailing = attempt
            return true
        }
        var shrunk = shrinker.shrink(script)
        shrunk.name = "\(script.name) (shrunk)"
        var failure = Failure(caseIndex: index, original: result, originalSteps: script.steps.count, shrunk: shrunk, shrunkResult: lastFailing,
                              trials: shrinker.trials)
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
