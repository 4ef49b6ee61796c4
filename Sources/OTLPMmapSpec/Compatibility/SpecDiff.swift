/// Compares two specs and classifies every difference by whom it breaks: readers of files written
/// under the old spec, readers built from the old spec given new files, and writers built from the
/// old spec. The rules of thumb it encodes:
///
/// - Fixed structures are read by offset: moving, resizing or retyping a field breaks everybody.
///   Taking reserved bytes into use breaks only old readers (they check reserved bytes are zero, so
///   they refuse new files); old files have zeros there, which the new field must read as "unset".
/// - Record messages are protobuf: adding a field is compatible (old readers skip it) unless it
///   joins an existing oneof (an old reader then sees an empty oneof); renumbering, retyping,
///   removing a field or changing its cardinality breaks readers both ways.
/// - A new MUST rule can refuse what existing writers write; a relaxed or removed one is still
///   enforced by old readers on new files.
package enum SpecDiff {
    /// The files a spec was loaded from, as reports should name them.
    package struct Sources: Sendable {
        package var layout: String
        package var messages: String

        package init(layout: String, messages: String) {
            self.layout = layout
            self.messages = messages
        }

        /// The files of a spec folder named `folder` (`old/spec`, `HEAD:spec`).
        package init(folder: String) {
            self.init(layout: "\(folder)/\(SpecLoader.layoutFile)", messages: "\(folder)/\(SpecLoader.messagesFile)")
        }
    }

    package static func compare(_ old: Spec, _ new: Spec, oldSources: Sources, newSources: Sources) -> SpecComparison {
        var differ = Differ(oldSources: oldSources, newSources: newSources)
        differ.compareVersion(old.layout, new.layout)
        differ.compareStructures(old.layout, new.layout)
        differ.compareFile(old.layout, new.layout)
        differ.compareRules(old.layout, new.layout)
        differ.compareMessages(old.messages, new.messages)
        return SpecComparison(oldVersion: old.layout.version, newVersion: new.layout.version, changes: differ.changes)
    }
}

private struct Differ {
    let oldSources: SpecDiff.Sources
    let newSources: SpecDiff.Sources
    var changes: [SpecChange] = []

    typealias Audience = SpecChange.Audience
    static let everybody: [Audience] = Audience.allCases

    mutating func add(_ kind: SpecChange.Kind, _ subject: String, _ detail: String, breaks: [Audience], layoutLine line: Int, removed: Bool = false) {
        changes.append(SpecChange(kind, subject, detail, breaks: breaks, file: removed ? oldSources.layout : newSources.layout, line: line))
    }

    mutating func addMessage(_ kind: SpecChange.Kind, _ subject: String, _ detail: String, breaks: [Audience], line: Int, removed: Bool = false) {
        changes.append(SpecChange(kind, subject, detail, breaks: breaks, file: removed ? oldSources.messages : newSources.messages, line: line))
    }

    // MARK: version

    mutating func compareVersion(_ old: Layout, _ new: Layout) {
        if new.version > old.version {
            add(.versionBumped, "format.version", "\(old.version) → \(new.version)", breaks: [], layoutLine: 1)
        } else if new.version < old.version {
            add(.versionLowered, "format.version", "\(old.version) → \(new.version): files of the newer version would pass for older ones", breaks: Self.everybody, layoutLine: 1)
        }
    }

    // MARK: fixed structures

    mutating func compareStructures(_ old: Layout, _ new: Layout) {
        for structure in old.structures where new.structure(named: structure.name) == nil {
            add(.structureRemoved, structure.name, "removed", breaks: Self.everybody, layoutLine: structure.line, removed: true)
        }
        for structure in new.structures {
            guard let before = old.structure(named: structure.name) else {
                add(.structureAdded, structure.name, "\(structure.size) bytes", breaks: [], layoutLine: structure.line)
                continue
            }
            if before.size != structure.size {
                add(.structureResized, structure.name, "\(before.size) → \(structure.size) bytes", breaks: Self.everybody, layoutLine: structure.line)
            }
            compareFields(of: structure.name, before, structure)
        }
    }

