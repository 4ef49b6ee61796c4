import OTLPMmapLayout
import OTLPMmapWire

// Records' inline attributes written straight as OTLP KeyValue bytes. The format's AnyValue has
// OTLP's field numbers for every value kind it shares with OTLP (string 1 … bytes 7), so a scalar
// value goes from the decoded record to the request without an OTLP value in between; lists and
// `value_ref`s (rare, and needing the resolver's depth and cycle checks) go through
// `DictionaryCache.anyValue` as before.

extension DictionaryCache {
    /// `refs` as OTLP KeyValue messages, each framed as field `number` of the message they go into
    /// (Span.attributes = 9, Link.attributes = 4, LogRecord.attributes = 6). Throws for a reference
    /// that breaks a rule; nothing is half written then.
    func encodedKeyValues(_ refs: [KeyValueRef], asField number: Int) throws -> [UInt8] {
        guard !refs.isEmpty else { return [] }
        let keyValues = try refs.map { ref in
            TranscodedKeyValue(key: try string(ref.keyRef, field: "key_ref"), value: try transcoded(ref.value, nesting: 2))
        }
        let sizes = keyValues.map { $0.encodedSize }
        let total = sizes.reduce(0) { $0 + WireSize.message(number, size: $1) }
        return [UInt8].encoded(size: total) { writer in
            for (keyValue, size) in zip(keyValues, sizes) { writer.writeMessage(number, keyValue, size: size) }
        }
    }

    /// A value as it will be written: a scalar as it is, the rest resolved to an OTLP value.
    func transcoded(_ value: AnyValue?, nesting: Int) throws -> TranscodedValue {
        guard let value else { return .absent }
        switch value.value {
        case nil, .stringValue, .boolValue, .intValue, .doubleValue, .bytesValue:
            return .scalar(value.value)
        case .arrayValue, .kvlistValue, .valueRef:
            return .resolved(EncodedAnyValue(value: try anyValue(value, nesting: nesting)))
        }
    }
}

/// An attribute or body value, for writing as an OTLP AnyValue message.
enum TranscodedValue {
    /// No value field at all (a KeyValue without one).
    case absent
    /// A scalar of the record (nil: an AnyValue message with no value set).
    case scalar(AnyValue.ValueChoice?)
    /// A list, map or dictionary value, resolved and measured.
    case resolved(EncodedAnyValue)

    /// The AnyValue message's body size; nil for `.absent`.
    var bodySize: Int? {
        switch self {
        case .absent: return nil
        case .scalar(nil): return 0
        case .scalar(.stringValue(let text)?): return 1 + lengthDelimitedSize(text.utf8.count)
        case .scalar(.boolValue?): return 2
        case .scalar(.intValue(let number)?): return 1 + varintSize(UInt64(bitPattern: number))
        case .scalar(.doubleValue?): return 9
        case .scalar(.bytesValue(let bytes)?): return 1 + lengthDelimitedSize(bytes.count)
        case .scalar(.arrayValue?), .scalar(.kvlistValue?), .scalar(.valueRef?): return 0   // `transcoded` never makes these
        case .resolved(let value): return value.encodedSize
        }
    }

    /// Writes the AnyValue message's body (fields as OTLP numbers them).
    func encodeBody<Sink: WireSink>(to sink: inout Sink) {
        switch self {
        case .absent, .scalar(nil), .scalar(.arrayValue?), .scalar(.kvlistValue?), .scalar(.valueRef?):
            break
        case .scalar(.stringValue(let text)?):
            sink.writeTag(1, 2)
            sink.writeLengthDelimited(text)
        case .scalar(.boolValue(let flag)?):
            sink.writeTag(2, 0)
            sink.writeVarint(flag ? 1 : 0)
        case .scalar(.intValue(let number)?):
            sink.writeTag(3, 0)
            sink.writeVarint(UInt64(bitPattern: number))
        case .scalar(.doubleValue(let number)?):
            sink.writeTag(4, 1)
            sink.writeFixed64(number.bitPattern)
        case .scalar(.bytesValue(let bytes)?):
            sink.writeTag(7, 2)
            sink.writeVarint(UInt64(bytes.count))
            bytes.withUnsafeBytes { sink.writeRaw($0) }
        case .resolved(let value):
            value.encode(to: &sink)
        }
    }

    /// Writes the value as field `number` (an AnyValue message), unless `.absent`.
    func encode<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        guard let size = bodySize else { return }
        sink.writeTag(number, 2)
        sink.writeVarint(UInt64(size))
        encodeBody(to: &sink)
    }

    /// Bytes `encode(asField:to:)` writes.
    func fieldSize(_ number: Int) -> Int {
        bodySize.map { WireSize.message(number, size: $0) } ?? 0
    }
}

/// KeyValue: key = 1, value = 2.
struct TranscodedKeyValue: StreamedMessage {
    let key: String
    let value: TranscodedValue

    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(1, key)
        value.encode(asField: 2, to: &sink)
    }

    var encodedSize: Int { WireSize.string(1, key) + value.fieldSize(2) }
}
