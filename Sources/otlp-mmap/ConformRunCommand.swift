import ArgumentParser
import Foundation
import OTLPMmapConformance

struct ConformRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a writer under test on the scenarios, consuming its file live, and report per scenario.",
        discussion: """
            The runner chooses the file and starts COMMAND once per scenario with SDK_MMAP_EXPORTER_FILE, \
            OTLP_MMAP_SCENARIO (the scenario's name) and OTLP_MMAP_SCENARIO_FILE (its YAML) set. \
            Example: otlp-mmap conform run -- otlp-mmap scenario-writer
            """
    )

    @Option(help: "Folder of scenario YAML files.")
    var scenarios = "ConformanceTests/scenarios"

    @Option(name: .customLong("scenario"), help: "Run only these scenarios (repeatable).")
    var only: [String] = []

    @Option(help: "Report format: text, json or junit.")
    var format: String = "text"

    @Option(help: "Seconds before a scenario's writer is killed (default: each scenario's own timeout).")
    var timeout: Double?

    @Option(help: "Seconds a claimed slot may stay unpublished before it is a hole.")
    var holeTimeout: Double = 2

    @Argument(parsing: .postTerminator, help: "The writer under test and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("--format must be text, json or junit") }
        guard !command.isEmpty else { throw ValidationError("give the writer's command after --") }
    }

    func run() throws {
        var selected = try Scenario.loadAll(folder: scenarios)
        if !only.isEmpty {
            let unknown = only.filter { name in !selected.contains { $0.name == name } }
            guard unknown.isEmpty else { throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", "))") }
            selected = selected.filter { only.contains($0.name) }
        }
        var runner = LiveRunner(command: command)
        runner.holeTimeout = holeTimeout
        runner.timeoutOverride = timeout
        let results = selected.map(runner.run)
        print(ScenarioResult.render(results, format: ReportFormat(rawValue: format)!, command: command), terminator: "")
        if !results.allSatisfy(\.passed) { throw ExitCode.failure }
    }
}
