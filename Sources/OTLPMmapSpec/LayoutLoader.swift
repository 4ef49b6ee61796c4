/// Reads spec/layout.yaml into a `Layout` and checks that it describes a consistent byte layout.
enum LayoutLoader {
    static func load(_ root: YNode) throws -> Layout {
        let top = try root.mapping(allowed: [
            "format", "file", "structures", "ring", "rings", "dictionary", "defaults", "rules",
        ])
        let format = try top.required("format").mapping(allowed: ["name", "version", "versions", "byte_order", "doc"])
        let byteOrderNode = try format.required("byte_order")
        guard try byteOrderNode.string() == "little" else {
            throw byteOrderNode.error("only 'little' byte order is supported")
        }
        let rules = try loadRules(try top.required("rules"))
        let versions = try loadVersions(format.optional("versions"), current: try format.int("version"), versionNode: try format.required("version"))
        let structures = try loadStructures(try top.required("structures"), versions: versions)
        let file = try top.required("file").mapping(allowed: ["doc", "sections"])
        let ring = try top.required("ring").mapping(allowed: ["doc", "parts", "sequence"])
        let dictionary = try top.required("dictionary").mapping(allowed: ["header", "doc", "entry_kinds"])

        var layout = Layout(
            formatName: try format.string("name"),
            version: try format.int("version"),
            doc: try format.text("doc"),
            fileDoc: try file.text("doc"),
            sections: try loadSections(try file.required("sections")),
            structures: structures,
            ringDoc: try ring.text("doc"),
            ringParts: try loadRingParts(try ring.required("parts")),
            sequence: try loadSequence(try ring.required("sequence")),
            rings: try loadRings(try top.required("rings")),
            dictionaryHeader: try dictionary.string("header"),
            dictionaryDoc: try dictionary.text("doc"),
            entryKinds: try loadEntryKinds(try dictionary.required("entry_kinds")),
            defaults: [],
            rules: rules
        )
        if let defaults = top.optional("defaults") {
            guard case .mapping(let mapping) = defaults.node else { throw defaults.error("expected a mapping") }
            for (key, _) in mapping {
                let name = key.string ?? ""
                layout.defaults.append((name, try YNode(node: mapping[key]!, file: defaults.file, path: "defaults.\(name)").int()))
            }
        }
        try checkReferences(layout, dictionaryNode: try dictionary.required("header"), sectionsNode: try file.required("sections"))
        layout.versions = versions
        return layout
    }

    // MARK: versions

    /// `versions:` lists every version, oldest first, the last being `version`; without it the spec
    /// describes its one version.
    static func loadVersions(_ node: YNode?, current: Int, versionNode: YNode) throws -> [SpecVersion] {
        guard let node else { return [SpecVersion(number: current, doc: "")] }
        var versions: [SpecVersion] = []
        for item in try node.sequence() {
            let map = try item.mapping(allowed: ["version", "doc"])
            let number = try map.int("version")
            if let last = versions.last, number <= last.number {
                throw item.error("versions must be listed oldest first, each once: \(number) comes after \(last.number)")
            }
            versions.append(SpecVersion(number: number, doc: try map.text("doc")))
        }
        guard versions.last?.number == current else {
            throw versionNode.error("version \(current) must be the last of `versions` (\(versions.map { String($0.number) }.joined(separator: ", ")))")
        }
        return versions
    }

    /// A field's `since` and `deprecated` name listed versions; a field newer than the first version
    /// sits in what the older versions reserve, so that their files read it as absent (zero).
    static func checkVersions(of field: LayoutField, _ versions: [SpecVersion], at node: YNode) throws {
        let known = Set(versions.map(\.number))
        guard known.contains(field.since) else { throw node.error("since: \(field.since) is not a version of `versions`") }
        if let deprecated = field.deprecated {
            guard known.contains(deprecated), deprecated >= field.since else {
                throw node.error("deprecated: \(deprecated) must be a version of `versions`, not before since: \(field.since)")
            }
        }
        guard field.since > versions[0].number else { return }
        if field.type == .reserved || field.atomic && field.initial == .layout {
            throw node.error("field '\(field.name)' is new in version \(field.since): it must be a plain field whose bytes the older versions reserve")
        }
        if case .number(let value) = field.initial, value != 0 {
            throw node.error("field '\(field.name)' is new in version \(field.since): its initial value must be 0, which is what files of older versions hold there")
        }
    }

