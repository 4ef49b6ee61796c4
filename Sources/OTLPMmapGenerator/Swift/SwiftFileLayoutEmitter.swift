import OTLPMmapSpec

/// Emits the ring geometry, the ring kinds with their record types, the dictionary entry kinds and the
/// file-wide constants, all derived from spec/layout.yaml.
enum SwiftFileLayoutEmitter {
    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.line("import OTLPMmapWire")
        out.line()
        emitFileLayout(spec.layout, into: &out)
        out.line()
        emitRingLayout(spec.layout, into: &out)
        out.line()
        emitArrayViews(spec.layout, into: &out)
        emitRingKinds(spec.layout, into: &out)
        out.line()
        emitEntryKinds(spec.layout, into: &out)
        return out.text
    }

    static func emitFileLayout(_ layout: Layout, into out: inout CodeWriter) {
        out.doc(layout.doc)
        out.doc("")
        out.doc(layout.fileDoc)
        out.block("package enum FileLayout {") { out in
            out.line("package static let formatName = \(Naming.literal(layout.formatName))")
            out.doc("The newest version: what writers write.")
            out.line("package static let version: Int64 = \(layout.version)")
            out.doc("Every version this layout reads, oldest first; a file of another version breaks HDR-VERSION.")
            out.line("package static let versions: [Int64] = [\(layout.versions.map { String($0.number) }.joined(separator: ", "))]")
            out.doc("Whether files of format `version` are read by this layout.")
            out.line("package static func knows(_ version: Int64) -> Bool { versions.contains(version) }")
            for (name, value) in layout.defaults {
                out.line("package static let default\(Naming.upperCamel(name)): Int64 = \(value)")
            }
            out.doc("Section names in file order.")
            out.line("package static let sectionOrder = [\(layout.sections.map { Naming.literal($0.name) }.joined(separator: ", "))]")
        }
        out.line()
        out.doc("The format versions this layout describes; `FormatVersion(rawValue: header.version)` says which one a file is (nil: one this reader does not know).")
        out.block("package enum FormatVersion: Int64, Sendable, CaseIterable {") { out in
            for version in layout.versions {
                if !version.doc.isEmpty { out.doc(version.doc) }
                out.line("case v\(version.number) = \(version.number)")
            }
        }
        let dictionary = layout.structure(named: layout.dictionaryHeader)!
        out.line()
        out.doc(layout.dictionaryDoc)
        out.block("package enum DictionaryLayout {") { out in
            out.line("package static let headerSize = \(dictionary.size)")
            out.doc("File offset of the first entry of a dictionary at `dictionaryOffset`.")
            out.line("package static func firstEntryOffset(dictionaryOffset: Int64) -> Int64 { dictionaryOffset &+ \(dictionary.size) }")
        }
    }

    /// The ring's parts become offset functions whose parameters are the ring header fields that size
    /// them; arithmetic is overflow-checked because the sizes come from untrusted files.
    static func emitRingLayout(_ layout: Layout, into out: inout CodeWriter) {
        let parameters = layout.ringSizeParameters.map { "\(Naming.lowerCamel($0)): Int64" }.joined(separator: ", ")
        let terms = layout.ringSizeTerms.map { term -> (code: String, text: String) in
            switch term {
            case .bytes(let size): ("\(size)", term.text)
            case .elements(let count, let size): ("mul(\(Naming.lowerCamel(count)), \(size))", term.text)
            case .blocks(let count, let size): ("mul(\(Naming.lowerCamel(count)), \(Naming.lowerCamel(size)))", term.text)
            }
        }
        let formula = layout.ringSizeFormula
        out.doc(layout.ringDoc)
        out.doc("")
        out.doc("Ring byte size = \(formula).")
        out.block("public enum RingLayout {") { out in
            out.line("package static let formula = \(Naming.literal(formula))")
            for (index, part) in layout.ringParts.enumerated() {
                out.line()
                out.doc("Offset of `\(part.name)` from the ring's start; nil when the sizes overflow. \(part.doc)")
                let prefix = terms[..<index].map(\.code)
                let expression = prefix.isEmpty ? "0" : prefix.dropFirst().reduce(prefix[0]) { "add(\($0), \($1))" }
                out.block("package static func \(Naming.lowerCamel(part.name))Offset(\(parameters)) -> Int64? {") { out in
                    out.line(expression.hasPrefix("add") || expression.hasPrefix("mul") ? expression : "Int64(\(expression))")
                }
            }
            out.line()
            out.doc("Whole ring size in bytes; nil when the sizes overflow.")
            out.block("package static func byteSize(\(parameters)) -> Int64? {") { out in
                let all = terms.map(\.code)
                out.line(all.dropFirst().reduce(all[0]) { "add(\($0), \($1))" })
            }
            out.line()
            for part in layout.ringParts {
                if case .array(_, let element) = part.content {
                    out.line("package static let \(Naming.lowerCamel(part.name))ElementSize = \(element.size)")
                    if case .number(let value) = element.initial {
                        out.line("package static let \(Naming.lowerCamel(part.name))Initial: Int32 = \(value)")
                    }
                }
            }
            out.line()
            out.doc("Slot index of sequence `s`: \(layout.sequence.slotIndex).")
            out.block("@inlinable package static func slotIndex(sequence s: Int64, numBuffers: Int64) -> Int64 {") { out in
                out.line("s & (numBuffers &- 1)")
            }
            out.doc("The flag this spec writes: \(layout.sequence.flag). \(layout.sequence.doc)")
            out.block("@inlinable package static func flag(sequence s: Int64, log2NumBuffers: Int) -> Int32 {") { out in
                out.line("Int32(truncatingIfNeeded: UInt64(bitPattern: s) >> UInt64(log2NumBuffers))")
            }
            out.doc("The flag other writers may use: \(layout.sequence.flagAlternative).")
            out.block("@inlinable package static func alternativeFlag(sequence s: Int64, log2NumBuffers: Int) -> Int32 {") { out in
                out.line("Int32(bitPattern: UInt32(truncatingIfNeeded: s) >> UInt32(log2NumBuffers))")
            }
            out.line()
            out.line("@usableFromInline static func add(_ a: Int64?, _ b: Int64?) -> Int64? {")
            out.line("    guard let a, let b else { return nil }")
            out.line("    let (sum, overflow) = a.addingReportingOverflow(b)")
            out.line("    return overflow ? nil : sum")
            out.line("}")
            out.line("@usableFromInline static func mul(_ a: Int64, _ b: Int64) -> Int64? {")
            out.line("    guard a >= 0, b >= 0 else { return nil }")
            out.line("    let (product, overflow) = a.multipliedReportingOverflow(by: b)")
            out.line("    return overflow ? nil : product")
            out.line("}")
        }
    }

    /// A view per array part of a ring (the availability flags): bounds checked when made, elements
    /// accessed atomically, an index outside the array is a programming error.
    static func emitArrayViews(_ layout: Layout, into out: inout CodeWriter) {
        for part in layout.ringParts {
            guard case .array(let count, let element) = part.content else { continue }
            let type = SwiftStructuresEmitter.swiftType(element.type)
            let viewName = "\(Naming.upperCamel(part.name))ArrayView"
            out.doc("The `\(part.name)` array: `\(count)` elements of \(element.type.rawValue). \(part.doc)")
            out.block("public struct \(viewName): @unchecked Sendable {") { out in
                out.line("@usableFromInline package let pointer: UnsafeMutableRawPointer")
                out.line("@usableFromInline package let count: Int")
                out.line("package let fileOffset: Int")
                out.line()
                out.block("package init(in mapping: UnsafeMutableRawBufferPointer, at offset: Int, count: Int, rule: RuleID) throws(FormatError) {") { out in
                    out.line("let (bytes, overflow) = count.multipliedReportingOverflow(by: \(element.size))")
                    out.block("guard count >= 0, !overflow, offset >= 0, offset <= mapping.count, mapping.count - offset >= bytes, let base = mapping.baseAddress else {") { out in
                        out.line("throw FormatError(rule, at: offset, \"\(part.name) array of \\(count) elements at offset \\(offset) does not fit in \\(mapping.count) mapped bytes\")")
                    }
                    out.line("pointer = base + offset")
                    out.line("self.count = count")
                    out.line("fileOffset = offset")
                }
                out.line()
                out.block("@inlinable package subscript(index: Int) -> \(type) {") { out in
                    out.block("get {") { out in
                        out.line("precondition(index >= 0 && index < count, \"\(part.name) index out of range\")")
                        out.line("return SharedMemory.load\(type)(pointer + index * \(element.size))")
                    }
                    out.block("nonmutating set {") { out in
                        out.line("precondition(index >= 0 && index < count, \"\(part.name) index out of range\")")
                        out.line("SharedMemory.store\(type)(pointer + index * \(element.size), newValue)")
                    }
                }
                if case .number(let value) = element.initial {
                    out.line()
                    out.doc("Sets every element to its initial value, \(value).")
                    out.block("package func initialize() {") { out in
                        out.line("for index in 0..<count { self[index] = \(value) }")
                    }
                }
            }
            out.line()
        }
    }

    static func emitRingKinds(_ layout: Layout, into out: inout CodeWriter) {
        out.doc("The three rings, in file order, with the record type each holds.")
        out.block("public enum RingKind: Int, CaseIterable, Sendable {") { out in
            for ring in layout.rings {
                out.doc("\(ring.doc) Records: `\(ring.record)`.")
                out.line("case \(Naming.lowerCamel(ring.name))")
            }
            out.line()
            out.block("public var name: String {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings { out.line("case .\(Naming.lowerCamel(ring.name)): \(Naming.literal(ring.name))") }
                }
            }
            out.block("package var recordType: String {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings { out.line("case .\(Naming.lowerCamel(ring.name)): \(Naming.literal(ring.record))") }
                }
            }
            out.doc("The file header field that holds this ring's file offset.")
            out.block("package func offset(in header: FileHeaderView) -> Int64 {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings {
                        let section = layout.sections.first { $0.content == .ring(ring.name) }!
                        out.line("case .\(Naming.lowerCamel(ring.name)): header.\(Naming.lowerCamel(section.locatedBy!.field))")
                    }
                }
            }
            out.doc("File offset of the header field that holds this ring's offset.")
            out.block("package var headerFieldOffset: Int {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings {
                        let section = layout.sections.first { $0.content == .ring(ring.name) }!
                        out.line("case .\(Naming.lowerCamel(ring.name)): FileHeaderView.Offset.\(Naming.lowerCamel(section.locatedBy!.field))")
                    }
                }
            }
            out.doc("Decodes one record of this ring's type from a slot's payload.")
            out.block("package func decodeRecord(_ payload: UnsafeRawBufferPointer, baseOffset: Int) throws(FormatError) -> RecordValue {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings {
                        out.line("case .\(Naming.lowerCamel(ring.name)): try \(ring.record).decode(payload, baseOffset: baseOffset).recordValue")
                    }
                }
            }
            out.doc("Decodes one record and appends the record rules it breaks (its `validate(at:into:)`, each finding naming `offset`) to `findings`.")
            out.block("package func decodeRecord(_ payload: UnsafeRawBufferPointer, baseOffset: Int, validatingAt offset: Int, into findings: inout [FormatError]) throws(FormatError) -> RecordValue {") { out in
                out.block("switch self {") { out in
                    for ring in layout.rings {
                        out.line("case .\(Naming.lowerCamel(ring.name)):")
                        out.line("    let record = try \(ring.record).decode(payload, baseOffset: baseOffset)")
                        out.line("    record.validate(at: offset, into: &findings)")
                        out.line("    return record.recordValue")
                    }
                }
            }
        }
    }

    static func emitEntryKinds(_ layout: Layout, into out: inout CodeWriter) {
        out.doc("What a dictionary entry holds, known from the field that refers to it.")
        out.block("package enum DictionaryEntryKind: String, CaseIterable, Sendable {") { out in
            for kind in layout.entryKinds {
                out.doc(kind.doc)
                out.line("case \(Naming.identifier(Naming.lowerCamel(kind.name))) = \(Naming.literal(kind.name))")
            }
            out.line()
            out.doc("Decodes an entry's payload (the bytes after its length prefix) as this kind.")
            out.block("package func decodeEntry(_ payload: UnsafeRawBufferPointer, baseOffset: Int) throws(FormatError) -> DecodedEntry {") { out in
                out.block("switch self {") { out in
                    for kind in layout.entryKinds {
                        let name = Naming.identifier(Naming.lowerCamel(kind.name))
                        if let message = kind.message {
                            out.line("case .\(name): return .\(name)(try \(message).decode(payload, baseOffset: baseOffset))")
                        } else {
                            out.line("case .\(name):")
                            out.line("    guard let text = String(validating: payload, as: UTF8.self) else {")
                            out.line("        throw FormatError(.recUtf8, at: baseOffset, \"string entry is not valid UTF-8\")")
                            out.line("    }")
                            out.line("    return .\(name)(text)")
                        }
                    }
                }
            }
            out.line()
            out.doc("Decodes an entry's payload as a generic tree.")
            out.block("package func decode(_ payload: UnsafeRawBufferPointer, baseOffset: Int) throws(FormatError) -> RecordValue {") { out in
                out.line("try decodeEntry(payload, baseOffset: baseOffset).recordValue")
            }
        }
        out.line()
        out.doc("A dictionary entry decoded as the kind its reference names.")
        out.block("package enum DecodedEntry: Equatable, Sendable {") { out in
            for kind in layout.entryKinds {
                out.line("case \(Naming.identifier(Naming.lowerCamel(kind.name)))(\(kind.message ?? "String"))")
            }
            out.line()
            out.block("package var kind: DictionaryEntryKind {") { out in
                out.block("switch self {") { out in
                    for kind in layout.entryKinds {
                        let name = Naming.identifier(Naming.lowerCamel(kind.name))
                        out.line("case .\(name): .\(name)")
                    }
                }
            }
            out.doc("The entry as a generic tree.")
            out.block("package var recordValue: RecordValue {") { out in
                out.block("switch self {") { out in
                    for kind in layout.entryKinds {
                        let name = Naming.identifier(Naming.lowerCamel(kind.name))
                        out.line("case .\(name)(let value): \(kind.message == nil ? ".string(value)" : "value.recordValue")")
                    }
                }
            }
            out.doc("Appends the record rules the entry breaks to `findings`, each naming `offset` (the entry's reference).")
            out.block("package func validate(at offset: Int, into findings: inout [FormatError]) {") { out in
                out.block("switch self {") { out in
                    for kind in layout.entryKinds {
                        let name = Naming.identifier(Naming.lowerCamel(kind.name))
                        out.line(kind.message == nil ? "case .\(name): break" : "case .\(name)(let value): value.validate(at: offset, into: &findings)")
                    }
                }
            }
        }
    }
}
