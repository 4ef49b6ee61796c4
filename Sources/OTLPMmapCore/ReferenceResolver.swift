import OTLPMmapLayout
import OTLPMmapWire

/// Renders a decoded record as JSON with every dictionary reference replaced by what it points at,
/// recursively (a scope refers to its resource, an AnyValue to another AnyValue), through the one
/// `DictionaryResolver`.
///
/// A bad reference does not stop the rendering: its place shows the error with rule and offset, so
/// one broken entry does not hide the rest of a file.
package final class ReferenceResolver {
    package let dictionary: DictionaryRegion
    /// When false, a message entry (scope, resource, metric) is expanded the first time only; later
    /// references to it say so instead. People reading text want that; programs reading JSON do not.
    package let repeatExpansions: Bool
    private var expanded: Set<Int64> = []
    /// The bad references met by the rendering under way, as the errors they are.
    private var errors: [FormatError] = []
    private lazy var resolver = DictionaryResolver<JSONValue>(source: dictionary) { [unowned self] entry, _, resolver in
        self.render(entry.recordValue, resolver: resolver, nesting: 0)
    }

    package init(dictionary: DictionaryRegion, repeatExpansions: Bool = true) {
        self.dictionary = dictionary
        self.repeatExpansions = repeatExpansions
    }

    package func render(_ value: RecordValue) -> JSONValue {
        renderChecking(value).json
    }

    /// The rendering, and every bad reference in it as the typed error its place shows — for a
    /// checker, which reports each under its rule without reading the text back.
    package func renderChecking(_ value: RecordValue) -> (json: JSONValue, errors: [FormatError]) {
        defer { _ = resolver.takeFindings() }  // SHOULD-level findings of entries: a checker's business, not a rendering's
        errors = []
        let json = render(value, resolver: resolver, nesting: 0)
        defer { errors = [] }
        return (json, errors)
    }

    /// `nesting`: how many messages deep `value` sits in the record or entry being rendered.
    private func render(_ value: RecordValue, resolver: DictionaryResolver<JSONValue>, nesting: Int) -> JSONValue {
        switch value {
        case .message(_, let fields):
            return .object(fields.map { ($0.name, render($0.value, resolver: resolver, nesting: nesting + 1)) })
        case .list(let values):
            return .array(values.map { render($0, resolver: resolver, nesting: nesting) })
        case .int(let value): return .int(value)
        case .uint(let value): return .uint(value)
        case .double(let value): return .double(value)
        case .bool(let value): return .bool(value)
        case .string(let value): return .string(value)
        case .bytes(let value): return .string(hexString(value))
        case .enumeration(_, let name, let number): return name.map { .string($0) } ?? .int(Int64(number))
        case .reference(let kind, let offset):
            var object: [(String, JSONValue)] = [("ref", .int(offset)), ("kind", .string(kind))]
            guard offset != 0 else {
                object.append(("value", .null))
                return .object(object)
            }
            do {
                guard let entryKind = DictionaryEntryKind(rawValue: kind) else {
                    throw FormatError(.dictRefKind, at: Int(offset), "unknown entry kind \(kind)")
                }
                if !repeatExpansions && entryKind != .string && expanded.contains(offset) {
                    object.append(("shown_above", .bool(true)))
                    return .object(object)
                }
                expanded.insert(offset)
                object.append(("value", try resolver.resolve(entryKind, at: offset, field: "reference", nesting: nesting)))
            } catch {
                // The resolver throws FormatErrors only; anything else is reported as the entry's.
                errors.append(error as? FormatError ?? FormatError(.dictEntry, at: Int(offset), "\(error)"))
                object.append(("error", .string("\(error)")))
            }
            return .object(object)
        }
    }
}
