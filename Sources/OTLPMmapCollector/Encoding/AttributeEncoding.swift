import OTLPMmapLayout
import OTLPMmapWire

// Records' inline attributes written straight as OTLP KeyValue bytes. The format's AnyValue has
// OTLP's field numbers for every value kind it shares with OTLP (string 1 … bytes 7), so a scalar
// value goes from the decoded record to the request without an OTLP value in between; lists and
// `value_ref`s (rare, and needing the resolver's depth and cycle checks) go through
// `DictionaryCache.anyValue` as before.

extension DictionaryCache {
    /// `refs` as OTLP KeyValue messages, each framed as field `number` of the message they go into
    /// (Span.attributes, Span.Link.attributes, LogRecord.attributes). Throws for a reference
    /// that breaks a rule; nothing is half written then.
    func encodedKeyValues(_ refs: [KeyValueRef], asField number: Int) throws -> [UInt8] {
        guard !refs.isEmpty else { return [] }
        let keyValues = try refs.map { ref in
            TranscodedKeyValue(key: try string(ref.keyRef, field: "key_ref"), value: try transcoded(ref.value, nesting: 2))
        }
        let sizes = keyValues.map { $0.encodedSize }
        let total = sizes.reduce(0) { $0 + WireSize.message(number, size: $1) }
        return [UInt8].encoded(size: total) { writer in
            for (keyValue, size) in zip(keyValues, sizes) { writer.writeMessageField(number, keyValue, size: size) }
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

    /// OTLP AnyValue's `value` oneof: a member is written even at its default.
    private typealias Member = OTLPFields.AnyValue

    /// The AnyValue message's body size; nil for `.absent`.
    var bodySize: Int? {
        switch self {
        case .absent: return nil
        case .scalar(nil): return 0
        case .scalar(.stringValue(let text)?): return WireSize.tag(Member.stringValue) + lengthDelimitedSize(text.utf8.count)
        case .scalar(.boolValue?): return WireSize.tag(Member.boolValue) + 1
        case .scalar(.intValue(let number)?): return WireSize.tag(Member.intValue) + varintSize(UInt64(bitPattern: number))
        case .scalar(.doubleValue?): return WireSize.tag(Member.doubleValue) + 8
        case .scalar(.bytesValue(let bytes)?): return WireSize.tag(Member.bytesValue) + lengthDelimitedSize(bytes.count)
        case .scalar(.arrayValue?), .scalar(.kvlistValue?), .scalar(.valueRef?): return 0   // `transcoded` never makes these
        case .resolved(let value): return value.encodedSize
        }
    }

    /// Writes the AnyValue message's body: the scalar as the member of OTLP's `value` oneof it is.
    func encodeBody<Sink: WireSink>(to sink: inout Sink) {
        switch self {
        case .absent, .scalar(nil), .scalar(.arrayValue?), .scalar(.kvlistValue?), .scalar(.valueRef?):
            break
        case .scalar(.stringValue(let text)?):
            sink.writeKey(Member.stringValue, WireType.lengthDelimited)
            sink.writeLengthDelimited(text)
        case .scalar(.boolValue(let flag)?):
            sink.writeKey(Member.boolValue, WireType.varint)
            sink.writeVarint(flag ? 1 : 0)
        case .scalar(.intValue(let number)?):
            sink.writeKey(Member.intValue, WireType.varint)
            sink.writeVarint(UInt64(bitPattern: number))
        case .scalar(.doubleValue(let number)?):
            sink.writeKey(Member.doubleValue, WireType.fixed64)
            sink.writeFixed64(number.bitPattern)
        case .scalar(.bytesValue(let bytes)?):
            sink.writeKey(Member.bytesValue, WireType.lengthDelimited)
            sink.writeVarint(UInt64(bytes.count))
            bytes.withUnsafeBytes { sink.writeRaw($0) }
        case .resolved(let value):
            value.encode(to: &sink)
        }
    }

    /// Writes the value as field `number` (an AnyValue message), unless `.absent`.
    func encode<Sink: WireSink>(asField number: Int, to sink: inout Sink) {
        guard let size = bodySize else { return }
        sink.writeLengthDelimitedHeader(number, length: size)
        encodeBody(to: &sink)
    }

    /// Bytes `encode(asField:to:)` writes.
    func fieldSize(_ number: Int) -> Int {
        bodySize.map { WireSize.message(number, size: $0) } ?? 0
    }
}

/// An OTLP KeyValue.
struct TranscodedKeyValue: StreamedMessage {
    let key: String
    let value: TranscodedValue

    func encode<Sink: WireSink>(to sink: inout Sink) {
        sink.writeStringField(OTLPFields.KeyValue.key, key)
        value.encode(asField: OTLPFields.KeyValue.value, to: &sink)
    }

    var encodedSize: Int { WireSize.string(OTLPFields.KeyValue.key, key) + value.fieldSize(OTLPFields.KeyValue.value) }
}
