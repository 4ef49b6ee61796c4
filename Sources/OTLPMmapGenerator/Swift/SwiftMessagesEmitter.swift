import OTLPMmapSpec

/// Emits a Swift value type per record message with an allocation-free encoder (`encodedSize`, then
/// `encode(to:)` straight into the destination), a decoder that bounds-checks every byte, and
/// `recordValue` for generic code. Proto3 rules: scalars at their default are not written, oneof
/// members always are, numeric lists are written packed and read packed or not, unknown fields are
/// skipped.
enum SwiftMessagesEmitter {
    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        emit(spec.messages, header, catalogue: "MessageCatalogue", catalogueDoc: "The record messages by name, for code that walks decoded records generically.",
             validation: true)
    }

    /// `catalogue` names the enum that lists the schema's messages (one per module). `validation`
    /// adds each message's `validate(at:into:)`, the record rules of the format's own schema.
    static func emit(_ schema: MessageSchema, _ header: GeneratedHeader, catalogue: String, catalogueDoc: String, validation: Bool = false) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.line("import OTLPMmapWire")
        for enumType in schema.enums {
            out.line()
            emitEnum(enumType, into: &out)
        }
        for message in schema.messages {
            out.line()
            MessageEmitter(message: message, schema: schema, validation: validation).emit(into: &out)
        }
        out.line()
        out.doc(catalogueDoc)
        out.block("package enum \(catalogue) {") { out in
            out.block("package static func fieldInfo(ofType name: String) -> [MessageFieldInfo]? {") { out in
                out.block("switch name {") { out in
                    for message in schema.messages { out.line("case \(Naming.literal(message.name)): \(message.name).fieldInfo") }
                    out.line("default: nil")
                }
            }
        }
        return out.text
    }

    static func emitEnum(_ enumType: EnumType, into out: inout CodeWriter) {
        out.doc("\(enumType.doc) Open, as proto3 enums are: values the schema does not list are kept.")
        out.block("public struct \(enumType.name): RawRepresentable, Hashable, Sendable {") { out in
            out.line("public var rawValue: Int32")
            out.line("@inlinable public init(rawValue: Int32) { self.rawValue = rawValue }")
            // Computed and inlinable, so that a use in another module is a constant, not a call to
            // a global's accessor (measurable on the writer's hot path).
            for value in enumType.values {
                let name = Naming.identifier(Naming.enumCase(value.name, of: enumType.name))
                out.line("@inlinable public static var \(name): \(enumType.name) { \(enumType.name)(rawValue: \(value.number)) }")
            }
            out.doc("The value the schema calls `name`, or nil for a name it does not list.")
            out.block("public init?(name: String) {") { out in
                out.block("switch name {") { out in
                    for value in enumType.values { out.line("case \(Naming.literal(value.name)): self.init(rawValue: \(value.number))") }
                    out.line("default: return nil")
                }
            }
            out.doc("The schema's name for the value, or nil when the schema does not list it.")
            out.block("public var name: String? {") { out in
                out.block("switch rawValue {") { out in
                    for value in enumType.values { out.line("case \(value.number): \(Naming.literal(value.name))") }
                    out.line("default: nil")
                }
            }
        }
    }
}

/// Emits one message type.
struct MessageEmitter {
    let message: Message
    let schema: MessageSchema
    let validation: Bool

    var orderedByNumber: [MessageField] { message.fields.sorted { $0.number < $1.number } }

