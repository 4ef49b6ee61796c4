import Foundation
import Synchronization
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Checks a file from any writer against every rule of the spec that a snapshot can show, and keeps
/// going after a violation so that one report lists them all.
///
/// A file on disk is read through a read-only mapping, not copied: memory does not grow with the
/// file (the dictionary's entry starts take one bit per dictionary byte; nothing else grows with
/// its size), and time is linear in the rings' and the dictionary's bytes. Every value the checks
/// depend on is read once from the mapping into a local, so a writer still writing can change what
/// is found but not where the checker reads; pages another process truncates read as zeros
/// (`TruncationGuard`). A claimed slot that is not yet published is normal in a live file; one
/// followed by published slots is a hole, reported as a warning here and left for the live runner
/// to fail once it outlasts a timeout. A `final` check is of a file whose writer has finished: there
/// every claimed slot left unpublished is a RING-HOLE failure.
package struct FileChecker: @unchecked Sendable {  // shared read-only by the ring checkers' threads
    package static func check(path: String, final: Bool = false) throws -> CheckReport {
        let file = try MappedFile.open(path: path, writable: false)
        defer { file.close() }
        // The views take mutable pointers; the checker never writes (the mapping is read-only).
        return check(buffer: file.bytes, name: path, final: final)
    }

    package static func check(bytes: [UInt8], name: String, final: Bool = false) -> CheckReport {
        var copy = bytes
        return copy.withUnsafeMutableBytes { check(buffer: $0, name: name, final: final) }
    }

    /// Checks `buffer`, which the checker only reads.
    static func check(buffer: UnsafeMutableRawBufferPointer, name: String, final: Bool) -> CheckReport {
        var checker = FileChecker(buffer: buffer, name: name)
        checker.final = final
        checker.run()
        return CheckReport(file: name, size: buffer.count, findings: checker.findings, rings: checker.rings,
                           dictionaryEntries: checker.entries.count)
    }

    let buffer: UnsafeMutableRawBufferPointer
    let name: String
    /// The writer has finished: an unpublished claimed slot can no longer be one in progress.
    var final = false
    var findings: [Finding] = []
    var rings: [CheckReport.RingSummary] = []
    /// Where the dictionary's entries start.
    var entries = EntryStarts(start: 0, end: 0)
    var dictionaryStart: Int64 = 0
    var dictionaryEnd: Int64 = 0
    /// The ring's references, checked through Core's resolver (one per ring checker: it caches).
    var references: ReferenceChecker?
    /// Sections found, for the overlap and order checks.
    var sections: [(name: String, range: Range<Int>)] = []

    var size: Int { buffer.count }

    mutating func add(_ rule: RuleID, _ offset: Int, _ message: String, severity: Finding.Severity? = nil) {
        findings.append(Finding(rule: rule, severity: severity, offset: offset, message: message))
    }

    mutating func run() {
        guard size >= FileHeaderView.size, let header = try? FileHeaderView(in: buffer, at: 0, rule: .hdrSize) else {
            add(.hdrSize, 0, "the file has \(size) bytes, fewer than the \(FileHeaderView.size)-byte header")
            return
        }
        if let unknown = header.unknownVersionFinding { add(unknown.rule, unknown.offset, unknown.message) }
        // Reserved as the file's own version reserves them (a field newer than the file is reserved there).
        if !header.reservedIsZero(inFileOfVersion: header.version) {
            add(.hdrReserved, FileHeaderView.Offset.reserved, "reserved header bytes are not zero")
        }
        if header.startTimeUnixNano == 0 { add(.hdrStartTime, FileHeaderView.Offset.startTimeUnixNano, "start_time_unix_nano is 0") }
        // The dictionary first: records' references are checked against its entries. Then the
        // rings, each by its own checker on its own thread (they only read the shared copy and
        // the entry table), merged in ring order.
        checkDictionary(header)
        let base = self
        let results = RingResults(count: RingKind.allCases.count)
        DispatchQueue.concurrentPerform(iterations: RingKind.allCases.count) { index in
            var checker = base
            checker.findings = []
            checker.sections = []
            checker.references = ReferenceChecker(source: SnapshotDictionary(
                buffer: UnsafeRawBufferPointer(base.buffer), entries: base.entries, start: base.dictionaryStart, end: base.dictionaryEnd))
            checker.checkRing(RingKind.allCases[index], header)
            results.set(index, checker)
        }
        for index in RingKind.allCases.indices {
            let ring = results.get(index)
            findings += ring.findings
            sections += ring.sections
            rings += ring.rings
        }
        checkSections(header)
    }

    // MARK: sections

    mutating func checkSections(_ header: FileHeaderView) {
        for (index, first) in sections.enumerated() {
            for second in sections[(index + 1)...] where first.range.overlaps(second.range) {
                add(.hdrSectionOverlap, max(first.range.lowerBound, second.range.lowerBound),
                    "\(first.name) [\(first.range.lowerBound), \(first.range.upperBound)) overlaps \(second.name) [\(second.range.lowerBound), \(second.range.upperBound))")
            }
        }
        // The spec's order: each section starts where the previous one ends.
        var expected = FileHeaderView.size
        for name in ["events ring", "spans ring", "measurements ring", "dictionary header"] {
            guard let section = sections.first(where: { $0.name == name }) else { return }
            if section.range.lowerBound != expected {
                let field = ["events ring": 8, "spans ring": 16, "measurements ring": 24, "dictionary header": 32][name]!
                add(.hdrSectionOrder, field, "\(name) starts at \(section.range.lowerBound), expected \(expected) (right after the previous section)")
                return
            }
            expected = name == "dictionary header" ? expected : section.range.upperBound
        }
    }

    // MARK: dictionary

    mutating func checkDictionary(_ header: FileHeaderView) {
        let offset = header.dictionary
        guard offset >= Int64(FileHeaderView.size), offset <= Int64(size),
              let dictionary = try? DictionaryHeaderView(in: buffer, at: Int(offset), rule: .hdrSectionBounds) else {
            add(.hdrSectionBounds, FileHeaderView.Offset.dictionary, "the dictionary header at \(offset) is not inside the \(size)-byte file")
            return
        }
        sections.append(("dictionary header", Int(offset)..<(Int(offset) + DictionaryHeaderView.size)))
        if !dictionary.reservedIsZero(inFileOfVersion: header.version) {
            add(.dictReserved, Int(offset) + DictionaryHeaderView.Offset.reserved, "reserved dictionary header bytes are not zero")
        }
        dictionaryStart = DictionaryLayout.firstEntryOffset(dictionaryOffset: offset)
        let end = dictionary.end
        let endField = Int(offset) + DictionaryHeaderView.Offset.end
        var walkEnd = end
        if end < dictionaryStart {
            add(.dictEnd, endField, "end \(end) is before the first entry at \(dictionaryStart)")
            walkEnd = dictionaryStart
        } else if end > Int64(size) {
            add(.dictEnd, endField, "end \(end) is past the end of the \(size)-byte file")
            walkEnd = Int64(size)
        }
        dictionaryEnd = walkEnd
        entries = EntryStarts(start: dictionaryStart, end: walkEnd)
        if let (at, error) = Self.walkEntries(UnsafeRawBufferPointer(buffer), from: Int(dictionaryStart), to: Int(walkEnd), into: &entries) {
            add(.dictEntry, at, "entry at \(at): \(error.message); entries must lie back to back up to end \(end)")
        }
        if dictionary.numEntries != Int64(entries.count) {
            add(.dictNumEntries, Int(offset) + DictionaryHeaderView.Offset.numEntries,
                "num_entries is \(dictionary.numEntries) but \(entries.count) entries lie before end")
        }
    }

    /// Walks the entries over `buffer[start..<end]` (Core's one walk), marking where each starts and
    /// telling `each`. Returns where and why the walk stopped early, nil when it reached `end`.
    static func walkEntries(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, into entries: inout EntryStarts,
                            each: (Int) -> Void = { _ in }) -> (Int, FormatError)? {
        DictionaryRegion.walkEntries(buffer, from: start, to: end, emptyRun: { run in
            entries.insert(run: run)
            each(run.lowerBound)
        }) { offset, _ in
            entries.insert(offset)
            each(offset)
        }.map { ($0.offset, $0.error) }
    }

    /// The dictionary walk and the resolver on `entries` alone, as if they were a file's dictionary
    /// starting at byte 64: the first 256 entries found are each resolved as every kind, with
    /// their references followed. What the fuzzers call; the findings are the checker's.
    package static func checkEntries(_ entries: UnsafeRawBufferPointer) -> [Finding] {
        let start = 64
        let bytes = [UInt8](repeating: 0, count: start) + Array(entries)
        return bytes.withUnsafeBytes { buffer in
            var starts = EntryStarts(start: Int64(start), end: Int64(buffer.count))
            var found: [Int] = []
            var findings: [Finding] = []
            if let (at, error) = walkEntries(buffer, from: start, to: buffer.count, into: &starts, each: { if found.count < 256 { found.append($0) } }) {
                findings.append(Finding(rule: .dictEntry, offset: at, message: error.message))
            }
            let references = ReferenceChecker(source: SnapshotDictionary(buffer: buffer, entries: starts, start: Int64(start), end: Int64(buffer.count)))
            for reference in found {
                for kind in DictionaryEntryKind.allCases { references.walk(.reference(kind: kind.rawValue, offset: Int64(reference)), from: 0, nesting: 0) }
            }
            return findings + references.takeFindings()
        }
    }

    // MARK: rings

    mutating func checkRing(_ kind: RingKind, _ header: FileHeaderView) {
        let offset = kind.offset(in: header)
        var summary = CheckReport.RingSummary(name: kind.name, offset: Int(offset), recordsChecked: 0, flagFormula: "none")
        defer { rings.append(summary) }
        guard offset >= Int64(FileHeaderView.size), offset <= Int64(size),
              let ringHeader = try? RingHeaderView(in: buffer, at: Int(offset), rule: .hdrSectionBounds) else {
            add(.hdrSectionBounds, kind.headerFieldOffset, "the \(kind.name) ring header at \(offset) is not inside the \(size)-byte file")
            return
        }
        let base = Int(offset)
        if offset % 8 != 0 { add(.ringAlign, base, "the \(kind.name) ring header at \(offset) is not 8-byte aligned") }
        let numBuffers = ringHeader.numBuffers, bufferSize = ringHeader.bufferSize
        var usable = true
        if numBuffers <= 0 || numBuffers & (numBuffers - 1) != 0 {
            add(.ringPow2, base + RingHeaderView.Offset.numBuffers, "\(kind.name) num_buffers \(numBuffers) is not a power of two greater than zero")
            usable = false
        }
        if bufferSize < 2 {
            add(.ringSlotSize, base + RingHeaderView.Offset.bufferSize, "\(kind.name) buffer_size \(bufferSize) is smaller than 2")
            usable = false
        }
        guard usable else { return }
        guard let ringSize = RingLayout.byteSize(numBuffers: numBuffers, bufferSize: bufferSize), ringSize <= Int64(size) - offset else {
            add(.hdrSectionBounds, base, "the \(kind.name) ring (\(numBuffers) slots × \(bufferSize) bytes) at \(offset) runs past the end of the \(size)-byte file")
            return
        }
        sections.append(("\(kind.name) ring", base..<(base + Int(ringSize))))
        let reader = ringHeader.readerIndex, writer = ringHeader.writerIndex
        summary.readerIndex = reader
        summary.writerIndex = writer
        let readerField = base + RingHeaderView.Offset.readerIndex, writerField = base + RingHeaderView.Offset.writerIndex
        if reader < -1 { add(.ringIndexRange, readerField, "\(kind.name) reader_index \(reader) is below -1") }
        if writer < -1 { add(.ringIndexRange, writerField, "\(kind.name) writer_index \(writer) is below -1") }
        guard reader >= -1, writer >= -1 else { return }
        if reader > writer {
            add(.ringIndexOrder, readerField, "\(kind.name) reader_index \(reader) is past writer_index \(writer)")
            return
        }
        guard let unread = Ring.unread(reader: reader, writer: writer), unread <= numBuffers - 1 else {
            let count = Ring.unread(reader: reader, writer: writer).map(String.init) ?? "more than Int64.max"
            add(.ringCapacity, writerField, "\(kind.name) has \(count) unread records, more than num_buffers - 1 = \(numBuffers - 1)")
            return
        }
        let geometry = RingGeometry(base: base, numBuffers: numBuffers, bufferSize: bufferSize)
        checkFlags(kind, geometry, reader: reader, writer: writer)
        summary.flagFormula = checkRecords(kind, geometry, reader: reader, writer: writer, summary: &summary)
    }

    struct RingGeometry {
        var base: Int
        var numBuffers: Int64
        var bufferSize: Int64
        var log2: Int { numBuffers.trailingZeroBitCount }
        var availability: Int { base + RingHeaderView.size }
        func slot(_ sequence: Int64) -> Int {
            availability + Int(numBuffers) * RingLayout.availabilityElementSize
                + Int(RingLayout.slotIndex(sequence: sequence, numBuffers: numBuffers)) * Int(bufferSize)
        }
        func flagOffset(_ index: Int) -> Int { availability + index * RingLayout.availabilityElementSize }
        func flags(_ sequence: Int64) -> (Int32, Int32) {
            (RingLayout.flag(sequence: sequence, log2NumBuffers: log2), RingLayout.alternativeFlag(sequence: sequence, log2NumBuffers: log2))
        }
    }

    func flag(_ geometry: RingGeometry, _ index: Int) -> Int32 {
        Int32(littleEndian: UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: geometry.flagOffset(index), as: Int32.self))
    }

    /// Every slot's flag must fit the indices: a read slot shows its last sequence's flag, an unread
    /// one its sequence's flag (published) or the previous lap's (not yet), a never-used one -1.
    mutating func checkFlags(_ kind: RingKind, _ geometry: RingGeometry, reader: Int64, writer: Int64) {
        let count = Int(geometry.numBuffers)
        for index in 0..<count {
            let value = flag(geometry, index)
            // The newest sequence that maps to this slot and was claimed.
            let newest = writer - ((writer - Int64(index)) & (geometry.numBuffers - 1))
            var allowed: [Int32] = []
            if writer < 0 || newest < 0 {
                allowed = [RingLayout.availabilityInitial]
            } else if newest <= reader {
                allowed = [geometry.flags(newest).0, geometry.flags(newest).1]
            } else {
                allowed = [geometry.flags(newest).0, geometry.flags(newest).1]
                allowed += newest >= geometry.numBuffers ? [geometry.flags(newest - geometry.numBuffers).0, geometry.flags(newest - geometry.numBuffers).1]
                    : [RingLayout.availabilityInitial]
            }
            if !allowed.contains(value) {
                add(.ringFlag, geometry.flagOffset(index),
                    "\(kind.name) availability[\(index)] is \(value); with reader_index \(reader) and writer_index \(writer) it must be one of \(Array(Set(allowed)).sorted())")
            }
        }
    }

    /// Decodes and checks every readable unread record; returns the flag formula seen.
    mutating func checkRecords(_ kind: RingKind, _ geometry: RingGeometry, reader: Int64, writer: Int64, summary: inout CheckReport.RingSummary) -> String {
        var formulas: Set<String> = []
        var pendingHoles: [Int64] = []
        // Counted, not compared with writer_index: a writer_index of Int64.max has no successor.
        for step in 0..<(writer - reader) {
            let sequence = reader &+ 1 &+ step
            let index = Int(RingLayout.slotIndex(sequence: sequence, numBuffers: geometry.numBuffers))
            let value = flag(geometry, index)
            let (primary, alternative) = geometry.flags(sequence)
            guard value == primary || value == alternative else {
                pendingHoles.append(sequence)
                continue
            }
            for hole in pendingHoles {
                add(.ringHole, geometry.slot(hole), "\(kind.name) sequence \(hole) is claimed but not published while sequence \(sequence) is",
                    severity: final ? .error : .warning)
            }
            pendingHoles.removeAll()
            if primary != alternative { formulas.insert(value == primary ? "shift-then-truncate" : "truncate-then-shift") }
            summary.recordsChecked += 1
            checkRecord(kind, geometry, sequence)
        }
        if final {
            for hole in pendingHoles {
                add(.ringHole, geometry.slot(hole), "\(kind.name) sequence \(hole) is claimed (writer_index \(writer)) but was never published, and the writer has finished")
            }
        }
        if formulas.contains("truncate-then-shift") {
            add(.ringFlagFormula, geometry.availability, "\(kind.name) flags of sequences past 2^32 use the truncate-then-shift formula")
        }
        if summary.recordsChecked == 0 { return "none" }
        return formulas.isEmpty ? "either" : formulas.sorted().joined(separator: "+")
    }

    mutating func checkRecord(_ kind: RingKind, _ geometry: RingGeometry, _ sequence: Int64) {
        let slotOffset = geometry.slot(sequence)
        let slot = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[slotOffset..<(slotOffset + Int(geometry.bufferSize))])
        let payload: Range<Int>
        do throws(FormatError) {
            payload = try readLengthPrefixed(slot, baseOffset: slotOffset, rule: .slotLength)
        } catch {
            add(.slotLength, slotOffset, "\(kind.name) sequence \(sequence): \(error.message) (the record must fit its \(geometry.bufferSize)-byte slot)")
            return
        }
        let value: RecordValue
        var broken: [FormatError] = []
        do throws(FormatError) {
            value = try kind.decodeRecord(UnsafeRawBufferPointer(rebasing: slot[payload]), baseOffset: slotOffset + payload.lowerBound,
                                          validatingAt: slotOffset, into: &broken)
        } catch {
            add(Self.decodeRule(error.rule), error.offset, "\(kind.name) sequence \(sequence) is not a valid \(kind.recordType): \(error.message)")
            return
        }
        for finding in broken { add(finding.rule, finding.offset, finding.message) }
        if let references {
            references.walk(value, from: slotOffset, nesting: 0)
            findings += references.takeFindings()
        }
    }

    /// Wire-level problems keep their precise rule; anything else is SLOT-DECODE.
    static func decodeRule(_ rule: RuleID) -> RuleID {
        [RuleID.wireFormat, .wireDepth, .recUtf8].contains(rule) ? rule : .slotDecode
    }
}

/// The per-ring checkers' results, filled from concurrent threads.
final class RingResults: Sendable {
    private let checkers: Mutex<[FileChecker?]>
    init(count: Int) { checkers = Mutex(Array(repeating: nil, count: count)) }
    func set(_ index: Int, _ checker: FileChecker) { checkers.withLock { $0[index] = checker } }
    func get(_ index: Int) -> FileChecker { checkers.withLock { $0[index]! } }
}
