/// A JSON document with object keys in insertion order, so that `inspect --json` lists fields in
/// schema order and its output is stable enough to compare in tests.
package indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.uint(a), .uint(b)): a == b
        case let (.double(a), .double(b)): a.bitPattern == b.bitPattern
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    package subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// JSON text, two-space indented.
    package func serialized() -> String {
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    private func write(into out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .uint(let value): out += String(value)
        case .double(let value):
            // JSON has no infinities or NaN; proto3 JSON writes them as strings.
            if value.isNaN { out += "\"NaN\"" } else if value.isInfinite { out += value < 0 ? "\"-Infinity\"" : "\"Infinity\"" } else { out += "\(value)" }
        case .string(let value): out += JSONValue.quote(value)
        case .array(let values):
            if values.isEmpty { out += "[]"; return }
            out += "[\n"
            for (index, value) in values.enumerated() {
                out += pad
                value.write(into: &out, indent: indent + 1)
                out += index == values.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "]"
        case .object(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{\n"
            for (index, (key, value)) in pairs.enumerated() {
                out += pad + JSONValue.quote(key) + ": "
                value.write(into: &out, indent: indent + 1)
                out += index == pairs.count - 1 ? "\n" : ",\n"
            }
            out += closePad + "}"
        }
    }

    package static func quote(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    /// Appends `text` as a JSON string literal; text with nothing to escape is appended whole.
    package static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        defer { out += "\"" }
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
    }

    /// An indented, YAML-like text rendering for people.
    package func text(indent: Int = 0) -> String {
        var out = ""
        writeText(into: &out, indent: indent)
        return out
    }

    /// A reference rendered by `ReferenceResolver` whose target is a plain value reads best on one
    /// line: `@10656 "service.name"`.
    private var compactReference: String? {
        guard case .object(let pairs) = self, pairs.count == 3, pairs[0].0 == "ref", pairs[1].0 == "kind",
              case .int(let offset) = pairs[0].1, pairs[2].1.isScalar else { return nil }
        switch pairs[2].0 {
        case "value": return "@\(offset) \(pairs[2].1.scalarText())"
        case "shown_above":
            if case .string(let kind) = pairs[1].1 { return "@\(offset) (\(kind), shown above)" }
            return "@\(offset) (shown above)"
        default: return "@\(offset) \(pairs[2].0): \(pairs[2].1.scalarText())"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array(let values): values.isEmpty
        case .object(let pairs): pairs.isEmpty
        default: true
        }
    }

    private func scalarText() -> String {
        switch self {
        case .string(let value): JSONValue.quote(value)
        case .array: "[]"
        case .object: "{}"
        default: serialized()
        }
    }

    private func writeText(into out: inout String, indent: Int, firstPrefix: String? = nil) {
        let pad = String(repeating: "  ", count: indent)
        // The first line of a list item starts with "- " in place of the indentation.
        var prefix = firstPrefix
        func linePrefix() -> String {
            defer { prefix = nil }
            return prefix ?? pad
        }
        switch self {
        case .object(let pairs) where !pairs.isEmpty:
            for (key, value) in pairs {
                if let compact = value.compactReference {
                    out += "\(linePrefix())\(key): \(compact)\n"
                } else if value.isScalar {
                    out += "\(linePrefix())\(key): \(value.scalarText())\n"
                } else {
                    out += "\(linePrefix())\(key):\n"
                    value.writeText(into: &out, indent: indent + 1)
                }
            }
        case .array(let values) where !values.isEmpty:
            for value in values {
                if value.isScalar {
                    out += "\(linePrefix())- \(value.scalarText())\n"
                } else {
                    let itemPrefix = (prefix ?? pad) + "- "
                    prefix = nil
                    value.writeText(into: &out, indent: indent + 1, firstPrefix: itemPrefix)
                }
            }
        default:
            out += "\(linePrefix())\(compactReference ?? scalarText())\n"
        }
    }
}
