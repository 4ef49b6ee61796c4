import OTLPMmapWire
import Testing

/// Wire's field API: every writer writes what `WireSize` says and a `SizeCounter` counts, leaves
/// proto3 defaults out, and writes bytes a `ProtoReader` reads back as the same field.
@Suite struct FieldWriterTests {
    /// Field numbers at the key-length boundaries (one byte below 16, two from 16 to 2047, three above).
    static let numbers = [1, 15, 16, 2047, 2048, 536_870_911]

    /// Bytes `write` writes through a `ProtoWriter`, after checking them against `SizeCounter` and `size`.
    func written(size: Int, _ write: (inout ProtoWriter) -> Void, counted count: (inout SizeCounter) -> Void) -> [UInt8] {
        var counter = SizeCounter()
        count(&counter)
        #expect(counter.count == size, "SizeCounter and WireSize disagree")
        return [UInt8](unsafeUninitializedCapacity: size + 16) { buffer, written in
            var writer = ProtoWriter(UnsafeMutableRawBufferPointer(buffer))
            write(&writer)
            #expect(writer.count == size, "the writer wrote \(writer.count) bytes, WireSize says \(size)")
            written = writer.count
        }
    }

    /// The single field in `bytes`: its number, wire type and the reader positioned at its value.
    func field(_ bytes: [UInt8], _ read: (Int, Int, inout ProtoReader) throws -> Void) throws {
        try bytes.withUnsafeBytes { raw in
            var reader = ProtoReader(raw, baseOffset: 0)
            let (number, wireType) = try reader.readTag()
            try read(number, wireType, &reader)
            #expect(reader.isAtEnd, "bytes left after the field")
        }
    }

    @Test func theProtobufDocumentationsVarintExampleIsWrittenAsDocumented() {
        // "08 96 01": field 1 = 150, the protobuf encoding guide's first example.
        let bytes = written(size: WireSize.int64(1, 150), { $0.writeInt64Field(1, 150) }, counted: { $0.writeInt64Field(1, 150) })
        #expect(bytes == [0x08, 0x96, 0x01])
        let text = written(size: WireSize.string(2, "testing"), { $0.writeStringField(2, "testing") }, counted: { $0.writeStringField(2, "testing") })
        #expect(text == [0x12, 0x07] + Array("testing".utf8))
    }

