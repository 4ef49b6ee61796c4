import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// Bytes assembled by hand, the way protocol.md describes them, with a protobuf encoder written
/// here from the wire rules rather than our generated one. Reading this file correctly shows we
/// read other implementations' files, not only our own.
struct ByteBuilder {
    var bytes: [UInt8] = []

    mutating func int64(_ value: Int64) { bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
    mutating func int32(_ value: Int32) { bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
    mutating func zeros(_ count: Int) { bytes += Array(repeating: 0, count: count) }
    mutating func pad(to size: Int) { precondition(bytes.count <= size); zeros(size - bytes.count) }
    var count: Int { bytes.count }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 { out.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
        return out + [UInt8(value)]
    }

    static func varintField(_ number: Int, _ value: Int64) -> [UInt8] {
        varint(UInt64(number << 3)) + varint(UInt64(bitPattern: value))
    }

    static func bytesField(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(payload.count)) + payload
    }

    static func fixed64Field(_ number: Int, _ value: UInt64) -> [UInt8] {
        varint(UInt64(number << 3 | 1)) + withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    /// A length-delimited item: a slot's record or a dictionary entry.
    static func delimited(_ payload: [UInt8]) -> [UInt8] { varint(UInt64(payload.count)) + payload }
}

@Suite struct HandBuiltFileTests {
    typealias B = ByteBuilder

    // Section offsets: rings of 4×41, 4×64 and 2×48 bytes leave the second and third ring headers and
    // the dictionary at offsets that are 4 mod 8, as another writer's file may.
    static let events = 64, spans = 276, measurements = 580, dictionary = 716
    static let firstEntry = dictionary + 64
    // Dictionary entries and their offsets.
    static let keyRef = 780, scopeNameRef = 788, anyValueRef = 799, resourceRef = 815, scopeRef = 829, end = 836
    static let past32: Int64 = 1 << 32

    static let traceId = [UInt8](repeating: 0x11, count: 16)
    static let spanId = [UInt8](repeating: 0x22, count: 8)

    static func dictionaryEntries() -> [UInt8] {
        var entries: [UInt8] = []
        entries += B.delimited(B.text("svc.key"))
        entries += B.delimited(B.text("hand.built"))
        entries += B.delimited(B.bytesField(1, B.text("via value_ref"))) // AnyValue{string_value}
        let keyValue = B.varintField(1, Int64(keyRef)) + B.bytesField(2, B.bytesField(1, B.text("hand")))
        entries += B.delimited(B.bytesField(1, keyValue)) // Resource{attributes: [KeyValueRef]}
        entries += B.delimited(B.varintField(1, Int64(scopeNameRef)) + B.varintField(5, Int64(resourceRef))) // InstrumentationScope
        return entries
    }

    static func ringHeader(_ b: inout ByteBuilder, slots: Int64, size: Int64, reader: Int64, writer: Int64, flags: [Int32]) {
        b.int64(slots); b.int64(size); b.int64(reader); b.int64(writer)
        for flag in flags { b.int32(flag) }
    }

    static func slot(_ b: inout ByteBuilder, _ record: [UInt8], size: Int) {
        let start = b.count
        b.bytes += B.delimited(record)
        b.pad(to: start + size)
    }

    static func build() -> [UInt8] {
        var b = ByteBuilder()
        // File header
        b.int64(1); b.int64(Int64(events)); b.int64(Int64(spans)); b.int64(Int64(measurements)); b.int64(Int64(dictionary))
        b.int64(1_234_567); b.zeros(16)

        // Events ring: two records. The first has no scope_ref (absent, i.e. reference 0) and a body
        // that is a value_ref to an AnyValue entry; the second writes scope_ref, an explicit
        // event_name_ref 0 and an all-zero span context (no active span, as the Java writer does).
        precondition(b.count == events)
        ringHeader(&b, slots: 4, size: 41, reader: -1, writer: 1, flags: [0, 0, -1, -1])
        slot(&b, B.fixed64Field(2, 5) + B.varintField(3, 9) + B.bytesField(5, B.varintField(8, Int64(anyValueRef)))
             + B.bytesField(8, B.varintField(1, Int64(keyRef)) + B.bytesField(2, B.varintField(3, 3))), size: 41)
        slot(&b, B.varintField(1, Int64(scopeRef)) + B.varintField(6, 0)
             + B.bytesField(7, B.bytesField(1, Array(repeating: 0, count: 8)) + B.bytesField(2, Array(repeating: 0, count: 16))), size: 41)
        b.zeros(41 * 2)

        // Spans ring, past 2^32: reader at 2^32+1, two published records, slot 2 flagged with the
        // shift-then-truncate formula, slot 3 with truncate-then-shift. Slots 0 and 1 keep the flags
        // of their previous lap (2^30 - 1 by both formulas).
        precondition(b.count == spans)
        let javaFlag = Int32(truncatingIfNeeded: (past32 + 2) >> 2)
        let rustFlag = Int32(bitPattern: UInt32(truncatingIfNeeded: past32 + 3) >> 2)
        ringHeader(&b, slots: 4, size: 64, reader: past32 + 1, writer: past32 + 3, flags: [1 << 30 - 1, 1 << 30 - 1, javaFlag, rustFlag])
        b.zeros(64 * 2)
        let startSpan = B.bytesField(5, B.text("hand span")) + B.varintField(6, 3) + B.fixed64Field(7, 1000)
        slot(&b, B.bytesField(1, traceId) + B.bytesField(2, spanId) + B.bytesField(11, startSpan) + B.varintField(20, Int64(scopeRef)), size: 64)
        let endSpan = B.fixed64Field(8, 2000) + B.bytesField(15, B.varintField(3, 1))
        slot(&b, B.bytesField(1, traceId) + B.bytesField(2, spanId) + B.bytesField(12, endSpan), size: 64)

        // Measurements ring: one record with metric_ref 0 and a double value.
        precondition(b.count == measurements)
        ringHeader(&b, slots: 2, size: 48, reader: -1, writer: 0, flags: [0, -1])
        slot(&b, B.fixed64Field(3, 77) + [0x29] + withUnsafeBytes(of: (2.5).bitPattern.littleEndian, Array.init), size: 48)
        b.zeros(48)

        // Dictionary: header, then the entries; the file ends exactly at `end`.
        precondition(b.count == dictionary)
        b.int64(Int64(end)); b.int64(5); b.zeros(48)
        b.bytes += dictionaryEntries()
        precondition(b.count == end)
        return b.bytes
    }

    func decodeRecord<M: WireMessage>(_ type: M.Type, _ ring: Ring, _ sequence: Int64) throws -> M {
        let (payload, offset) = try ring.copyRecord(sequence)
        return try decodeMessage(type, payload, baseOffset: offset)
    }

    func writeFile() throws -> String {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("hand.otlpmmap").path
        try Data(Self.build()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func theLayoutIsReadFromTheFileNotAssumed() throws {
        let file = try MmapFile.open(path: try writeFile())
        #expect(file.rings.map(\.fileOffset) == [Self.events, Self.spans, Self.measurements])
        #expect(file.rings.map(\.isAligned) == [true, false, false])
        #expect(file.rings.map(\.bufferSize) == [41, 64, 48])
        #expect(file.dictionary.offset == Int64(Self.dictionary))
        #expect(try file.dictionary.entries().map(\.offset) == [Self.keyRef, Self.scopeNameRef, Self.anyValueRef, Self.resourceRef, Self.scopeRef].map(Int64.init))
    }

    @Test func eventsWithValueRefReferenceZeroAndAbsentSpanContext() throws {
        let file = try MmapFile.open(path: try writeFile())
        let ring = file.ring(.events)
        let resolver = ReferenceResolver(dictionary: file.dictionary)
        let first = resolver.render(try ring.decodeRecord(0))
        #expect(first["scope_ref"] == nil, "an absent scope_ref is reference 0: no scope")
        #expect(first["severity_number"] == .string("SEVERITY_NUMBER_INFO"))
        #expect(first["body"]?["value_ref"]?["value"]?["string_value"] == .string("via value_ref"))
        #expect(first["attributes"] == .array([.object([
            ("key_ref", .object([("ref", .int(Int64(Self.keyRef))), ("kind", .string("string")), ("value", .string("svc.key"))])),
            ("value", .object([("int_value", .int(3))])),
        ])]))