    func emit(into out: inout CodeWriter) {
        out.doc(message.doc)
        out.block("public struct \(message.name): \(validation ? "RuleCheckedMessage" : "WireMessage"), Equatable {") { out in
            out.doc("Every field as the spec describes it, for checkers that walk records generically.")
            out.block("package static let fieldInfo: [MessageFieldInfo] = [", closing: "]") { out in
                for field in message.fields {
                    let rules = field.rules.map { ".\(Naming.ruleConstant($0))" }.joined(separator: ", ")
                    let ref = field.ref.map(Naming.literal) ?? "nil"
                    let oneof = field.oneof.map(Naming.literal) ?? "nil"
                    let length = field.length.map(String.init) ?? "nil"
                    let versions = (field.since > 1 ? ", since: \(field.since)" : "") + (field.deprecated.map { ", deprecated: \($0)" } ?? "")
                    out.line("MessageFieldInfo(name: \(Naming.literal(field.name)), number: \(field.number), repeated: \(field.repeated), oneof: \(oneof), ref: \(ref), length: \(length), rules: [\(rules)]\(versions)),")
                }
            }
            out.line()
            if !message.fields.isEmpty {
                out.doc("Field numbers, for encoders that stream a record without building this type.")
                out.block("public enum Field {") { out in
                    for field in message.fields { out.line("@inlinable package static var \(property(field)): Int { \(field.number) }") }
                }
                out.line()
            }
            for oneof in message.oneofs { emitOneofEnum(oneof, into: &out) }
            for field in message.fields where field.oneof == nil {
                var note = ""
                if let ref = field.ref { note = " File offset of a dictionary entry of kind \(ref); 0 means none." }
                if let length = field.length { note += " Exactly \(length) bytes when present." }
                if field.since > 1 { note += " Since format version \(field.since): files of older versions never hold it." }
                if let deprecated = field.deprecated { note += " Deprecated from version \(deprecated)." }
                out.doc("`\(field.name)` = \(field.number).\(note)")
                out.line("package var \(property(field)): \(swiftType(field)) = \(defaultValue(field))")
            }
            for oneof in message.oneofs {
                out.doc("The oneof `\(oneof)`: at most one member is set.")
                out.line("package var \(Naming.identifier(Naming.lowerCamel(oneof))): \(choiceType(oneof))? = nil")
            }
            out.line()
            emitInit(into: &out)
            out.line()
            emitSize(into: &out)
            out.line()
            emitEncode(into: &out)
            out.line()
            emitDecode(into: &out)
            out.line()
            emitRecordValue(into: &out)
            if validation {
                out.line()
                MessageValidationEmitter(message: message, schema: schema, names: self).emit(into: &out)
            }
        }
    }

    // MARK: names and types

    func property(_ field: MessageField) -> String { Naming.identifier(Naming.lowerCamel(field.name)) }
    func choiceType(_ oneof: String) -> String { "\(Naming.upperCamel(oneof))Choice" }
    func caseName(_ field: MessageField) -> String { Naming.identifier(Naming.lowerCamel(field.name)) }

    func elementType(_ field: MessageField) -> String {
        switch field.type {
        case .scalar(let scalar):
            switch scalar {
            case .int64: "Int64"
            case .uint32, .fixed32: "UInt32"
            case .fixed64: "UInt64"
            case .double: "Double"
            case .bool: "Bool"
            case .string: "String"
            case .bytes: "[UInt8]"
            }
        case .enumeration(let name), .message(let name): name
        }
    }

    func swiftType(_ field: MessageField) -> String {
        if field.repeated { return "[\(elementType(field))]" }
        if case .message = field.type { return "\(elementType(field))?" }
        return elementType(field)
    }

    func defaultValue(_ field: MessageField) -> String {
        if field.repeated { return "[]" }
        switch field.type {
        case .scalar(.string): return "\"\""
        case .scalar(.bytes): return "[]"
        case .scalar(.bool): return "false"
        case .scalar: return "0"
        case .enumeration(let name): return "\(name)(rawValue: 0)"
        case .message: return "nil"
        }
    }

    /// Condition under which a singular implicit-presence field is written (proto3: not at its default).
    func isSet(_ field: MessageField, _ value: String) -> String {
        switch field.type {
        case .scalar(.string), .scalar(.bytes): "!\(value).isEmpty"
        case .scalar(.bool): value
        case .scalar(.double): "\(value).bitPattern != 0"
        case .scalar: "\(value) != 0"
        case .enumeration: "\(value).rawValue != 0"
        case .message: "let \(value) = \(value)"
        }
    }

    func tagSize(_ field: MessageField, wireType: Int) -> Int {
        let key = UInt64(field.number) << 3 | UInt64(wireType)
        let bits = 64 - key.leadingZeroBitCount
        return max(1, (bits + 6) / 7)
    }

    /// Payload size of one value (without its tag).
    func valueSize(_ field: MessageField, _ v: String) -> String {
        switch field.type {
        case .scalar(.int64): "varintSize(UInt64(bitPattern: \(v)))"
        case .scalar(.uint32): "varintSize(UInt64(\(v)))"
        case .scalar(.bool): "1"
        case .scalar(.fixed32): "4"
        case .scalar(.fixed64), .scalar(.double): "8"
        case .scalar(.string): "lengthDelimitedSize(\(v).utf8.count)"
        case .scalar(.bytes): "lengthDelimitedSize(\(v).count)"
        case .enumeration: "varintSize(UInt64(bitPattern: Int64(\(v).rawValue)))"
        case .message: "lengthDelimitedSize(\(v).encodedSize)"
        }
    }

