import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapTestee
import Yams

/// A stream of testee commands with a name: a named scenario (scenarios/writers, loaded
/// from YAML), a generated fuzz case, or a saved replay. The runner adds `create_file` (with the
/// path it chose) in front and `exit` at the end, and numbers the commands.
package struct TesteeScript: Sendable, Equatable {
    /// A command for the testee, or a change of what the runner's consumer does meanwhile.
    package enum Step: Sendable, Equatable {
        case command(Command)
        /// Stop (true) or resume (false) reading the rings; see ConsumerControl in spec/testee.yaml.
        case consumer(paused: Bool)
    }

    package var name: String
    package var description: String
    package var timeoutSeconds: Double
    /// The file to create; its `path` is the runner's choice.
    package var file: CreateFile
    package var steps: [Step]

    package init(name: String, description: String = "", timeoutSeconds: Double = 30, file: CreateFile, steps: [Step]) {
        self.name = name
        self.description = description
        self.timeoutSeconds = timeoutSeconds
        self.file = file
        self.steps = steps
    }

    package init(name: String, description: String = "", timeoutSeconds: Double = 30, file: CreateFile, commands: [Command]) {
        self.init(name: name, description: description, timeoutSeconds: timeoutSeconds, file: file, steps: commands.map { .command($0) })
    }

    /// The commands of the steps, in order.
    package var commands: [Command] {
        steps.compactMap { if case .command(let command) = $0 { command } else { nil } }
    }

    /// Geometry a scenario gets when it names none: small rings, so that the writer must wait for
    /// the runner, and a small dictionary, so that it must grow.
    package static let defaultFile = CreateFile(
        events: RingGeometry(slots: 64, slotSize: 512), spans: RingGeometry(slots: 64, slotSize: 512),
        measurements: RingGeometry(slots: 64, slotSize: 512), dictionaryBytes: 1024,
        resource: [KeyValue(key: "service.name", value: Value(value: .stringValue("otlp-mmap-conformance")))])
}

// MARK: YAML scenarios