    mutating func compareFields(of name: String, _ old: Structure, _ new: Structure) {
        let reservedBefore = old.fields.filter { $0.type == .reserved }
        for field in old.fields where field.type != .reserved && new.field(named: field.name).map({ $0.type == .reserved }) ?? true {
            // Old readers still read the field (new files have zeros there); new readers refuse old
            // files whose bytes there are not zero, as reserved bytes must be.
            add(.fieldRemoved, "\(name).\(field.name)", "bytes \(field.offset)..<\(field.offset + field.size) are no longer a field",
                breaks: [.oldReadersOfNewFiles, .readersOfOldFiles, .writers], layoutLine: field.line, removed: true)
        }
        for field in new.fields where field.type != .reserved {
            guard let before = old.field(named: field.name), before.type != .reserved else {
                let inReserved = reservedBefore.contains { $0.offset <= field.offset && field.offset + field.size <= $0.offset + $0.size }
                if inReserved {
                    add(.reservedTaken, "\(name).\(field.name)", "new \(field.type.rawValue) field in reserved bytes \(field.offset)..<\(field.offset + field.size); old files have zeros there",
                        breaks: [.oldReadersOfNewFiles], layoutLine: field.line)
                } else {
                    add(.fieldMoved, "\(name).\(field.name)", "new field at \(field.offset)..<\(field.offset + field.size), where the old layout has other fields",
                        breaks: Self.everybody, layoutLine: field.line)
                }
                continue
            }
            let subject = "\(name).\(field.name)"
            if before.offset != field.offset {
                add(.fieldMoved, subject, "offset \(before.offset) → \(field.offset)", breaks: Self.everybody, layoutLine: field.line)
            }
            if before.size != field.size {
                add(.fieldResized, subject, "\(before.size) → \(field.size) bytes", breaks: Self.everybody, layoutLine: field.line)
            }
            if before.type != field.type {
                add(.fieldRetyped, subject, "\(before.type.rawValue) → \(field.type.rawValue)", breaks: Self.everybody, layoutLine: field.line)
            }
            if before.atomic != field.atomic {
                // Plain and atomic accesses of the same bytes by two processes race.
                add(.fieldAtomicityChanged, subject, before.atomic ? "no longer atomic" : "now atomic", breaks: [.oldReadersOfNewFiles, .writers], layoutLine: field.line)
            }
            if before.initial != field.initial {
                add(.fieldInitialChanged, subject, "initial \(Self.describe(before.initial)) → \(Self.describe(field.initial))",
                    breaks: [.readersOfOldFiles, .oldReadersOfNewFiles], layoutLine: field.line)
            }
        }
    }

    static func describe(_ initial: InitialValue) -> String {
        switch initial {
        case .number(let value): "\(value)"
        case .layout: "layout"
        case .clock: "clock"
        }
    }

    // MARK: sections, rings, dictionary

