import Foundation
import OTLPMmapSDK
import OTLPProto

/// What a scenario wrote into the file, as it must arrive at the receiver: spans and log records
/// field by field, metric series by their final value. Attribute lists compare as canonical text
/// (`AttributeText`), the same for what was written and what arrived, byte-exact for strings and
/// bit-exact for doubles.
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
    }

    struct LogRecord: Sendable, Equatable {
        var time: UInt64
        var severity: Int
        var body: String
        var attributes: String
    }

    var spans: [Span] = []
    var logRecords: [LogRecord] = []
    /// Sum series: metric name → the value of its last point.
    var sums: [String: Int64] = [:]

    var recordCount: Int { spans.count + logRecords.count + sums.count }
}

/// Canonical text of attribute lists and values, for what was written (the SDK's `Attribute`) and
/// what arrived (OTLP's `KeyValue`) alike. Lists are sorted by key: they are maps in OTLP.
enum AttributeText {
    static func written(_ attributes: [Attribute]) -> String {
        attributes.map { "\(quoted($0.key))=\(written($0.value))" }.sorted().joined(separator: ";")
    }

    static func written(_ value: AttributeValue) -> String {
        switch value {
        case .string(let text): "s:" + quoted(text)
        case .bool(let flag): "b:\(flag)"
        case .int(let number): "i:\(number)"
        case .double(let number): "d:" + String(number.bitPattern, radix: 16)
        case .bytes(let bytes): "x:" + hex(bytes)
        case .array(let items): "[" + items.map(written).joined(separator: ",") + "]"
        case .keyValues(let pairs): "{" + written(pairs) + "}"
        }
    }

    static func received(_ attributes: [Opentelemetry_Proto_Common_V1_KeyValue]) -> String {
        attributes.map { "\(quoted($0.key))=\(received($0.value))" }.sorted().joined(separator: ";")
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

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