    /// Payload bytes of a packed list: a multiplication for fixed-size elements, a sum otherwise.
    func packedPayloadSize(_ field: MessageField, _ v: String) -> String {
        let element = valueSize(field, "$1")
        if Int(element) != nil { return "\(v).count * \(element)" }
        return "\(v).reduce(0) { $0 + \(element) }"
    }

    func writeValue(_ field: MessageField, _ v: String) -> [String] {
        switch field.type {
        case .scalar(.int64): ["writer.writeVarint(UInt64(bitPattern: \(v)))"]
        case .scalar(.uint32): ["writer.writeVarint(UInt64(\(v)))"]
        case .scalar(.bool): ["writer.writeVarint(\(v) ? 1 : 0)"]
        case .scalar(.fixed32): ["writer.writeFixed32(\(v))"]
        case .scalar(.fixed64): ["writer.writeFixed64(\(v))"]
        case .scalar(.double): ["writer.writeFixed64(\(v).bitPattern)"]
        case .scalar(.string), .scalar(.bytes): ["writer.writeLengthDelimited(\(v))"]
        case .enumeration: ["writer.writeVarint(UInt64(bitPattern: Int64(\(v).rawValue)))"]
        case .message: ["writer.writeVarint(UInt64(\(v).encodedSize))", "\(v).encode(to: &writer)"]
        }
    }

    /// A field with presence (a oneof member, a set message, a list element): key and value, whatever
    /// the value.
    func presenceWrite(_ field: MessageField, _ v: String) -> [String] {
        if case .message = field.type {
            return ["writer.writeLengthDelimitedHeader(\(field.number), length: \(v).encodedSize)", "\(v).encode(to: &writer)"]
        }
        let wireType = switch field.type.wireType {
        case 0: "WireType.varint"
        case 1: "WireType.fixed64"
        case 5: "WireType.fixed32"
        default: "WireType.lengthDelimited"
        }
        return ["writer.writeKey(\(field.number), \(wireType))"] + writeValue(field, v)
    }

    /// One call of Wire's field API writing singular implicit-presence field `field` (left out at its
    /// default), and the `WireSize` expression of the bytes it writes.
    func fieldCall(_ field: MessageField, _ v: String) -> (write: String, size: String) {
        let n = field.number
        switch field.type {
        case .scalar(.int64): return ("writer.writeInt64Field(\(n), \(v))", "WireSize.int64(\(n), \(v))")
        case .scalar(.uint32): return ("writer.writeUInt64Field(\(n), UInt64(\(v)))", "WireSize.uint64(\(n), UInt64(\(v)))")
        case .scalar(.bool): return ("writer.writeBoolField(\(n), \(v))", "WireSize.bool(\(n), \(v))")
        case .scalar(.fixed32): return ("writer.writeFixed32Field(\(n), \(v))", "WireSize.fixed32(\(n), \(v))")
        case .scalar(.fixed64): return ("writer.writeFixed64Field(\(n), \(v))", "WireSize.fixed64(\(n), \(v))")
        case .scalar(.double): return ("writer.writeDoubleField(\(n), \(v))", "WireSize.double(\(n), \(v))")
        case .scalar(.string): return ("writer.writeStringField(\(n), \(v))", "WireSize.string(\(n), \(v))")
        case .scalar(.bytes): return ("writer.writeBytesField(\(n), \(v))", "WireSize.bytes(\(n), count: \(v).count)")
        case .enumeration: return ("writer.writeEnumField(\(n), \(v).rawValue)", "WireSize.enumeration(\(n), \(v).rawValue)")
        case .message: preconditionFailure("message fields have presence")
        }
    }

    /// Expression reading one value from `reader` (a `ProtoReader` variable).
    func readValue(_ field: MessageField, _ reader: String) -> String {
        switch field.type {
        case .scalar(.int64): "Int64(bitPattern: try \(reader).readVarint())"
        case .scalar(.uint32): "UInt32(truncatingIfNeeded: try \(reader).readVarint())"
        case .scalar(.bool): "try \(reader).readVarint() != 0"
        case .scalar(.fixed32): "try \(reader).readFixed32()"
        case .scalar(.fixed64): "try \(reader).readFixed64()"
        case .scalar(.double): "try \(reader).readDouble()"
        case .scalar(.string): "try \(reader).readString()"
        case .scalar(.bytes): "try \(reader).readBytes()"
        case .enumeration(let name): "\(name)(rawValue: Int32(truncatingIfNeeded: try \(reader).readVarint()))"
        case .message(let name): "try \(name)(from: &nested)"
        }
    }

