import Foundation
import OTLPMmapLayout
import OTLPMmapWire

/// One entry found by walking the dictionary.
package struct DictionaryEntry: Sendable, Equatable {
    /// File offset of the entry (its length prefix): what references point at.
    package var offset: Int64
    package var payloadOffset: Int64
    package var payloadLength: Int
}

/// The dictionary: the file's growing tail of write-once, length-delimited entries that records refer
/// to by file offset. Appending may grow and remap the file; resolving a reference past our mapping
/// re-checks the file size first, since another process may have grown it.
package final class DictionaryRegion: @unchecked Sendable {
    package let file: MappedFile
    /// File offset of the dictionary header.
    package let offset: Int64
    /// The header lies in the first mapping, which stays valid for the file's life.
    package let header: DictionaryHeaderView
    private let growLock = NSLock()

    init(file: MappedFile, mapping: UnsafeMutableRawBufferPointer, offset: Int64, headerField: Int) throws(FormatError) {
        guard offset >= Int64(FileHeaderView.size), offset <= Int64(mapping.count) else {
            throw FormatError(.hdrSectionBounds, at: headerField, "dictionary offset \(offset) is not between \(FileHeaderView.size) and the file size \(mapping.count)")
        }
        self.file = file
        self.offset = offset
        self.header = try DictionaryHeaderView(in: mapping, at: Int(offset), rule: .hdrSectionBounds)
    }

    package var firstEntryOffset: Int64 { DictionaryLayout.firstEntryOffset(dictionaryOffset: offset) }

    // MARK: writing

    /// Reserves room for an entry with a fetch-add on `end`, grows the file if needed, writes the
    /// length prefix and lets `body` fill the payload, then counts the entry. Returns its reference.
    package func append(payloadBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) throws -> Int64 {
        let total = lengthDelimitedSize(payloadBytes)
        let entry = header.fetchAddEnd(Int64(total))
        let entryEnd = Int(entry) + total
        var mapping = file.bytes
        if entryEnd > mapping.count {
            mapping = try growForEntry(endingAt: entryEnd)
        }
        var writer = ProtoWriter(UnsafeMutableRawBufferPointer(rebasing: mapping[Int(entry)..<entryEnd]))
        writer.writeVarint(UInt64(payloadBytes))
        let payloadStart = Int(entry) + varintSize(UInt64(payloadBytes))
        body(UnsafeMutableRawBufferPointer(rebasing: mapping[payloadStart..<entryEnd]))
        _ = header.fetchAddNumEntries(1)
        return entry
    }

    /// Appends a string entry: the raw UTF-8 bytes after the length.
    package func appendString(_ string: String) throws -> Int64 {
        var string = string
        return try string.withUTF8 { utf8 in
            try append(payloadBytes: utf8.count) { destination in
                if utf8.count > 0 { destination.copyMemory(from: UnsafeRawBufferPointer(utf8)) }
            }
        }
    }

    /// Appends a message entry (Resource, InstrumentationScope, MetricRef, AnyValue).
    package func append<Message: WireMessage>(_ message: Message) throws -> Int64 {
        try append(payloadBytes: message.encodedSize) { destination in
            var writer = ProtoWriter(destination)
            message.encode(to: &writer)
        }
    }

    /// Doubles the dictionary region (as the existing writers do) or more, until the entry fits.
    private func growForEntry(endingAt entryEnd: Int) throws -> UnsafeMutableRawBufferPointer {
        growLock.lock()
        defer { growLock.unlock() }
        let current = try file.currentFileSize()
        if current >= entryEnd { return try file.refresh() }
        var size = current
        while size < entryEnd { size += max(size - Int(offset), 1024) }
        return try file.grow(toAtLeast: size)
    }

    // MARK: reading

    /// The current mapping, refreshed when `end` lies past it (the file grew since we mapped it).
    private func mapping(covering fileOffset: Int) throws -> UnsafeMutableRawBufferPointer {
        let mapping = file.bytes
        if fileOffset <= mapping.count { return mapping }
        return try file.refresh()
    }

    /// Copies the payload of the entry that `reference` points at. Checks DICT-REF-RANGE: the entry
    /// starts at or after the first entry and ends at or before `end` and the file's end.
    package func payload(at reference: Int64, field: String = "reference") throws -> (bytes: [UInt8], fileOffset: Int) {
        let end = header.end
        guard reference >= firstEntryOffset, reference < end else {
            throw FormatError(.dictRefRange, at: Int(clamping: reference), "\(field) \(reference) is outside the dictionary's entries [\(firstEntryOffset), \(end))")
        }
        // The whole length prefix (up to 10 bytes, never past `end`) must lie in the mapping it is
        // read from: an entry that starts on the last bytes of the size we mapped may have its
        // prefix continue into the part the writer grew since.
        let prefixEnd = min(Int(clamping: end), Int(reference) + 10)
        let mapping = try self.mapping(covering: prefixEnd)
        guard Int(reference) < mapping.count else {
            throw FormatError(.dictRefRange, at: Int(reference), "\(field) \(reference) is past the end of the \(mapping.count)-byte file")
        }
        let prefixBytes = Array(UnsafeRawBufferPointer(rebasing: mapping[Int(reference)..<min(prefixEnd, mapping.count)]))
        var reader = ProtoReader(UnsafeRawBufferPointer(start: nil, count: 0), baseOffset: 0)
        let length: UInt64
        do {
            length = try prefixBytes.withDecodableBytes { bytes throws(FormatError) in
                reader = ProtoReader(bytes, baseOffset: Int(reference))
                return try reader.readVarint()
            }
        } catch {
            throw FormatError(.dictRefRange, at: Int(reference), "entry at \(reference): \(error.message)")
        }
        let payloadStart = Int(reference) + (reader.fileOffset - Int(reference))
        guard length <= UInt64(Int(clamping: end) - payloadStart) else {
            throw FormatError(.dictRefRange, at: Int(reference), "entry at \(reference) of \(length) bytes runs past the dictionary's end \(end)")
        }
        let payloadEnd = payloadStart + Int(length)
        let covering = try self.mapping(covering: payloadEnd)
        guard payloadEnd <= covering.count else {
            throw FormatError(.dictRefRange, at: Int(reference), "entry at \(reference) of \(length) bytes runs past the end of the \(covering.count)-byte file")
        }
        return (Array(UnsafeRawBufferPointer(rebasing: covering[payloadStart..<payloadEnd])), payloadStart)
    }

    /// Resolves a reference to an entry of the given kind and decodes it (DICT-REF-KIND on failure).
    package func resolve(_ reference: Int64, as kind: DictionaryEntryKind, field: String = "reference") throws -> RecordValue {
        let (bytes, payloadOffset) = try payload(at: reference, field: field)
        do {
            return try bytes.withDecodableBytes { payload throws(FormatError) in
                try kind.decode(payload, baseOffset: payloadOffset)
            }
        } catch {
            throw FormatError([.wireFormat, .slotDecode].contains(error.rule) ? .dictRefKind : error.rule, at: error.offset,
                              "entry at \(reference) is not a valid \(kind.rawValue): \(error.message)")
        }
    }

    /// Walks the entries back to back from the first to `end` (DICT-END, DICT-ENTRY), in place in
    /// the mapping: nothing is copied or kept, so memory stays constant whatever the file's size,
    /// and time is linear in the dictionary's bytes (at most one entry per byte).
    package func forEachEntry(_ body: (DictionaryEntry) throws -> Void) throws {
        try forEachEntry(skippingEmptyRuns: nil, body)
    }

    /// As `forEachEntry`; with `skippingEmptyRuns`, a run of empty entries (zero bytes) is handed
    /// over as its length instead of entry by entry.
    package func forEachEntry(skippingEmptyRuns emptyRun: ((Int) -> Void)?, _ body: (DictionaryEntry) throws -> Void) throws {
        let end = header.end
        guard end >= firstEntryOffset else {
            throw FormatError(.dictEnd, at: header.fileOffset, "dictionary end \(end) is before the first entry at \(firstEntryOffset)")
        }
        let mapping = try self.mapping(covering: Int(clamping: end))
        guard end <= Int64(mapping.count) else {
            throw FormatError(.dictEnd, at: header.fileOffset, "dictionary end \(end) is past the end of the \(mapping.count)-byte file")
        }
        let stopped = try Self.walkEntries(UnsafeRawBufferPointer(mapping), from: Int(firstEntryOffset), to: Int(end),
                                           groupingEmptyRuns: emptyRun != nil, emptyRun: { emptyRun?($0.count) }) { offset, payload in
            try body(DictionaryEntry(offset: Int64(offset), payloadOffset: Int64(payload.lowerBound), payloadLength: payload.count))
        }
        if let (at, error) = stopped { throw FormatError(.dictEntry, at: at, "entry at \(at): \(error.message)") }
    }

    /// The one walk over entries back to back, for the region here and the checker's: `bytes` is
    /// indexed by file offset and walked over [start, end). Each entry goes to `entry` (its offset,
    /// its payload's file range); when `groupingEmptyRuns`, a run of zero bytes (that many empty
    /// entries) goes to `emptyRun` whole, found eight bytes at a time, and otherwise entry by entry. Returns where and
    /// why the walk stopped before `end`, or nil.
    package static func walkEntries(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, groupingEmptyRuns: Bool = true,
        emptyRun: (Range<Int>) -> Void, entry: (_ offset: Int, _ payload: Range<Int>) throws -> Void
    ) rethrows -> (offset: Int, error: FormatError)? {
        let region = UnsafeRawBufferPointer(rebasing: bytes[..<end])
        var position = start
        while position < end {
            if groupingEmptyRuns, region[position] == 0 {
                let run = emptyEntryRun(in: region, from: position)
                emptyRun(position..<(position + run))
                position += run
                continue
            }
            var reader = ProtoReader(UnsafeRawBufferPointer(rebasing: region[position...]), baseOffset: position)
            let range: Range<Int>
            do throws(FormatError) {
                range = try reader.readLengthDelimited()
            } catch {
                return (position, error)
            }
            try entry(position, (position + range.lowerBound)..<(position + range.upperBound))
            position += range.upperBound
        }
        return nil
    }

    /// How many entries lie before `end` (DICT-END, DICT-ENTRY), counted in place. A run of zero
    /// bytes (that many empty entries: what a sparse file whose `end` was moved far ahead holds) is
    /// counted eight bytes at a time.
    package func countEntries() throws -> Int64 {
        var count: Int64 = 0
        try forEachEntry(skippingEmptyRuns: { run in count += Int64(run) }) { _ in count += 1 }
        return count
    }

    /// The length of the run of zero bytes at `position` in `bytes`: each is an empty entry.
    package static func emptyEntryRun(in bytes: UnsafeRawBufferPointer, from position: Int) -> Int {
        var index = position
        while index + 8 <= bytes.count, bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) == 0 { index += 8 }
        while index < bytes.count, bytes[index] == 0 { index += 1 }
        return index - position
    }

    /// Every entry (tests and small files; `forEachEntry` keeps none).
    package func entries() throws -> [DictionaryEntry] {
        var result: [DictionaryEntry] = []
        try forEachEntry { result.append($0) }
        return result
    }
}
