import OTLPMmapSpec

/// Emits the human-readable specification: layout tables, message tables and the rule catalogue.
enum DocsEmitter {
    static func layout(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let layout = spec.layout
        var md = header.markdown
        md += "\n# \(layout.formatName) file layout, version \(layout.version)\n\n"
        md += "\(layout.doc)\n\n"
        md += "All integers are little-endian. Offsets are in bytes. *Atomic* fields are only read and written with "
        md += "atomic operations, because another process may touch them at the same time.\n\n"
        md += "![Byte layout of a file](file-layout.svg)\n\n"
        md += "## Versions\n\nReaders accept every version listed and read each file by its own version: a field "
        md += "newer than the file is absent there (its bytes are reserved, so zero).\n\n| version | what it is |\n|---|---|\n"
        for version in layout.versions { md += "| \(version.number) | \(cell(version.doc)) |\n" }
        md += "\n## The file\n\n\(layout.fileDoc)\n\n"
        md += "| # | section | content | located by |\n|---|---|---|---|\n"
        for (index, section) in layout.sections.enumerated() {
            let content: String
            switch section.content {
            case .structure(let name): content = "[\(name)](#\(name.lowercased()))"
            case .ring(let name): content = "ring of `\(layout.rings.first { $0.name == name }!.record)` records"
            case .dictionary: content = "[dictionary](#dictionary)"
            }
            let located = section.locatedBy.map { "`\($0.structure).\($0.field)`" } ?? "offset 0"
            md += "| \(index) | \(section.name) | \(content) | \(located) |\n"
        }
        for structure in layout.structures {
            md += "\n## \(structure.name)\n\n\(structure.size) bytes. \(structure.doc)\n\n"
            md += "| offset | size | type | atomic | name | initial | rules | meaning |\n|---|---|---|---|---|---|---|---|\n"
            for field in structure.fields {
                let initial: String
                switch field.initial {
                case .number(let value): initial = "\(value)"
                case .layout: initial = "from layout"
                case .clock: initial = "clock"
                }
                let rules = field.rules.map { "[\($0)](rules.md#\($0.lowercased()))" }.joined(separator: " ")
                var meaning = field.doc
                if field.since > 1 { meaning += " (Since version \(field.since).)" }
                if let deprecated = field.deprecated { meaning += " (Deprecated from version \(deprecated).)" }
                md += "| \(field.offset) | \(field.size) | \(field.type.rawValue) | \(field.atomic ? "yes" : "") | `\(field.name)` | \(initial) | \(rules) | \(cell(meaning)) |\n"
            }
        }
        md += "\n## Ring\n\n\(layout.ringDoc)\n\n"
        md += "| part | content | rules | meaning |\n|---|---|---|---|\n"
        for part in layout.ringParts {
            let content: String
            switch part.content {
            case .structure(let name): content = "[\(name)](#\(name.lowercased()))"
            case .array(let count, let element):
                content = "`\(count)` × \(element.type.rawValue)\(element.atomic ? " (atomic)" : ""), initially \(initialText(element.initial))"
            case .blocks(let count, let size): content = "`\(count)` slots × `\(size)` bytes"
            }
            let rules = part.rules.map { "[\($0)](rules.md#\($0.lowercased()))" }.joined(separator: " ")
            md += "| \(part.name) | \(content) | \(rules) | \(cell(part.doc)) |\n"
        }
        md += "\nRing byte size = \(layout.ringSizeFormula).\n\n"
        md += "For sequence number `s`:\n\n"
        md += "- slot index = `\(layout.sequence.slotIndex)`\n"
        md += "- flag = `\(layout.sequence.flag)`\n"
        md += "- alternative flag (accepted when reading) = `\(layout.sequence.flagAlternative)`\n\n"
        md += "\(layout.sequence.doc)\n\n"
        md += "| ring | record type | meaning |\n|---|---|---|\n"
        for ring in layout.rings {
            md += "| \(ring.name) | [`\(ring.record)`](messages.md#\(ring.record.lowercased())) | \(cell(ring.doc)) |\n"
        }
        md += "\n## Dictionary\n\n\(layout.dictionaryDoc)\n\n"
        md += "The dictionary starts with a [\(layout.dictionaryHeader)](#\(layout.dictionaryHeader.lowercased())).\n\n"
        md += "| entry kind | content | referred to by |\n|---|---|---|\n"
        for kind in layout.entryKinds {
            let referrers = spec.messages.messages.flatMap { message in
                message.fields.filter { $0.ref == kind.name }.map { "`\(message.name).\($0.name)`" }
            }
            md += "| \(kind.name) | \(cell(kind.doc)) | \(referrers.joined(separator: ", ")) |\n"
        }
        md += "\n## Defaults of the reference writer\n\n| setting | value |\n|---|---|\n"
        for (name, value) in layout.defaults { md += "| \(name) | \(value) |\n" }
        return md
    }

    static func messages(_ spec: Spec, _ header: GeneratedHeader) -> String {
        var md = header.markdown
        md += "\n# Record messages (`\(spec.messages.package)`)\n\n"
        md += "Protobuf, proto3. Field numbers are the wire contract. A *ref* field holds the file offset of a "
        md += "dictionary entry of the kind named; 0 means none. The generated schema is "
        md += "[mmap.proto](../\(Generator.protoPath(spec.messages, file: "mmap.proto"))).\n"
        return md + tables(spec.messages)
    }

