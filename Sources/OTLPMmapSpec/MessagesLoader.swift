/// Reads spec/messages.yaml into a `MessageSchema` and checks it the way protoc would, plus this
/// project's conventions (refs are int64, fixed lengths only on bytes).
enum MessagesLoader {
    /// `withOrigin`: each check also says where it comes from (`origin` and `source`, spec/readers.yaml).
    static func loadChecks(_ node: YNode, withOrigin: Bool = false) throws -> [RunnerCheckSpec] {
        var checks: [RunnerCheckSpec] = []
        for item in try node.sequence() {
            let map = try item.mapping(allowed: withOrigin ? ["id", "level", "text", "origin", "source"] : ["id", "level", "text"])
            let idNode = try map.required("id")
            let id = try idNode.string()
            guard id.range(of: "^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$", options: .regularExpression) != nil else {
                throw idNode.error("check ID '\(id)' must look like AREA-NAME in capitals")
            }
            if let first = checks.first(where: { $0.id == id }) {
                throw idNode.error("duplicate check ID '\(id)' (first defined on line \(first.line))")
            }
            let levelNode = try map.required("level")
            guard let level = RuleLevel(rawValue: try levelNode.string()) else { throw levelNode.error("level must be MUST or SHOULD") }
            var check = RunnerCheckSpec(id: id, level: level, text: try map.text("text"), line: item.line)
            if withOrigin {
                let originNode = try map.required("origin")
                guard let origin = CheckOrigin(rawValue: try originNode.string()) else {
                    throw originNode.error("origin must be protocol, defect, otlp or project")
                }
                check.origin = origin
                let sourceNode = try map.required("source")
                let source = try sourceNode.string().trimmingCharacters(in: .whitespacesAndNewlines)
                guard !source.isEmpty else { throw sourceNode.error("source must say where the check comes from") }
                check.source = source
            }
            checks.append(check)
        }
        return checks
    }

    static func load(_ root: YNode) throws -> MessageSchema {
        let top = try root.mapping(allowed: ["package", "doc", "enums", "messages", "checks"])
        var enums: [EnumType] = [], messages: [Message] = []
        /// Type names are unique across the schema, nested or not (the generated Swift does not nest).
        func checkUnique(_ name: String, _ node: YNode) throws {
            if messages.contains(where: { $0.name == name }) || enums.contains(where: { $0.name == name }) {
                throw node.error("duplicate type name '\(name)'")
            }
        }
        func addEnums(_ node: YNode?, parent: String?) throws {
            for item in try node?.sequence() ?? [] {
                var enumType = try loadEnum(item)
                try checkUnique(enumType.name, item)
                enumType.parent = parent
                enums.append(enumType)
            }
        }
        /// A message, then the messages and enums declared in it (depth first).
        func addMessages(_ node: YNode?, parent: String?) throws {
            for item in try node?.sequence() ?? [] {
                var (message, nested) = try loadMessage(item)
                try checkUnique(message.name, item)
                message.parent = parent
                messages.append(message)
                try addEnums(nested.enums, parent: message.name)
                try addMessages(nested.messages, parent: message.name)
            }
        }
        try addEnums(top.required("enums"), parent: nil)
        try addMessages(top.required("messages"), parent: nil)
        var schema = MessageSchema(package: try top.string("package"), doc: try top.optional("doc")?.string() ?? "", enums: enums, messages: messages)
        schema.checks = try top.optional("checks").map { try loadChecks($0) } ?? []
        try resolveTypes(&schema, file: root.file)
        try checkNoValueCycles(schema, file: root.file)
        return schema
    }

    static func loadEnum(_ node: YNode) throws -> EnumType {
        let map = try node.mapping(allowed: ["name", "doc", "values"])
        var values: [EnumValue] = []
        for item in try map.required("values").sequence() {
            let valueMap = try item.mapping(allowed: ["name", "number"])
            let value = EnumValue(name: try valueMap.string("name"), number: try valueMap.int("number"))
            if values.contains(where: { $0.name == value.name || $0.number == value.number }) {
                throw item.error("duplicate enum value '\(value.name)' = \(value.number)")
            }
            if values.isEmpty && value.number != 0 { throw item.error("the first enum value must be 0 (proto3)") }
            values.append(value)
        }
        return EnumType(name: try map.string("name"), doc: try map.text("doc"), values: values, line: node.line)
    }

