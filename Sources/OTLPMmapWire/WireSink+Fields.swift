// The one field-level vocabulary of the toolkit: every protobuf field any of our encoders writes —
// the generated record encoders, the SDK's streamed records and templates, the collector's OTLP
// requests — goes through these. `WireSize` (WireSize.swift) gives the matching byte counts, and a
// test runs each writer on a `SizeCounter` against its size.
//
// proto3 rules: a `…Field` writer leaves a field at its default (0, empty) out; a field with presence
// (a oneof member, a message field that is set) is written with `writeKey` and the value primitives
// instead, whatever its value. Fields whose key and value fit a small known size are reserved whole
// and stored with plain stores: one bounds check per field, not per part.

/// The protobuf wire types our formats use.
public enum WireType {
    @inlinable package static var varint: Int { 0 }
    @inlinable package static var fixed64: Int { 1 }
    @inlinable package static var lengthDelimited: Int { 2 }
    @inlinable package static var fixed32: Int { 5 }
}

extension WireSink {
    /// A field key: number and wire type.
    @inlinable @inline(__always)
    package mutating func writeKey(_ number: Int, _ wireType: Int) {
        writeVarint(UInt64(number) << 3 | UInt64(wireType))
    }

    /// Stores a key of one or two bytes (field numbers below 2048) at `pointer`; returns its length.
    @inlinable @inline(__always)
    static func storeKey(_ number: Int, _ wireType: Int, at pointer: UnsafeMutableRawPointer) -> Int {
        let key = UInt64(number) << 3 | UInt64(wireType)
        if key < 0x80 {
            pointer.storeBytes(of: UInt8(key), as: UInt8.self)
            return 1
        }
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: key) | 0x80, as: UInt8.self)
        pointer.storeBytes(of: UInt8(truncatingIfNeeded: key >> 7), toByteOffset: 1, as: UInt8.self)
        return 2
    }

    // MARK: varint fields

    /// An int64 (or int32) field, written as the two's-complement varint protobuf uses.
    @inlinable @inline(__always)
    package mutating func writeInt64Field(_ number: Int, _ value: Int64) {
        guard value != 0 else { return }
        writeKey(number, WireType.varint)
        writeVarint(UInt64(bitPattern: value))
    }

    /// A uint64 or uint32 field.
    @inlinable @inline(__always)
    package mutating func writeUInt64Field(_ number: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeKey(number, WireType.varint)
        writeVarint(value)
    }

    /// An enum field, by raw value (negative values take ten bytes, as protobuf says).
    @inlinable @inline(__always)
    package mutating func writeEnumField(_ number: Int, _ rawValue: Int32) {
        writeInt64Field(number, Int64(rawValue))
    }

    @inlinable @inline(__always)
    package mutating func writeBoolField(_ number: Int, _ value: Bool) {
        guard value else { return }
        writeKey(number, WireType.varint)
        writeVarint(1)
    }

    // MARK: fixed-width fields

    @inlinable @inline(__always)
    package mutating func writeFixed64Field(_ number: Int, _ value: UInt64) {
        writeFixedField(number, value, WireType.fixed64)
    }

    @inlinable @inline(__always)
    package mutating func writeFixed32Field(_ number: Int, _ value: UInt32) {
        writeFixedField(number, value, WireType.fixed32)
    }

    /// Key and little-endian value in one reserved run; left out at 0.
    @inlinable @inline(__always)
    mutating func writeFixedField<Value: FixedWidthInteger>(_ number: Int, _ value: Value, _ wireType: Int) {
        guard value != 0 else { return }
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.tag(number) + MemoryLayout<Value>.size) { pointer in
            let at = Self.storeKey(number, wireType, at: pointer)
            pointer.storeBytes(of: value.littleEndian, toByteOffset: at, as: Value.self)
        }
    }

    /// A double field; +0.0 is its default and is left out (-0.0 is written).
    @inlinable @inline(__always)
    package mutating func writeDoubleField(_ number: Int, _ value: Double) {
        writeFixed64Field(number, value.bitPattern)
    }

    // MARK: length-delimited fields

    /// A bytes (or string) field from raw bytes; not written when empty.
    @inlinable @inline(__always)
    package mutating func writeBytesField(_ number: Int, _ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count != 0 else { return }
        guard count < 0x80, number < 2048 else {
            writeKey(number, WireType.lengthDelimited)
            writeVarint(UInt64(count))
            writeRaw(bytes)
            return
        }
        writeReserved(WireSize.tag(number) + 1 + count) { pointer in
            let at = Self.storeKey(number, WireType.lengthDelimited, at: pointer)
            pointer.storeBytes(of: UInt8(count), toByteOffset: at, as: UInt8.self)
            copySmall(to: pointer + at + 1, from: bytes.baseAddress!, count: count)
        }
    }

    @inlinable
    package mutating func writeBytesField(_ number: Int, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeBytesField(number, $0) }
    }

    @inlinable
    package mutating func writeStringField(_ number: Int, _ string: String) {
        guard !string.isEmpty else { return }
        writeKey(number, WireType.lengthDelimited)
        writeLengthDelimited(string)
    }

    /// A bytes field of exactly 16 bytes, `high` then `low` in big-endian order (a trace id), always
    /// written.
    @inlinable @inline(__always)
    package mutating func writeID128Field(_ number: Int, high: UInt64, low: UInt64) {
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.id128(number)) { pointer in
            let at = Self.storeKey(number, WireType.lengthDelimited, at: pointer)
            pointer.storeBytes(of: 16, toByteOffset: at, as: UInt8.self)
            pointer.storeBytes(of: high.bigEndian, toByteOffset: at + 1, as: UInt64.self)
            pointer.storeBytes(of: low.bigEndian, toByteOffset: at + 9, as: UInt64.self)
        }
    }

    /// A bytes field of exactly 8 bytes in big-endian order (a span id), always written.
    @inlinable @inline(__always)
    package mutating func writeID64Field(_ number: Int, _ value: UInt64) {
        precondition(number < 2048, "two-byte keys at most")
        writeReserved(WireSize.id64(number)) { pointer in
            let at = Self.storeKey(number, WireType.lengthDelimited, at: pointer)
            pointer.storeBytes(of: 8, toByteOffset: at, as: UInt8.self)
            pointer.storeBytes(of: value.bigEndian, toByteOffset: at + 1, as: UInt64.self)
        }
    }

    // MARK: embedded messages

    /// The key and length of a length-delimited field of `length` bytes (an embedded message, a
    /// packed list) whose content the caller writes next.
    @inlinable @inline(__always)
    package mutating func writeLengthDelimitedHeader(_ number: Int, length: Int) {
        writeKey(number, WireType.lengthDelimited)
        writeVarint(UInt64(length))
    }

    /// An embedded message: key, length, fields (written even when it has no fields: a set message).
    @inlinable @inline(__always)
    package mutating func writeMessageField<Message: StreamedMessage>(_ number: Int, _ message: Message) {
        writeMessageField(number, message, size: message.encodedSize)
    }

    /// The same, with the message's size already known.
    @inlinable @inline(__always)
    package mutating func writeMessageField<Message: StreamedMessage>(_ number: Int, _ message: Message, size: Int) {
        writeLengthDelimitedHeader(number, length: size)
        message.encode(to: &self)
    }

    /// An embedded message already encoded.
    @inlinable @inline(__always)
    package mutating func writeEncodedMessageField(_ number: Int, _ bytes: UnsafeRawBufferPointer) {
        writeLengthDelimitedHeader(number, length: bytes.count)
        writeRaw(bytes)
    }
}
