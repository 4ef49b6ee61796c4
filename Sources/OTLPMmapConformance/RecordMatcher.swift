import OTLPMmapCore
import OTLPMmapLayout

/// Compares records read from a writer (resolved to JSON) with a scenario's expectations, binding
/// span labels to the ids the writer chose.
struct RecordMatcher {
    /// label → (trace id, span id), hex.
    var labels: [String: (trace: String, span: String)] = [:]

    mutating func match(_ kind: RingKind, _ actual: JSONValue, _ expected: [String: Scenario.ExpectedValue]) -> [String] {
        let fields = Self.fields(kind, actual)
        var problems: [String] = []
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case ("span", .text(let label)):
                let ids = kind == .spans ? (fields["trace_id"] ?? "", fields["span_id"] ?? "") : (fields["context.trace_id"] ?? "", fields["context.span_id"] ?? "")
                if let bound = labels[label] {
                    if bound.trace != ids.0 || bound.span != ids.1 {
                        problems.append("span \(label) was \(bound.trace)/\(bound.span) before, now \(ids.0)/\(ids.1)")
                    }
                } else if let other = labels.first(where: { $0.value.span == ids.1 }) {
                    problems.append("span \(label) has the span id of span \(other.key) (\(ids.1))")
                } else if kind == .spans {
                    labels[label] = (ids.0, ids.1)
                } else {
                    problems.append("span context refers to span \(label), which no span record started")
                }
            case ("parent", .text(let label)):
                guard let parent = labels[label] else { problems.append("parent \(label) is not a started span"); continue }
                if fields["parent_span_id"] != parent.span { problems.append("parent_span_id is \(fields["parent_span_id"] ?? "absent"), expected span \(label) (\(parent.span))") }
                if fields["trace_id"] != parent.trace { problems.append("trace_id \(fields["trace_id"] ?? "") differs from parent \(label)'s \(parent.trace)") }
            case ("link", .text(let label)):
                guard let target = labels[label] else { problems.append("link target \(label) is not a started span"); continue }
                if fields["link.span_id"] != target.span || fields["link.trace_id"] != target.trace {
                    problems.append("link points at \(fields["link.trace_id"] ?? "")/\(fields["link.span_id"] ?? ""), expected span \(label)")
                }
            case ("new_trace", _):
                break
            case ("attributes", .map(let map)):
                let actualMap = Self.attributes(kind, actual)
                if actualMap != map { problems.append("attributes are \(actualMap.sorted { $0.key < $1.key }), expected \(map.sorted { $0.key < $1.key })") }
            case (_, .text(let text)):
                if fields[key] != text { problems.append("\(key) is \(fields[key].map { "\"\($0)\"" } ?? "absent"), expected \"\(text)\"") }
            default:
                problems.append("\(key): unsupported expectation")
            }
        }
        return problems
    }

    /// The record's comparable fields as text, with proto3 defaults for absent enums.
    static func fields(_ kind: RingKind, _ record: JSONValue) -> [String: String] {
        var fields: [String: String] = [:]
        switch kind {
        case .spans:
            fields["trace_id"] = record["trace_id"]?.stringValue
            fields["span_id"] = record["span_id"]?.stringValue
            for event in ["start", "end", "name", "attributes", "link"] where record[event] != nil { fields["event"] = event }
            let start = record["start"]
            fields["name"] = start?["name"]?.stringValue ?? record["name"]?["name"]?.stringValue
            if let start {
                fields["kind"] = start["kind"]?.stringValue ?? "SPAN_KIND_UNSPECIFIED"
                fields["parent_span_id"] = start["parent_span_id"]?.stringValue
            }
            if let end = record["end"] {
                fields["status"] = end["status"]?["code"]?.stringValue ?? "STATUS_CODE_UNSET"
                fields["message"] = end["status"]?["message"]?.stringValue ?? ""
            }
            if case .array(let links)? = record["link"]?["links"], let first = links.first {
                fields["link.trace_id"] = first["trace_id"]?.stringValue
                fields["link.span_id"] = first["span_id"]?.stringValue
            }
        case .events:
            fields["severity"] = record["severity_number"]?.stringValue ?? "SEVERITY_NUMBER_UNSPECIFIED"
            fields["body"] = record["body"].flatMap(anyValueText)
            fields["event_name"] = record["event_name_ref"]?["value"]?.stringValue
            fields["context.trace_id"] = record["span_context"]?["trace_id"]?.stringValue
            fields["context.span_id"] = record["span_context"]?["span_id"]?.stringValue
        case .measurements:
            let metric = record["metric_ref"]?["value"]
            fields["metric"] = metric?["name"]?.stringValue
            for aggregation in ["sum", "gauge", "histogram", "exp_hist"] where metric?[aggregation] != nil { fields["aggregation"] = aggregation }
            if let long = record["as_long"] { fields["value"] = long.scalarText } else if let double = record["as_double"] { fields["value"] = double.scalarText }
        }
        return fields
    }

    static func attributes(_ kind: RingKind, _ record: JSONValue) -> [String: String] {
        let list: JSONValue? = switch kind {
        case .spans: record["start"]?["attributes"] ?? record["attributes"]?["attributes"]
        case .events, .measurements: record["attributes"]
        }
        guard case .array(let items)? = list else { return [:] }
        var map: [String: String] = [:]
        for item in items {
            guard let key = item["key_ref"]?["value"]?.stringValue else { continue }
            map[key] = item["value"].flatMap(anyValueText) ?? ""
        }
        return map
    }

    /// An AnyValue as text: the string itself, numbers and booleans as written.
    static func anyValueText(_ value: JSONValue) -> String? {
        for key in ["string_value", "int_value", "double_value", "bool_value", "bytes_value"] {
            if let found = value[key] { return found.scalarText }
        }
        if let reference = value["value_ref"]?["value"] { return anyValueText(reference) }
        return value.serialized()
    }
}

extension JSONValue {
    var stringValue: String? { if case .string(let text) = self { text } else { nil } }

    var scalarText: String {
        switch self {
        case .string(let text): text
        case .int(let number): String(number)
        case .uint(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        default: serialized()
        }
    }
}
