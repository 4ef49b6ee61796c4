import Foundation

/// Loads spec/ and checks the layout and the messages against each other.
public enum SpecLoader {
    public static let layoutFile = "layout.yaml"
    public static let messagesFile = "messages.yaml"

    /// Loads `layout.yaml` and `messages.yaml` from a spec directory.
    public static func load(directory: URL) throws -> Spec {
        func read(_ name: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            do {
                return try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw SpecError(file: "spec/\(name)", line: 0, "cannot read \(url.path): \(error.localizedDescription)")
            }
        }
        return try load(layoutYAML: read(layoutFile), messagesYAML: read(messagesFile))
    }

    /// Loads the two schema texts; errors name `spec/layout.yaml` or `spec/messages.yaml` and a line.
    public static func load(layoutYAML: String, messagesYAML: String) throws -> Spec {
        let layoutName = "spec/\(layoutFile)"
        let messagesName = "spec/\(messagesFile)"
        let layout = try LayoutLoader.load(try composeYAML(layoutYAML, file: layoutName))
        let messages = try MessagesLoader.load(try composeYAML(messagesYAML, file: messagesName))
        try crossCheck(layout, messages, layoutName: layoutName, messagesName: messagesName)
        return Spec(layout: layout, messages: messages, sourceFiles: [layoutName, messagesName])
    }

    static func crossCheck(_ layout: Layout, _ messages: MessageSchema, layoutName: String, messagesName: String) throws {
        for ring in layout.rings where messages.message(named: ring.record) == nil {
            throw SpecError(file: layoutName, line: ring.line, "ring '\(ring.name)' holds unknown message '\(ring.record)'")
        }
        for kind in layout.entryKinds {
            if let message = kind.message, messages.message(named: message) == nil {
                throw SpecError(file: layoutName, line: 1, "entry kind '\(kind.name)' names unknown message '\(message)'")
            }
        }
        let kinds = Set(layout.entryKinds.map(\.name))
        let ruleIDs = Set(layout.rules.map(\.id))
        for message in messages.messages {
            for field in message.fields {
                if let ref = field.ref, !kinds.contains(ref) {
                    throw SpecError(file: messagesName, line: field.line,
                                    "field '\(message.name).\(field.name)' refers to unknown entry kind '\(ref)'")
                }
                for rule in field.rules where !ruleIDs.contains(rule) {
                    throw SpecError(file: messagesName, line: field.line,
                                    "field '\(message.name).\(field.name)' cites unknown rule '\(rule)'")
                }
            }
        }
    }
}