    // MARK: rules

    static func loadRules(_ node: YNode) throws -> [Rule] {
        var rules: [Rule] = []
        var seen: [String: Int] = [:]
        for item in try node.sequence() {
            let map = try item.mapping(allowed: ["id", "level", "origin", "golden", "text"])
            let idNode = try map.required("id")
            let id = try idNode.string()
            guard id.range(of: "^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$", options: .regularExpression) != nil else {
                throw idNode.error("rule ID '\(id)' must look like AREA-NAME in capitals")
            }
            if let first = seen[id] {
                throw idNode.error("duplicate rule ID '\(id)' (first defined on line \(first))")
            }
            seen[id] = item.line
            let levelNode = try map.required("level")
            guard let level = RuleLevel(rawValue: try levelNode.string()) else {
                throw levelNode.error("level must be MUST or SHOULD")
            }
            let originNode = try map.required("origin")
            guard let origin = RuleOrigin(rawValue: try originNode.string()) else {
                throw originNode.error("origin must be 'protocol' or 'project'")
            }
            let goldenNode = map.optional("golden")
            let golden = try map.strings("golden")
            if let bad = golden.first(where: { !($0.hasPrefix("invalid/") && $0.hasSuffix(".otlpmmap")) || $0.contains("..") }) {
                throw (goldenNode ?? item).error("golden files are named invalid/NAME.otlpmmap, not '\(bad)'")
            }
            rules.append(Rule(id: id, level: level, origin: origin, text: try map.text("text"), line: item.line, golden: golden))
        }
        return rules
    }

    // MARK: structures

    static func loadStructures(_ node: YNode, versions: [SpecVersion]) throws -> [Structure] {
        var result: [Structure] = []
        for item in try node.sequence() {
            let map = try item.mapping(allowed: ["name", "size", "doc", "fields"])
            let nameNode = try map.required("name")
            let name = try nameNode.string()
            if result.contains(where: { $0.name == name }) { throw nameNode.error("duplicate structure '\(name)'") }
            let sizeNode = try map.required("size")
            let size = try sizeNode.int()
            guard size > 0 else { throw sizeNode.error("size must be positive") }
            var fields: [LayoutField] = []
            for fieldNode in try map.required("fields").sequence() {
                let field = try loadField(fieldNode)
                try checkVersions(of: field, versions, at: fieldNode)
                fields.append(field)
            }
            try checkContiguous(fields, size: size, structure: name, sizeNode: sizeNode, fieldNodes: try map.required("fields").sequence())
            result.append(Structure(name: name, size: size, doc: try map.text("doc"), fields: fields, line: item.line))
        }
        return result
    }

