import OTLPMmapSpec

/// The byte layout as one C11 header, for writers and readers in C (and anything that binds C):
/// every structure's offsets and sizes as constants and as a struct view whose layout static
/// asserts check, the rule IDs as an X-macro list, and the ring geometry, slot index and
/// availability-flag formulas as inline functions. Third-party writers copy nothing by hand;
/// `tools/c-writer` is built against this header alone.
enum CHeaderEmitter {
    static let path = "generated/c/otlp_mmap_layout.h"

    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        let layout = spec.layout
        var out = CodeWriter()
        for line in header.lines { out.line("// \(line)") }
        out.line()
        out.doc(layout.doc, prefix: "//")
        out.line("#ifndef OTLP_MMAP_LAYOUT_H")
        out.line("#define OTLP_MMAP_LAYOUT_H")
        out.line()
        out.line("#include <stddef.h>")
        out.line("#include <stdint.h>")
        out.line()
        out.line("#define OTLP_MMAP_FORMAT_NAME \(Naming.literal(layout.formatName))")
        out.line("// The newest version (what writers write), and the versions a reader of this layout reads.")
        out.line("#define OTLP_MMAP_FORMAT_VERSION \(layout.version)")
        out.line("#define OTLP_MMAP_KNOWS_VERSION(v) (\(layout.versions.map { "(v) == \($0.number)" }.joined(separator: " || ")))")
        out.line("// Multi-byte fields are little-endian two's complement; the struct views below need a little-endian machine.")
        out.line("_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, \"OTLP-mmap files are little-endian; these views need a little-endian machine\");")
        for (name, value) in layout.defaults {
            out.line("#define OTLP_MMAP_DEFAULT_\(name.uppercased()) \(value)")
        }
        out.line()
        for structure in layout.structures { emitStructure(structure, into: &out) }
        emitFile(layout, into: &out)
        emitRing(layout, into: &out)
        emitDictionary(layout, into: &out)
        emitRules(layout, into: &out)
        out.line("#endif // OTLP_MMAP_LAYOUT_H")
        return out.text
    }

    /// `FileHeader` → `FILE_HEADER`; `num_buffers` → `NUM_BUFFERS`.
    static func macro(_ name: String) -> String {
        name.contains("_") || name == name.lowercased() ? name.uppercased() : Naming.screamingSnake(name)
    }

    /// `FileHeader` → `otlp_mmap_file_header`.
    static func typeName(_ structure: String) -> String {
        "otlp_mmap_" + macro(structure).lowercased()
    }

    static func cType(_ type: FieldType) -> String {
        switch type {
        case .int32: "int32_t"
        case .int64: "int64_t"
        case .uint64: "uint64_t"
        case .reserved: "uint8_t"
        }
    }

    static func emitStructure(_ structure: Structure, into out: inout CodeWriter) {
        let prefix = "OTLP_MMAP_\(macro(structure.name))"
        let type = typeName(structure.name)
        out.doc("\(structure.name), \(structure.size) bytes. \(structure.doc)", prefix: "//")
        out.line("#define \(prefix)_SIZE \(structure.size)")
        for field in structure.fields {
            out.line("#define \(prefix)_\(macro(field.name))_OFFSET \(field.offset)")
            out.line("#define \(prefix)_\(macro(field.name))_SIZE \(field.size)")
            if case .number(let value) = field.initial, field.type != .reserved {
                out.line("#define \(prefix)_\(macro(field.name))_INITIAL (\(value))")
            }
            if field.since > 1 {
                out.line("// New in version \(field.since): files of older versions reserve these bytes (zero); read the field as absent there.")
                out.line("#define \(prefix)_\(macro(field.name))_SINCE \(field.since)")
            }
        }
        // A field at an offset that is not a multiple of its size would get padding in a plain struct.
        let aligned = structure.fields.allSatisfy { $0.type == .reserved || $0.offset % $0.size == 0 }
        out.doc("A view of the bytes at a \(structure.name)'s offset. Fields marked atomic are shared with another process: "
            + "access them only with atomic operations (__atomic_load_n / __atomic_store_n with acquire / release).", prefix: "//")
        out.block("typedef struct \(aligned ? "" : "__attribute__((packed)) ")\(type) {", closing: "} \(type);") { out in
            for field in structure.fields {
                let name = field.name
                let declaration = field.type == .reserved ? "uint8_t \(name)[\(field.size)];" : "\(cType(field.type)) \(name);"
                let notes = (field.atomic ? ["atomic"] : []) + field.rules
                out.line("\(declaration)\(notes.isEmpty ? "" : " // \(notes.joined(separator: ", "))")")
            }
        }
        out.line("_Static_assert(sizeof(\(type)) == \(prefix)_SIZE, \"\(structure.name) is \(structure.size) bytes\");")
        for field in structure.fields {
            out.line("_Static_assert(offsetof(\(type), \(field.name)) == \(prefix)_\(macro(field.name))_OFFSET, \"\(structure.name).\(field.name) is at byte \(field.offset)\");")
        }
        out.line()
    }

    static func emitFile(_ layout: Layout, into out: inout CodeWriter) {
        out.doc(layout.fileDoc, prefix: "//")
        out.doc("Rings in file order; each is located by the FileHeader field of its name.", prefix: "//")
        out.block("enum otlp_mmap_ring_kind {", closing: "};") { out in
            for (index, ring) in layout.rings.enumerated() {
                out.line("OTLP_MMAP_RING_\(macro(ring.name)) = \(index), // records: \(ring.record)")
            }
        }
        out.line("#define OTLP_MMAP_RING_COUNT \(layout.rings.count)")
        out.line()
    }

    /// Ring offsets from the ring's start, computed from the ring header fields that size them; 0 on
    /// success, -1 when they overflow (sizes read from a file are untrusted).
    static func emitRing(_ layout: Layout, into out: inout CodeWriter) {
        let used = layout.ringSizeParameters
        let parameters = used.map { "int64_t \($0)" }.joined(separator: ", ")
        out.doc(layout.ringDoc, prefix: "//")
        out.doc("Ring byte size = \(layout.ringSizeFormula).", prefix: "//")
        for part in layout.ringParts {
            if case .array(_, let element) = part.content {
                out.line("#define OTLP_MMAP_RING_\(macro(part.name))_ELEMENT_SIZE \(element.size)")
                if case .number(let value) = element.initial { out.line("#define OTLP_MMAP_RING_\(macro(part.name))_INITIAL (\(value))") }
            }
        }
        let guardNegative = used.map { "\($0) < 0" }.joined(separator: " || ")
        /// A function adding up `terms`, each product overflow-checked.
        func function(_ name: String, doc: String, terms: [RingSizeTerm]) {
            let factors: [(String, String)?] = terms.map { term in
                switch term {
                case .bytes: nil
                case .elements(let count, let size): (count, "\(size)")
                case .blocks(let count, let size): (count, size)
                }
            }
            let referenced = Set(factors.compactMap { $0 }.flatMap { [$0.0, $0.1] })
            out.doc(doc, prefix: "//")
            out.block("static inline int otlp_mmap_ring_\(name)(\(parameters), int64_t *out) {") { out in
                out.line("if (\(guardNegative)) return -1;")
                for parameter in used where !referenced.contains(parameter) { out.line("(void)\(parameter);") }
                out.line(factors.contains { $0 != nil } ? "int64_t total = 0, term;" : "int64_t total = 0;")
                for (term, product) in zip(terms, factors) {
                    if let (count, size) = product {
                        out.line("if (__builtin_mul_overflow((int64_t)\(count), (int64_t)\(size), &term) || __builtin_add_overflow(total, term, &total)) return -1;")
                    } else if case .bytes(let size) = term {
                        out.line("if (__builtin_add_overflow(total, (int64_t)\(size), &total)) return -1;")
                    }
                }
                out.line("*out = total;")
                out.line("return 0;")
            }
        }
        let terms = layout.ringSizeTerms
        for (index, part) in layout.ringParts.enumerated() {
            function("\(part.name)_offset", doc: "Offset of `\(part.name)` from the ring's start. \(part.doc)", terms: Array(terms[..<index]))
        }
        function("byte_size", doc: "The whole ring's size in bytes.", terms: terms)
        let countParameter = used.first ?? "num_buffers"
        out.doc("Slot index of sequence s: \(layout.sequence.slotIndex).", prefix: "//")
        out.block("static inline int64_t otlp_mmap_slot_index(int64_t s, int64_t \(countParameter)) {") { out in
            out.line("return s & (\(countParameter) - 1);")
        }
        out.doc("The availability flag this spec writes for sequence s: \(layout.sequence.flag). \(layout.sequence.doc)", prefix: "//")
        out.block("static inline int32_t otlp_mmap_flag(int64_t s, unsigned log2_\(countParameter)) {") { out in
            out.line("return (int32_t)(uint32_t)((uint64_t)s >> log2_\(countParameter));")
        }
        out.doc("The flag other writers may write: \(layout.sequence.flagAlternative). Readers accept both.", prefix: "//")
        out.block("static inline int32_t otlp_mmap_alternative_flag(int64_t s, unsigned log2_\(countParameter)) {") { out in
            out.line("return (int32_t)((uint32_t)(uint64_t)s >> log2_\(countParameter));")
        }
        out.line()
    }

    static func emitDictionary(_ layout: Layout, into out: inout CodeWriter) {
        let header = macro(layout.dictionaryHeader)
        out.doc(layout.dictionaryDoc, prefix: "//")
        let kinds = layout.entryKinds.map { kind -> String in
            if let message = kind.message { return "\(kind.name) (message \(message))" }
            return "\(kind.name) (UTF-8 bytes)"
        }
        out.doc("Entry kinds (known only from the field that refers to an entry): \(kinds.joined(separator: ", ")).", prefix: "//")
        out.doc("File offset of the first entry of a dictionary at dictionary_offset.", prefix: "//")
        out.block("static inline int64_t otlp_mmap_first_entry_offset(int64_t dictionary_offset) {") { out in
            out.line("return dictionary_offset + OTLP_MMAP_\(header)_SIZE;")
        }
        out.line()
    }

    /// X(CONSTANT, "ID", LEVEL, ORIGIN) for every rule, in catalogue order: a C program that reports
    /// findings, or tests for them, names rules as the conformance tools do.
    static func emitRules(_ layout: Layout, into out: inout CodeWriter) {
        out.doc("The rule catalogue: X(NAME, id, level, origin) for each rule, in catalogue order (NAME as in "
            + "OTLP_MMAP_RULE_NAME below). For example `#define ID(name, id, level, origin) id,` and "
            + "`OTLP_MMAP_RULES(ID)` list the IDs.", prefix: "//")
        out.line("#define OTLP_MMAP_RULES(X) \\")
        for rule in layout.rules {
            out.line("    X(\(macro(rule.id.replacingOccurrences(of: "-", with: "_"))), \(Naming.literal(rule.id)), \(rule.level.rawValue), \(rule.origin.rawValue.uppercased())) \\")
        }
        out.line()
        for rule in layout.rules {
            out.line("#define OTLP_MMAP_RULE_\(macro(rule.id.replacingOccurrences(of: "-", with: "_"))) \(Naming.literal(rule.id))")
        }
        out.line()
    }
}
