import Foundation
import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapReceiver
import OTLPMmapTestee
import OTLPMmapSpec

/// A testbed scenario: a file to create, then steps the testbed carries out while the collector
/// under test runs — writer commands (through the reference SDK, as an application writes), broken
/// records no conforming writer writes, changes to the receiver's answers, the collector killed and
/// restarted, the file re-created or reset, and waits that bound how long something may take.
/// Scenarios are YAML (scenarios/collectors), compiled into the binary.
struct TestbedScript: Sendable {
    enum Step: Sendable {
        /// A writer command, as the testee protocol states it.
        case write(Command)
        /// A record no conforming writer writes, published into a slot.
        case broken(BrokenRecord)
        /// A slot of `ring` claimed and never published.
        case hole(RingKind)
        /// A log record whose body and one attribute are `value_ref`s to an AnyValue entry holding
        /// `body` (the reference SDK never writes value_ref; other writers do).
        case valueRefLog(body: String, key: String, time: UInt64)
        /// From now on, exports of these signals are answered so.
        case receiver(Set<OTLPSignal>, ReceiverStep)
        /// Waits until everything written so far for these signals has arrived; past `within`, the
        /// scenario fails `check`.
        case waitArrived(Set<OTLPSignal>, within: Duration, check: ReaderCheck)
        case sleep(Duration)
        /// SIGKILL, and no start until `startCollector`.
        case killCollector
        case startCollector
        /// A new file at the same path (the old one unlinked: a new inode).
        case recreateFile
        /// The file created again in place (same inode, truncated, a new start time).
        case resetFile
    }

    /// A change of how the receiver answers; `refuseFor` starts counting when the step runs.
    struct ReceiverStep: Sendable {
        var refuseNext = 0
        var refuseFor: Duration?
        var retryAfter: Duration?
        var rejectItems: Int64 = 0
        var delay: Duration = .zero
    }

    /// Records broken on purpose, each a defect class a reader must survive.
    enum BrokenRecord: String, Sendable, CaseIterable {
        /// A spans slot whose bytes end inside a field.
        case undecodable
        /// A SpanEvent naming a span and setting no event.
        case spanEventWithoutEvent = "span_event_without_event"
        /// A Measurement of an instrument with no value.
        case measurementWithoutValue = "measurement_without_value"
        /// A Measurement of a MetricRef that sets no aggregation.
        case metricWithoutAggregation = "metric_without_aggregation"
        /// A log record whose scope_ref points past the dictionary's end.
        case referenceOutOfRange = "reference_out_of_range"
        /// A log record that ends inside a varint (its last byte has the continuation bit).
        case truncatedVarint = "truncated_varint"
    }

    var name: String
    var description: String
    /// The check a record that never arrives fails: what the scenario is about.
    var missing: ReaderCheck
    var file: CreateFile
    var steps: [Step]
    /// The instrument a `measurement_without_value` names, by the id the commands gave it.
    var instrumentOfBrokenMeasurement: Int64 = 0

    var restartsCollector: Bool { steps.contains { if case .killCollector = $0 { true } else { false } } }
}