    static func loadField(_ node: YNode) throws -> LayoutField {
        let map = try node.mapping(allowed: ["name", "offset", "size", "type", "atomic", "initial", "rules", "doc", "since", "deprecated"])
        let name = try map.string("name")
        guard name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
            throw try map.required("name").error("field name '\(name)' must be lower_snake_case")
        }
        let typeNode = try map.required("type")
        guard let type = FieldType(rawValue: try typeNode.string()) else {
            let known = FieldType.allCases.map(\.rawValue).joined(separator: ", ")
            throw typeNode.error("unknown type '\(try typeNode.string())' (known: \(known))")
        }
        let sizeNode = try map.required("size")
        let size = try sizeNode.int()
        try checkSize(size, of: type, at: sizeNode)
        let offsetNode = try map.required("offset")
        let offset = try offsetNode.int()
        guard offset >= 0 else { throw offsetNode.error("offset must not be negative") }
        let atomic = try map.bool("atomic", default: false)
        if atomic && type == .reserved { throw try map.required("atomic").error("a reserved field cannot be atomic") }
        if atomic && offset % size != 0 {
            throw offsetNode.error("atomic field '\(name)' at offset \(offset) is not aligned to its size \(size)")
        }
        return LayoutField(
            name: name, offset: offset, size: size, type: type, atomic: atomic,
            initial: try loadInitial(try map.required("initial")),
            rules: try map.strings("rules"), doc: try map.text("doc"), line: node.line,
            since: try map.optional("since")?.int() ?? 1, deprecated: try map.optional("deprecated")?.int()
        )
    }

    static func checkSize(_ size: Int, of type: FieldType, at node: YNode) throws {
        if let expected = type.size {
            guard size == expected else {
                throw node.error("size \(size) does not match type \(type.rawValue), which is \(expected) bytes")
            }
        } else {
            guard size > 0 else { throw node.error("size must be positive") }
        }
    }

    static func loadInitial(_ node: YNode) throws -> InitialValue {
        let text = try node.string()
        switch text {
        case "layout": return .layout
        case "clock": return .clock
        default:
            guard let value = Int64(text) else { throw node.error("initial must be a number, 'layout' or 'clock'") }
            return .number(value)
        }
    }

    /// Fields must tile the structure exactly: the reader code relies on every byte having one meaning.
    static func checkContiguous(_ fields: [LayoutField], size: Int, structure: String, sizeNode: YNode, fieldNodes: [YNode]) throws {
        var position = 0
        for (index, field) in fields.enumerated() {
            let node = fieldNodes[index]
            if fields[..<index].contains(where: { $0.name == field.name }) {
                throw node.error("duplicate field '\(field.name)' in \(structure)")
            }
            if field.offset < position {
                throw node.error("field '\(field.name)' at offset \(field.offset) overlaps the previous field, which ends at \(position)")
            }
            if field.offset > position {
                throw node.error("gap before field '\(field.name)': bytes \(position)..<\(field.offset) of \(structure) belong to no field")
            }
            position = field.offset + field.size
        }
        if position != size {
            throw sizeNode.error("\(structure) has size \(size) but its fields end at \(position)")
        }
    }

    // MARK: file, ring, dictionary

    static func loadSections(_ node: YNode) throws -> [FileSection] {
        try node.sequence().map { item in
            let map = try item.mapping(allowed: ["name", "structure", "ring", "dictionary", "located_by"])
            let content: FileSection.Content
            if let structure = map.optional("structure") {
                content = .structure(try structure.string())
            } else if let ring = map.optional("ring") {
                content = .ring(try ring.string())
            } else if try map.bool("dictionary", default: false) {
                content = .dictionary
            } else {
                throw item.error("a section needs one of 'structure', 'ring' or 'dictionary: true'")
            }
            var locatedBy: (String, String)?
            if let located = map.optional("located_by") {
                let parts = try located.string().split(separator: ".").map(String.init)
                guard parts.count == 2 else { throw located.error("located_by must be Structure.field") }
                locatedBy = (parts[0], parts[1])
            }
            return FileSection(name: try map.string("name"), content: content, locatedBy: locatedBy, line: item.line)
        }
    }

    static func loadRingParts(_ node: YNode) throws -> [RingPart] {
        try node.sequence().map { item in
            let map = try item.mapping(allowed: ["name", "structure", "count", "element", "element_size", "rules", "doc"])
            let content: RingPart.Content
            if let structure = map.optional("structure") {
                content = .structure(try structure.string())
            } else if let elementNode = map.optional("element") {
                let element = try elementNode.mapping(allowed: ["type", "size", "atomic", "initial"])
                let typeNode = try element.required("type")
                guard let type = FieldType(rawValue: try typeNode.string()), type != .reserved else {
                    throw typeNode.error("unknown element type '\(try typeNode.string())'")
                }
                let sizeNode = try element.required("size")
                let size = try sizeNode.int()
                try checkSize(size, of: type, at: sizeNode)
                content = .array(count: try map.string("count"), element: ArrayElement(
                    type: type, size: size, atomic: try element.bool("atomic", default: false),
                    initial: try loadInitial(try element.required("initial"))))
            } else if let elementSize = map.optional("element_size") {
                content = .blocks(count: try map.string("count"), elementSize: try elementSize.string())
            } else {
                throw item.error("a ring part needs 'structure', 'element' or 'element_size'")
            }
            return RingPart(name: try map.string("name"), content: content, rules: try map.strings("rules"),
                            doc: try map.text("doc"), line: item.line)
        }
    }

    static func loadSequence(_ node: YNode) throws -> SequenceFormulas {
        let map = try node.mapping(allowed: ["slot_index", "flag", "flag_alternative", "doc"])
        return SequenceFormulas(slotIndex: try map.string("slot_index"), flag: try map.string("flag"),
                                flagAlternative: try map.string("flag_alternative"), doc: try map.text("doc"))
    }

    static func loadRings(_ node: YNode) throws -> [RingSpec] {
        try node.sequence().map { item in
            let map = try item.mapping(allowed: ["name", "record", "doc"])
            return RingSpec(name: try map.string("name"), record: try map.string("record"), doc: try map.text("doc"), line: item.line)
        }
    }

    static func loadEntryKinds(_ node: YNode) throws -> [EntryKind] {
        try node.sequence().map { item in
            let map = try item.mapping(allowed: ["name", "message", "doc"])
            return EntryKind(name: try map.string("name"), message: try map.optional("message")?.string(), doc: try map.text("doc"))
        }
    }

    // MARK: cross references inside layout.yaml

    static func checkReferences(_ layout: Layout, dictionaryNode: YNode, sectionsNode: YNode) throws {
        let file = dictionaryNode.file
        func fail(_ line: Int, _ message: String) -> SpecError { SpecError(file: file, line: line, message) }
        let ruleIDs = Set(layout.rules.map(\.id))
        for structure in layout.structures {
            for field in structure.fields {
                for rule in field.rules where !ruleIDs.contains(rule) {
                    throw fail(field.line, "\(structure.name).\(field.name) cites unknown rule '\(rule)'")
                }
            }
        }
        guard case .structure(let headerName) = layout.ringParts.first?.content,
              layout.structure(named: headerName) != nil,
              layout.ringParts.dropFirst().allSatisfy({ if case .structure = $0.content { false } else { true } })
        else {
            throw fail(layout.ringParts.first?.line ?? 1, "a ring must start with exactly one known header structure")
        }
        for part in layout.ringParts {
            for rule in part.rules where !ruleIDs.contains(rule) {
                throw fail(part.line, "ring part '\(part.name)' cites unknown rule '\(rule)'")
            }
            switch part.content {
            case .structure:
                break
            case .array(let count, _):
                try checkHeaderField(count, layout, part.line, file)
            case .blocks(let count, let elementSize):
                try checkHeaderField(count, layout, part.line, file)
                try checkHeaderField(elementSize, layout, part.line, file)
            }
        }
        guard layout.structure(named: layout.dictionaryHeader) != nil else {
            throw dictionaryNode.error("unknown structure '\(layout.dictionaryHeader)'")
        }
        let ringNames = Set(layout.rings.map(\.name))
        for section in layout.sections {
            switch section.content {
            case .structure(let name):
                guard layout.structure(named: name) != nil else { throw fail(section.line, "unknown structure '\(name)'") }
            case .ring(let name):
                guard ringNames.contains(name) else { throw fail(section.line, "unknown ring '\(name)'") }
            case .dictionary:
                break
            }
            if let (structureName, fieldName) = section.locatedBy {
                guard let field = layout.structure(named: structureName)?.field(named: fieldName), field.type == .int64 else {
                    throw fail(section.line, "located_by \(structureName).\(fieldName) is not an int64 field")
                }
            }
        }
        guard case .structure = layout.sections.first?.content, layout.sections.first?.locatedBy == nil else {
            throw sectionsNode.error("the first section must be the file header structure, at offset 0")
        }
    }

    private static func checkHeaderField(_ name: String, _ layout: Layout, _ line: Int, _ file: String) throws {
        guard layout.ringHeader.field(named: name)?.type == .int64 else {
            throw SpecError(file: file, line: line, "'\(name)' is not an int64 field of the ring header")
        }
    }
}

import Foundation