    @Test(arguments: numbers) func defaultsAreLeftOut(number: Int) {
        var counter = SizeCounter()
        counter.writeInt64Field(number, 0)
        counter.writeUInt64Field(number, 0)
        counter.writeEnumField(number, 0)
        counter.writeBoolField(number, false)
        counter.writeFixed32Field(number < 2048 ? number : 1, 0)
        counter.writeFixed64Field(number < 2048 ? number : 1, 0)
        counter.writeDoubleField(number < 2048 ? number : 1, 0)
        counter.writeStringField(number, "")
        counter.writeBytesField(number, [])
        #expect(counter.count == 0)
        #expect(WireSize.int64(number, 0) + WireSize.uint64(number, 0) + WireSize.enumeration(number, 0) + WireSize.bool(number, false)
            + WireSize.fixed32(number, 0) + WireSize.fixed64(number, 0) + WireSize.double(number, 0) + WireSize.string(number, "")
            + WireSize.bytes(number, count: 0) == 0)
    }

    @Test(arguments: numbers) func varintFieldsRoundTrip(number: Int) throws {
        for value: Int64 in [1, 127, 128, 16_383, 16_384, -1, .min, .max] {
            let bytes = written(size: WireSize.int64(number, value), { $0.writeInt64Field(number, value) }, counted: { $0.writeInt64Field(number, value) })
            try field(bytes) { (n: Int, wireType: Int, reader: inout ProtoReader) throws in
                #expect(n == number && wireType == WireType.varint)
                #expect(Int64(bitPattern: try reader.readVarint()) == value)
            }
        }
        for value: Int32 in [1, -1, .max] {
            let bytes = written(size: WireSize.enumeration(number, value), { $0.writeEnumField(number, value) }, counted: { $0.writeEnumField(number, value) })
            #expect(bytes.count == WireSize.tag(number) + (value < 0 ? 10 : bytes.count - WireSize.tag(number)))
            try field(bytes) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(Int32(truncatingIfNeeded: try reader.readVarint()) == value) }
        }
        let flag = written(size: WireSize.bool(number, true), { $0.writeBoolField(number, true) }, counted: { $0.writeBoolField(number, true) })
        try field(flag) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(try reader.readVarint() == 1) }
        let unsigned = written(size: WireSize.uint64(number, .max), { $0.writeUInt64Field(number, .max) }, counted: { $0.writeUInt64Field(number, .max) })
        try field(unsigned) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(try reader.readVarint() == .max) }
    }

    @Test(arguments: [1, 15, 16, 2047]) func fixedFieldsRoundTrip(number: Int) throws {
        let wide = written(size: WireSize.fixed64(number, 0x0102_0304_0506_0708), { $0.writeFixed64Field(number, 0x0102_0304_0506_0708) },
                           counted: { $0.writeFixed64Field(number, 0x0102_0304_0506_0708) })
        #expect(Array(wide.suffix(8)) == [8, 7, 6, 5, 4, 3, 2, 1], "fixed64 is little-endian")
        try field(wide) { (n: Int, wireType: Int, reader: inout ProtoReader) throws in
            #expect(n == number && wireType == WireType.fixed64)
            #expect(try reader.readFixed64() == 0x0102_0304_0506_0708)
        }
        let narrow = written(size: WireSize.fixed32(number, 7), { $0.writeFixed32Field(number, 7) }, counted: { $0.writeFixed32Field(number, 7) })
        try field(narrow) { (_: Int, wireType: Int, reader: inout ProtoReader) throws in
            #expect(wireType == WireType.fixed32)
            #expect(try reader.readFixed32() == 7)
        }
        let minusZero = written(size: WireSize.double(number, -0.0), { $0.writeDoubleField(number, -0.0) }, counted: { $0.writeDoubleField(number, -0.0) })
        try field(minusZero) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(try reader.readDouble().sign == .minus) }
    }

    @Test(arguments: numbers) func lengthDelimitedFieldsRoundTrip(number: Int) throws {
        // 127 and 128 bytes: either side of the one-byte length the fast path handles.
        for count in [1, 127, 128, 300] {
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let bytes = written(size: WireSize.bytes(number, count: count), { $0.writeBytesField(number, payload) }, counted: { $0.writeBytesField(number, payload) })
            try field(bytes) { (n: Int, wireType: Int, reader: inout ProtoReader) throws in
                #expect(n == number && wireType == WireType.lengthDelimited)
                #expect(try reader.readBytes() == payload)
            }
            let text = String(repeating: "é", count: count)
            let encoded = written(size: WireSize.string(number, text), { $0.writeStringField(number, text) }, counted: { $0.writeStringField(number, text) })
            try field(encoded) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(try reader.readString() == text) }
        }
    }

    @Test(arguments: [1, 15, 16, 2047]) func idFieldsAreBigEndianAndAlwaysWritten(number: Int) throws {
        let trace = written(size: WireSize.id128(number), { $0.writeID128Field(number, high: 0x0102_0304_0506_0708, low: 0) },
                            counted: { $0.writeID128Field(number, high: 0x0102_0304_0506_0708, low: 0) })
        try field(trace) { (n: Int, _: Int, reader: inout ProtoReader) throws in
            #expect(n == number)
            #expect(try reader.readBytes() == [1, 2, 3, 4, 5, 6, 7, 8] + [UInt8](repeating: 0, count: 8))
        }
        let span = written(size: WireSize.id64(number), { $0.writeID64Field(number, 0) }, counted: { $0.writeID64Field(number, 0) })
        try field(span) { (_: Int, _: Int, reader: inout ProtoReader) throws in #expect(try reader.readBytes() == [UInt8](repeating: 0, count: 8)) }
    }

    struct Pair: StreamedMessage {
        var a: Int64
        var b: String
        func encode<Sink: WireSink>(to sink: inout Sink) {
            sink.writeInt64Field(1, a)
            sink.writeStringField(2, b)
        }
    }

    @Test func messagesAreFramedAndWrittenEvenWhenEmpty() throws {
        let empty = Pair(a: 0, b: "")
        let framed = written(size: WireSize.message(3, size: empty.encodedSize), { $0.writeMessageField(3, empty) }, counted: { $0.writeMessageField(3, empty) })
        #expect(framed == [0x1A, 0x00])
        let pair = Pair(a: -2, b: "x")
        let bytes = written(size: WireSize.message(3, size: pair.encodedSize), { $0.writeMessageField(3, pair) }, counted: { $0.writeMessageField(3, pair) })
        try field(bytes) { (n: Int, _: Int, reader: inout ProtoReader) throws in
            #expect(n == 3)
            var inner = try reader.readMessage()
            #expect(try inner.readTag() == (1, WireType.varint))
            #expect(Int64(bitPattern: try inner.readVarint()) == -2)
            #expect(try inner.readTag() == (2, WireType.lengthDelimited))
            #expect(try inner.readString() == "x")
        }
    }
}
