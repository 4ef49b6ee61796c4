/// Reads protobuf wire format from bytes that may have been written by anybody. Every read checks
/// the bounds of the enclosing message; errors carry the file offset of the offending byte.
///
/// Live readers (the collector, the runner) decode from a private copy of a slot or entry, so a writer
/// changing bytes underneath cannot make two reads of one byte disagree. `conform check` decodes in
/// place from a read-only mapping: there a changed byte changes what is decoded, never where the
/// reader reads, since every bound comes from the buffer it was given, not from a byte read again.
@usableFromInline package struct ProtoReader {
    @usableFromInline package static let maxDepth = 64

    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let end: Int
    /// File offset of `bytes[0]`.
    @usableFromInline package let baseOffset: Int
    /// How many messages enclose this one.
    @usableFromInline package var depth: Int { depthOverride ?? parentDepth }
    @usableFromInline let parentDepth: Int
    @usableFromInline var depthOverride: Int?

    @usableFromInline package init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int, depth: Int = 0) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.baseOffset = baseOffset
        self.parentDepth = depth
    }

    private init(parent: ProtoReader, range: Range<Int>) {
        bytes = parent.bytes
        position = range.lowerBound
        end = range.upperBound
        baseOffset = parent.baseOffset
        parentDepth = parent.depth + 1
    }

    @usableFromInline package var isAtEnd: Bool { position >= end }
    /// File offset of the next byte to read.
    @usableFromInline package var fileOffset: Int { baseOffset + position }

    @usableFromInline package func error(_ message: String) -> FormatError {
        FormatError(.wireFormat, at: fileOffset, message)
    }

    @inlinable
    package mutating func readVarint() throws(FormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw FormatError(.wireFormat, at: baseOffset + start, "varint is truncated")
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 {
                throw FormatError(.wireFormat, at: baseOffset + start, "varint is longer than 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a field key. Field number 0 and the group wire types (3, 4) are errors: no OTLP-mmap
    /// message uses them, and accepting them would let a hostile record nest without limit.
    @usableFromInline package mutating func readTag() throws(FormatError) -> (number: Int, wireType: Int) {
        let start = fileOffset
        let key = try readVarint()
        let wireType = Int(key & 7)
        let number = key >> 3
        guard number > 0, number <= 536_870_911 else {
            throw FormatError(.wireFormat, at: start, "invalid field number \(number)")
        }
        guard [0, 1, 2, 5].contains(wireType) else {
            throw FormatError(.wireFormat, at: start, "field \(number) has unsupported wire type \(wireType)")
        }
        return (Int(number), wireType)
    }

    @usableFromInline package mutating func readFixed32() throws(FormatError) -> UInt32 {
        guard end - position >= 4 else { throw error("fixed32 value is truncated") }
        let value = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return value
    }

    @usableFromInline package mutating func readFixed64() throws(FormatError) -> UInt64 {
        guard end - position >= 8 else { throw error("fixed64 value is truncated") }
        let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        position += 8
        return value
    }

    @usableFromInline package mutating func readDouble() throws(FormatError) -> Double { Double(bitPattern: try readFixed64()) }

    /// Reads a length prefix and returns the range of the payload, which must lie inside this message.
    @usableFromInline package mutating func readLengthDelimited() throws(FormatError) -> Range<Int> {
        let start = fileOffset
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw FormatError(.wireFormat, at: start,
                              "length \(length) runs past the end of the enclosing message (\(end - position) bytes left)")
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    @usableFromInline package mutating func readBytes() throws(FormatError) -> [UInt8] {
        let range = try readLengthDelimited()
        return Array(bytes[range])
    }

    @usableFromInline package mutating func readString() throws(FormatError) -> String {
        let range = try readLengthDelimited()
        // `String(validating:as:)` runs the standard library's validation unspecialised (generic over
        // the encoding): 7 % of a collector's drain in the profile. Decoding repairs invalid input
        // with U+FFFD, so the bytes come out unchanged exactly when they were valid UTF-8.
        let text = UnsafeRawBufferPointer(rebasing: bytes[range]).withMemoryRebound(to: UInt8.self) { utf8 -> String? in
            var decoded = String(decoding: utf8, as: UTF8.self)
            return decoded.withUTF8 { $0.elementsEqual(utf8) } ? decoded : nil
        }
        guard let string = text else {
            throw FormatError(.recUtf8, at: baseOffset + range.lowerBound, "string is not valid UTF-8")
        }
        return string
    }

    /// A reader for an embedded message; fails past `maxDepth` so hostile nesting cannot exhaust the stack.
    @usableFromInline package mutating func readMessage() throws(FormatError) -> ProtoReader {
        let start = fileOffset
        let range = try readLengthDelimited()
        guard depth + 1 <= ProtoReader.maxDepth else {
            throw FormatError(.wireDepth, at: start, "messages nested more than \(ProtoReader.maxDepth) deep")
        }
        return ProtoReader(parent: self, range: range)
    }

    /// A reader over the payload of a packed repeated field (same depth: its elements are scalars).
    @usableFromInline package mutating func readPacked() throws(FormatError) -> ProtoReader {
        let range = try readLengthDelimited()
        var packed = ProtoReader(parent: self, range: range)
        packed.depthOverride = depth
        return packed
    }

    @usableFromInline package mutating func skip(wireType: Int) throws(FormatError) {
        switch wireType {
        case 0: _ = try readVarint()
        case 1: _ = try readFixed64()
        case 2: _ = try readLengthDelimited()
        case 5: _ = try readFixed32()
        default: throw error("cannot skip wire type \(wireType)")
        }
    }

    /// The error for a known field that arrived with the wrong wire type: well-formed protobuf of
    /// some other message (SLOT-DECODE; a dictionary reader turns it into DICT-REF-KIND).
    @usableFromInline package func wireTypeMismatch(message: String, field: String, number: Int, found: Int, expected: Int) -> FormatError {
        FormatError(.slotDecode, at: fileOffset, "\(message).\(field) (field \(number)) has wire type \(found), expected \(expected)")
    }
}

/// Reads a whole length-delimited item (a slot or a dictionary entry): a varint length, then the bytes.
/// Returns the payload's range in `bytes`.
@usableFromInline package func readLengthPrefixed(_ bytes: UnsafeRawBufferPointer, baseOffset: Int, rule: RuleID) throws(FormatError) -> Range<Int> {
    var reader = ProtoReader(bytes, baseOffset: baseOffset)
    do {
        return try reader.readLengthDelimited()
    } catch {
        throw FormatError(rule, at: error.offset, error.message)
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for decoders: keeps the error type `FormatError`, which `rethrows` would erase.
    @inlinable
    package func withDecodableBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws(FormatError) -> Result
    ) throws(FormatError) -> Result {
        let outcome: Swift.Result<Result, FormatError> = withUnsafeBytes { bytes in
            Swift.Result { () throws(FormatError) -> Result in try body(bytes) }
        }
        return try outcome.get()
    }
}
