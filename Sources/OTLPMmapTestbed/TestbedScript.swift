import Foundation
import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapReceiver
import OTLPMmapTestee
import Yams

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
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw ScenarioError("\(source): not YAML: \(error)") }
        guard let map = root as? [String: Any] else { throw ScenarioError("\(source): a scenario is a mapping") }
        let known: Set<String> = ["name", "description", "check", "file", "repeat", "steps"]
        if let unknown = map.keys.sorted().first(where: { !known.contains($0) }) { throw ScenarioError("\(source): unknown key '\(unknown)'") }
        guard let name = map["name"] as? String else { throw ScenarioError("\(source): missing name") }
        guard let list = map["steps"] as? [Any] else { throw ScenarioError("\(source): missing steps (a list)") }
        var builder = ScenarioLoader.Builder(source: source)
        let missing = try check(map["check"] ?? "READ-CONTENT", builder)
        var script = TestbedScript(name: name, description: map["description"] as? String ?? "", missing: missing,
                                   file: try builder.file(map["file"]), steps: [])
        var started = true
        let rounds = map["repeat"] as? Int ?? 1
        guard (1...100_000).contains(rounds) else { throw ScenarioError("\(source): repeat is a count from 1 to 100000") }
        let items = (0..<rounds).flatMap { round in list.enumerated().map { (round: round, index: $0.offset, item: $0.element) } }
        for (round, index, original) in items {
            builder.position = rounds > 1 ? "round \(round + 1), step \(index + 1)" : "step \(index + 1)"
            builder.round = rounds > 1 ? "#\(round)" : ""
            let item = rounds > 1 ? Self.substitute(original, round: round + 1) : original
            let (verb, argument): (String, Any?) = if let verb = item as? String { (verb, nil) } else if let step = item as? [String: Any], step.count == 1 {
                (step.keys.first!, step.values.first!)
            } else {
                throw builder.error("a step is a name or a mapping with one key, the step's name")
            }
            let args = (argument as? [String: Any]) ?? [:]
            if argument != nil, !(argument is [String: Any]), !(argument is [Any]) { throw builder.error("\(verb) takes a mapping") }
            func milliseconds(_ key: String) throws -> Duration? {
                guard let value = args[key] else { return nil }
                guard let number = value as? Int, number >= 0 else { throw builder.error("\(key) is a whole number of milliseconds") }
                return .milliseconds(number)
            }
            switch verb {
            case "broken":
                guard let record = TestbedScript.BrokenRecord(rawValue: try builder.string(args, "record")) else {
                    throw builder.error("record is one of \(TestbedScript.BrokenRecord.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if record == .measurementWithoutValue {
                    let label = try builder.string(args, "instrument")
                    guard let id = builder.instruments[label + builder.round] else { throw builder.error("instrument \(label) is not defined") }
                    script.instrumentOfBrokenMeasurement = id
                }
                script.steps.append(.broken(record))
            case "log_value_ref":
                script.steps.append(.valueRefLog(body: try builder.string(args, "body"), key: try builder.string(args, "key"),
                                                 time: UInt64(args["time"] as? Int ?? 1_700_000_000_000_000_000 + index)))
            case "hole":
                let rings = ["spans": RingKind.spans, "events": .events, "measurements": .measurements]
                guard let ring = rings[try builder.string(args, "ring")] else { throw builder.error("ring is spans, events or measurements") }
                script.steps.append(.hole(ring))
            case "receiver":
                let step = TestbedScript.ReceiverStep(
                    refuseNext: args["refuse"] as? Int ?? 0, refuseFor: try milliseconds("refuse_for_ms"), retryAfter: try milliseconds("retry_after_ms"),
                    rejectItems: Int64(args["partial_success"] as? Int ?? 0), delay: try milliseconds("delay_ms") ?? .zero)
                let allowed: Set<String> = ["signal", "refuse", "refuse_for_ms", "retry_after_ms", "partial_success", "delay_ms"]
                if let unknown = args.keys.sorted().first(where: { !allowed.contains($0) }) { throw builder.error("receiver: unknown key '\(unknown)'") }
                script.steps.append(.receiver(try signals(args, builder), step))
            case "wait_arrived":
                guard let within = try milliseconds("within_ms") else { throw builder.error("wait_arrived needs within_ms") }
                script.steps.append(.waitArrived(try signals(args, builder), within: within, check: try check(args["check"] ?? missing.id, builder)))
            case "sleep":
                guard let time = try milliseconds("ms") else { throw builder.error("sleep needs ms") }
                script.steps.append(.sleep(time))
            case "kill_collector":
                guard started else { throw builder.error("the collector is not running") }
                started = false
                script.steps.append(.killCollector)
            case "start_collector":
                guard !started else { throw builder.error("the collector is already running") }
                started = true
                script.steps.append(.startCollector)
            case "recreate_file":
                script.steps.append(.recreateFile)
            case "reset_file":
                script.steps.append(.resetFile)
            default:
                let command = try builder.command([verb: argument as Any])
                if case .runParallel? = command.command { throw builder.error("parallel is not a testbed step") }
                script.steps.append(.write(command))
            }
        }
        guard started else { throw ScenarioError("\(source): the scenario ends with the collector killed; start_collector it again") }
        return script
    }

    /// `{round}` in every string of a repeated step becomes the round's number, so that rounds can
    /// write distinct strings (and make the dictionary grow).
    static func substitute(_ item: Any, round: Int) -> Any {
        switch item {
        case let text as String: return text.replacingOccurrences(of: "{round}", with: "\(round)")
        case let list as [Any]: return list.map { substitute($0, round: round) }
        case let map as [String: Any]:
            return Dictionary(uniqueKeysWithValues: map.map { (substitute($0.key, round: round) as! String, substitute($0.value, round: round)) })
        default: return item
        }
    }

    /// The scenarios built into the binary, from scenarios/collectors.
    static func builtIn() throws -> [TestbedScript] {
        try BuiltInCollectorScenarios.all.map { try load(yaml: $0.yaml, source: "built-in collector scenario \($0.file)") }
    }

    static func check(_ value: Any, _ builder: ScenarioLoader.Builder) throws -> ReaderCheck {
        guard let check = ReaderCheck.named("\(value)") else {
            throw builder.error("'\(value)' is no reader check (spec/readers.yaml: \(ReaderCheck.all.map(\.id).joined(separator: ", ")))")
        }
        return check
    }

    static func signals(_ args: [String: Any], _ builder: ScenarioLoader.Builder) throws -> Set<OTLPSignal> {
        let value = args["signal"] as? String ?? "all"
        if value == "all" { return Set(OTLPSignal.allCases) }
        guard let signal = OTLPSignal(rawValue: value) else { throw builder.error("signal is traces, logs, metrics or all") }
        return [signal]
    }
}
