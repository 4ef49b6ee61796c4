import Foundation
import OTLPMmapSpec

/// Emits the record messages as a proto3 file, for other implementations' code generators.
enum ProtoEmitter {
    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String { emit(spec.messages, header) }

    static func emit(_ schema: MessageSchema, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.proto.trimmingCharacters(in: .newlines))
        if !schema.doc.isEmpty {
            out.line("//")
            for line in schema.doc.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false) {
                out.line(line.isEmpty ? "//" : "// \(line)")
            }
        }
        out.line()
        out.line("syntax = \"proto3\";")
        out.line()
        out.line("package \(schema.package);")
        for enumType in schema.enums {
            out.line()
            out.doc(enumType.doc, prefix: "//")
            out.block("enum \(enumType.name) {") { out in
                for value in enumType.values { out.line("\(value.name) = \(value.number);") }
            }
        }
        for message in schema.messages {
            out.line()
            out.doc(message.doc, prefix: "//")
            out.block("message \(message.name) {") { out in
                if !message.reserved.isEmpty {
                    out.line("reserved \(message.reserved.map(String.init).joined(separator: ", "));")
                }
                var emittedOneofs: Set<String> = []
                for field in message.fields {
                    if let oneof = field.oneof {
                        guard !emittedOneofs.contains(oneof) else { continue }
                        emittedOneofs.insert(oneof)
                        out.block("oneof \(oneof) {") { out in
                            for member in message.members(ofOneof: oneof) { out.line(declaration(member)) }
                        }
                    } else {
                        out.line(declaration(field))
                    }
                }
            }
        }
        return out.text
    }

    static func declaration(_ field: MessageField) -> String {
        let type: String
        switch field.type {
        case .scalar(let scalar): type = scalar.rawValue
        case .enumeration(let name), .message(let name): type = name
        }
        var comment = ""
        if let ref = field.ref { comment = " // dictionary reference: \(ref)" }
        if let length = field.length { comment = " // \(length) bytes" }
        return "\(field.repeated ? "repeated " : "")\(type) \(field.name) = \(field.number);\(comment)"
    }
}
