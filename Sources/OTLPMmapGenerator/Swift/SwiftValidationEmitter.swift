import OTLPMmapSpec

/// Emits a message's `validate(at:into:)`: the record rules that spec/messages.yaml names on its
/// fields, turned into checks of the decoded value. Every reader — the collector's fast path,
/// `conform check` and `conform run` — calls these, so they cannot disagree about what a valid
/// record is. Findings name `offset`, the record's (or dictionary entry's) file offset: the rules
/// are about the record as a whole.
///
/// What a rule on a field means here:
/// - a rule named on every member of a oneof: one member must be set (REC-SPAN-EVENT, …);
/// - DICT-REF-ZERO on a reference: the reference is not 0;
/// - REC-SPAN-ID on a bytes field with a `length`: exactly that many bytes, not all zero;
/// - REC-SPAN-CONTEXT on a message field: the message's length-constrained bytes fields are all
///   empty or zero (no context), or each has its length and is not all zero;
/// - REC-ENUM, on every enum field without being named: the value is one the schema lists.
/// WIRE-DEPTH is the decoder's and the dictionary resolver's. Any other rule named on a field makes
/// the generated file fail to compile (`#error`), so a new rule cannot be silently left unchecked.
struct MessageValidationEmitter {
    let message: Message
    let schema: MessageSchema
    let names: MessageEmitter

    static let checkedElsewhere: Set<String> = ["WIRE-DEPTH"]

    func emit(into out: inout CodeWriter) {
        out.doc("Appends every record rule this message breaks, and those its nested messages break, to `findings`; each finding names `offset`.")
        out.block("package func validate(at offset: Int, into findings: inout [FormatError]) {") { out in
            for field in message.fields where field.oneof == nil {
                emitChecks(field, value: "self.\(names.property(field))", into: &out)
            }
            for oneof in message.oneofs { emitOneof(oneof, into: &out) }
        }
    }

    private func finding(_ rule: String, _ message: String) -> String {
        "findings.append(FormatError(.\(Naming.ruleConstant(rule)), at: offset, \"\(message)\"))"
    }

    private func qualified(_ field: MessageField) -> String { "\(message.name).\(field.name)" }

    /// The rules on one field outside a oneof, then its enum value and nested message.
    private func emitChecks(_ field: MessageField, value v: String, into out: inout CodeWriter) {
        for rule in field.rules where !Self.checkedElsewhere.contains(rule) {
            switch rule {
            case "DICT-REF-ZERO" where field.ref != nil && !field.repeated:
                out.line("if \(v) == 0 { \(finding(rule, "\(qualified(field)) is 0 (no \(field.ref!))")) }")
            case "REC-SPAN-ID" where field.length != nil && !field.repeated:
                let length = field.length!
                out.block("if \(v).count != \(length) || !\(v).contains(where: { $0 != 0 }) {") { out in
                    out.line(finding(rule, "\(qualified(field)) must be \(length) bytes, not all zero; it is \\(\(v).count) bytes\\(\(v).isEmpty ? \"\" : \" \" + hexString(\(v)))"))
                }
            case "REC-SPAN-CONTEXT" where !field.repeated:
                emitSpanContext(field, value: v, into: &out)
            default:
                out.line("#error(\"spec/messages.yaml names \(rule) on \(qualified(field)), which the validation emitter does not know how to check\")")
            }
        }
        switch field.type {
        case .enumeration:
            let check = { (value: String) in
                "if \(value).name == nil { \(finding("REC-ENUM", "\(qualified(field)) value \\(\(value).rawValue) is not one the schema lists")) }"
            }
            if field.repeated {
                out.line("for value in \(v) { \(check("value")) }")
            } else {
                out.line(check(v))
            }
        case .message:
            if field.repeated {
                out.line("for value in \(v) { value.validate(at: offset, into: &findings) }")
            } else {
                out.line("\(v)?.validate(at: offset, into: &findings)")
            }
        case .scalar:
            break
        }
    }

    /// REC-SPAN-CONTEXT from the nested message's own length-constrained fields.
    private func emitSpanContext(_ field: MessageField, value v: String, into out: inout CodeWriter) {
        guard case .message(let name) = field.type, let nested = schema.message(named: name) else {
            out.line("#error(\"REC-SPAN-CONTEXT is named on \(qualified(field)), which is not a message\")")
            return
        }
        let ids = nested.fields.filter { $0.length != nil && !$0.repeated }
        guard !ids.isEmpty else {
            out.line("#error(\"REC-SPAN-CONTEXT is named on \(qualified(field)), but \(name) has no field with a length\")")
            return
        }
        out.block("if let context = \(v) {") { out in
            let property = { (id: MessageField) in "context.\(names.property(id))" }
            let absent = ids.map { "!\(property($0)).contains(where: { $0 != 0 })" }.joined(separator: " && ")
            let valid = ids.map { "\(property($0)).count == \($0.length!) && \(property($0)).contains(where: { $0 != 0 })" }.joined(separator: " && ")
            let sizes = ids.map { "a \\(\(property($0)).count)-byte \($0.name)" }.joined(separator: " and ")
            let required = ids.map { "\($0.length!) bytes of \($0.name)" }.joined(separator: " and ")
            out.block("if !(\(absent)) && !(\(valid)) {") { out in
                out.line(finding("REC-SPAN-CONTEXT", "\(qualified(field)) has \(sizes); it must be all zero or \(required), not zero"))
            }
        }
    }

    /// A oneof: the rule that all its members name requires one of them; members are then checked.
    private func emitOneof(_ oneof: String, into out: inout CodeWriter) {
        let members = message.members(ofOneof: oneof)
        let property = "self.\(Naming.identifier(Naming.lowerCamel(oneof)))"
        let shared = members.first!.rules.filter { rule in !Self.checkedElsewhere.contains(rule) && members.allSatisfy { $0.rules.contains(rule) } }
        for rule in shared {
            let list = members.map(\.name).joined(separator: ", ")
            out.line("if \(property) == nil { \(finding(rule, "\(message.name) sets none of its `\(oneof)` members (\(list))")) }")
        }
        let nestedMembers = members.filter { member in
            switch member.type { case .message, .enumeration: true; case .scalar: false }
        }
        for member in members {
            for rule in member.rules where !Self.checkedElsewhere.contains(rule) && !shared.contains(rule) {
                out.line("#error(\"spec/messages.yaml names \(rule) on \(qualified(member)), a oneof member, which the validation emitter does not know how to check\")")
            }
        }
        guard !nestedMembers.isEmpty else { return }
        out.block("switch \(property) {") { out in
            for member in nestedMembers {
                out.line("case .\(names.caseName(member))(let value)?:")
                if case .enumeration = member.type {
                    out.line("    if value.name == nil { \(finding("REC-ENUM", "\(qualified(member)) value \\(value.rawValue) is not one the schema lists")) }")
                } else {
                    out.line("    value.validate(at: offset, into: &findings)")
                }
            }
            out.line("default: break")
        }
    }
}
