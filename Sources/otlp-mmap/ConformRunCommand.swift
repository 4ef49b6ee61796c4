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

    @Option(name: .long, help: "The HTML spec's rules page that rule failures link to (`gen docs --html` writes it; default: $OTLP_MMAP_RULES_URL, else rules.html).")
    var rulesURL: String?

    @Option(help: "Seconds before a scenario's testee is killed (default: each scenario's own timeout).")
    var timeout: Double?

    @OptionGroup var testee: TesteeOptions

    @Flag(help: "Pass a run that checked nothing (every scenario skipped, or no record written); by default it fails.")
    var allowSkipped = false

    @Argument(parsing: .postTerminator, help: "The testee and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the testee's command after --") }
    }


    func run() throws {
        var selected: [TesteeScript]
        let policy: VerdictPolicy
        do {
            selected = try scenarios.map(ScenarioLoader.loadAll) ?? ScenarioLoader.builtIn()
            policy = try testee.policy(allowSkipped: allowSkipped)
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
        if !only.isEmpty {
            let unknown = only.filter { name in !selected.contains { $0.name == name } }
            guard unknown.isEmpty else { throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", "))") }
            selected = selected.filter { only.contains($0.name) }
        }
        var runner = try testee.runner(command)
        runner.timeoutOverride = timeout
        let verdict = policy.judge(selected.map(runner.run))
        print(verdict.render(format: testee.format, command: command, links: RuleLinks.resolve(option: rulesURL)), terminator: "")
        if !verdict.passed { throw ExitCode.failure }
    }
}
