import Foundation
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapTestee
import OTLPProto

/// What a scenario wrote into the file, as it must arrive at the receiver, derived from the writer
/// commands the testbed carried out and their replies (a record answered DROPPED or TOO_LARGE is
/// not in the file and must not arrive). Spans as OTLP assembles them (start, attribute updates,
/// renames, links and end folded into one), log records field by field, and metric series by what
/// their points must add up to. Values compare as canonical text (`AttributeText`), byte-exact for
/// strings and bit-exact for doubles.
struct ExpectedExport: Sendable {
    struct Span: Sendable, Equatable {
        var traceID: String
        var spanID: String
        var parentSpanID = ""
        var name: String
        var kind: Int
        var start: UInt64
        var end: UInt64
        var statusCode: Int
        var statusMessage = ""
        var attributes: String
        var links = ""
        var scope = ""
    }

    struct LogRecord: Sendable, Equatable {
        var time: UInt64
        var severity: Int
        var severityText = ""
        var body: String
        var attributes: String
        var eventName = ""
        var traceID = ""
        var spanID = ""
        var scope = ""
    }

    /// A metric as its MetricRef defines it.
    struct Metric: Sendable, Equatable {
        enum Kind: String, Sendable { case sum, gauge, histogram, exponentialHistogram = "exponential histogram" }
        var name: String
        var description = ""
        var unit = ""
        var kind: Kind
        /// 1 delta, 2 cumulative, 0 for gauges.
        var temporality = 0
        var monotonic = false
        var boundaries: [Double] = []
        var scope = ""
    }

    /// What the points of one series (a metric and an attribute set) must come to.
    struct Series: Sendable, Equatable {
        var count: UInt64 = 0
        /// Sums: the total; gauges: the last value; histograms: the sum of the values.
        var value: Number = .int(0)
        var min = Double.infinity
        var max = -Double.infinity
        var bucketCounts: [UInt64] = []
        /// Exponential histograms: every value recorded, for checking the buckets they landed in.
        var values: [Double] = []
    }

    /// An integer or a floating point number, as OTLP's data points carry them.
    enum Number: Sendable, Equatable, CustomStringConvertible {
        case int(Int64)
        case double(Double)

        var asDouble: Double {
            switch self {
            case .int(let value): Double(value)
            case .double(let value): value
            }
        }

        func adding(_ other: Number) -> Number {
            switch (self, other) {
            case (.int(let a), .int(let b)): .int(a &+ b)
            default: .double(asDouble + other.asDouble)
            }
        }

        var description: String {
            switch self {
            case .int(let value): "\(value)"
            case .double(let value): "\(value)"
            }
        }
    }

    struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
        var metric: String
        var attributes: String
        static func < (a: SeriesKey, b: SeriesKey) -> Bool { (a.metric, a.attributes) < (b.metric, b.attributes) }
        var description: String { attributes.isEmpty ? "'\(metric)'" : "'\(metric)' {\(attributes)}" }
    }

    var resource = ""
    var spans: [Span] = []
    /// Spans started and never ended: they may arrive (exported unfinished) or not.
    var openSpans: [Span] = []
    var logRecords: [LogRecord] = []
    var metrics: [String: Metric] = [:]
    var series: [SeriesKey: Series] = [:]
    /// Records the writer answered DROPPED or TOO_LARGE: they are not in the file.
    var notWritten = 0

    var recordCount: Int { spans.count + logRecords.count + series.count }

    private var scopes: [Int64: String] = [:]
    private var instruments: [Int64: Metric] = [:]

    init() {}

    /// Adds what `command`, answered `reply`, made the file hold.
    mutating func add(_ command: Command, _ reply: Reply) {
        switch command.command {
        case .createFile(let create)?:
            resource = AttributeText.written(create.resource)
        case .defineScope(let define)?:
            scopes[define.scopeId] = Self.scopeText(name: define.name, version: define.version, attributes: AttributeText.written(define.attributes))
        case .defineInstrument(let define)?:
            var metric = Metric(name: define.name, description: define.description, unit: define.unit, kind: .sum,
                                temporality: Int(define.temporality), scope: scope(define.scopeId))
            switch define.kind {
            case .counter: metric.monotonic = true
            case .upDownCounter: break
            case .gauge: (metric.kind, metric.temporality) = (.gauge, 0)
            case .histogram: (metric.kind, metric.boundaries) = (.histogram, define.boundaries)
            default: metric.kind = .exponentialHistogram
            }
            instruments[define.instrumentId] = metric
            metrics[metric.name] = metric
        case .runParallel?:
            break  // the replies' parts carry the groups' commands; the runner adds them one by one
        case let choice? where reply.status == .ok:
            addRecord(choice)
        case .some:
            if reply.status == .dropped || reply.status == .tooLarge { notWritten += 1 }
        case nil:
            break
        }
    }

    private mutating func addRecord(_ choice: Command.CommandChoice) {
        switch choice {
        case .startSpan(let start):
            openSpans.append(Span(traceID: AttributeText.hex(start.traceId), spanID: AttributeText.hex(start.spanId),
                                  parentSpanID: AttributeText.hex(start.parentSpanId), name: start.name, kind: Int(start.kind),
                                  start: start.startTimeUnixNano, end: 0, statusCode: 0, attributes: AttributeText.written(start.attributes),
                                  scope: scope(start.scopeId)))
            attributeLists[key(start.traceId, start.spanId)] = start.attributes
        case .setSpanAttributes(let update):
            let key = key(update.traceId, update.spanId)
            var list = attributeLists[key] ?? []
            for pair in update.attributes {
                if let index = list.firstIndex(where: { $0.key == pair.key }) { list[index] = pair } else { list.append(pair) }
            }
            attributeLists[key] = list
            changeOpen(update.traceId, update.spanId) { $0.attributes = AttributeText.written(list) }
        case .renameSpan(let rename):
            changeOpen(rename.traceId, rename.spanId) { $0.name = rename.name }
        case .addSpanLinks(let add):
            let text = add.links.map { link in
                "\(AttributeText.hex(link.traceId))/\(AttributeText.hex(link.spanId)) state=\(AttributeText.quoted(link.traceState)) {\(AttributeText.written(link.attributes))}"
            }
            changeOpen(add.traceId, add.spanId) { $0.links += ($0.links.isEmpty ? "" : ", ") + text.joined(separator: ", ") }
        case .endSpan(let end):
            let spanID = AttributeText.hex(end.spanId), traceID = AttributeText.hex(end.traceId)
            guard let index = openSpans.firstIndex(where: { $0.spanID == spanID && $0.traceID == traceID }) else { return }
            var span = openSpans.remove(at: index)
            (span.end, span.statusCode, span.statusMessage) = (end.endTimeUnixNano, Int(end.statusCode), end.statusMessage)
            spans.append(span)
        case .log(let log):
            logRecords.append(LogRecord(time: log.timeUnixNano, severity: Int(log.severityNumber), severityText: log.severityText,
                                        body: log.body.map(AttributeText.written) ?? "none", attributes: AttributeText.written(log.attributes),
                                        eventName: log.eventName, traceID: AttributeText.hex(log.traceId), spanID: AttributeText.hex(log.spanId),
                                        scope: scope(log.scopeId)))
        case .record(let measurement):
            guard let metric = instruments[measurement.instrumentId], let value = measurement.value else { return }
            let number: Number = switch value {
            case .asLong(let integer): .int(integer)
            case .asDouble(let double): .double(double)
            }
            let key = SeriesKey(metric: metric.name, attributes: AttributeText.written(measurement.attributes))
            var series = self.series[key] ?? Series(bucketCounts: metric.kind == .histogram ? Array(repeating: 0, count: metric.boundaries.count + 1) : [])
            series.count += 1
            switch metric.kind {
            case .sum: series.value = series.value.adding(number)
            case .gauge: series.value = number
            case .histogram, .exponentialHistogram:
                series.value = series.count == 1 ? .double(number.asDouble) : .double(series.value.asDouble + number.asDouble)
                series.min = Swift.min(series.min, number.asDouble)
                series.max = Swift.max(series.max, number.asDouble)
                if metric.kind == .histogram {
                    // Bucket i holds (boundaries[i-1], boundaries[i]]; the last one everything above.
                    let bucket = metric.boundaries.firstIndex { number.asDouble <= $0 } ?? metric.boundaries.count
                    series.bucketCounts[bucket] += 1
                } else {
                    series.values.append(number.asDouble)
                }
            }
            self.series[key] = series
        default:
            break
        }
    }

    private var attributeLists: [String: [KeyValue]] = [:]

    private func key(_ trace: [UInt8], _ span: [UInt8]) -> String { AttributeText.hex(trace) + "/" + AttributeText.hex(span) }

    private mutating func changeOpen(_ trace: [UInt8], _ span: [UInt8], _ change: (inout Span) -> Void) {
        let spanID = AttributeText.hex(span), traceID = AttributeText.hex(trace)
        guard let index = openSpans.firstIndex(where: { $0.spanID == spanID && $0.traceID == traceID }) else { return }
        change(&openSpans[index])
    }

    private func scope(_ id: Int64) -> String { scopes[id] ?? Self.defaultScope }

    /// The scope of records that name none: the reference SDK's default scope.
    static let defaultScope = scopeText(name: TelemetryWriter.defaultScopeName, version: "", attributes: "")

    static func scopeText(name: String, version: String, attributes: String) -> String {
        "\(AttributeText.quoted(name)) version \(AttributeText.quoted(version)) {\(attributes)}"
    }
}