    /// A message and the nodes of the messages and enums declared inside it.
    static func loadMessage(_ node: YNode) throws -> (Message, nested: (messages: YNode?, enums: YNode?)) {
        let map = try node.mapping(allowed: ["name", "doc", "fields", "reserved", "messages", "enums"])
        let reserved = try map.optional("reserved")?.sequence().map { try $0.int() } ?? []
        var fields: [MessageField] = []
        for item in try map.required("fields").sequence() {
            let field = try loadField(item)
            if let other = fields.first(where: { $0.name == field.name || $0.number == field.number }) {
                throw item.error("field '\(field.name)' = \(field.number) clashes with field '\(other.name)' = \(other.number)")
            }
            if reserved.contains(field.number) { throw item.error("field number \(field.number) is reserved") }
            fields.append(field)
        }
        return (Message(name: try map.string("name"), doc: try map.text("doc"), fields: fields, reserved: reserved, line: node.line),
                (map.optional("messages"), map.optional("enums")))
    }

    static func loadField(_ node: YNode) throws -> MessageField {
        let map = try node.mapping(allowed: ["name", "number", "type", "repeated", "oneof", "ref", "length", "rules", "since", "deprecated"])
        let numberNode = try map.required("number")
        let number = try numberNode.int()
        guard (1...536_870_911).contains(number), !(19_000...19_999).contains(number) else {
            throw numberNode.error("field number \(number) is outside the numbers protobuf allows")
        }
        let typeName = try map.string("type")
        let type: MessageFieldType = ScalarType(rawValue: typeName).map { .scalar($0) } ?? .message(typeName)
        let repeated = try map.bool("repeated", default: false)
        let oneof = try map.optional("oneof")?.string()
        if repeated && oneof != nil { throw node.error("a oneof member cannot be repeated") }
        let ref = try map.optional("ref")?.string()
        if ref != nil && type != .scalar(.int64) { throw node.error("a ref field must have type int64") }
        let length = try map.optional("length")?.int()
        if length != nil && type != .scalar(.bytes) { throw node.error("length applies to bytes fields only") }
        return MessageField(name: try map.string("name"), number: number, type: type, repeated: repeated,
                            oneof: oneof, ref: ref, length: length, rules: try map.strings("rules"), line: node.line,
                            since: try map.optional("since")?.int() ?? 1, deprecated: try map.optional("deprecated")?.int())
    }

    /// Names that are not scalars were parsed as message names; here they become enums or messages,
    /// or an error when they are neither.
    static func resolveTypes(_ schema: inout MessageSchema, file: String) throws {
        for messageIndex in schema.messages.indices {
            for fieldIndex in schema.messages[messageIndex].fields.indices {
                let field = schema.messages[messageIndex].fields[fieldIndex]
                guard case .message(let name) = field.type else { continue }
                if schema.enumeration(named: name) != nil {
                    schema.messages[messageIndex].fields[fieldIndex].type = .enumeration(name)
                } else if schema.message(named: name) == nil {
                    throw SpecError(file: file, line: field.line, "unknown type '\(name)' for field '\(field.name)'")
                }
            }
        }
    }

    /// A message may contain itself only through a repeated field: generated Swift value types store
    /// singular messages inline, and an inline cycle has no finite size.
    static func checkNoValueCycles(_ schema: MessageSchema, file: String) throws {
        func visit(_ name: String, path: [String]) throws {
            guard let message = schema.message(named: name) else { return }
            for field in message.fields where !field.repeated {
                guard case .message(let target) = field.type else { continue }
                if let start = path.firstIndex(of: target) {
                    let cycle = (path[start...] + [target]).joined(separator: " → ")
                    throw SpecError(file: file, line: field.line, "message cycle through singular fields (\(cycle)); make one of them repeated")
                }
                try visit(target, path: path + [target])
            }
        }
        for message in schema.messages { try visit(message.name, path: [message.name]) }
    }
}