    mutating func compareFile(_ old: Layout, _ new: Layout) {
        let oldSections = old.sections.map(\.name), newSections = new.sections.map(\.name)
        for section in old.sections where !newSections.contains(section.name) {
            add(.sectionRemoved, "file.\(section.name)", "removed", breaks: Self.everybody, layoutLine: section.line, removed: true)
        }
        for section in new.sections {
            guard let index = oldSections.firstIndex(of: section.name) else {
                add(.sectionAdded, "file.\(section.name)", "new section", breaks: Self.everybody, layoutLine: section.line)
                continue
            }
            let before = old.sections[index]
            if before.content != section.content || before.locatedBy?.structure != section.locatedBy?.structure || before.locatedBy?.field != section.locatedBy?.field
                || oldSections.filter(newSections.contains) != newSections.filter(oldSections.contains) {
                add(.sectionMoved, "file.\(section.name)", "located or ordered differently", breaks: Self.everybody, layoutLine: section.line)
            }
        }
        for ring in old.rings where !new.rings.contains(where: { $0.name == ring.name }) {
            add(.ringRemoved, "rings.\(ring.name)", "removed", breaks: Self.everybody, layoutLine: ring.line, removed: true)
        }
        for ring in new.rings {
            guard let before = old.rings.first(where: { $0.name == ring.name }) else {
                add(.ringAdded, "rings.\(ring.name)", "new ring of \(ring.record)", breaks: Self.everybody, layoutLine: ring.line)
                continue
            }
            if before.record != ring.record {
                add(.ringRecordChanged, "rings.\(ring.name)", "records \(before.record) → \(ring.record)", breaks: Self.everybody, layoutLine: ring.line)
            }
        }
        if Self.partsSignature(old) != Self.partsSignature(new) {
            add(.ringPartsChanged, "ring.parts", "\(Self.partsSignature(old)) → \(Self.partsSignature(new))", breaks: Self.everybody,
                layoutLine: new.ringParts.first?.line ?? 1)
        }
        let formulas = [("slot_index", old.sequence.slotIndex, new.sequence.slotIndex), ("flag", old.sequence.flag, new.sequence.flag),
                        ("flag_alternative", old.sequence.flagAlternative, new.sequence.flagAlternative)]
        for (name, before, after) in formulas where before != after {
            add(.ringFormulaChanged, "ring.sequence.\(name)", "\"\(before)\" → \"\(after)\"", breaks: Self.everybody, layoutLine: new.ringParts.first?.line ?? 1)
        }
        for kind in old.entryKinds where !new.entryKinds.contains(where: { $0.name == kind.name }) {
            add(.entryKindRemoved, "dictionary.\(kind.name)", "removed: references of this kind in old files no longer resolve",
                breaks: [.readersOfOldFiles, .writers], layoutLine: 1, removed: true)
        }
        for kind in new.entryKinds {
            guard let before = old.entryKinds.first(where: { $0.name == kind.name }) else {
                add(.entryKindAdded, "dictionary.\(kind.name)", "new entry kind", breaks: [], layoutLine: 1)
                continue
            }
            if before.message != kind.message {
                add(.entryKindMessageChanged, "dictionary.\(kind.name)", "\(before.message ?? "string") → \(kind.message ?? "string")", breaks: Self.everybody, layoutLine: 1)
            }
        }
        let oldDefaults = Dictionary(old.defaults, uniquingKeysWith: { first, _ in first })
        for (name, value) in new.defaults where oldDefaults[name] != value {
            // A writer's choice that every reader takes from the file.
            add(.defaultChanged, "defaults.\(name)", "\(oldDefaults[name].map(String.init) ?? "none") → \(value)", breaks: [], layoutLine: 1)
        }
    }

    static func partsSignature(_ layout: Layout) -> String {
        layout.ringParts.map { part in
            switch part.content {
            case .structure(let name): "\(part.name)=\(name)"
            case .array(let count, let element): "\(part.name)=\(count)×\(element.type.rawValue)"
            case .blocks(let count, let size): "\(part.name)=\(count)×\(size)"
            }
        }.joined(separator: ", ")
    }

    // MARK: rules

    mutating func compareRules(_ old: Layout, _ new: Layout) {
        for rule in old.rules where new.rule(rule.id) == nil {
            // Old readers still enforce it on new files.
            add(.ruleRemoved, rule.id, "removed (\(rule.level.rawValue))", breaks: rule.level == .must ? [.oldReadersOfNewFiles] : [], layoutLine: rule.line, removed: true)
        }
        for rule in new.rules {
            guard let before = old.rule(rule.id) else {
                // A new MUST can refuse what existing writers write, and old files written by them.
                add(.ruleAdded, rule.id, "new \(rule.level.rawValue) rule", breaks: rule.level == .must ? [.readersOfOldFiles, .writers] : [], layoutLine: rule.line)
                continue
            }
            if before.level != rule.level {
                let stricter = rule.level == .must
                add(.ruleLevelChanged, rule.id, "\(before.level.rawValue) → \(rule.level.rawValue)",
                    breaks: stricter ? [.readersOfOldFiles, .writers] : [.oldReadersOfNewFiles], layoutLine: rule.line)
            }
            if before.text != rule.text {
                add(.ruleTextChanged, rule.id, "text reworded", breaks: [], layoutLine: rule.line)
            }
        }
    }

    // MARK: record messages

