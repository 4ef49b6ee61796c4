import ArgumentParser
import Foundation
import OTLPMmapConformance

struct ConformRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a writer under test (a testee) on the named scenarios, consuming its file live, and report per scenario.",
        discussion: """
            COMMAND speaks the testee protocol (docs/testee.md) on its standard input and output. \
            The scenarios are built in; --scenarios FOLDER runs the YAML files of a folder instead. \
            Example: otlp-mmap conform run -- otlp-mmap testee
            """
    )

    @Option(help: "Folder of scenario YAML files (default: the built-in scenarios).")
    var scenarios: String?

    @Option(name: .customLong("scenario"), help: "Run only these scenarios (repeatable).")
    var only: [String] = []

    @Option(help: "Report format: text, json or junit.")
    var format: String = "text"

    @Option(name: .long, help: "The HTML spec's rules page that rule failures link to (`gen docs --html` writes it; default: $OTLP_MMAP_RULES_URL, else rules.html).")
    var rulesURL: String?

    @Option(help: "Seconds before a scenario's testee is killed (default: each scenario's own timeout).")
    var timeout: Double?

    @Option(help: "Milliseconds the testee is told (in create_file) to wait for room in a full ring before it answers DROPPED (default 10).")
    var fullRingWaitMs: Int?

    @Option(help: "Seconds a claimed slot may stay unpublished before it is a hole.")
    var holeTimeout: Double = 2

    @Option(help: "File of known failures, one check or scenario/check per line (wildcards * and ?; # for the reason).")
    var failureList: String?

    @Flag(help: "Fail on Recommended (SHOULD) checks too; by default they are warnings.")
    var enforceRecommended = false

    @Option(help: "Where the protocol's frames travel: stdio (the testee's standard input and output) or fds (descriptors 3 and 4, named in $OTLP_MMAP_TESTEE_FDS; standard output stays the testee's own).")
    var channel: String = "stdio"

    @Flag(help: "Pass a run that checked nothing (every scenario skipped, or no record written); by default it fails.")
    var allowSkipped = false

    @Argument(parsing: .postTerminator, help: "The testee and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if let fullRingWaitMs, fullRingWaitMs < 1 { throw ValidationError("--full-ring-wait-ms must be at least 1") }
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("--format must be text, json or junit") }
        guard ["stdio", "fds"].contains(channel) else { throw ValidationError("--channel must be stdio or fds") }
        guard !command.isEmpty else { throw ValidationError("give the testee's command after --") }
    }

    func run() throws {
        var selected: [TesteeScript]
        let policy: VerdictPolicy
        do {
            selected = try scenarios.map(ScenarioLoader.loadAll) ?? ScenarioLoader.builtIn()
            policy = VerdictPolicy(failureList: try failureList.map(FailureList.load), enforceRecommended: enforceRecommended,
                                   allowSkipped: allowSkipped)
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
        if !only.isEmpty {
            let unknown = only.filter { name in !selected.contains { $0.name == name } }
            guard unknown.isEmpty else { throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", "))") }
            selected = selected.filter { only.contains($0.name) }
        }
        var runner = TesteeRunner(command: command)
        runner.holeTimeout = .milliseconds(Int64(holeTimeout * 1000))
        if let fullRingWaitMs { runner.fullRingWait = .milliseconds(fullRingWaitMs) }
        runner.useDescriptors = channel == "fds"
        runner.timeoutOverride = timeout
        let verdict = policy.judge(selected.map(runner.run))
        print(verdict.render(format: ReportFormat(rawValue: format)!, command: command, links: RuleLinks.resolve(option: rulesURL)), terminator: "")
        if !verdict.passed { throw ExitCode.failure }
    }
}
