import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Writes each distinct dictionary entry once and hands out its reference afterwards.
///
/// Lookup and append happen under one lock, so the same value interned by many threads at once
/// still yields one entry. Interning is for set-up paths (attribute keys, scopes, metric
/// definitions); the recording hot path only uses references obtained before.
final class Interner: @unchecked Sendable {
    private let dictionary: DictionaryRegion
    private let lock = NSLock()
    private var strings: [String: Int64] = [:]
    /// Message entries keyed by their encoded bytes: equal content, one entry.
    private var messages: [[UInt8]: Int64] = [:]

    init(dictionary: DictionaryRegion) { self.dictionary = dictionary }

    func string(_ value: String) throws -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        if let reference = strings[value] { return reference }
        let reference = try dictionary.appendString(value)
        strings[value] = reference
        return reference
    }

    func message<Message: WireMessage>(_ value: Message) throws -> Int64 {
        var bytes = [UInt8](repeating: 0, count: value.encodedSize)
        bytes.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(raw)
            value.encode(to: &writer)
        }
        lock.lock()
        defer { lock.unlock() }
        if let reference = messages[bytes] { return reference }
        let reference = try dictionary.append(payloadBytes: bytes.count) { destination in
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
        messages[bytes] = reference
        return reference
    }

    /// Number of distinct entries interned so far.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return strings.count + messages.count
    }

    /// The generated `AnyValue` for `value`, with kvlist keys interned.
    func anyValue(_ value: AttributeValue) throws -> AnyValue {
        switch value {
        case .string(let text): return AnyValue(value: .stringValue(text))
        case .bool(let flag): return AnyValue(value: .boolValue(flag))
        case .int(let number): return AnyValue(value: .intValue(number))
        case .double(let number): return AnyValue(value: .doubleValue(number))
        case .bytes(let bytes): return AnyValue(value: .bytesValue(bytes))
        case .array(let values): return AnyValue(value: .arrayValue(ArrayValue(values: try values.map(anyValue))))
        case .keyValues(let pairs): return AnyValue(value: .kvlistValue(KeyValueList(values: try keyValues(pairs))))
        }
    }

    func keyValues(_ attributes: [Attribute]) throws -> [KeyValueRef] {
        try attributes.map { KeyValueRef(keyRef: try string($0.key), value: try anyValue($0.value)) }
    }
}
