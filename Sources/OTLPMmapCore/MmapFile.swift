import Atomics
import OTLPMmapLayout
import OTLPMmapWire

/// An OTLP-mmap file, mapped and validated: the header, the three rings and the dictionary.
///
/// Opening checks what must hold before any ring or dictionary access is safe (HDR-SIZE, HDR-VERSION,
/// HDR-SECTION-BOUNDS, HDR-SECTION-OVERLAP, RING-POW2, RING-SLOT-SIZE) and fails with the first
/// violation. The conformance checker reports every violation; this type just refuses to work on a
/// file it cannot work on safely.
package final class MmapFile: @unchecked Sendable {
    package let file: MappedFile
    package let header: FileHeaderView
    /// Indexed by `RingKind.rawValue`.
    package let rings: [Ring]
    package let dictionary: DictionaryRegion
    /// The header's start time when we opened the file; a different value later means a new writer
    /// re-initialised it.
    package let startTimeUnixNano: UInt64
    /// The rings' cached reader indices (see `Ring`), one per ring, freed with the file.
    private let readerCaches: UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>

    package var path: String { file.path }
    package func ring(_ kind: RingKind) -> Ring { rings[kind.rawValue] }

    /// Hands the slots of `kind` up to `sequence` back to writers, only while this is still the
    /// file that started at `startTime` (HDR-INIT-ORDER): start_time is loaded before the store
    /// and after it, the store is a compare-and-swap from `previous` (the reader_index the consumer
    /// stored last), and a store that may have landed in a file re-initialised meanwhile is undone.
    /// Whether the slots were handed back.
    package func handBack(_ kind: RingKind, through sequence: Int64, replacing previous: Int64, startTime: UInt64) -> Bool {
        guard header.startTimeUnixNano == startTime else { return false }
        let ring = ring(kind)
        guard ring.markRead(sequence, replacing: previous) else { return false }
        guard header.startTimeUnixNano == startTime else {
            _ = ring.markRead(previous, replacing: sequence)
            return false
        }
        return true
    }

    private init(file: MappedFile) throws(FormatError) {
        let mapping = file.bytes
        guard mapping.count >= FileHeaderView.size else {
            throw FormatError(.hdrSize, at: 0, "the file has \(mapping.count) bytes, fewer than the \(FileHeaderView.size)-byte header")
        }
        let header = try FileHeaderView(in: mapping, at: 0, rule: .hdrSize)
        if let unknown = header.unknownVersionFinding { throw unknown }
        let readerCaches = UnsafeMutablePointer<UnsafeAtomic<Int64>.Storage>.allocate(capacity: RingKind.allCases.count)
        readerCaches.initialize(repeating: .init(-1), count: RingKind.allCases.count)
        var rings: [Ring] = []
        do {
            for kind in RingKind.allCases {
                rings.append(try Ring(kind: kind, mapping: mapping, offset: kind.offset(in: header), writable: file.writable,
                                      readerCache: readerCaches + kind.rawValue))
            }
        } catch {
            readerCaches.deallocate()
            throw error
        }
        self.readerCaches = readerCaches
        let dictionary: DictionaryRegion
        do {
            dictionary = try DictionaryRegion(file: file, mapping: mapping, offset: header.dictionary, headerField: FileHeaderView.Offset.dictionary)
        } catch {
            readerCaches.deallocate()
            throw error
        }
        var sections = rings.map { (name: "\($0.kind.name) ring", range: $0.fileOffset..<($0.fileOffset + $0.byteSize)) }
        sections.append((name: "dictionary header", range: Int(dictionary.offset)..<(Int(dictionary.offset) + DictionaryHeaderView.size)))
        for (index, first) in sections.enumerated() {
            for second in sections[(index + 1)...] where first.range.overlaps(second.range) {
                readerCaches.deallocate()
                throw FormatError(.hdrSectionOverlap, at: max(first.range.lowerBound, second.range.lowerBound),
                                  "\(first.name) [\(first.range.lowerBound), \(first.range.upperBound)) overlaps \(second.name) [\(second.range.lowerBound), \(second.range.upperBound))")
            }
        }
        self.file = file
        self.header = header
        self.rings = rings
        self.dictionary = dictionary
        self.startTimeUnixNano = header.startTimeUnixNano
    }

    deinit { readerCaches.deallocate() }

    /// Opens and validates an existing file written by any writer.
    package static func open(path: String, writable: Bool = false) throws -> MmapFile {
        try MmapFile(file: MappedFile.open(path: path, writable: writable))
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
