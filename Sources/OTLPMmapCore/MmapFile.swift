import Atomics
import OTLPMmapLayout
import OTLPMmapWire

/// An OTLP-mmap file, mapped and validated: the header, the three rings and the dictionary.
///
/// Opening checks what must hold before any ring or dictionary access is safe (HDR-SIZE, HDR-VERSION,
/// HDR-SECTION-BOUNDS, HDR-SECTION-OVERLAP, RING-POW2, RING-SLOT-SIZE) and fails with the first
/// violation. The conformance checker reports every violation; this type just refuses to work on a
/// file it cannot work on safely. A reader that would rather keep what is sound (the collector)
/// opens with `soundRingsOnly`: a ring that breaks one of these rules is then left out and its
/// finding kept in `ringFindings`, and only a bad header or dictionary refuses the file.
package final class MmapFile: @unchecked Sendable {  // immutable after init
    package let file: MappedFile
    package let header: FileHeaderView
    /// The sound rings, in `RingKind` order (all three unless opened with `soundRingsOnly`).
    package let rings: [Ring]
    /// Indexed by `RingKind.rawValue`; nil for a ring left out.
    private let ringsByKind: [Ring?]
    /// Why each left-out ring was left out (empty for a file opened strictly).
    package let ringFindings: [RingKind: FormatError]
    package let dictionary: DictionaryRegion
    /// The header's start time when we opened the file; a different value later means a new writer
    /// re-initialised it.
    package let startTimeUnixNano: UInt64
    /// The rings' cached reader indices (see `Ring`), one per ring, freed with the file.
    private let readerCaches: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    package var path: String { file.path }

    /// The ring of `kind`. Every ring of a file opened strictly is sound; for one opened with
    /// `soundRingsOnly`, ask `soundRing(_:)`.
    package func ring(_ kind: RingKind) -> Ring {
        guard let ring = ringsByKind[kind.rawValue] else {
            preconditionFailure("the \(kind.name) ring was left out when the file was opened: \(ringFindings[kind].map { "\($0)" } ?? "")")
        }
        return ring
    }

    /// The ring of `kind`, or nil when it was left out as unsound.
    package func soundRing(_ kind: RingKind) -> Ring? { ringsByKind[kind.rawValue] }

    /// Hands the slots of `kind` up to `sequence` back to writers, only while this is still the
    /// file that started at `startTime` (HDR-INIT-ORDER): start_time is loaded before the store
    /// and after it, the store is a compare-and-swap from `previous` (the reader_index the consumer
    /// stored last), and a store that may have landed in a file re-initialised meanwhile is undone.
    /// Whether the slots were handed back.
    package func handBack(_ kind: RingKind, through sequence: Int64, replacing previous: Int64, startTime: UInt64) -> Bool {
        guard header.startTimeUnixNano == startTime, let ring = soundRing(kind) else { return false }
        guard ring.markRead(sequence, replacing: previous) else { return false }
        guard header.startTimeUnixNano == startTime else {
            _ = ring.markRead(previous, replacing: sequence)
            return false
        }
        return true
    }

    private init(file: MappedFile, soundRingsOnly: Bool = false) throws(FormatError) {
        let mapping = file.bytes
        guard mapping.count >= FileHeaderView.size else {
            throw FormatError(.hdrSize, at: 0, "the file has \(mapping.count) bytes, fewer than the \(FileHeaderView.size)-byte header")
        }
        let header = try FileHeaderView(in: mapping, at: 0, rule: .hdrSize)
        if let unknown = header.unknownVersionFinding { throw unknown }
        let readerCaches = UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>.allocate(capacity: RingKind.allCases.count)
        readerCaches.initialize(repeating: .init(-1), count: RingKind.allCases.count)
        var rings: [Ring?] = []
        var findings: [RingKind: FormatError] = [:]
        let dictionary: DictionaryRegion
        do throws(FormatError) {
            for kind in RingKind.allCases {
                do throws(FormatError) {
                    rings.append(try Ring(kind: kind, mapping: mapping, offset: kind.offset(in: header), writable: file.writable,
                                          readerCache: readerCaches + kind.rawValue))
                } catch {
                    guard soundRingsOnly else { throw error }
                    findings[kind] = error
                    rings.append(nil)
                }
            }
            dictionary = try DictionaryRegion(file: file, mapping: mapping, offset: header.dictionary, headerField: FileHeaderView.Offset.dictionary)
            try Self.leaveOutOverlaps(&rings, &findings, dictionary: dictionary, soundRingsOnly: soundRingsOnly)
        } catch {
            readerCaches.deallocate()
            throw error
        }
        self.readerCaches = readerCaches
        self.file = file
        self.header = header
        self.ringsByKind = rings
        self.rings = rings.compactMap { $0 }
        self.ringFindings = findings
        self.dictionary = dictionary
        self.startTimeUnixNano = header.startTimeUnixNano
    }

    /// HDR-SECTION-OVERLAP: strictly, the first overlap refuses the file. With `soundRingsOnly`, the
    /// dictionary header stays (nothing can be resolved without it); a ring that overlaps it is left
    /// out, then the ring that overlaps the most others, until no two sections overlap. Of two
    /// rings that overlap only each other, neither can be told sound, and both are left out.
    private static func leaveOutOverlaps(_ rings: inout [Ring?], _ findings: inout [RingKind: FormatError], dictionary: DictionaryRegion,
                                         soundRingsOnly: Bool) throws(FormatError) {
        typealias Section = (kind: RingKind?, name: String, range: Range<Int>)
        func overlap(_ first: Section, _ second: Section) -> FormatError {
            FormatError(.hdrSectionOverlap, at: max(first.range.lowerBound, second.range.lowerBound),
                        "\(first.name) [\(first.range.lowerBound), \(first.range.upperBound)) overlaps \(second.name) [\(second.range.lowerBound), \(second.range.upperBound))")
        }
        while true {
            var sections: [Section] = rings.compactMap { $0 }.map { (kind: $0.kind, name: "\($0.kind.name) ring", range: $0.fileOffset..<($0.fileOffset + $0.byteSize)) }
            sections.append((kind: nil, name: "dictionary header", range: Int(dictionary.offset)..<(Int(dictionary.offset) + DictionaryHeaderView.size)))
            var pairs: [(Section, Section)] = []
            for (index, first) in sections.enumerated() {
                for second in sections[(index + 1)...] where first.range.overlaps(second.range) { pairs.append((first, second)) }
            }
            guard let firstPair = pairs.first else { return }
            guard soundRingsOnly else { throw overlap(firstPair.0, firstPair.1) }
            var count: [RingKind: Int] = [:]
            for (first, second) in pairs {
                if let kind = first.kind { count[kind, default: 0] += second.kind == nil ? 1_000 : 1 }
                if let kind = second.kind { count[kind, default: 0] += first.kind == nil ? 1_000 : 1 }
            }
            let most = count.values.max() ?? 0
            for (kind, overlaps) in count where overlaps == most {
                let pair = pairs.first { $0.0.kind == kind || $0.1.kind == kind }!
                findings[kind] = overlap(pair.0, pair.1)
                rings[kind.rawValue] = nil
            }
        }
    }

    deinit { readerCaches.deallocate() }

    /// Opens and validates an existing file written by any writer. With `soundRingsOnly`, a ring
    /// that breaks a rule is left out (see `ringFindings`) instead of refusing the whole file.
    package static func open(path: String, writable: Bool = false, soundRingsOnly: Bool = false) throws -> MmapFile {
        try MmapFile(file: MappedFile.open(path: path, writable: writable), soundRingsOnly: soundRingsOnly)
    }

    /// Creates a new file laid out in spec order with no padding: header, events, spans, measurements,
    /// dictionary. The header, start time last among the offsets, is written after the rings and the
    /// dictionary, so a reader that opens the file early sees version 0 rather than half a layout.
    package static func create(path: String, configuration: FileConfiguration) throws -> MmapFile {
        var offsets: [Int64] = []
        var position = Int64(FileHeaderView.size)
        for kind in RingKind.allCases {
            let size = configuration.ringSize(kind)
            guard size.numBuffers > 0, size.numBuffers & (size.numBuffers - 1) == 0 else {
                throw ConfigurationError(rule: RuleID.ringPow2.rawValue, message: "\(kind.name) ring: num_buffers \(size.numBuffers) is not a power of two")
            }
            guard size.bufferSize >= 2 else {
                throw ConfigurationError(rule: RuleID.ringSlotSize.rawValue, message: "\(kind.name) ring: buffer_size \(size.bufferSize) is smaller than 2")
            }
            guard let bytes = RingLayout.byteSize(numBuffers: size.numBuffers, bufferSize: size.bufferSize), bytes % 8 == 0 else {
                throw ConfigurationError(rule: RuleID.ringAlign.rawValue, message: "\(kind.name) ring: \(size.numBuffers) slots × \(size.bufferSize) bytes would leave the next section unaligned; use a buffer_size that is a multiple of 8 and at least 2 slots")
            }
            offsets.append(position)
            position += bytes
        }
        guard configuration.dictionaryBytes >= Int64(DictionaryHeaderView.size) else {
            throw ConfigurationError(rule: RuleID.dictEnd.rawValue, message: "the dictionary needs at least \(DictionaryHeaderView.size) bytes")
        }
        let dictionaryOffset = position
        let file = try MappedFile.create(path: path, size: Int(dictionaryOffset + configuration.dictionaryBytes))
        let mapping = file.bytes
        for (index, kind) in RingKind.allCases.enumerated() {
            try Ring.initialize(at: mapping, offset: offsets[index], size: configuration.ringSize(kind))
        }
        let dictionaryHeader = try DictionaryHeaderView(in: mapping, at: Int(dictionaryOffset), rule: .hdrSectionBounds)
        dictionaryHeader.initialize(end: DictionaryLayout.firstEntryOffset(dictionaryOffset: dictionaryOffset))
        let header = try FileHeaderView(in: mapping, at: 0, rule: .hdrSize)
        header.initialize(events: offsets[0], spans: offsets[1], measurements: offsets[2], dictionary: dictionaryOffset,
                          startTimeUnixNano: configuration.startTimeUnixNano)
        return try MmapFile(file: file)
    }
}

extension FileHeaderView {
    /// HDR-VERSION for a file of a version this reader does not know, nil for one it reads (each by
    /// its own layout: `FileLayout.versions`).
    package var unknownVersionFinding: FormatError? {
        guard !FileLayout.knows(version) else { return nil }
        let known = FileLayout.versions.map(String.init).joined(separator: ", ")
        return FormatError(.hdrVersion, at: Offset.version, "version is \(version); this reader knows version\(FileLayout.versions.count == 1 ? "" : "s") \(known)")
    }
}
