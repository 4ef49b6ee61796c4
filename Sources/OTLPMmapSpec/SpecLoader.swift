import Foundation

/// Loads spec/ and checks the layout and the messages against each other.
package enum SpecLoader {
    package static let layoutFile = "layout.yaml"
    package static let messagesFile = "messages.yaml"
    package static let testeeFile = "testee.yaml"
    package static let readersFile = "readers.yaml"
    /// The OTLP `.proto` files the collector's field numbers are generated from.
    package static let otlpFolder = "otlp"

    /// Loads `layout.yaml` and `messages.yaml` from a spec directory. Errors name the files as
    /// `folder/layout.yaml` (`spec/…` in a repository; the folders compared by `gen diff`).
    package static func load(directory: URL, displayedAs folder: String = "spec") throws -> Spec {
        func read(_ name: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw SpecError(file: "\(folder)/\(name)", line: 0, "cannot read \(url.path): no such file, or not readable")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw SpecError(file: "\(folder)/\(name)", line: 0, "\(url.path) is not UTF-8 text")
            }
            return text
        }
        let testeeURL = directory.appendingPathComponent(testeeFile)
        let testee = FileManager.default.fileExists(atPath: testeeURL.path) ? try read(testeeFile) : nil
        let readers = FileManager.default.fileExists(atPath: directory.appendingPathComponent(readersFile).path) ? try read(readersFile) : nil
        var spec = try load(layoutYAML: read(layoutFile), messagesYAML: read(messagesFile), testeeYAML: testee, readersYAML: readers, folder: folder)
        let otlp = directory.appendingPathComponent(otlpFolder)
        if FileManager.default.fileExists(atPath: otlp.path) {
            spec.otlp = try ProtoFieldsLoader.load(directory: otlp, displayedAs: "\(folder)/\(otlpFolder)")
        }
        return spec
    }

    /// Loads the two schema texts; errors name `folder/layout.yaml` or `folder/messages.yaml` and a line.
    /// `testeeYAML`, spec/testee.yaml, is optional: a format spec without the testee protocol still loads.
    /// `readersYAML`, spec/readers.yaml, is optional too.
    package static func load(layoutYAML: String, messagesYAML: String, testeeYAML: String? = nil, readersYAML: String? = nil,
                            folder: String = "spec") throws -> Spec {
        let layoutName = "\(folder)/\(layoutFile)"
        let messagesName = "\(folder)/\(messagesFile)"
        let layout = try LayoutLoader.load(try composeYAML(layoutYAML, file: layoutName))
        let messages = try MessagesLoader.load(try composeYAML(messagesYAML, file: messagesName))
        try crossCheck(layout, messages, layoutName: layoutName, messagesName: messagesName)
        if let check = messages.checks.first {
            throw SpecError(file: messagesName, line: check.line, "checks belong to the testee protocol (spec/\(testeeFile)), not to the record messages")
        }
        let testeeName = "\(folder)/\(testeeFile)"
        let testee = try testeeYAML.map { try MessagesLoader.load(try composeYAML($0, file: testeeName)) }
        if let testee, let ref = testee.messages.flatMap(\.fields).first(where: { $0.ref != nil || !$0.rules.isEmpty }) {
            throw SpecError(file: testeeName, line: ref.line, "field '\(ref.name)': the testee protocol has no dictionary references or file rules")
        }
        if let testee, let clash = testee.checks.first(where: { check in layout.rules.contains { $0.id == check.id } }) {
            throw SpecError(file: testeeName, line: clash.line, "check ID '\(clash.id)' is already a rule of spec/\(layoutFile)")
        }
        let readersName = "\(folder)/\(readersFile)"
        let readers = try readersYAML.map { try loadReaders(try composeYAML($0, file: readersName)) }
        if let readers {
            let taken = Set(layout.rules.map(\.id)).union(testee?.checks.map(\.id) ?? [])
            if let clash = readers.checks.first(where: { taken.contains($0.id) }) {
                throw SpecError(file: readersName, line: clash.line, "check ID '\(clash.id)' is already a rule of spec/\(layoutFile) or a check of spec/\(testeeFile)")
            }
        }
        var spec = Spec(layout: layout, messages: messages, testee: testee, sourceFiles: [layoutName, messagesName])
        spec.readers = readers
        return spec
    }

    /// spec/readers.yaml: a `doc` and `checks`, each with its origin.
    static func loadReaders(_ root: YNode) throws -> ReaderChecks {
        let top = try root.mapping(allowed: ["doc", "checks"])
        let checks = try MessagesLoader.loadChecks(try top.required("checks"), withOrigin: true)
        guard !checks.isEmpty else { throw root.error("spec/\(readersFile) lists no checks") }
        return ReaderChecks(doc: try top.text("doc"), checks: checks)
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
                let versions = layout.versions.map(\.number)
                if !versions.contains(field.since) || field.deprecated.map({ !versions.contains($0) || $0 < field.since }) == true {
                    throw SpecError(file: messagesName, line: field.line,
                                    "field '\(message.name).\(field.name)': since and deprecated must be versions of layout.yaml's `versions` (\(versions.map(String.init).joined(separator: ", "))), deprecated not before since")
                }
                for rule in field.rules where !ruleIDs.contains(rule) {
                    throw SpecError(file: messagesName, line: field.line,
                                    "field '\(message.name).\(field.name)' cites unknown rule '\(rule)'")
                }
            }
        }
    }
}

/// A place in the spec that names a rule.
package enum RuleCitation: Sendable, Equatable {
    case layoutField(structure: String, field: String)
    case ringPart(String)
    case messageField(message: String, field: String)
}

extension Spec {
    /// Every place that names rule `id`, in spec order: layout fields, ring parts, record fields.
    package func citations(of id: String) -> [RuleCitation] {
        var places: [RuleCitation] = []
        for structure in layout.structures {
            for field in structure.fields where field.rules.contains(id) { places.append(.layoutField(structure: structure.name, field: field.name)) }
        }
        for part in layout.ringParts where part.rules.contains(id) { places.append(.ringPart(part.name)) }
        for message in messages.messages {
            for field in message.fields where field.rules.contains(id) { places.append(.messageField(message: message.name, field: field.name)) }
        }
        return places
    }
}
