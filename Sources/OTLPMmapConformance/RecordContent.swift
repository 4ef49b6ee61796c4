import OTLPMmapCore
import OTLPMmapWire

/// A record's content in a form that does not depend on how a writer chose to encode it, so that
/// what a testee wrote can be compared with what the runner commanded.
///
/// Built from the resolver's JSON (`ReferenceResolver`, the one dictionary resolver): references are
/// replaced by what they point at (`scope_ref` becomes `scope`, `key_ref` becomes `key`, a
/// `value_ref` becomes the value itself), proto3 defaults are dropped wherever the schema gives them
/// no meaning (a zero time, an empty status), an all-zero span context is absent, attribute lists are
/// sorted by key (they are maps in OTLP), and object keys are sorted. The scope (of a span start, a
/// log record or a metric) and the resource under it are taken out into `Detached`: the runner
/// compares a scope only where it named one, and a writer may add resource attributes of its own.
struct RecordContent: Hashable, CustomStringConvertible {
    /// The canonical JSON text.
    let text: String
    let value: JSONValue

    var description: String { text }

    init(_ value: JSONValue) {
        self.value = value
        text = value.compactText
    }

    // Byte for byte: String's == and hash treat canonically equivalent text as equal ("é" and
    // "e" + U+0301), so a writer that normalised a string would pass (and hashing non-ASCII text
    // normalises it on every call, the runner's largest cost after decoding).
    static func == (lhs: RecordContent, rhs: RecordContent) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }
    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Members whose presence is their meaning even at a default value: the members of oneofs.
    static let presenceScalars: Set<String> = ["string_value", "bool_value", "int_value", "double_value", "bytes_value", "as_long", "as_double"]
    static let presenceMessages: Set<String> = ["array_value", "kvlist_value", "gauge", "sum", "histogram", "exp_hist",
                                                "start", "end", "name", "attributes", "link"]

    /// What canonical content leaves out, to be compared on its own terms.
    struct Detached {
        var scope: JSONValue?
        var resources: [JSONValue] = []
    }

    /// Canonical content of a resolved record (or of a JSON value the runner built the same way).
    static func canonical(_ value: JSONValue, detached: inout Detached) -> RecordContent {
        RecordContent(canonicalValue(value, &detached) ?? .object([]))
    }

    static func canonical(_ value: JSONValue) -> RecordContent {
        var detached = Detached()
        return canonical(value, detached: &detached)
    }

    static func canonicalValue(_ value: JSONValue, _ detached: inout Detached) -> JSONValue? {
        switch value {
        case .uint(let number):
            return .int(Int64(bitPattern: number))
        case .array(let items):
            return .array(items.map { canonicalValue($0, &detached) ?? .null })
        case .object(let pairs):
            // A resolved reference: {ref, kind, value} or {ref, kind, error}. (No set of the keys:
            // objects have a handful, and this runs for every object of every record.)
            if pairs.contains(where: { $0.0 == "ref" }) && pairs.contains(where: { $0.0 == "kind" }) {
                if let error = value["error"] { return .object([("error", error)]) }
                guard let target = value["value"], target != .null else { return nil }
                return canonicalValue(target, &detached)
            }
            var result: [(String, JSONValue)] = []
            for (key, member) in pairs {
                guard var canonical = canonicalValue(member, &detached) else { continue }
                if key == "value_ref" { return canonical }
                var name = key
                if name.hasSuffix("_ref") { name.removeLast(4) }
                if name == "resource" {
                    detached.resources.append(canonical)
                    continue
                }
                if name == "scope" || name == "instrumentation_scope" {
                    detached.scope = canonical
                    continue
                }
                if name == "span_context", isAbsentContext(canonical) { continue }
                if name == "attributes" || (name == "values" && pairs.count == 1 && isKeyValueList(canonical)) {
                    canonical = sortedAttributes(canonical)
                }
                if isDefault(canonical) && !isPresenceMember(name, canonical) { continue }
                result.append((name, canonical))
            }
            return .object(result.sorted { $0.0 < $1.0 })
        default:
            return value
        }
    }

    static func isPresenceMember(_ name: String, _ value: JSONValue) -> Bool {
        if presenceScalars.contains(name) { return true }
        if case .object = value { return presenceMessages.contains(name) }
        return false
    }

    static func isDefault(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .int(let number): number == 0
        case .uint(let number): number == 0
        case .double(let number): number.bitPattern == 0
        case .string(let text): text.isEmpty || text.hasSuffix("_UNSPECIFIED") || text == "STATUS_CODE_UNSET"
        case .array(let items): items.isEmpty
        case .object(let pairs): pairs.isEmpty
        }
    }

    /// A span context whose ids are missing or all zero (the Java writer writes that for "no span").
    static func isAbsentContext(_ value: JSONValue) -> Bool {
        func zero(_ key: String) -> Bool {
            guard case .string(let hex)? = value[key] else { return true }
            return hex.allSatisfy { $0 == "0" }
        }
        return zero("trace_id") && zero("span_id")
    }

    static func isKeyValueList(_ value: JSONValue) -> Bool {
        guard case .array(let items) = value else { return false }
        return items.allSatisfy { $0["key"] != nil }
    }

    static func sortedAttributes(_ value: JSONValue) -> JSONValue {
        guard case .array(let items) = value else { return value }
        // Each item's text is made once, not once per comparison.
        return .array(items.map { ($0.compactText, $0) }.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }.map(\.1))
    }
}

extension JSONValue {
    /// One-line JSON, for keys and messages.
    var compactText: String {
        var out = ""
        appendCompactText(to: &out)
        return out
    }

    /// Appends the one-line JSON: one buffer for the whole value, so the work is linear in its size
    /// however deep it nests.
    func appendCompactText(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .uint(let number): out += String(number)
        case .double(let number): out += number.isFinite ? "\(number)" : "\"\(number)\""
        case .string(let text): JSONValue.appendQuoted(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.appendCompactText(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, (key, member)) in pairs.enumerated() {
                if index > 0 { out += "," }
                JSONValue.appendQuoted(key, to: &out)
                out += ":"
                member.appendCompactText(to: &out)
            }
            out += "}"
        }
    }
}
