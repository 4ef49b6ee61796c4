import ArgumentParser
import Foundation
import OTLPMmapConformance

struct ConformFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Drive a testee with generated command streams until one fails; shrink it and save a replay file.",
        discussion: """
            Cases are made from the seed: the same seed gives the same cases. On a failure the case is \
            shrunk to a small command stream, saved to --replay-folder, and the command that replays it \
            is printed. Example: otlp-mmap conform fuzz --seed 1 --cases 300 -- otlp-mmap testee
            """
    )

    @Option(help: "Seed of the cases (default: a random one, printed in the report).")
    var seed: UInt64?

    @Option(help: "Run this many cases (default 100 unless --duration is given).")
    var cases: Int?

    @Option(help: "Run cases for this long: seconds, or a number with s, m or h (90s, 5m).")
    var duration: String?

    @Option(help: "Run the case saved in this replay file, instead of generating cases.")
    var replay: String?

    @Option(help: "With --replay: run the case this many times and say how many runs failed (a failure that does not always reproduce).")
    var `repeat`: Int = 1

    @Option(help: "Folder a failing case's replay file is saved in.")
    var replayFolder: String = "otlp-mmap-fuzz"

    @Option(help: "At most this many candidates are tried while shrinking a failing case.")
    var shrinkBudget: Int = 400

    @Option(help: "Cases run at once, each with its own testee process (default: one more than the processors).")
    var jobs: Int?

    @Option(help: "Replays of a failing case, and of its shrunk form, to learn how often it fails.")
    var reproductionRuns: Int = 10

    @OptionGroup var testee: TesteeOptions

    @Argument(parsing: .postTerminator, help: "The testee and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the testee's command after --") }
        if cases != nil && duration != nil { throw ValidationError("give --cases or --duration, not both") }
        if let cases, cases < 1 { throw ValidationError("--cases must be at least 1") }
        if let duration, Fuzzer.parseDuration(duration) == nil { throw ValidationError("--duration takes seconds or a number with s, m or h, such as 90s or 5m") }
        if replay != nil && (cases != nil || duration != nil || seed != nil) { throw ValidationError("--replay runs one saved case: no --seed, --cases or --duration") }
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if reproductionRuns < 1 { throw ValidationError("--reproduction-runs must be at least 1") }
        if `repeat` > 1 && replay == nil { throw ValidationError("--repeat goes with --replay") }
    }

    func run() throws {
        let runner = try testee.runner(command)
        let policy = try testee.policy()
        let format = testee.format
        if let replay {
            let script: TesteeScript
            do { script = try ReplayFile.read(path: replay) } catch let error as ScenarioError { throw ValidationError(error.description) }
            let jobs = min(`repeat`, self.jobs ?? Fuzzer.defaultJobs)
            let results = Fuzzer.replay(script, times: `repeat`, jobs: jobs, runner: runner)
            let (shown, failures) = Fuzzer.judgeReplays(results, policy: policy)
            print(shown.render(format: format, command: command), terminator: "")
            if `repeat` > 1 {
                let rate = "the case fails \(failures) of \(`repeat`) replays"
                FileHandle.standardError.write(Data((rate + (failures > 0 && failures < `repeat` ? ": a failure that does not always reproduce" : "") + "\n").utf8))
                if format == .text { print(rate) }
            }
            if !shown.passed { throw ExitCode.failure }
            return
        }
        let limit: Fuzzer.Limit = duration.flatMap(Fuzzer.parseDuration).map { .duration($0) } ?? .cases(cases ?? 100)
        var fuzzer = Fuzzer(runner: runner, seed: seed ?? UInt64.random(in: 0...UInt64(UInt32.max)), limit: limit, replayFolder: replayFolder)
        fuzzer.shrinkBudget = shrinkBudget
        if let jobs { fuzzer.jobs = jobs }
        fuzzer.reproductionRuns = reproductionRuns
        fuzzer.policy = policy
        let report = fuzzer.run { progress in
            FileHandle.standardError.write(Data((progress.line + "\n").utf8))
        }
        let replayCommand = report.failure?.replayPath.map { path in
            ([CommandLine.arguments[0], "conform", "fuzz", "--replay", path, "--"] + command).map(Self.quoted).joined(separator: " ")
        }
        print(report.render(format: format, replayCommand: replayCommand), terminator: "")
        if report.failure != nil { throw ExitCode.failure }
    }

    /// A word as a POSIX shell reads it back.
    static func quoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
