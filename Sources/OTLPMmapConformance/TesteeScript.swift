import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapTestee
import OTLPMmapSpec
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
/// Every key is checked: a misspelt one is an error naming the file, line and what is known.
package enum ScenarioLoader {
    package static func load(path: String) throws -> TesteeScript {
        let text: String
        do { text = try SystemFile.text(of: path) } catch {
            throw ScenarioError("cannot read the scenario: \(error)")
        }
        return try load(yaml: text, source: path)
    }

    package static func load(yaml text: String, source: String) throws -> TesteeScript {
        try ScenarioError.located {
            let map = try composeYAML(text, file: source).mapping(allowed: ["name", "description", "timeout_seconds", "file", "repeat", "commands"])
            let list = try map.required("commands").sequence()
            var builder = Builder(source: source)
            let file = try builder.file(map.optional("file"))
            let rounds = try Builder.rounds(map)
            var steps: [TesteeScript.Step] = []
            for round in 0..<rounds {
                builder.round = rounds > 1 ? "#\(round)" : ""
                for item in list {
                    let (verb, argument) = try item.step()
                    switch verb {
                    case "pause_consumer": steps.append(.consumer(paused: true))
                    case "resume_consumer": steps.append(.consumer(paused: false))
                    default: steps.append(.command(try builder.command(verb, argument, at: item)))
                    }
                }
            }
            return TesteeScript(name: try map.string("name"), description: try map.text("description"),
                                timeoutSeconds: try map.optional("timeout_seconds")?.double() ?? 30, file: file, steps: steps)
        }
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
    /// writer commands among their steps. Errors are `SpecError`s at the node at fault.
    package struct Builder {
        package var source: String
        package var round = ""
        /// When set, `{round}` in every text the builder reads becomes this number (repeated
        /// testbed steps write distinct strings with it).
        package var roundNumber: Int?
        var spans: [String: (trace: [UInt8], span: [UInt8])] = [:]
        var scopes: [String: Int64] = [:]
        package var instruments: [String: Int64] = [:]
        var nextSpan: UInt64 = 0
        var clock: UInt64 = 1_700_000_000_000_000_000

        package init(source: String) { self.source = source }

        /// `repeat`: how many times the list runs (1 when absent).
        package static func rounds(_ map: YMap) throws -> Int {
            guard let node = map.optional("repeat") else { return 1 }
            let rounds = try node.int()
            guard (1...100_000).contains(rounds) else { throw node.error("repeat is a count from 1 to 100000") }
            return rounds
        }

        /// A scalar read as text, with `{round}` replaced when the builder repeats.
        package func text(_ node: YNode) throws -> String { substitute(try node.string()) }

        func substitute(_ text: String) -> String {
            guard let roundNumber else { return text }
            return text.replacingOccurrences(of: "{round}", with: "\(roundNumber)")
        }

        package func text(_ map: YMap, _ key: String, default value: String = "") throws -> String {
            try map.optional(key).map(text) ?? value
        }

        package func requiredText(_ map: YMap, _ key: String) throws -> String { try text(map.required(key)) }

        mutating func time(_ map: YMap) throws -> UInt64 {
            clock += 1_000
            guard let given = map.optional("time") else { return clock }
            let value = try given.int()
            guard value >= 0 else { throw given.error("time is nanoseconds since the epoch, not negative") }
            return UInt64(value)
        }

        func flags(_ map: YMap) throws -> UInt32 {
            guard let node = map.optional("flags") else { return 1 }
            guard let value = UInt32(exactly: try node.int()) else { throw node.error("flags is a 32-bit unsigned number") }
            return value
        }

        package func file(_ node: YNode?) throws -> CreateFile {
            var file = TesteeScript.defaultFile
            guard let node else { return file }
            let map = try node.mapping(allowed: ["slots", "slot_size", "dictionary_bytes", "resource"])
            let slots = try map.optional("slots")?.int(), slotSize = try map.optional("slot_size")?.int()
            for ring in [\CreateFile.events, \.spans, \.measurements] {
                if let slots { file[keyPath: ring]!.slots = Int64(slots) }
                if let slotSize { file[keyPath: ring]!.slotSize = Int64(slotSize) }
            }
            if let bytes = try map.optional("dictionary_bytes")?.int() { file.dictionaryBytes = Int64(bytes) }
            if let resource = map.optional("resource") { file.resource = try attributes(resource) }
            return file
        }

        /// The writer command `verb` with its argument (`item` is the step, for errors).
        package mutating func command(_ verb: String, _ argument: YNode?, at item: YNode) throws -> Command {
            if verb == "parallel" {
                guard let argument else { throw item.error("parallel takes a list of command lists") }
                return Command(command: .runParallel(RunParallel(groups: try argument.sequence().map { group in
                    CommandGroup(commands: try group.sequence().map { step in
                        let (verb, argument) = try step.step()
                        return try command(verb, argument, at: step)
                    })
                })))
            }
            if verb == "sync" {
                if let argument { _ = try argument.mapping(allowed: []) }
                return Command(command: .sync(Sync()))
            }
            guard let keys = Self.commandKeys[verb] else {
                throw item.error("unknown command '\(verb)' (known: \((Self.commandKeys.keys.sorted() + ["parallel", "sync"]).joined(separator: ", ")))")
            }
            guard let argument else { throw item.error("\(verb) takes a mapping") }
            let args = try argument.mapping(allowed: keys)
            switch verb {
            case "define_scope":
                let label = try requiredText(args, "scope")
                let id = Int64(scopes.count + 1)
                scopes[label + round] = id
                return Command(command: .defineScope(DefineScope(scopeId: id, name: try requiredText(args, "name"), version: try text(args, "version"),
                                                                 attributes: try attributes(args.optional("attributes")))))
            case "start_span":
                let label = try requiredText(args, "span")
                nextSpan += 1
                let spanID = [UInt8](id: nextSpan, width: 8)
                var parent: [UInt8] = []
                var trace = [UInt8](id: 0x5eed_0000_0000 + nextSpan, width: 16)
                if let parentNode = args.optional("parent") {
                    let parentLabel = try text(parentNode)
                    guard let ids = spans[parentLabel + round] else { throw parentNode.error("parent \(parentLabel) is not a started span") }
                    parent = ids.span
                    trace = ids.trace
                }
                spans[label + round] = (trace, spanID)
                return Command(command: .startSpan(BeginSpan(
                    scopeId: try scope(args), traceId: trace, spanId: spanID, parentSpanId: parent, name: try text(args, "name"),
                    kind: try enumeration(args.optional("kind"), "span kind") { SpanKind(name: $0)?.rawValue }, startTimeUnixNano: try time(args),
                    flags: try flags(args), attributes: try attributes(args.optional("attributes")))))
            case "set_span_attributes":
                let ids = try span(args)
                return Command(command: .setSpanAttributes(SetSpanAttributes(traceId: ids.trace, spanId: ids.span, attributes: try attributes(args.optional("attributes")))))
            case "rename_span":
                let ids = try span(args)
                return Command(command: .renameSpan(RenameSpan(traceId: ids.trace, spanId: ids.span, name: try requiredText(args, "name"))))
            case "add_span_links":
                let ids = try span(args)
                return Command(command: .addSpanLinks(AddSpanLinks(traceId: ids.trace, spanId: ids.span, links: try args.required("links").sequence().map { node in
                    let link = try node.mapping(allowed: ["span", "trace_state", "attributes", "flags"])
                    let target = try span(link)
                    return LinkTarget(traceId: target.trace, spanId: target.span, traceState: try text(link, "trace_state"),
                                      attributes: try attributes(link.optional("attributes")), flags: try flags(link))
                })))
            case "end_span":
                let ids = try span(args)
                return Command(command: .endSpan(FinishSpan(traceId: ids.trace, spanId: ids.span, endTimeUnixNano: try time(args),
                                                            statusCode: try enumeration(args.optional("status"), "status code") { StatusCode(name: $0)?.rawValue },
                                                            statusMessage: try text(args, "message"))))
            case "log":
                var context: (trace: [UInt8], span: [UInt8]) = ([], [])
                if args.optional("span") != nil { context = try span(args) }
                return Command(command: .log(EmitLog(
                    scopeId: try scope(args), timeUnixNano: try time(args),
                    severityNumber: try enumeration(args.optional("severity"), "severity") { SeverityNumber(name: $0)?.rawValue },
                    severityText: try text(args, "severity_text"), body: try args.optional("body").map(value), attributes: try attributes(args.optional("attributes")),
                    eventName: try text(args, "event_name"), traceId: context.trace, spanId: context.span, flags: context.span.isEmpty ? 0 : 1)))
            case "define_instrument":
                let label = try requiredText(args, "instrument")
                let id = Int64(instruments.count + 1)
                instruments[label + round] = id
                let kinds = ["counter": InstrumentKind.counter, "up_down_counter": .upDownCounter, "gauge": .gauge,
                             "histogram": .histogram, "exponential_histogram": .exponentialHistogram]
                let kindNode = try args.required("kind")
                guard let kind = kinds[try kindNode.string()] else { throw kindNode.error("kind is one of \(kinds.keys.sorted().joined(separator: ", "))") }
                var temporality: UInt32 = kind == .histogram || kind == .exponentialHistogram ? 1 : 2
                if let node = args.optional("temporality") {
                    switch try node.string() {
                    case "delta": temporality = 1
                    case "cumulative": temporality = 2
                    default: throw node.error("temporality is delta or cumulative")
                    }
                }
                return Command(command: .defineInstrument(DefineInstrument(
                    instrumentId: id, scopeId: try scope(args), kind: kind, name: try text(args, "name", default: label),
                    description: try text(args, "description"), unit: try text(args, "unit"), temporality: kind == .gauge ? 0 : temporality,
                    boundaries: try args.optional("boundaries")?.sequence().map { try $0.double() } ?? [],
                    maxBuckets: Int64(try args.optional("max_buckets")?.int() ?? 0), maxScale: Int64(try args.optional("max_scale")?.int() ?? 0))))
            case "record":
                let instrumentNode = try args.required("instrument")
                let label = try text(instrumentNode)
                guard let id = instruments[label + round] else { throw instrumentNode.error("instrument \(label) is not defined") }
                var measurement = RecordMeasurement(instrumentId: id, attributes: try attributes(args.optional("attributes")), timeUnixNano: try time(args))
                let valueNode = try args.required("value")
                switch try valueNode.scalar() {
                case .int(let number): measurement.value = .asLong(Int64(number))
                case .double(let number): measurement.value = .asDouble(number)
                default: throw valueNode.error("record takes a number as value")
                }
                if args.optional("span") != nil {
                    let ids = try span(args)
                    (measurement.traceId, measurement.spanId, measurement.flags) = (ids.trace, ids.span, 1)
                }
                return Command(command: .record(measurement))
            default:
                preconditionFailure("commandKeys names \(verb) but no case reads it")
            }
        }

        /// The keys each writer command takes.
        static let commandKeys: [String: Set<String>] = [
            "define_scope": ["scope", "name", "version", "attributes"],
            "start_span": ["span", "parent", "scope", "name", "kind", "time", "flags", "attributes"],
            "set_span_attributes": ["span", "attributes"],
            "rename_span": ["span", "name"],
            "add_span_links": ["span", "links"],
            "end_span": ["span", "time", "status", "message"],
            "log": ["scope", "span", "time", "severity", "severity_text", "body", "attributes", "event_name"],
            "define_instrument": ["instrument", "scope", "kind", "name", "description", "unit", "temporality", "boundaries", "max_buckets", "max_scale"],
            "record": ["instrument", "attributes", "time", "value", "span"],
        ]

        package func span(_ map: YMap) throws -> (trace: [UInt8], span: [UInt8]) {
            let node = try map.required("span")
            let label = try text(node)
            guard let ids = spans[label + round] else { throw node.error("span \(label) was not started") }
            return ids
        }

        package func scope(_ map: YMap) throws -> Int64 {
            guard let node = map.optional("scope") else { return 0 }
            let label = try text(node)
            guard let id = scopes[label + round] else { throw node.error("scope \(label) is not defined") }
            return id
        }

        /// An enum given by its schema name (SPAN_KIND_SERVER) or number.
        func enumeration(_ node: YNode?, _ label: String, _ lookup: (String) -> Int32?) throws -> UInt32 {
            guard let node else { return 0 }
            if case .int(let number) = try node.scalar() { return UInt32(truncatingIfNeeded: number) }
            let name = try node.string()
            guard let number = lookup(name) else { throw node.error("unknown \(label) '\(name)'") }
            return UInt32(truncatingIfNeeded: number)
        }

        /// A mapping of attribute names to values, sorted by name.
        func attributes(_ node: YNode?) throws -> [KeyValue] {
            guard let node else { return [] }
            return try node.entries().map { (key: substitute($0.key), value: $0.value) }
                .sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: try value($0.value)) }
        }

        /// YAML scalars by their type; lists are arrays, mappings key-value lists.
        func value(_ node: YNode) throws -> Value {
            switch node.node {
            case .sequence: return Value(value: .arrayValue(ValueArray(values: try node.sequence().map(value))))
            case .mapping: return Value(value: .kvlistValue(ValueMap(values: try attributes(node))))
            default:
                switch try node.scalar() {
                case .bool(let flag): return Value(value: .boolValue(flag))
                case .int(let number): return Value(value: .intValue(Int64(number)))
                case .double(let number): return Value(value: .doubleValue(number))
                case .string: return Value(value: .stringValue(try text(node)))
                case .bytes(let bytes): return Value(value: .bytesValue(bytes))  // YAML !!binary
                }
            }
        }
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

    /// Runs a loader, turning a YAML or schema error (file, line, column, where, what) into a
    /// ScenarioError with the same text.
    package static func located<Result>(_ body: () throws -> Result) throws -> Result {
        do { return try body() } catch let error as SpecError { throw ScenarioError(error.description) }
    }
}
