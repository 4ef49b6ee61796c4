import Foundation
import Yams

/// A YAML node together with where it came from. Loading goes through these wrappers so that every
/// complaint about the schema carries a file name and line, and so that misspelt keys are errors
/// instead of being silently ignored.
struct YNode {
    let node: Node
    let file: String
    /// A readable path such as `structures[1].fields[2]`, used in messages.
    let path: String

    var line: Int { node.mark?.line ?? 0 }
    var column: Int { node.mark?.column ?? 0 }

    func error(_ message: String) -> SpecError {
        SpecError(file: file, line: line, column: column, "\(path): \(message)")
    }

    func mapping(allowed keys: Set<String>) throws -> YMap {
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

    func sequence() throws -> [YNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { index, item in
            YNode(node: item, file: file, path: "\(path)[\(index)]")
        }
    }

    func string() throws -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a text value") }
        return scalar.string
    }

    func int() throws -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            throw error("expected an integer")
        }
        return value
    }

    func bool() throws -> Bool {
        guard case .scalar(let scalar) = node else { throw error("expected true or false") }
        switch scalar.string {
        case "true": return true
        case "false": return false
        default: throw error("expected true or false, found '\(scalar.string)'")
        }
    }

    func strings() throws -> [String] { try sequence().map { try $0.string() } }
}

struct YMap {
    let owner: YNode
    let values: [String: YNode]

    func required(_ key: String) throws -> YNode {
        guard let value = values[key] else { throw owner.error("missing key '\(key)'") }
        return value
    }

    func optional(_ key: String) -> YNode? { values[key] }

    func string(_ key: String) throws -> String { try required(key).string() }
    func int(_ key: String) throws -> Int { try required(key).int() }
    func text(_ key: String) throws -> String {
        try optional(key)?.string().trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
    func bool(_ key: String, default value: Bool) throws -> Bool { try optional(key)?.bool() ?? value }
    func strings(_ key: String) throws -> [String] { try optional(key)?.strings() ?? [] }
}

/// Parses YAML text with Yams (libyaml) into a located root node.
func composeYAML(_ text: String, file: String) throws -> YNode {
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