        let second = try decodeRecord(Event.self, ring, 1)
        #expect(second.eventNameRef == 0)
        #expect(second.spanContext?.traceId == Array(repeating: 0, count: 16), "an all-zero span context is read as written (absent)")
        let rendered = resolver.render(second.recordValue)
        let scope = try #require(rendered["scope_ref"]?["value"])
        #expect(scope["name_ref"]?["value"] == .string("hand.built"))
        #expect(scope["resource_ref"]?["value"]?["attributes"] != nil)
    }

    @Test func spansPast2To32WithEitherFlagFormulaOnAnUnalignedRing() throws {
        let file = try MmapFile.open(path: try writeFile(), writable: true)
        let ring = file.ring(.spans)
        #expect(try ring.indices() == (Self.past32 + 1, Self.past32 + 3))
        #expect(ring.state(of: Self.past32 + 2) == .readable(.shiftThenTruncate))
        #expect(ring.state(of: Self.past32 + 3) == .readable(.truncateThenShift))
        let start = try decodeRecord(SpanEvent.self, ring, Self.past32 + 2)
        #expect(start.traceId == Self.traceId && start.spanId == Self.spanId && start.scopeRef == Int64(Self.scopeRef))
        #expect(start.event == .start(StartSpan(name: "hand span", kind: .client, startTimeUnixNano: 1000)))
        let end = try decodeRecord(SpanEvent.self, ring, Self.past32 + 3)
        #expect(end.event == .end(EndSpan(endTimeUnixNano: 2000, status: Status(code: .ok))))

        // The consumer walks on past both and stops at the empty ring, storing reader_index unaligned.
        ring.markRead(Self.past32 + 2)
        ring.markRead(Self.past32 + 3)
        #expect(try ring.next() == nil)
        #expect(ring.header.readerIndex == Self.past32 + 3)
    }

    @Test func aMeasurementWithReferenceZero() throws {
        let file = try MmapFile.open(path: try writeFile())
        let record = try file.ring(.measurements).decodeRecord(0)
        #expect(record[field: "metric_ref"] == nil)
        #expect(record[field: "as_double"] == .double(2.5))
        #expect(record[field: "time_unix_nano"] == .uint(77))
    }

    /// Another writer appends an entry (growing the file past our mapping) and publishes an event that
    /// refers to it; we resolve it by remapping.
    @Test func aDictionaryThatGrewAfterWeMappedIt() throws {
        let path = try writeFile()
        let file = try MmapFile.open(path: path)
        #expect(file.file.bytes.count == Self.end)

        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let grownEntry = B.delimited(B.text("grown.key"))
        try handle.seek(toOffset: UInt64(Self.end))
        handle.write(Data(grownEntry))
        var header = ByteBuilder()
        header.int64(Int64(Self.end + grownEntry.count)); header.int64(6)
        try handle.seek(toOffset: UInt64(Self.dictionary))
        handle.write(Data(header.bytes))
        // Event in slot 2 (sequence 2) referring to the new entry, then its flag, then writer_index.
        let record = B.bytesField(8, B.varintField(1, Int64(Self.end)) + B.bytesField(2, B.varintField(2, 1)))
        try handle.seek(toOffset: UInt64(Self.events + 32 + 16 + 2 * 41))
        handle.write(Data(B.delimited(record)))
        var flag = ByteBuilder(); flag.int32(0)
        try handle.seek(toOffset: UInt64(Self.events + 32 + 2 * 4))
        handle.write(Data(flag.bytes))
        var writerIndex = ByteBuilder(); writerIndex.int64(2)
        try handle.seek(toOffset: UInt64(Self.events + 24))
        handle.write(Data(writerIndex.bytes))
        try handle.close()

        let ring = file.ring(.events)
        #expect(ring.state(of: 2) == .readable(.either))
        let rendered = ReferenceResolver(dictionary: file.dictionary).render(try ring.decodeRecord(2))
        #expect(rendered["attributes"]?.serialized().contains("\"grown.key\"") == true, "\(rendered.serialized())")
        #expect(file.file.bytes.count == Self.end + grownEntry.count, "the reader remapped the grown file")
    }

    @Test func inspectShowsTheFlagFormulaOfEachRecord() async throws {
        let result = try await TestSupport.run(["inspect", "--json", try writeFile()])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSON(parsing: result.stdout)
        #expect(json["rings"][1]["records"].array.map { $0["flag_formula"].string } == ["shift-then-truncate", "truncate-then-shift"])
        #expect(json["rings"][1]["aligned"].bool == false)
        #expect(json["rings"][0]["records"][0]["Event"]["body"]["value_ref"]["value"]["string_value"].string == "via value_ref")
    }
}