    func recordValue(_ field: MessageField, _ v: String) -> String {
        if let ref = field.ref { return ".reference(kind: \(Naming.literal(ref)), offset: \(v))" }
        switch field.type {
        case .scalar(.int64): return ".int(\(v))"
        case .scalar(.uint32), .scalar(.fixed32): return ".uint(UInt64(\(v)))"
        case .scalar(.fixed64): return ".uint(\(v))"
        case .scalar(.double): return ".double(\(v))"
        case .scalar(.bool): return ".bool(\(v))"
        case .scalar(.string): return ".string(\(v))"
        case .scalar(.bytes): return ".bytes(\(v))"
        case .enumeration(let name): return ".enumeration(type: \(Naming.literal(name)), name: \(v).name, number: \(v).rawValue)"
        case .message: return "\(v).recordValue"
        }
    }

    // MARK: sections

    func emitOneofEnum(_ oneof: String, into out: inout CodeWriter) {
        out.block("package enum \(choiceType(oneof)): Equatable, Sendable {") { out in
            for member in message.members(ofOneof: oneof) {
                out.line("case \(caseName(member))(\(elementType(member)))")
            }
        }
        out.line()
    }

    func emitInit(into out: inout CodeWriter) {
        var parameters: [String] = []
        var assignments: [String] = []
        for field in message.fields where field.oneof == nil {
            parameters.append("\(property(field)): \(swiftType(field)) = \(defaultValue(field))")
            assignments.append("self.\(property(field)) = \(property(field))")
        }
        for oneof in message.oneofs {
            let name = Naming.identifier(Naming.lowerCamel(oneof))
            parameters.append("\(name): \(choiceType(oneof))? = nil")
            assignments.append("self.\(name) = \(name)")
        }
        out.block("package init(\(parameters.joined(separator: ", "))) {") { out in
            for assignment in assignments { out.line(assignment) }
        }
    }

    func emitSize(into out: inout CodeWriter) {
        out.doc("Bytes `encode(to:)` writes.")
        out.block("package var encodedSize: Int {") { out in
            out.line(message.fields.isEmpty ? "let size = 0" : "var size = 0")
            for field in orderedByNumber {
                let v = "self.\(property(field))"
                if let oneof = field.oneof {
                    let tag = tagSize(field, wireType: field.type.wireType)
                    let payload = valueSize(field, "value")
                    let binding = payload.contains("value") ? "(let value)" : ""
                    out.line("if case .\(caseName(field))\(binding)? = self.\(Naming.identifier(Naming.lowerCamel(oneof))) { size += \(tag) + \(payload) }")
                } else if field.repeated, case .scalar(let scalar) = field.type, scalar.packable {
                    let tag = tagSize(field, wireType: 2)
                    out.line("if !\(v).isEmpty { size += \(tag) + lengthDelimitedSize(\(packedPayloadSize(field, v))) }")
                } else if field.repeated {
                    let tag = tagSize(field, wireType: field.type.wireType)
                    out.line("for value in \(v) { size += \(tag) + \(valueSize(field, "value")) }")
                } else if case .message = field.type {
                    out.line("if let value = \(v) { size += WireSize.message(\(field.number), size: value.encodedSize) }")
                } else {
                    out.line("size += \(fieldCall(field, v).size)")
                }
            }
            out.line("return size")
        }
    }

    func emitEncode(into out: inout CodeWriter) {
        out.doc("Writes the message (without a length prefix) in field-number order.")
        out.block("package func encode(to writer: inout ProtoWriter) {") { out in
            if message.fields.isEmpty { out.line("_ = writer") }
            for field in orderedByNumber {
                let v = "self.\(property(field))"
                if let oneof = field.oneof {
                    out.block("if case .\(caseName(field))(let value)? = self.\(Naming.identifier(Naming.lowerCamel(oneof))) {") { out in
                        // A oneof member has presence: written whatever its value.
                        for line in presenceWrite(field, "value") { out.line(line) }
                    }
                } else if field.repeated, case .scalar(let scalar) = field.type, scalar.packable {
                    out.block("if !\(v).isEmpty {") { out in
                        out.line("writer.writeLengthDelimitedHeader(\(field.number), length: \(packedPayloadSize(field, v)))")
                        out.block("for value in \(v) {") { out in
                            for line in writeValue(field, "value") { out.line(line) }
                        }
                    }
                } else if field.repeated {
                    out.block("for value in \(v) {") { out in
                        for line in presenceWrite(field, "value") { out.line(line) }
                    }
                } else if case .message = field.type {
                    out.block("if let value = \(v) {") { out in
                        for line in presenceWrite(field, "value") { out.line(line) }
                    }
                } else {
                    out.line(fieldCall(field, v).write)
                }
            }
        }
    }

