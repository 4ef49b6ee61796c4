import OTLPMmapLayout
import OTLPMmapWire

/// A dictionary entry read as one kind. Hashed by offset only: kinds of one entry rarely differ.
struct EntryKey: Hashable {
    var offset: Int64
    var kind: String
    func hash(into hasher: inout Hasher) { hasher.combine(offset) }
}

/// What the record rules need to know about one message type, worked out once per type from the
/// spec's field table so that checking a record does no rule lookups.
struct MessagePlan {
    var refZeroFields: [(name: String, kind: String)] = []
    var oneofs: [(name: String, members: [String], rule: RuleID)] = []
    var idFields: [(name: String, length: Int)] = []
    var spanContextFields: [String] = []
    var isEmpty: Bool { refZeroFields.isEmpty && oneofs.isEmpty && idFields.isEmpty && spanContextFields.isEmpty }

    /// Rules that, named on the members of a oneof in spec/messages.yaml, require one member set;
    /// each oneof has its own, since readers suffer differently from each empty one.
    static let oneofRules: Set<RuleID> = [.recSpanEvent, .recMeasurementValue, .recMetricAggregation]

    init(_ infos: [MessageFieldInfo]) {
        for info in infos {
            if info.rules.contains(.dictRefZero), let kind = info.ref { refZeroFields.append((info.name, kind)) }
            if let oneof = info.oneof, let rule = info.rules.first(where: Self.oneofRules.contains), !oneofs.contains(where: { $0.name == oneof }) {
                oneofs.append((oneof, infos.filter { $0.oneof == oneof }.map(\.name), rule))
            }
            if let length = info.length, info.rules.contains(.recSpanId) { idFields.append((info.name, length)) }
            if info.rules.contains(.recSpanContext) { spanContextFields.append(info.name) }
        }
    }
}

/// The record-level rules, checked generically from the spec's field tables: references, oneofs,
/// ids, span contexts, enum values.
extension FileChecker {
    /// Plans by message type, found without hashing the type name.
    mutating func plan(_ type: String) -> MessagePlan? {
        // Length and first byte tell the spec's message names apart almost always; the name is
        // compared only within that small bucket.
        let key = type.utf8.count << 8 | Int(type.utf8.first ?? 0)
        if let known = plans[key]?.first(where: { $0.type == type }) { return known.plan }
        let plan = MessageCatalogue.fieldInfo(ofType: type).map(MessagePlan.init).flatMap { $0.isEmpty ? nil : $0 }
        plans[key, default: []].append((type, plan))
        return plan
    }

    mutating func checkValue(_ value: RecordValue, at offset: Int, depth: Int) {
        switch value {
        case .message(let type, let fields):
            checkMessage(type, fields, at: offset)
            for field in fields { checkValue(field.value, at: offset, depth: depth) }
        case .list(let values):
            for item in values { checkValue(item, at: offset, depth: depth) }
        case .enumeration(let type, let name, let number):
            if name == nil { add(.recEnum, offset, "\(type) value \(number) is not one the schema lists") }
        case .reference(let kind, let reference):
            if checksReferences { checkReference(kind, reference, from: offset, depth: depth) }
        default:
            break
        }
    }

    mutating func checkMessage(_ type: String, _ fields: [(name: String, value: RecordValue)], at offset: Int) {
        guard let plan = plan(type) else { return }
        // A few fields per message: a linear search beats building a dictionary.
        func value(_ name: String) -> RecordValue? { fields.first { $0.name == name }?.value }
        for (name, kind) in plan.refZeroFields where value(name) == nil {
            add(.dictRefZero, offset, "\(type).\(name) is 0 (no \(kind))")
        }
        for (oneof, members, rule) in plan.oneofs where !members.contains(where: { value($0) != nil }) {
            add(rule, offset, "\(type) sets none of its `\(oneof)` members (\(members.joined(separator: ", ")))")
        }
        for (name, length) in plan.idFields {
            let bytes: [UInt8] = if case .bytes(let found)? = value(name) { found } else { [] }
            if bytes.count != length || bytes.allSatisfy({ $0 == 0 }) {
                add(.recSpanId, offset, "\(type).\(name) must be \(length) bytes, not all zero; it is \(bytes.count) bytes\(bytes.isEmpty ? "" : " " + hexString(bytes))")
            }
        }
        for name in plan.spanContextFields {
            if case .message(_, let context)? = value(name) { checkSpanContext(type, name, context, at: offset) }
        }
    }

    /// All zero (or empty) means "no span"; otherwise a 16-byte trace id and an 8-byte span id.
    mutating func checkSpanContext(_ type: String, _ field: String, _ context: [(name: String, value: RecordValue)], at offset: Int) {
        func bytes(_ name: String) -> [UInt8] {
            if case .bytes(let value)? = context.first(where: { $0.name == name })?.value { return value }
            return []
        }
        let trace = bytes("trace_id"), span = bytes("span_id")
        let absent = trace.allSatisfy { $0 == 0 } && span.allSatisfy { $0 == 0 }
        let valid = trace.count == 16 && span.count == 8 && !trace.allSatisfy { $0 == 0 } && !span.allSatisfy { $0 == 0 }
        if !absent && !valid {
            add(.recSpanContext, offset, "\(type).\(field) has a \(trace.count)-byte trace id and a \(span.count)-byte span id; it must be all zero or 16 and 8 bytes, not zero")
        }
    }

    /// A reference must point at the start of an entry, and the entry must decode as its kind; the
    /// entry's own references are then checked too (once per entry and kind).
    mutating func checkReference(_ kind: String, _ reference: Int64, from offset: Int, depth: Int) {
        guard reference != 0 else { return }
        guard let payload = entries[reference] else {
            let inside = reference >= dictionaryStart && reference < dictionaryEnd
            add(.dictRefRange, offset, inside
                ? "reference \(reference) (\(kind)) points into the middle of a dictionary entry"
                : "reference \(reference) (\(kind)) is outside the dictionary's entries [\(dictionaryStart), \(dictionaryEnd))")
            return
        }
        let key = EntryKey(offset: reference, kind: kind)
        guard !checkedEntries.contains(key) else { return }
        checkedEntries.insert(key)
        guard depth < ProtoReader.maxDepth else {
            add(.wireDepth, Int(reference), "references nested more than \(ProtoReader.maxDepth) deep")
            return
        }
        guard let entryKind = DictionaryEntryKind(rawValue: kind) else { return }
        let value: RecordValue
        do throws(FormatError) {
            value = try entryKind.decode(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[payload]), baseOffset: payload.lowerBound)
        } catch {
            add([.recUtf8, .wireDepth].contains(error.rule) ? error.rule : .dictRefKind, error.offset,
                "entry at \(reference) is not a valid \(kind): \(error.message)")
            return
        }
        checkValue(value, at: Int(reference), depth: depth + 1)
    }
}
