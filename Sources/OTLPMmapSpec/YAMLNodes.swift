import Foundation
import Yams

/// A YAML node together with where it came from. Loading goes through these wrappers so that every
/// complaint about the schema carries a file name and line, and so that misspelt keys are errors
/// instead of being silently ignored.
package struct YNode {
    package let node: Node
    package let file: String
    /// A readable path such as `structures[1].fields[2]`, used in messages.
    package let path: String

    package init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    package var line: Int { node.mark?.line ?? 0 }
    package var column: Int { node.mark?.column ?? 0 }

    package func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, "\(path): \(message)")
    }

    package func mapping(allowed keys: Set<String>) throws -> YMap {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        var seen: [String: YNode] = [:]
        var order: [String] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else {
                throw YNode(node: keyNode, file: file, path: path).error("mapping keys must be strings")
            }
            let child = YNode(node: valueNode, file: file, path: path.isEmpty ? key : "\(path).\(key)")
            if seen[key] != nil {
                throw YNode(node: keyNode, file: file, path: path).error("duplicate key '\(key)'")
            }
            if !keys.contains(key) {
                let known = keys.sorted().joined(separator: ", ")
                throw YNode(node: keyNode, file: file, path: path).error("unknown key '\(key)' (known: \(known))")
            }
            seen[key] = child
            order.append(key)
        }
        return YMap(owner: self, values: seen)
    }

    package func sequence() throws -> [YNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { index, item in
            YNode(node: item, file: file, path: "\(path)[\(index)]")
        }
    }

    package func string() throws -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a text value") }
        return scalar.string
    }

    package func int() throws -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) ?? (node.tag.rawValue == Tag.Name.int.rawValue ? node.int : nil) else {
            throw error("expected an integer")
        }
        return value
    }

    package func bool() throws -> Bool {
        guard case .scalar(let scalar) = node else { throw error("expected true or false") }
        switch scalar.string {
        case "true": return true
        case "false": return false
        default: throw error("expected true or false, found '\(scalar.string)'")
        }
    }

    package func strings() throws -> [String] { try sequence().map { try $0.string() } }

    package func double() throws -> Double {
        guard case .scalar = node, node.tag.rawValue == Tag.Name.int.rawValue || node.tag.rawValue == Tag.Name.float.rawValue, let value = node.float else {
            throw error("expected a number")
        }
        return value
    }

    /// A mapping whose keys are data (attribute names), in the order written; duplicates are errors.
    package func entries() throws -> [(key: String, value: YNode)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        var seen = Set<String>()
        return try mapping.map { keyNode, valueNode in
            guard let key = keyNode.string else { throw YNode(node: keyNode, file: file, path: path).error("mapping keys must be strings") }
            guard seen.insert(key).inserted else { throw YNode(node: keyNode, file: file, path: path).error("duplicate key '\(key)'") }
            return (key, YNode(node: valueNode, file: file, path: path.isEmpty ? key : "\(path).\(key)"))
        }
    }

    /// A step of a script: a bare name (`sync`), or a mapping with one key, the name, whose value is
    /// the step's argument (`start_span: {span: A}`).
    package func step() throws -> (name: String, argument: YNode?) {
        switch node {
        case .scalar(let scalar): return (scalar.string, nil)
        case .mapping(let mapping) where mapping.count == 1:
            let (keyNode, valueNode) = mapping.first!
            guard let key = keyNode.string else { throw error("a step's name is text") }
            return (key, YNode(node: valueNode, file: file, path: path.isEmpty ? key : "\(path).\(key)"))
        default: throw error("a step is a name or a mapping with one key, the step's name")
        }
    }

    /// A scalar as the value YAML's own types give it (the core schema's tags).
    package enum Scalar: Equatable {
        case bool(Bool), int(Int), double(Double), string(String), bytes([UInt8])
    }

    /// The scalar by its resolved tag: `true` is a bool, `3` an int, `2.5` a double, `!!binary` bytes,
    /// anything else text. Null and other tags are errors.
    package func scalar() throws -> Scalar {
        guard case .scalar(let scalar) = node else { throw error("expected a single value, not a list or mapping") }
        let tag = node.tag.rawValue
        switch tag {
        case Tag.Name.bool.rawValue: if let value = node.bool { return .bool(value) }
        case Tag.Name.int.rawValue: if let value = node.int { return .int(value) }
        case Tag.Name.float.rawValue: if let value = node.float { return .double(value) }
        case Tag.Name.binary.rawValue: if let value = node.binary { return .bytes([UInt8](value)) }
        case Tag.Name.str.rawValue: return .string(scalar.string)
        case Tag.Name.null.rawValue: throw error("expected a value, found null")
        default: break
        }
        throw error("cannot read '\(scalar.string)' as \(tag)")
    }
}

package struct YMap {
    package let owner: YNode
    package let values: [String: YNode]

    package func required(_ key: String) throws -> YNode {
        guard let value = values[key] else { throw owner.error("missing key '\(key)'") }
        return value
    }

    package func optional(_ key: String) -> YNode? { values[key] }

    package func string(_ key: String) throws -> String { try required(key).string() }
    package func int(_ key: String) throws -> Int { try required(key).int() }
    package func text(_ key: String) throws -> String {
        try optional(key)?.string().trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
    package func bool(_ key: String, default value: Bool) throws -> Bool { try optional(key)?.bool() ?? value }
    package func strings(_ key: String) throws -> [String] { try optional(key)?.strings() ?? [] }
}

/// Parses YAML text with Yams (libyaml) into a located root node.
package func composeYAML(_ text: String, file: String) throws -> YNode {
    do {
        guard let node = try Yams.compose(yaml: text) else {
            throw SpecError(file: file, line: 1, "the file is empty")
        }
        return YNode(node: node, file: file, path: "")
    } catch let error as SpecError {
        throw error
    } catch let error as YamlError {
        throw SpecError(file: file, line: yamlErrorLine(error), "not valid YAML: \(error)")
    }
}

private func yamlErrorLine(_ error: YamlError) -> Int {
    switch error {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
        return mark.line
    case .duplicatedKeysInMapping(_, let context):
        return context.mark.line
    default:
        return 1
    }
}
