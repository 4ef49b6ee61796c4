/// A decoded message as a tree that generic code can walk without knowing the message types:
/// `inspect` renders it, and dictionary references inside it (`.reference`) are resolved by whoever
/// holds the file. Generated message types produce it through `recordValue`.
@usableFromInline package enum RecordValue: Equatable, Sendable {
    case message(type: String, fields: [(name: String, value: RecordValue)])
    case list([RecordValue])
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case bytes([UInt8])
    case enumeration(type: String, name: String?, number: Int32)
    /// An int64 field holding the file offset of a dictionary entry of kind `kind` (0 = none).
    case reference(kind: String, offset: Int64)

    @usableFromInline package static func == (lhs: RecordValue, rhs: RecordValue) -> Bool {
        switch (lhs, rhs) {
        case let (.message(t1, f1), .message(t2, f2)):
            t1 == t2 && f1.count == f2.count && zip(f1, f2).allSatisfy { $0.name == $1.name && $0.value == $1.value }
        case let (.list(a), .list(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.uint(a), .uint(b)): a == b
        case let (.double(a), .double(b)): a.bitPattern == b.bitPattern
        case let (.bool(a), .bool(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.bytes(a), .bytes(b)): a == b
        case let (.enumeration(t1, n1, v1), .enumeration(t2, n2, v2)): t1 == t2 && n1 == n2 && v1 == v2
        case let (.reference(k1, o1), .reference(k2, o2)): k1 == k2 && o1 == o2
        default: false
        }
    }

    /// The field of a message value with this name.
    @usableFromInline package subscript(field name: String) -> RecordValue? {
        guard case .message(_, let fields) = self else { return nil }
        return fields.first { $0.name == name }?.value
    }
}

/// Lowercase hex of bytes, as OTLP JSON writes trace and span ids.
@usableFromInline package func hexString(_ bytes: [UInt8]) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var result = ""
    result.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        result.append(digits[Int(byte >> 4)])
        result.append(digits[Int(byte & 0x0f)])
    }
    return result
}