    /// The testee protocol's one page: how the runner talks to a writer under test, then its messages.
    static func testee(_ schema: MessageSchema, _ header: GeneratedHeader) -> String {
        var md = header.markdown
        md += "\n# The testee protocol (`\(schema.package)`)\n\n"
        md += schema.doc.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
        md += "The generated schema is [testee.proto](../\(Generator.protoPath(schema, file: "testee.proto"))); "
        md += "`tools/c-writer/writer.c` is a complete testee in C.\n"
        if !schema.checks.isEmpty {
            md += "\n## Checks\n\nBeside every [rule of the format](rules.md), the runner checks these; reports and failure "
            md += "lists name them by ID. MUST checks are Required, SHOULD checks Recommended (warnings unless "
            md += "`--enforce-recommended`).\n\n| ID | level | check |\n|---|---|---|\n"
            for check in schema.checks {
                md += "| <a id=\"\(check.id.lowercased())\"></a>\(check.id) | \(check.level.rawValue) | \(check.text.replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
        }
        return md + tables(schema)
    }

    /// One table per message, then the enums.
    static func tables(_ schema: MessageSchema) -> String {
        var md = ""
        for message in schema.messages {
            md += "\n## \(message.name)\n\n\(message.doc)\n\n"
            if message.parent != nil { md += "Declared in \(schema.path(of: message.name).dropLast().map { "[\($0)](#\($0.lowercased()))" }.joined(separator: ".")): `\(schema.qualifiedName(of: message.name))` in the .proto.\n\n" }
            if !message.reserved.isEmpty {
                md += "Reserved field numbers: \(message.reserved.map(String.init).joined(separator: ", ")).\n\n"
            }
            if message.fields.isEmpty { md += "No fields.\n"; continue }
            md += "| number | name | type | label | notes |\n|---|---|---|---|---|\n"
            for field in message.fields {
                let type: String
                switch field.type {
                case .scalar(let scalar): type = scalar.rawValue
                case .enumeration(let name): type = "[\(name)](#\(name.lowercased()))"
                case .message(let name): type = "[\(name)](#\(name.lowercased()))"
                }
                var notes: [String] = []
                if let oneof = field.oneof { notes.append("oneof `\(oneof)`") }
                if field.since > 1 { notes.append("since version \(field.since)") }
                if let deprecated = field.deprecated { notes.append("deprecated from version \(deprecated)") }
                if let ref = field.ref { notes.append("ref → \(ref)") }
                if let length = field.length { notes.append("\(length) bytes") }
                notes += field.rules.map { "[\($0)](rules.md#\($0.lowercased()))" }
                md += "| \(field.number) | `\(field.name)` | \(type) | \(field.repeated ? "repeated" : "") | \(notes.joined(separator: "; ")) |\n"
            }
        }
        md += "\n## Enums\n"
        for enumType in schema.enums {
            md += "\n### \(enumType.name)\n\n\(enumType.doc)\n\n"
            if enumType.parent != nil { md += "Declared in `\(schema.path(of: enumType.name).dropLast().joined(separator: "."))`: `\(schema.qualifiedName(of: enumType.name))` in the .proto.\n\n" }
            md += "| number | name |\n|---|---|\n"
            for value in enumType.values { md += "| \(value.number) | `\(value.name)` |\n" }
        }
        return md
    }

    static func rules(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> String {
        var md = header.markdown
        md += "\n# Rules\n\n"
        md += "Every rule has a stable ID that errors, the checker and the golden files cite. *protocol* rules are "
        md += "what the upstream written specification states normatively (all MUST, as it says); *project* rules "
        md += "follow from protobuf and OTLP or are this project's additions, MUST only where a reader would otherwise "
        md += "crash, lose or misread data. The golden files listed break the rule on purpose: "
        md += "`otlp-mmap conform check` must report exactly the rules their manifest names.\n\n"
        md += "| ID | level | origin | rule | constrains | golden file |\n|---|---|---|---|---|---|\n"
        for rule in spec.layout.rules {
            let where_ = spec.citations(of: rule.id).map { citation in
                switch citation {
                case .layoutField(let structure, let field), .messageField(let structure, let field): "`\(structure).\(field)`"
                case .ringPart(let part): "ring `\(part)`"
                }
            }
            let golden = examples.files(for: rule.id).map { "[\($0)](../golden/\($0))" }.joined(separator: ", ")
            md += "| <a id=\"\(rule.id.lowercased())\"></a>\(rule.id) | \(rule.level.rawValue) | \(rule.origin.rawValue) | \(cell(rule.text)) | \(where_.joined(separator: ", ")) | \(golden) |\n"
        }
        return md
    }

    static func initialText(_ initial: InitialValue) -> String {
        switch initial {
        case .number(let value): "\(value)"
        case .layout: "from layout"
        case .clock: "clock"
        }
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
    }

    /// docs/readers.md: what a reader of the format must do, each check at an anchor reports link to.
    static func readers(_ readers: ReaderChecks, _ header: GeneratedHeader) -> String {
        var md = header.markdown + "# What a reader must do\n\n\(readers.doc)\n\n"
        md += "Reports and failure lists name these checks by ID. MUST checks are Required, SHOULD checks Recommended. "
        md += "Origins: `protocol`, the upstream written specification states it; `defect`, it guards against a known "
        md += "defect of the existing collector; `otlp`, OTLP's own rules for exporters; `project`, this project's requirement.\n\n"
        md += "| ID | level | check | origin |\n|---|---|---|---|\n"
        for check in readers.checks {
            let origin = "\(check.origin?.rawValue ?? "project"): \(check.source ?? "")"
            md += "| <a id=\"\(check.id.lowercased())\"></a>\(check.id) | \(check.level.rawValue) | \(cell(check.text)) | \(cell(origin)) |\n"
        }
        return md
    }
}

import Foundation
