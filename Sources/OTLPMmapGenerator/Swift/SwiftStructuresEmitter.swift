import OTLPMmapSpec

/// Emits a typed view per fixed-layout structure: bounds checked once when the view is made, then
/// plain fields read little-endian and atomic fields through `SharedMemory` (acquire loads, release
/// stores), plus an `initialize` that writes the spec's initial values.
enum SwiftStructuresEmitter {
    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.line("import OTLPMmapWire")
        for structure in spec.layout.structures {
            out.line()
            emit(structure, into: &out)
        }
        return out.text
    }

    static func swiftType(_ type: FieldType) -> String {
        switch type {
        case .int32: "Int32"
        case .int64: "Int64"
        case .uint64: "UInt64"
        case .reserved: "UnsafeRawBufferPointer"
        }
    }

    static func emit(_ structure: Structure, into out: inout CodeWriter) {
        out.doc("\(structure.name), \(structure.size) bytes. \(structure.doc)")
        out.block("public struct \(structure.name)View: @unchecked Sendable {") { out in
            out.line("package static let size = \(structure.size)")
            out.line()
            out.doc("Offsets of the fields from the start of the structure.")
            out.block("package enum Offset {") { out in
                for field in structure.fields {
                    out.line("package static let \(Naming.lowerCamel(field.name)) = \(field.offset)")
                }
            }
            out.line()
            out.doc("Every field, for code that walks the layout generically.")
            out.block("package static let fields: [LayoutFieldInfo] = [", closing: "]") { out in
                for field in structure.fields {
                    let rules = field.rules.map { ".\(Naming.ruleConstant($0))" }.joined(separator: ", ")
                    let versions = (field.since > 1 ? ", since: \(field.since)" : "") + (field.deprecated.map { ", deprecated: \($0)" } ?? "")
                    out.line("LayoutFieldInfo(name: \(Naming.literal(field.name)), offset: \(field.offset), size: \(field.size), type: \(Naming.literal(field.type.rawValue)), atomic: \(field.atomic), rules: [\(rules)]\(versions)),")
                }
            }
            out.line()
            out.line("@usableFromInline package let pointer: UnsafeMutableRawPointer")
            out.doc("File offset of the structure's first byte.")
            out.line("package let fileOffset: Int")
            out.line()
            out.doc("Checks that all \(structure.size) bytes lie inside `mapping` before any field is touched; `rule` names the rule a structure out of bounds breaks.")
            out.block("package init(in mapping: UnsafeMutableRawBufferPointer, at offset: Int, rule: RuleID) throws(FormatError) {") { out in
                out.block("guard offset >= 0, offset <= mapping.count, mapping.count - offset >= Self.size, let base = mapping.baseAddress else {") { out in
                    out.line("throw FormatError(rule, at: offset, \"\(structure.name) (\\(Self.size) bytes) at offset \\(offset) does not fit in \\(mapping.count) mapped bytes\")")
                }
                out.line("pointer = base + offset")
                out.line("fileOffset = offset")
            }
            for field in structure.fields {
                out.line()
                emitAccessors(field, into: &out)
            }
            out.line()
            emitVersionedReading(structure, into: &out)
            emitInitialize(structure, into: &out)
        }
    }

    static func emitAccessors(_ field: LayoutField, into out: inout CodeWriter) {
        let name = Naming.lowerCamel(field.name)
        let type = swiftType(field.type)
        let atomicNote = field.atomic ? " Atomic: acquire load, release store." : ""
        out.doc("`\(field.name)` at +\(field.offset), \(field.size) bytes. \(field.doc)\(atomicNote)")
        if field.type == .reserved {
            out.block("package var \(name): UnsafeRawBufferPointer {") { out in
                out.line("UnsafeRawBufferPointer(start: pointer + \(field.offset), count: \(field.size))")
            }
            out.line("package var \(name)IsZero: Bool { \(name).allSatisfy { $0 == 0 } }")
            return
        }
        let suffix = type == "Int32" ? "Int32" : (type == "Int64" ? "Int64" : "UInt64")
        out.block("@inlinable package var \(name): \(type) {") { out in
            if field.atomic {
                out.line("get { SharedMemory.load\(suffix)(pointer + \(field.offset)) }")
                out.line("nonmutating set { SharedMemory.store\(suffix)(pointer + \(field.offset), newValue) }")
            } else {
                out.line("get { SharedMemory.loadPlain(pointer + \(field.offset), as: \(type).self) }")
                out.line("nonmutating set { SharedMemory.storePlain(pointer + \(field.offset), newValue) }")
            }
        }
        guard field.atomic, field.type == .int64 else { return }
        let upper = Naming.upperCamel(field.name)
        out.doc("Whether `\(field.name)` is naturally aligned, so that compare-and-swap and fetch-add are possible.")
        out.line("@inlinable package var \(name)IsAligned: Bool { SharedMemory.isAligned(pointer + \(field.offset), to: 8) }")
        out.block("@inlinable package func compareExchange\(upper)(expected: Int64, desired: Int64) -> (exchanged: Bool, original: Int64) {") { out in
            out.line("SharedMemory.compareExchangeInt64(pointer + \(field.offset), expected: expected, desired: desired)")
        }
        out.doc("Adds `delta` and returns the value before.")
        out.block("@inlinable package func fetchAdd\(upper)(_ delta: Int64) -> Int64 {") { out in
            out.line("SharedMemory.fetchAddInt64(pointer + \(field.offset), delta)")
        }
    }

    /// Files are read by their own version: a field newer than the file is absent (its bytes were
    /// reserved then, so they must be zero), and the reserved bytes of that version are checked.
    static func emitVersionedReading(_ structure: Structure, into out: inout CodeWriter) {
        let reserved = structure.fields.filter { $0.type == .reserved }
        let newer = structure.fields.filter { $0.type != .reserved && $0.since > 1 }
        guard !reserved.isEmpty || !newer.isEmpty else { return }
        for field in newer {
            let name = Naming.lowerCamel(field.name)
            out.doc("`\(field.name)` as a file of format `version` has it: nil in files older than version \(field.since), which reserve its bytes.")
            out.block("@inlinable package func \(name)(inFileOfVersion version: Int64) -> \(swiftType(field.type))? {") { out in
                out.line("version >= \(field.since) ? \(name) : nil")
            }
        }
        out.doc("Whether the bytes a file of format `version` reserves are zero: the reserved fields, and the fields newer than the file.")
        out.block("package func reservedIsZero(inFileOfVersion version: Int64) -> Bool {") { out in
            var terms = reserved.map { "\(Naming.lowerCamel($0.name))IsZero" }
            for field in newer {
                terms.append("(version >= \(field.since) || UnsafeRawBufferPointer(start: pointer + \(field.offset), count: \(field.size)).allSatisfy { $0 == 0 })")
            }
            out.line(terms.joined(separator: " && "))
        }
        out.line()
    }

    /// `initialize` takes the values the spec leaves to the writer (`layout`, `clock`) as parameters
    /// and writes the spec's constants itself, so a new file's initial state comes from spec/.
    static func emitInitialize(_ structure: Structure, into out: inout CodeWriter) {
        let parameters = structure.fields.compactMap { field -> String? in
            switch field.initial {
            case .layout, .clock: "\(Naming.lowerCamel(field.name)): \(swiftType(field.type))"
            case .number: nil
            }
        }
        out.doc("Writes the initial value of every field: the spec's constants, and the parameters for values the writer computes.")
        out.block("package func initialize(\(parameters.joined(separator: ", "))) {") { out in
            for field in structure.fields {
                let name = Naming.lowerCamel(field.name)
                switch (field.initial, field.type) {
                case (.number(let value), .reserved):
                    out.line("(pointer + \(field.offset)).initializeMemory(as: UInt8.self, repeating: \(value), count: \(field.size))")
                case (.number(let value), _):
                    out.line("self.\(name) = \(value)")
                case (.layout, _), (.clock, _):
                    out.line("self.\(name) = \(name)")
                }
            }
        }
    }
}
