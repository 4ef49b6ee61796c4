import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire

/// Invalid golden files: a valid base file with one defect each, and the exact rules the checker
/// must report for it. A defect that also breaks a SHOULD rule as a side effect lists that too.
/// Every MUST rule has one (except the live-only ones); the SHOULD rules' files break only a SHOULD
/// rule, so the checker warns but the file still passes.
package enum InvalidCases {
    /// The base: 4 slots of 512 bytes per ring; one log record, a span (start, end), a measurement,
    /// and an unreferenced last dictionary entry.
    struct Base {
        var bytes: [UInt8]
        let file: MmapFile
        var events: Ring { file.ring(.events) }
        var spans: Ring { file.ring(.spans) }
        var measurements: Ring { file.ring(.measurements) }
        let scopeRef: Int64
        let metricRef: Int64
        let stringRef: Int64
        let lastEntry: Int64

        mutating func int64(_ value: Int64, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 8), with: $0) }
        }

        mutating func int32(_ value: Int32, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
        }

        /// Replaces the record of `sequence` in `ring` with `payload` (length-prefixed, rest zeroed).
        mutating func record(_ ring: Ring, _ sequence: Int64, _ payload: [UInt8]) {
            let offset = ring.slotFileOffset(sequence)
            var slot = varint(UInt64(payload.count)) + payload
            precondition(slot.count <= Int(ring.bufferSize))
            slot += [UInt8](repeating: 0, count: Int(ring.bufferSize) - slot.count)
            bytes.replaceSubrange(offset..<(offset + slot.count), with: slot)
        }

        func payload(_ ring: Ring, _ sequence: Int64) -> [UInt8] { (try? ring.copyRecord(sequence).payload) ?? [] }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 { out.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
        return out + [UInt8(value)]
    }

    static func field(_ number: Int, varint value: Int64) -> [UInt8] { varint(UInt64(number << 3)) + varint(UInt64(bitPattern: value)) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes }

    static func base(in folder: URL) throws -> Base {
        let path = folder.appendingPathComponent("invalid-base.otlpmmap").path
        let writer = try ValidCases.writer(path, slots: 4, slotBytes: 512)
        let span = writer.startSpan("base", kind: .server)
        writer.log(.info, "base", spanContext: span.context)
        let metric = try writer.counter("base.requests")
        metric.record(1)
        span.end(status: .ok)
        let stringRef = try writer.eventName("service.version").ref
        let lastEntry = try writer.eventName("unreferenced").ref
        let file = try MmapFile.open(path: path)
        return Base(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), file: file, scopeRef: writer.defaultScope.ref,
                    metricRef: metric.metricRef, stringRef: stringRef, lastEntry: lastEntry)
    }

    typealias Defect = (name: String, rules: [String], description: String, apply: @Sendable (inout Base) -> Void)

    static let defects: [Defect] = [
        ("hdr-size", ["HDR-SIZE"], "the file is shorter than its 64-byte header", { base in
            base.bytes = Array(base.bytes.prefix(40))
        }),
        ("hdr-version", ["HDR-VERSION"], "version 2", { base in base.int64(2, at: 0) }),
        ("hdr-section-bounds", ["HDR-SECTION-BOUNDS"], "the spans ring offset points past the file", { base in
            base.int64(1 << 40, at: 16)
        }),
        ("hdr-section-overlap", ["HDR-SECTION-ORDER", "HDR-SECTION-OVERLAP", "SLOT-DECODE"],
         "the spans ring offset is the events ring's (so its Event record is read as a SpanEvent)", { base in
            base.int64(64, at: 16)
        }),
        ("ring-pow2", ["RING-POW2"], "events num_buffers is 3", { base in base.int64(3, at: base.events.fileOffset) }),
        ("ring-slot-size", ["RING-SLOT-SIZE"], "events buffer_size is 1", { base in base.int64(1, at: base.events.fileOffset + 8) }),
        ("ring-index-range", ["RING-INDEX-RANGE"], "measurements reader_index is -5", { base in
            base.int64(-5, at: base.measurements.fileOffset + 16)
        }),
        ("ring-index-order", ["RING-INDEX-ORDER"], "events reader_index 2 is past writer_index 0", { base in
            base.int64(2, at: base.events.fileOffset + 16)
        }),
        ("ring-capacity", ["RING-CAPACITY"], "events writer_index 10 with 4 slots and nothing read", { base in
            base.int64(10, at: base.events.fileOffset + 24)
        }),
        ("ring-flag", ["RING-FLAG"], "a never-claimed events slot has flag 7", { base in
            base.int32(7, at: base.events.fileOffset + 32 + 2 * 4)
        }),
        ("ring-hole", ["RING-HOLE"], "span sequence 0 is claimed but unpublished while sequence 1 is published", { base in
            base.int32(-1, at: base.spans.fileOffset + 32)
        }),
        ("slot-length", ["SLOT-LENGTH"], "the log record's length prefix says 600 bytes in a 512-byte slot", { base in
            let offset = base.events.slotFileOffset(0)
            base.bytes.replaceSubrange(offset..<(offset + 2), with: varint(600))
        }),
        ("slot-decode", ["SLOT-DECODE"], "a SpanEvent in the measurements ring", { base in
            base.record(base.measurements, 0, base.payload(base.spans, 0))
        }),
        ("dict-end", ["DICT-END", "DICT-NUM-ENTRIES"], "the dictionary's end lies past the end of the file", { base in
            base.int64(Int64(base.bytes.count + 100), at: Int(base.file.dictionary.offset))
        }),
        ("dict-entry", ["DICT-ENTRY", "DICT-NUM-ENTRIES"], "the last entry's length runs past the dictionary's end", { base in
            base.bytes[Int(base.lastEntry)] = 0x7F
        }),
        ("dict-ref-range", ["DICT-REF-RANGE"], "the log record's scope_ref points one byte into the scope entry", { base in
            base.record(base.events, 0, field(1, varint: base.scopeRef + 1) + field(4, bytes: Array("x".utf8)))
        }),
        ("dict-ref-kind", ["DICT-REF-KIND"], "the measurement's metric_ref points at a string entry", { base in
            base.record(base.measurements, 0, field(1, varint: base.stringRef) + field(4, varint: 1))
        }),
        ("dict-ref-expansion", ["DICT-REF-EXPANSION"],
         "the log body refers to the top of five AnyValue entries, each an array referring eight times to the one below, over a 200-byte string: 200 × 8^5 bytes expanded", { base in
            // Appended after the dictionary's last entry (the file grows as a writer's would).
            var end = Int(base.file.dictionary.header.end)
            var added: [UInt8] = []
            func append(_ payload: [UInt8]) -> Int64 {
                let reference = Int64(end + added.count)
                added += varint(UInt64(payload.count)) + payload
                return reference
            }
            var previous = append(field(1, bytes: [UInt8](repeating: 0x61, count: 200)))   // AnyValue.string_value
            for _ in 0..<5 {
                let element = field(1, bytes: field(8, varint: previous))                    // ArrayValue.values: AnyValue.value_ref
                previous = append(field(5, bytes: Array([[UInt8]](repeating: element, count: 8).joined())))   // AnyValue.array_value
            }
            if base.bytes.count < end + added.count { base.bytes += [UInt8](repeating: 0, count: end + added.count - base.bytes.count) }
            base.bytes.replaceSubrange(end..<(end + added.count), with: added)
            end += added.count
            let header = Int(base.file.dictionary.offset)
            base.int64(Int64(end), at: header)
            base.int64(base.file.dictionary.header.numEntries + 6, at: header + 8)
            base.record(base.events, 0, field(1, varint: base.scopeRef) + field(5, bytes: field(8, varint: previous)))
        }),
        ("wire-format", ["WIRE-FORMAT"], "the log record ends inside a varint", { base in
            base.record(base.events, 0, field(1, varint: base.scopeRef) + [0x18, 0x80])
        }),
        ("wire-depth", ["WIRE-DEPTH"], "a log body of arrays nested 70 deep", { base in
            var value: [UInt8] = field(3, varint: 1)
            for level in 0..<70 { value = level % 2 == 0 ? field(1, bytes: value) : field(5, bytes: value) }
            // `value` is an AnyValue (the last level wraps an ArrayValue): it is the body itself.
            base.record(base.events, 0, field(1, varint: base.scopeRef) + field(5, bytes: value))
        }),
        ("rec-utf8", ["REC-UTF8"], "the log record's severity_text is not UTF-8", { base in
            base.record(base.events, 0, field(1, varint: base.scopeRef) + field(4, bytes: [0xC3, 0x28]))
        }),
        ("rec-span-id", ["REC-SPAN-ID"], "a span event whose span_id has 4 bytes", { base in
            let start = field(5, bytes: Array("short id".utf8))
            base.record(base.spans, 0, field(1, bytes: [UInt8](repeating: 0x11, count: 16)) + field(2, bytes: [1, 2, 3, 4])
                        + field(11, bytes: start) + field(20, varint: base.scopeRef))
        }),
        ("rec-span-context", ["REC-SPAN-CONTEXT"], "a log record's span context has a 3-byte span id", { base in
            let context = field(1, bytes: [1, 2, 3]) + field(2, bytes: [UInt8](repeating: 0x22, count: 16))
            base.record(base.events, 0, field(1, varint: base.scopeRef) + field(7, bytes: context))
        }),
        ("rec-span-event", ["REC-SPAN-EVENT"], "a span event with ids and scope but no event", { base in
            base.record(base.spans, 1, field(1, bytes: [UInt8](repeating: 0x11, count: 16)) + field(2, bytes: [UInt8](repeating: 0x22, count: 8))
                        + field(20, varint: base.scopeRef))
        }),
        // SHOULD rules: a conforming file may break them, but the checker warns.
        ("rec-measurement-value", ["REC-MEASUREMENT-VALUE"], "a measurement of the counter with neither as_long nor as_double", { base in
            base.record(base.measurements, 0, field(1, varint: base.metricRef))
        }),
        ("rec-metric-aggregation", ["REC-METRIC-AGGREGATION"], "the counter's MetricRef entry rewritten in place with a name and scope but no aggregation", { base in
            // Same payload length, so that the entries still lie back to back.
            let at = Int(base.metricRef)
            var length = 0, shift = 0, prefix = 0
            while true {
                let byte = base.bytes[at + prefix]
                length |= Int(byte & 0x7F) << shift
                prefix += 1
                shift += 7
                if byte < 0x80 { break }
            }
            let scope = field(4, varint: base.scopeRef)
            let name = Array("base.requests".utf8) + [UInt8](repeating: UInt8(ascii: "_"), count: length - 2 - scope.count - 13)
            base.bytes.replaceSubrange((at + prefix)..<(at + prefix + length), with: field(1, bytes: name) + scope)
        }),
        ("hdr-start-time", ["HDR-START-TIME"], "start_time_unix_nano is 0", { base in base.int64(0, at: 40) }),
        ("hdr-reserved", ["HDR-RESERVED"], "a reserved header byte is set", { base in base.bytes[50] = 1 }),
        ("dict-reserved", ["DICT-RESERVED"], "a reserved dictionary header byte is set", { base in
            base.bytes[Int(base.file.dictionary.offset) + 20] = 1
        }),
        ("dict-num-entries", ["DICT-NUM-ENTRIES"], "num_entries counts one entry more than there are", { base in
            base.int64(base.file.dictionary.header.numEntries + 1, at: Int(base.file.dictionary.offset) + 8)
        }),
        ("dict-ref-zero", ["DICT-REF-ZERO"], "a log record without scope_ref", { base in
            base.record(base.events, 0, field(4, bytes: Array("no scope".utf8)))
        }),
        ("rec-enum", ["REC-ENUM"], "a log record with severity_number 99", { base in
            base.record(base.events, 0, field(1, varint: base.scopeRef) + field(3, varint: 99))
        }),
        ("ring-flag-formula", ["RING-FLAG-FORMULA"], "span sequences 2^32 and 2^32+1 flagged with the truncate-then-shift formula", { base in
            let ring = base.spans.fileOffset
            base.int64((1 << 32) - 1, at: ring + 16)
            base.int64((1 << 32) + 1, at: ring + 24)
            let flags: [Int32] = [0, 0, (1 << 30) - 1, (1 << 30) - 1]
            for (slot, flag) in flags.enumerated() { base.int32(flag, at: ring + 32 + 4 * slot) }
        }),
    ]

    /// Every invalid case, built from a base written into `folder`.
    package static func make(in folder: URL) throws -> [GoldenFile] {
        let base = try base(in: folder)
        return defects.map { defect in
            var copy = base
            defect.apply(&copy)
            return GoldenFile(name: defect.name, description: defect.description, bytes: copy.bytes, expectedDecode: nil, rules: defect.rules)
        } + [unalignedRings()]
    }

    /// Our writer refuses to lay rings out unaligned, so this file is assembled byte by byte: three
    /// empty rings of 4 slots × 41 bytes, which put the second and third ring headers and the
    /// dictionary at offsets that are 4 modulo 8, as another writer may.
    static func unalignedRings() -> GoldenFile {
        let ringBytes = 32 + 4 * 4 + 4 * 41
        var bytes: [UInt8] = []
        func int64(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        let offsets = (0..<3).map { Int64(64 + $0 * ringBytes) }
        let dictionary = Int64(64 + 3 * ringBytes)
        int64(1)
        for offset in offsets { int64(offset) }
        int64(dictionary)
        int64(1_700_000_000_000_000_000)
        bytes += [UInt8](repeating: 0, count: 16)
        for _ in offsets {
            int64(4); int64(41); int64(-1); int64(-1)
            bytes += [UInt8](repeating: 0xFF, count: 16)
            bytes += [UInt8](repeating: 0, count: 4 * 41)
        }
        int64(dictionary + 64)
        int64(0)
        bytes += [UInt8](repeating: 0, count: 48)
        return GoldenFile(name: "ring-align", description: "ring headers at offsets that are not multiples of 8 (another writer's layout)",
                          bytes: bytes, expectedDecode: nil, rules: ["RING-ALIGN"])
    }

    /// MUST rules no static file can show: they concern what a writer does over time, and
    /// `conform run` checks them on a live writer.
    package static let liveOnlyRules = ["RING-SIZE-BEFORE-CLAIM", "HDR-INIT-ORDER"]
}

package enum GoldenCases {
    /// Every golden file, valid and invalid, built in a scratch `folder`.
    package static func make(in folder: URL) throws -> [GoldenFile] {
        try ValidCases.make(in: folder) + InvalidCases.make(in: folder)
    }
}
