import ArgumentParser
import Foundation
import OTLPMmapConformance
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire

/// The reference writer as a writer under test for `conform run`: it reads the scenario file the
/// runner names and records what the scenario expects, through the SDK. `--break RULE` makes it
/// break one rule on purpose, so tests can show the runner reports exactly that rule.
struct ScenarioWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario-writer",
        abstract: "Write the scenario named by $OTLP_MMAP_SCENARIO_FILE into $SDK_MMAP_EXPORTER_FILE (for conform run).",
        shouldDisplay: false
    )

    static let breakable = ["SLOT-LENGTH", "RING-HOLE", "REC-SPAN-ID", "CRASH"]

    @Option(name: .customLong("break"), help: "Break a rule on purpose: \(breakable.joined(separator: ", ")).")
    var breakRule: String?

    @Option(help: "Slots per ring (small rings make the writer wait for the consumer).")
    var numBuffers: Int64 = 64

    func validate() throws {
        if let breakRule, !Self.breakable.contains(breakRule) {
            throw ValidationError("--break takes one of \(Self.breakable.joined(separator: ", "))")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = environment["SDK_MMAP_EXPORTER_FILE"], let scenarioPath = environment["OTLP_MMAP_SCENARIO_FILE"] else {
            throw ValidationError("SDK_MMAP_EXPORTER_FILE and OTLP_MMAP_SCENARIO_FILE must be set (conform run sets them)")
        }
        let scenario = try Scenario.load(path: scenarioPath)
        let ring = FileConfiguration.RingSize(numBuffers: numBuffers, bufferSize: 512)
        let writer = try TelemetryWriter(configuration: WriterConfiguration(
            path: path, events: ring, spans: ring, measurements: ring, fullRingWait: .seconds(30)))
        if breakRule == "RING-HOLE" { _ = writer.file.ring(.spans).claim() }
        var spans: [String: Span] = [:]
        for record in scenario.expected(.spans) { try writeSpan(record, writer, &spans) }
        for record in scenario.expected(.events) { try writeEvent(record, writer, spans) }
        var instruments: [String: Instrument] = [:]
        for record in scenario.expected(.measurements) { try writeMeasurement(record, writer, &instruments) }
        switch breakRule {
        case "SLOT-LENGTH":
            // A record cut to fit its slot, as a writer that truncates instead of rejecting leaves:
            // the length prefix still says the whole record's length.
            let events = writer.file.ring(.events)
            guard let sequence = events.claim() else { throw ValidationError("the events ring is full") }
            var slot = ProtoWriter(events.slot(sequence))
            slot.writeVarint(UInt64(events.bufferSize) + 100)
            let filler = [UInt8](repeating: 0x41, count: Int(events.bufferSize) - 2)
            filler.withUnsafeBytes { slot.writeRaw($0) }
            events.publish(sequence)
        case "REC-SPAN-ID":
            try writer.file.ring(.spans).write(OTLPMmapLayout.SpanEvent(traceId: [1, 2, 3], spanId: [4], scopeRef: writer.defaultScope.ref,
                                                                       event: .name(ChangeSpanName(name: "bad ids"))))
        case "CRASH":
            kill(getpid(), SIGKILL)
        default:
            break
        }
    }

    func text(_ record: [String: Scenario.ExpectedValue], _ key: String) -> String? {
        if case .text(let value)? = record[key] { return value }
        return nil
    }

    func attributes(_ record: [String: Scenario.ExpectedValue], _ writer: TelemetryWriter) throws -> Attributes {
        guard case .map(let map)? = record["attributes"] else { return .none }
        return try writer.attributes(map.sorted { $0.key < $1.key }.map { Attribute($0.key, Self.value($0.value)) })
    }

    /// Scenario values are text; numbers that read back as the same text are written as numbers.
    static func value(_ text: String) -> AttributeValue {
        if let number = Int64(text), String(number) == text { return .int(number) }
        return .string(text)
    }

    func writeSpan(_ record: [String: Scenario.ExpectedValue], _ writer: TelemetryWriter, _ spans: inout [String: Span]) throws {
        let label = text(record, "span") ?? ""
        switch text(record, "event") {
        case "start":
            let kind = text(record, "kind").flatMap { SpanKind(name: $0) } ?? .internal
            spans[label] = writer.startSpan(text(record, "name") ?? "", kind: kind, parent: text(record, "parent").flatMap { spans[$0]?.context },
                                            attributes: try attributes(record, writer))
        case "end":
            let status = text(record, "status").flatMap { StatusCode(name: $0) } ?? .unset
            spans[label]?.end(status: status, message: text(record, "message") ?? "")
        case "name":
            spans[label]?.rename(text(record, "name") ?? "")
        case "attributes":
            spans[label]?.setAttributes(try attributes(record, writer))
        case "link":
            if let target = text(record, "link").flatMap({ spans[$0] }) { spans[label]?.addLinks([SpanLink(to: target.context)]) }
        default:
            throw ValidationError("unknown span event \(text(record, "event") ?? "none")")
        }
    }

    func writeEvent(_ record: [String: Scenario.ExpectedValue], _ writer: TelemetryWriter, _ spans: [String: Span]) throws {
        let severity = text(record, "severity").flatMap { SeverityNumber(name: $0) } ?? .unspecified
        writer.log(severity, text(record, "body").map { .text($0) } ?? .none, eventName: try text(record, "event_name").map(writer.eventName),
                   attributes: try attributes(record, writer), spanContext: text(record, "span").flatMap { spans[$0]?.context })
    }

    func writeMeasurement(_ record: [String: Scenario.ExpectedValue], _ writer: TelemetryWriter, _ instruments: inout [String: Instrument]) throws {
        let name = text(record, "metric") ?? ""
        let aggregation = text(record, "aggregation") ?? "gauge"
        let key = "\(name)/\(aggregation)"
        if instruments[key] == nil {
            instruments[key] = switch aggregation {
            case "sum": try writer.counter(name)
            case "histogram": try writer.histogram(name, boundaries: [0, 10, 100])
            case "exp_hist": try writer.exponentialHistogram(name)
            default: try writer.gauge(name)
            }
        }
        let value = text(record, "value") ?? "0"
        if let long = Int64(value) {
            instruments[key]!.record(long, attributes: try attributes(record, writer))
        } else {
            instruments[key]!.record(Double(value) ?? 0, attributes: try attributes(record, writer))
        }
    }
}