    mutating func compareMessages(_ old: MessageSchema, _ new: MessageSchema) {
        for message in old.messages where new.message(named: message.name) == nil {
            addMessage(.messageRemoved, message.name, "removed", breaks: Self.everybody, line: message.line, removed: true)
        }
        for message in new.messages {
            guard let before = old.message(named: message.name) else {
                addMessage(.messageAdded, message.name, "new message", breaks: [], line: message.line)
                continue
            }
            compareFields(of: message.name, before, message)
        }
        for enumeration in old.enums where new.enumeration(named: enumeration.name) == nil {
            addMessage(.enumRemoved, enumeration.name, "removed", breaks: Self.everybody, line: enumeration.line, removed: true)
        }
        for enumeration in new.enums {
            guard let before = old.enumeration(named: enumeration.name) else {
                addMessage(.enumAdded, enumeration.name, "new enum", breaks: [], line: enumeration.line)
                continue
            }
            for value in before.values where !enumeration.values.contains(where: { $0.name == value.name || $0.number == value.number }) {
                addMessage(.enumValueRemoved, "\(enumeration.name).\(value.name)", "value \(value.number) removed: old files and writers still use it",
                           breaks: [.readersOfOldFiles, .writers], line: before.line, removed: true)
            }
            for value in enumeration.values {
                if let renamed = before.values.first(where: { $0.name == value.name }), renamed.number != value.number {
                    addMessage(.enumValueRenumbered, "\(enumeration.name).\(value.name)", "\(renamed.number) → \(value.number)", breaks: Self.everybody, line: enumeration.line)
                } else if !before.values.contains(where: { $0.name == value.name || $0.number == value.number }) {
                    // Old readers pass an unknown value on (REC-ENUM is a SHOULD).
                    addMessage(.enumValueAdded, "\(enumeration.name).\(value.name)", "new value \(value.number)", breaks: [], line: enumeration.line)
                }
            }
        }
    }

    mutating func compareFields(of name: String, _ old: Message, _ new: Message) {
        for field in old.fields where !new.fields.contains(where: { $0.name == field.name || $0.number == field.number }) {
            addMessage(.messageFieldRemoved, "\(name).\(field.name)", "field \(field.number) removed: what old files hold there is no longer read",
                       breaks: [.readersOfOldFiles, .oldReadersOfNewFiles], line: field.line, removed: true)
        }
        for field in new.fields {
            let subject = "\(name).\(field.name)"
            guard let before = old.fields.first(where: { $0.name == field.name }) else {
                if let reused = old.fields.first(where: { $0.number == field.number }) {
                    let sameWire = reused.type.wireType == field.type.wireType && reused.repeated == field.repeated && reused.type == field.type
                    addMessage(.messageFieldRenamed, subject, "field \(field.number) was \(reused.name)\(sameWire ? "" : ", now of another type")",
                               breaks: sameWire ? [] : Self.everybody, line: field.line)
                } else if old.reserved.contains(field.number) {
                    addMessage(.messageFieldAdded, subject, "new field \(field.number) takes a reserved number: old files may hold something else there",
                               breaks: [.readersOfOldFiles], line: field.line)
                } else if let oneof = field.oneof, old.fields.contains(where: { $0.oneof == oneof }) {
                    addMessage(.messageFieldAdded, subject, "new field \(field.number) in the existing oneof \(oneof): old readers see the oneof empty",
                               breaks: [.oldReadersOfNewFiles], line: field.line)
                } else {
                    addMessage(.messageFieldAdded, subject, "new field \(field.number)", breaks: [], line: field.line)
                }
                continue
            }
            if before.number != field.number {
                addMessage(.messageFieldRenumbered, subject, "\(before.number) → \(field.number)", breaks: Self.everybody, line: field.line)
            }
            if before.type != field.type {
                let wire = before.type.wireType == field.type.wireType ? "same wire type, other meaning" : "wire type \(before.type.wireType) → \(field.type.wireType)"
                addMessage(.messageFieldRetyped, subject, "\(Self.describe(before.type)) → \(Self.describe(field.type)) (\(wire))", breaks: Self.everybody, line: field.line)
            }
            if before.repeated != field.repeated {
                addMessage(.messageFieldCardinalityChanged, subject, before.repeated ? "repeated → single" : "single → repeated", breaks: Self.everybody, line: field.line)
            }
            if before.oneof != field.oneof {
                addMessage(.messageFieldOneofChanged, subject, "oneof \(before.oneof ?? "none") → \(field.oneof ?? "none")",
                           breaks: [.readersOfOldFiles, .oldReadersOfNewFiles], line: field.line)
            }
            if before.ref != field.ref || before.length != field.length {
                let detail = before.ref != field.ref ? "ref \(before.ref ?? "none") → \(field.ref ?? "none")" : "length \(before.length.map(String.init) ?? "any") → \(field.length.map(String.init) ?? "any")"
                addMessage(.messageFieldConstraintChanged, subject, detail, breaks: [.readersOfOldFiles, .writers], line: field.line)
            }
        }
    }

    static func describe(_ type: MessageFieldType) -> String {
        switch type {
        case .scalar(let scalar): scalar.rawValue
        case .enumeration(let name), .message(let name): name
        }
    }
}
