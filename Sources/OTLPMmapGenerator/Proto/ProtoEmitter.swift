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
        for enumType in schema.enums where enumType.parent == nil {
            out.line()
            emitEnum(enumType, into: &out)
        }
        for message in schema.messages where message.parent == nil {
            out.line()
            emitMessage(message, schema, into: &out)
        }
        return out.text
    }

    static func emitEnum(_ enumType: EnumType, into out: inout CodeWriter) {
        out.doc(enumType.doc, prefix: "//")
        out.block("enum \(enumType.name) {") { out in
            for value in enumType.values { out.line("\(value.name) = \(value.number);") }
        }
    }

    /// A message with the messages and enums declared in it, nested as spec/messages.yaml nests them.
    static func emitMessage(_ message: Message, _ schema: MessageSchema, into out: inout CodeWriter) {
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
                        for member in message.members(ofOneof: oneof) { out.line(declaration(member, in: message, schema)) }
                    }
                } else {
                    out.line(declaration(field, in: message, schema))
                }
            }
            for nested in schema.enums where nested.parent == message.name {
                out.line()
                emitEnum(nested, into: &out)
            }
            for nested in schema.messages where nested.parent == message.name {
                out.line()
                emitMessage(nested, schema, into: &out)
            }
        }
    }

    /// A type as a field of `message` names it: by its own name where protobuf's scoping finds it
    /// from there (declared in `message` or in one of the messages around it), else qualified.
    static func typeName(_ name: String, in message: Message, _ schema: MessageSchema) -> String {
        let target = schema.path(of: name), scope = schema.path(of: message.name)
        return Array(scope.prefix(target.count - 1)) == target.dropLast() ? name : target.joined(separator: ".")
    }

    static func declaration(_ field: MessageField, in message: Message, _ schema: MessageSchema) -> String {
        let type: String
        switch field.type {
        case .scalar(let scalar): type = scalar.rawValue
        case .enumeration(let name), .message(let name): type = typeName(name, in: message, schema)
        }
        var comment = ""
        if let ref = field.ref { comment = " // dictionary reference: \(ref)" }
        if let length = field.length { comment = " // \(length) bytes" }
        return "\(field.repeated ? "repeated " : "")\(type) \(field.name) = \(field.number);\(comment)"
    }
}
