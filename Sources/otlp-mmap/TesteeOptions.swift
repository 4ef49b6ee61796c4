import ArgumentParser
import OTLPMmapConformance

/// Where the testee protocol's frames travel.
enum TesteeChannel: String, ExpressibleByArgument, CaseIterable {
    case stdio, fds
}

/// How every `conform` runner judges and reports: the format, known failures, and whether
/// Recommended checks count (`conform run`, `fuzz` and `collector`).
struct VerdictOptions: ParsableArguments {
    @Option(help: "Report format: text, json or junit.")
    var format: ReportFormat = .text

    @Option(help: "File of known failures, one check or scenario/check per line (wildcards * and ?; # for the reason; fuzz cases match scenario/ patterns as 'fuzz').")
    var failureList: String?

    @Flag(help: "Fail on Recommended (SHOULD) checks too; by default they are warnings.")
    var enforceRecommended = false

    /// The verdict policy, with the failure list loaded (a bad one is a usage error).
    func policy(allowSkipped: Bool = false) throws -> VerdictPolicy {
        do {
            return VerdictPolicy(failureList: try failureList.map(FailureList.load), enforceRecommended: enforceRecommended, allowSkipped: allowSkipped)
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
    }
}

/// The options `conform run` and `conform fuzz` share: how the testee is run and judged, and how
/// the report is written. Defaults are `TesteeRunner`'s, shown in the help.
struct TesteeOptions: ParsableArguments {
    @OptionGroup var verdict: VerdictOptions

    var format: ReportFormat { verdict.format }

    @Option(help: "Milliseconds the testee is told (in create_file) to wait for room in a full ring before it answers DROPPED (default \(TesteeRunner(command: []).fullRingWait.milliseconds)).")
    var fullRingWaitMs: Int?

    @Option(help: "Seconds a claimed slot may stay unpublished before it is a hole (default \(TesteeRunner(command: []).holeTimeout.seconds)).")
    var holeTimeout: Double?

    @Option(help: "Where the protocol's frames travel: stdio (the testee's standard input and output) or fds (descriptors 3 and 4, named in $OTLP_MMAP_TESTEE_FDS; standard output stays the testee's own).")
    var channel: TesteeChannel = .stdio

    func validate() throws {
        if let fullRingWaitMs, fullRingWaitMs < 1 { throw ValidationError("--full-ring-wait-ms must be at least 1") }
        if let holeTimeout, holeTimeout <= 0 { throw ValidationError("--hole-timeout must be positive") }
    }

    /// The runner these options describe, for the testee `command`.
    func runner(_ command: [String]) throws -> TesteeRunner {
        guard !command.isEmpty else { throw ValidationError("give the testee's command after --") }
        var runner = TesteeRunner(command: command)
        if let holeTimeout { runner.holeTimeout = .milliseconds(Int64(holeTimeout * 1000)) }
        if let fullRingWaitMs { runner.fullRingWait = .milliseconds(fullRingWaitMs) }
        runner.useDescriptors = channel == .fds
        return runner
    }

    func policy(allowSkipped: Bool = false) throws -> VerdictPolicy { try verdict.policy(allowSkipped: allowSkipped) }
}

extension Duration {
    /// Whole milliseconds, for help texts.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// Seconds, for help texts.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
