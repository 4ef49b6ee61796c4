import OTLPMmapLayout
import OTLPMmapWire

/// The record-level rules, checked generically from the spec's field tables: references, oneofs,
/// ids, span contexts, enum values.
extension FileChecker {
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
            checkReference(kind, reference, from: offset, depth: depth)
        default:
            break
        }
    }

    mutating func checkMessage(_ type: String, _ fields: [(name: String, value: RecordValue)], at offset: Int) {
        guard let infos = MessageCatalogue.fieldInfo(ofType: type) else { return }
        let present = Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        var oneofsChecked: Set<String> = []
        for info in infos {
            if info.rules.contains(.dictRefZero), info.ref != nil, present[info.name] == nil {
                add(.dictRefZero, offset, "\(type).\(info.name) is 0 (no \(info.ref!))")
            }
            if let oneof = info.oneof, info.rules.contains(.recOneof), !oneofsChecked.contains(oneof) {
                oneofsChecked.insert(oneof)
                let members = infos.filter { $0.oneof == oneof }.map(\.name)
                if !members.contains(where: { present[$0] != nil }) {
                    add(.recOneof, offset, "\(type) sets none of its `\(oneof)` members (\(members.joined(separator: ", ")))")
                }
            }
            if let length = info.length, info.rules.contains(.recSpanId) {
                let bytes: [UInt8] = if case .bytes(let value)? = present[info.name] { value } else { [] }
                if bytes.count != length || bytes.allSatisfy({ $0 == 0 }) {
                    add(.recSpanId, offset, "\(type).\(info.name) must be \(length) bytes, not all zero; it is \(bytes.count) bytes\(bytes.isEmpty ? "" : " " + hexString(bytes))")
                }
            }
            if info.rules.contains(.recSpanContext), case .message(_, let context)? = present[info.name] {
                checkSpanContext(type, info.name, context, at: offset)
            }
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
        let key = "\(reference):\(kind)"
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