/// Reads testbed scenarios. Keys: `name`, `description`, `check` (the reader check a record that
/// never arrives fails; READ-CONTENT when absent), `file` (as in the writer scenarios), `repeat`
/// (the steps this many times; `{round}` in their strings becomes the round's number), `steps`:
/// each a writer command of the writer scenarios' language, or one of
/// `broken: {record: NAME[, instrument: LABEL]}`, `hole: {ring: spans|events|measurements}`,
/// `log_value_ref: {body: TEXT, key: KEY[, time: NANOS]}`,
/// `receiver: {signal: traces|logs|metrics|all, refuse: N, refuse_for_ms: MS, retry_after_ms: MS,
/// partial_success: N, delay_ms: MS}`, `wait_arrived: {signal: …, within_ms: MS, check: ID}`,
/// `sleep: {ms: MS}`, `kill_collector`, `start_collector`, `recreate_file`, `reset_file`.
enum TestbedScriptLoader {
    static func load(yaml text: String, source: String) throws -> TestbedScript {
        try ScenarioError.located {
            let map = try composeYAML(text, file: source).mapping(allowed: ["name", "description", "check", "file", "repeat", "steps"])
            let list = try map.required("steps").sequence()
            var builder = ScenarioLoader.Builder(source: source)
            let missing = try map.optional("check").map(check) ?? .named("READ-CONTENT")!
            var script = TestbedScript(name: try map.string("name"), description: try map.text("description"), missing: missing,
                                       file: try builder.file(map.optional("file")), steps: [])
            var started = true
            let rounds = try ScenarioLoader.Builder.rounds(map)
            for round in 0..<rounds {
                builder.round = rounds > 1 ? "#\(round)" : ""
                builder.roundNumber = rounds > 1 ? round + 1 : nil
                for (index, item) in list.enumerated() {
                    let (verb, argument) = try item.step()
                    func arguments(_ keys: Set<String>) throws -> YMap {
                        guard let argument else { return try YNode(node: .mapping([:]), file: source, path: item.path).mapping(allowed: keys) }
                        return try argument.mapping(allowed: keys)
                    }
                    switch verb {
                    case "broken":
                        let args = try arguments(["record", "instrument"])
                        let recordNode = try args.required("record")
                        guard let record = TestbedScript.BrokenRecord(rawValue: try recordNode.string()) else {
                            throw recordNode.error("record is one of \(TestbedScript.BrokenRecord.allCases.map(\.rawValue).joined(separator: ", "))")
                        }
                        if record == .measurementWithoutValue {
                            let instrumentNode = try args.required("instrument")
                            let label = try builder.text(instrumentNode)
                            guard let id = builder.instruments[label + builder.round] else { throw instrumentNode.error("instrument \(label) is not defined") }
                            script.instrumentOfBrokenMeasurement = id
                        }
                        script.steps.append(.broken(record))
                    case "log_value_ref":
                        let args = try arguments(["body", "key", "time"])
                        script.steps.append(.valueRefLog(body: try builder.requiredText(args, "body"), key: try builder.requiredText(args, "key"),
                                                         time: UInt64(try args.optional("time")?.int() ?? 1_700_000_000_000_000_000 + index)))
                    case "hole":
                        let ringNode = try arguments(["ring"]).required("ring")
                        let rings = ["spans": RingKind.spans, "events": .events, "measurements": .measurements]
                        guard let ring = rings[try ringNode.string()] else { throw ringNode.error("ring is spans, events or measurements") }
                        script.steps.append(.hole(ring))
                    case "receiver":
                        let args = try arguments(["signal", "refuse", "refuse_for_ms", "retry_after_ms", "partial_success", "delay_ms"])
                        let step = TestbedScript.ReceiverStep(
                            refuseNext: try args.optional("refuse")?.int() ?? 0, refuseFor: try milliseconds(args, "refuse_for_ms"),
                            retryAfter: try milliseconds(args, "retry_after_ms"), rejectItems: Int64(try args.optional("partial_success")?.int() ?? 0),
                            delay: try milliseconds(args, "delay_ms") ?? .zero)
                        script.steps.append(.receiver(try signals(args), step))
                    case "wait_arrived":
                        let args = try arguments(["signal", "within_ms", "check"])
                        guard let within = try milliseconds(args, "within_ms") else { throw args.owner.error("wait_arrived needs within_ms") }
                        script.steps.append(.waitArrived(try signals(args), within: within, check: try args.optional("check").map(check) ?? missing))
                    case "sleep":
                        let args = try arguments(["ms"])
                        guard let time = try milliseconds(args, "ms") else { throw args.owner.error("sleep needs ms") }
                        script.steps.append(.sleep(time))
                    case "kill_collector":
                        _ = try arguments([])
                        guard started else { throw item.error("the collector is not running") }
                        started = false
                        script.steps.append(.killCollector)
                    case "start_collector":
                        _ = try arguments([])
                        guard !started else { throw item.error("the collector is already running") }
                        started = true
                        script.steps.append(.startCollector)
                    case "recreate_file":
                        _ = try arguments([])
                        script.steps.append(.recreateFile)
                    case "reset_file":
                        _ = try arguments([])
                        script.steps.append(.resetFile)
                    default:
                        if verb == "parallel" { throw item.error("parallel is not a testbed step") }
                        script.steps.append(.write(try builder.command(verb, argument, at: item)))
                    }
                }
            }
            guard started else { throw ScenarioError("\(source): the scenario ends with the collector killed; start_collector it again") }
            return script
        }
    }

    /// The scenarios built into the binary, from scenarios/collectors.
    static func builtIn() throws -> [TestbedScript] {
        try BuiltInCollectorScenarios.all.map { try load(yaml: $0.yaml, source: "built-in collector scenario \($0.file)") }
    }

    static func milliseconds(_ args: YMap, _ key: String) throws -> Duration? {
        guard let node = args.optional(key) else { return nil }
        let number = try node.int()
        guard number >= 0 else { throw node.error("\(key) is a whole number of milliseconds") }
        return .milliseconds(number)
    }

    static func check(_ node: YNode) throws -> ReaderCheck {
        let name = try node.string()
        guard let check = ReaderCheck.named(name) else {
            throw node.error("'\(name)' is no reader check (spec/readers.yaml: \(ReaderCheck.all.map(\.id).joined(separator: ", ")))")
        }
        return check
    }

    static func signals(_ args: YMap) throws -> Set<OTLPSignal> {
        guard let node = args.optional("signal") else { return Set(OTLPSignal.allCases) }
        let value = try node.string()
        if value == "all" { return Set(OTLPSignal.allCases) }
        guard let signal = OTLPSignal(rawValue: value) else { throw node.error("signal is traces, logs, metrics or all") }
        return [signal]
    }
}
