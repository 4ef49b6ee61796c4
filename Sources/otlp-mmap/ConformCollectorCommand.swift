import ArgumentParser
import Foundation
import OTLPMmapConformance
import OTLPMmapTestbed

struct ConformCollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Run a collector under test between a file this command writes and an OTLP receiver it hosts; check what arrives.",
        discussion: """
            The collector is told where things are as collectors are told: $SDK_MMAP_EXPORTER_FILE, \
            $OTEL_EXPORTER_OTLP_ENDPOINT (the receiver's gRPC address) and $OTEL_EXPORTER_OTLP_PROTOCOL=grpc; \
            {file}, {grpc} and {http} in its arguments are replaced by the file's path and the receiver's \
            gRPC and HTTP addresses. Every failure names a check of docs/readers.md. Example: \
            otlp-mmap conform collector -- otlp-mmap collect --file {file} --exporter otlp-grpc --endpoint {grpc}
            """
    )

    @Option(name: .customLong("scenario"), help: "Run only this scenario (repeatable): \(CollectorTestbed.scenarioNames.joined(separator: ", ")).")
    var only: [String] = []

    @OptionGroup var verdict: VerdictOptions

    var format: ReportFormat { verdict.format }

    @Option(help: "Seconds to wait for what the file holds to arrive (default \(CollectorTestbed.defaults.exportTimeout.seconds)).")
    var exportTimeout: Double?

    @Option(help: "Seconds the collector may take to stop after SIGTERM before it is killed (default \(CollectorTestbed.defaults.stopTimeout.seconds)).")
    var stopTimeout: Double?

    @Option(help: "The collector's peak resident memory, in MiB, past which it fails READ-BOUNDED-MEMORY (default \(CollectorTestbed.defaults.maxResidentBytes >> 20)).")
    var maxRssMb: Int?

    @Option(help: "Instead of the scenarios, measure the collector under load: telemetry items per second (repeatable), a third each spans, log records and measurements.")
    var load: [Int] = []

    @Option(help: "Seconds each --load rate is written.")
    var duration: Double = 20

    @Argument(parsing: .postTerminator, help: "The collector and its arguments, after --.")
    var command: [String] = []

    /// The testbed these options describe.
    func testbed() -> CollectorTestbed {
        var testbed = CollectorTestbed(command: command)
        if let exportTimeout { testbed.exportTimeout = .milliseconds(Int64(exportTimeout * 1000)) }
        if let stopTimeout { testbed.stopTimeout = .milliseconds(Int64(stopTimeout * 1000)) }
        if let maxRssMb { testbed.maxResidentBytes = maxRssMb << 20 }
        return testbed
    }

    func validate() throws {
        if let problem = testbed().problem() { throw ValidationError(problem) }
        do { try CollectorTestbed.checkBuiltInScenarios() } catch { throw ValidationError("this build's scenarios do not load: \(error)") }
        let unknown = only.filter { !CollectorTestbed.scenarioNames.contains($0) }
        guard unknown.isEmpty else { throw ValidationError("unknown scenario(s): \(unknown.joined(separator: ", ")); the scenarios are \(CollectorTestbed.scenarioNames.joined(separator: ", "))") }
        guard load.allSatisfy({ $0 > 0 }), duration > 0 else { throw ValidationError("--load rates and --duration must be positive") }
        guard load.isEmpty || format != .junit else { throw ValidationError("a --load report is text or json") }
    }

    func run() async throws {
        if !load.isEmpty {
            let testbed = testbed()
            var run = CollectorLoad(command: command, rates: load, duration: .milliseconds(Int64(duration * 1000)))
            run.stopTimeout = testbed.stopTimeout
            run.drainTimeout = testbed.exportTimeout
            let results = await run.run()
            print(CollectorLoad.render(results, json: format == .json, command: command), terminator: "")
            if results.contains(where: { $0.failure != nil }) { throw ExitCode.failure }
            return
        }
        let policy = try verdict.policy()
        let judged = policy.judge(await testbed().run(scenarios: only.isEmpty ? nil : only))
        print(judged.render(format: format, command: command, runner: "conform collector"), terminator: "")
        if !judged.passed { throw ExitCode.failure }
    }
}