/// Canonical text of attribute lists and values, for what was written (the testee protocol's
/// `KeyValue`) and what arrived (OTLP's) alike. Lists are sorted by key: they are maps in OTLP.
enum AttributeText {
    static func written(_ attributes: [KeyValue]) -> String {
        attributes.map { "\(quoted($0.key))=\($0.value.map(written) ?? "none")" }.sorted().joined(separator: ";")
    }

    static func written(_ value: Value) -> String {
        switch value.value {
        case .stringValue(let text)?: "s:" + quoted(text)
        case .boolValue(let flag)?: "b:\(flag)"
        case .intValue(let number)?: "i:\(number)"
        case .doubleValue(let number)?: "d:" + String(number.bitPattern, radix: 16)
        case .bytesValue(let bytes)?: "x:" + hex(bytes)
        case .arrayValue(let array)?: "[" + array.values.map(written).joined(separator: ",") + "]"
        case .kvlistValue(let map)?: "{" + written(map.values) + "}"
        case nil: "none"
        }
    }

    static func received(_ attributes: [Opentelemetry_Proto_Common_V1_KeyValue]) -> String {
        attributes.map { "\(quoted($0.key))=\($0.hasValue ? received($0.value) : "none")" }.sorted().joined(separator: ";")
    }

    static func received(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        switch value.value {
        case .stringValue(let text)?: "s:" + quoted(text)
        case .boolValue(let flag)?: "b:\(flag)"
        case .intValue(let number)?: "i:\(number)"
        case .doubleValue(let number)?: "d:" + String(number.bitPattern, radix: 16)
        case .bytesValue(let bytes)?: "x:" + hex(Array(bytes))
        case .arrayValue(let array)?: "[" + array.values.map(received).joined(separator: ",") + "]"
        case .kvlistValue(let list)?: "{" + received(list.values) + "}"
        case nil: "none"
        }
    }

    /// Byte-exact: the UTF-8 bytes in hex after a readable form, so that canonically equivalent
    /// text ("é" and "e" + U+0301) never compares equal.
    static func quoted(_ text: String) -> String { "\"\(text)\"#" + hex(Array(text.utf8)) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