/// Reads a scenario file: `name`, `description`, `timeout_seconds`, `file` (ring geometry,
/// dictionary size, resource), `repeat` and `commands`, each a one-key mapping named as the
/// protocol's command (`start_span: {span: A, name: …}`). Spans, scopes and instruments are named by
/// labels; the loader turns labels into ids and gives every record a time of its own, so that the
/// file's content is known exactly. `pause_consumer` and `resume_consumer` are steps for the runner.
package enum ScenarioLoader {
    package static func load(path: String) throws -> TesteeScript {
        let text: String
        do { text = try SystemFile.text(of: path) } catch {
            throw ScenarioError("cannot read the scenario: \(error)")
        }
        return try load(yaml: text, source: path)
    }

    package static func load(yaml text: String, source: String) throws -> TesteeScript {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw ScenarioError("\(source): not YAML: \(error)") }
        guard let map = root as? [String: Any] else { throw ScenarioError("\(source): a scenario is a mapping") }
        let known: Set<String> = ["name", "description", "timeout_seconds", "file", "repeat", "commands"]
        if let unknown = map.keys.first(where: { !known.contains($0) }) { throw ScenarioError("\(source): unknown key '\(unknown)'") }
        guard let name = map["name"] as? String else { throw ScenarioError("\(source): missing name") }
        guard let list = map["commands"] as? [Any] else { throw ScenarioError("\(source): missing commands (a list)") }
        var builder = Builder(source: source)
        let file = try builder.file(map["file"])
        let rounds = map["repeat"] as? Int ?? 1
        var steps: [TesteeScript.Step] = []
        for round in 0..<max(1, rounds) {
            builder.round = rounds > 1 ? "#\(round)" : ""
            for (index, item) in list.enumerated() {
                builder.position = "command \(index + 1)"
                switch (item as? [String: Any])?.keys.first {
                case "pause_consumer": steps.append(.consumer(paused: true))
                case "resume_consumer": steps.append(.consumer(paused: false))
                default: steps.append(.command(try builder.command(item)))
                }
            }
        }
        let timeout = (map["timeout_seconds"] as? Double) ?? Double(map["timeout_seconds"] as? Int ?? 30)
        return TesteeScript(name: name, description: map["description"] as? String ?? "", timeoutSeconds: timeout, file: file, steps: steps)
    }

    /// Every scenario of a folder, sorted by name.
    package static func loadAll(folder: String) throws -> [TesteeScript] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted() } catch {
            throw ScenarioError("\(folder): cannot list the scenarios: \(error.localizedDescription)")
        }
        return try names.map { try load(path: (folder as NSString).appendingPathComponent($0)) }
    }

    /// The scenarios built into the binary (the same files as scenarios/writers; a test
    /// checks they agree), so that `conform run` works from any folder.
    package static func builtIn() throws -> [TesteeScript] {
        try BuiltInScenarios.all.map { try load(yaml: $0.yaml, source: "built-in scenario \($0.file)") }
    }

    /// Turns labels into ids and hands out times. The collector testbed's scenarios use it for the
    /// writer commands among their steps.
    package struct Builder {
        package var source: String
        package var position = ""
        package var round = ""
        var spans: [String: (trace: [UInt8], span: [UInt8])] = [:]
        var scopes: [String: Int64] = [:]
        package var instruments: [String: Int64] = [:]
        var nextSpan: UInt64 = 0
        var clock: UInt64 = 1_700_000_000_000_000_000

        package init(source: String) { self.source = source }

        package func error(_ message: String) -> ScenarioError { ScenarioError("\(source), \(position): \(message)") }

        mutating func time(_ map: [String: Any]) -> UInt64 {
            clock += 1_000
            if let given = map["time"] as? Int { return UInt64(given) }
            return clock
        }

        package func file(_ value: Any?) throws -> CreateFile {
            var file = TesteeScript.defaultFile
            guard let value else { return file }
            guard let map = value as? [String: Any] else { throw error("file must be a mapping") }
            let slots = map["slots"] as? Int, slotSize = map["slot_size"] as? Int
            for ring in [\CreateFile.events, \.spans, \.measurements] {
                if let slots { file[keyPath: ring]!.slots = Int64(slots) }
                if let slotSize { file[keyPath: ring]!.slotSize = Int64(slotSize) }
            }
            if let bytes = map["dictionary_bytes"] as? Int { file.dictionaryBytes = Int64(bytes) }
            if let resource = map["resource"] { file.resource = try attributes(resource) }
            return file
        }

        package mutating func command(_ item: Any) throws -> Command {
            guard let map = item as? [String: Any], map.count == 1, let (verb, argument) = map.first else {
                throw error("a command is a mapping with one key, the command's name")
            }
            if verb == "parallel" {
                guard let groups = argument as? [[Any]] else { throw error("parallel takes a list of command lists") }
                return Command(command: .runParallel(RunParallel(groups: try groups.map { CommandGroup(commands: try $0.map { try command($0) }) })))
            }
            if verb == "sync" { return Command(command: .sync(Sync())) }
            guard let args = argument as? [String: Any] else { throw error("\(verb) takes a mapping") }
            switch verb {
            case "define_scope":
                let label = try string(args, "scope")
                let id = Int64(scopes.count + 1)
                scopes[label + round] = id
                return Command(command: .defineScope(DefineScope(scopeId: id, name: try string(args, "name"), version: args["version"].map { "\($0)" } ?? "",
                                                                 attributes: try attributes(args["attributes"]))))
            case "start_span":
                let label = try string(args, "span")
                nextSpan += 1
                let spanID = [UInt8](id: nextSpan, width: 8)
                var parent: [UInt8] = []
                var trace = [UInt8](id: 0x5eed_0000_0000 + nextSpan, width: 16)
                if let parentLabel = args["parent"] as? String {
                    guard let ids = spans[parentLabel + round] else { throw error("parent \(parentLabel) is not a started span") }
                    parent = ids.span
                    trace = ids.trace
                }
                spans[label + round] = (trace, spanID)
                return Command(command: .startSpan(BeginSpan(
                    scopeId: try scope(args), traceId: trace, spanId: spanID, parentSpanId: parent, name: args["name"].map { "\($0)" } ?? "",
                    kind: try enumeration(args["kind"], "span kind") { SpanKind(name: $0)?.rawValue }, startTimeUnixNano: time(args), flags: UInt32(args["flags"] as? Int ?? 1),
                    attributes: try attributes(args["attributes"]))))
            case "set_span_attributes":
                let ids = try span(args)
                return Command(command: .setSpanAttributes(SetSpanAttributes(traceId: ids.trace, spanId: ids.span, attributes: try attributes(args["attributes"]))))
            case "rename_span":
                let ids = try span(args)
                return Command(command: .renameSpan(RenameSpan(traceId: ids.trace, spanId: ids.span, name: try string(args, "name"))))
            case "add_span_links":
                let ids = try span(args)
                guard let links = args["links"] as? [[String: Any]] else { throw error("add_span_links takes links, a list of mappings") }
                return Command(command: .addSpanLinks(AddSpanLinks(traceId: ids.trace, spanId: ids.span, links: try links.map { link in
                    let target = try span(link)
                    return LinkTarget(traceId: target.trace, spanId: target.span, traceState: link["trace_state"] as? String ?? "",
                                      attributes: try attributes(link["attributes"]), flags: UInt32(link["flags"] as? Int ?? 1))
                })))
            case "end_span":
                let ids = try span(args)
                return Command(command: .endSpan(FinishSpan(traceId: ids.trace, spanId: ids.span, endTimeUnixNano: time(args),
                                                            statusCode: try enumeration(args["status"], "status code") { StatusCode(name: $0)?.rawValue },
                                                            statusMessage: args["message"] as? String ?? "")))
            case "log":
                var context: (trace: [UInt8], span: [UInt8]) = ([], [])
                if args["span"] != nil { context = try span(args) }
                return Command(command: .log(EmitLog(
                    scopeId: try scope(args), timeUnixNano: time(args), severityNumber: try enumeration(args["severity"], "severity") { SeverityNumber(name: $0)?.rawValue },
                    severityText: args["severity_text"] as? String ?? "", body: try args["body"].map(value), attributes: try attributes(args["attributes"]),
                    eventName: args["event_name"] as? String ?? "", traceId: context.trace, spanId: context.span, flags: context.span.isEmpty ? 0 : 1)))
            case "define_instrument":
                let label = try string(args, "instrument")
                let id = Int64(instruments.count + 1)
                instruments[label + round] = id
                let kinds = ["counter": InstrumentKind.counter, "up_down_counter": .upDownCounter, "gauge": .gauge,
                             "histogram": .histogram, "exponential_histogram": .exponentialHistogram]
                guard let kind = kinds[try string(args, "kind")] else { throw error("kind is one of \(kinds.keys.sorted().joined(separator: ", "))") }
                let temporality: UInt32 = switch args["temporality"] as? String {
                case "delta": 1
                case "cumulative": 2
                default: kind == .histogram || kind == .exponentialHistogram ? 1 : 2
                }
                return Command(command: .defineInstrument(DefineInstrument(
                    instrumentId: id, scopeId: try scope(args), kind: kind, name: args["name"].map { "\($0)" } ?? label,
                    description: args["description"] as? String ?? "", unit: args["unit"] as? String ?? "", temporality: kind == .gauge ? 0 : temporality,
                    boundaries: (args["boundaries"] as? [Any])?.compactMap(Self.double) ?? [], maxBuckets: Int64(args["max_buckets"] as? Int ?? 0),
                    maxScale: Int64(args["max_scale"] as? Int ?? 0))))
            case "record":
                let label = try string(args, "instrument")
                guard let id = instruments[label + round] else { throw error("instrument \(label) is not defined") }
                var measurement = RecordMeasurement(instrumentId: id, attributes: try attributes(args["attributes"]), timeUnixNano: time(args))
                switch args["value"] {
                case let number as Int: measurement.value = .asLong(Int64(number))
                case let number as Double: measurement.value = .asDouble(number)
                default: throw error("record takes a number as value")
                }
                if args["span"] != nil {
                    let ids = try span(args)
                    (measurement.traceId, measurement.spanId, measurement.flags) = (ids.trace, ids.span, 1)
                }
                return Command(command: .record(measurement))
            default:
                throw error("unknown command '\(verb)'")
            }
        }

        package func string(_ map: [String: Any], _ key: String) throws -> String {
            guard let value = map[key] else { throw error("missing \(key)") }
            return "\(value)"
        }

        package func span(_ map: [String: Any]) throws -> (trace: [UInt8], span: [UInt8]) {
            let label = try string(map, "span")
            guard let ids = spans[label + round] else { throw error("span \(label) was not started") }
            return ids
        }

        package func scope(_ map: [String: Any]) throws -> Int64 {
            guard let label = map["scope"] as? String else { return 0 }
            guard let id = scopes[label + round] else { throw error("scope \(label) is not defined") }
            return id
        }

        /// An enum given by its schema name (SPAN_KIND_SERVER) or number.
        func enumeration(_ value: Any?, _ label: String, _ lookup: (String) -> Int32?) throws -> UInt32 {
            guard let value else { return 0 }
            if let number = value as? Int { return UInt32(truncatingIfNeeded: number) }
            guard let number = lookup("\(value)") else { throw error("unknown \(label) '\(value)'") }
            return UInt32(truncatingIfNeeded: number)
        }

        func attributes(_ value: Any?) throws -> [KeyValue] {
            guard let value else { return [] }
            guard let map = value as? [String: Any] else { throw error("attributes are a mapping") }
            return try map.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: try self.value($0.value)) }
        }

        /// YAML scalars by their type; lists are arrays, mappings key-value lists.
        func value(_ value: Any) throws -> Value {
            switch value {
            case let flag as Bool: return Value(value: .boolValue(flag))
            case let number as Int: return Value(value: .intValue(Int64(number)))
            case let number as Double: return Value(value: .doubleValue(number))
            case let text as String: return Value(value: .stringValue(text))
            case let data as Data: return Value(value: .bytesValue([UInt8](data)))  // YAML !!binary
            case let list as [Any]: return Value(value: .arrayValue(ValueArray(values: try list.map { try self.value($0) })))
            case let map as [String: Any]: return Value(value: .kvlistValue(ValueMap(values: try attributes(map))))
            default: throw error("unsupported value \(value)")
            }
        }

        static func double(_ value: Any) -> Double? { (value as? Double) ?? (value as? Int).map(Double.init) }
    }
}

extension Array where Element == UInt8 {
    /// An id of `width` bytes holding `value` big-endian in its last eight: scripts number their
    /// spans, so that every id is distinct and readable in a report.
    init(id value: UInt64, width: Int) {
        let tail = Swift.withUnsafeBytes(of: value.bigEndian, Array.init)
        self = [UInt8](repeating: 0, count: width - tail.count) + tail
    }
}

package struct ScenarioError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