    func emitDecode(into out: inout CodeWriter) {
        out.doc("Decodes the fields up to the end of `reader`; errors carry the file offset of the bad byte.")
        out.block("package init(from reader: inout ProtoReader) throws(FormatError) {") { out in
            out.line("self.init()")
            out.block("while !reader.isAtEnd {") { out in
                out.line("let (number, wireType) = try reader.readTag()")
                out.block("switch number {") { out in
                    for field in orderedByNumber { emitDecodeCase(field, into: &out) }
                    out.line("default:")
                    out.line("    try reader.skip(wireType: wireType)")
                }
            }
        }
        out.line()
        out.doc("Decodes a whole payload whose first byte is at file offset `baseOffset`.")
        out.block("package static func decode(_ bytes: UnsafeRawBufferPointer, baseOffset: Int) throws(FormatError) -> \(message.name) {") { out in
            out.line("var reader = ProtoReader(bytes, baseOffset: baseOffset)")
            out.line("return try \(message.name)(from: &reader)")
        }
    }

    func emitDecodeCase(_ field: MessageField, into out: inout CodeWriter) {
        let wireType = field.type.wireType
        let v = "self.\(property(field))"
        let mismatch = "throw reader.wireTypeMismatch(message: \(Naming.literal(message.name)), field: \(Naming.literal(field.name)), number: \(field.number), found: wireType, expected: \(wireType))"
        out.line("case \(field.number):")
        out.block("do {", closing: "}") { out in
            if field.repeated, case .scalar(let scalar) = field.type, scalar.packable {
                out.block("if wireType == 2 {") { out in
                    out.line("var packed = try reader.readPacked()")
                    out.line("while !packed.isAtEnd { \(v).append(\(readValue(field, "packed"))) }")
                }
                out.block("else if wireType == \(wireType) {") { out in
                    out.line("\(v).append(\(readValue(field, "reader")))")
                }
                out.line("else { \(mismatch) }")
                return
            }
            out.line("guard wireType == \(wireType) else { \(mismatch) }")
            var value = readValue(field, "reader")
            if case .message = field.type {
                out.line("var nested = try reader.readMessage()")
                value = readValue(field, "nested")
            }
            if field.repeated {
                out.line("\(v).append(\(value))")
            } else if let oneof = field.oneof {
                out.line("self.\(Naming.identifier(Naming.lowerCamel(oneof))) = .\(caseName(field))(\(value))")
            } else {
                out.line("\(v) = \(value)")
            }
        }
    }

    func emitRecordValue(into out: inout CodeWriter) {
        out.doc("The message as a generic tree; fields at their default are left out, as proto3 JSON does.")
        out.block("package var recordValue: RecordValue {") { out in
            out.line("\(message.fields.isEmpty ? "let" : "var") fields: [(name: String, value: RecordValue)] = []")
            if !message.fields.isEmpty { out.line("fields.reserveCapacity(\(message.fields.count))") }
            for field in message.fields {
                let name = Naming.literal(field.name)
                let v = "self.\(property(field))"
                if let oneof = field.oneof {
                    out.line("if case .\(caseName(field))(let value)? = self.\(Naming.identifier(Naming.lowerCamel(oneof))) { fields.append((\(name), \(recordValue(field, "value")))) }")
                } else if field.repeated {
                    out.line("if !\(v).isEmpty { fields.append((\(name), .list(\(v).map { \(recordValue(field, "$0")) }))) }")
                } else if case .message = field.type {
                    out.line("if let value = \(v) { fields.append((\(name), \(recordValue(field, "value")))) }")
                } else {
                    out.line("if \(isSet(field, v)) { fields.append((\(name), \(recordValue(field, v)))) }")
                }
            }
            out.line("return .message(type: \(Naming.literal(message.name)), fields: fields)")
        }
    }
}
