import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// The dictionary as the checker walked it, an entry source for Core's resolver: entries start
/// where the walk found them, so a reference into the middle of an entry is told apart from one
/// outside the dictionary.
struct SnapshotDictionary: DictionaryEntrySource {
    let buffer: UnsafeRawBufferPointer
    let entries: EntryStarts
    let start: Int64
    let end: Int64

    func withEntryPayload<Result>(
        at reference: Int64, field: String, _ body: (UnsafeRawBufferPointer, Int) throws(FormatError) -> Result
    ) throws -> Result {
        guard reference >= start, reference < end, entries.contains(reference) else {
            let inside = reference >= start && reference < end
            throw FormatError(.dictRefRange, at: Int(clamping: reference), inside
                ? "\(field) \(reference) points into the middle of a dictionary entry"
                : "\(field) \(reference) is outside the dictionary's entries [\(start), \(end))")
        }
        // The walk decoded this prefix once; read again from the file, it is bounded by `end` all the same.
        let at = Int(reference)
        let range = try readLengthPrefixed(UnsafeRawBufferPointer(rebasing: buffer[at..<Int(end)]), baseOffset: at, rule: .dictEntry)
        return try body(UnsafeRawBufferPointer(rebasing: buffer[(at + range.lowerBound)..<(at + range.upperBound)]), at + range.lowerBound)
    }
}

/// Where dictionary entries start, one bit per dictionary byte: what lets a reference be told from
/// one into the middle of an entry, in an eighth of the dictionary's size however many entries it
/// holds (a run of zero bytes is that many empty entries).
struct EntryStarts {
    let start: Int64
    private var words: [UInt64]
    private(set) var count = 0

    init(start: Int64, end: Int64) {
        self.start = start
        words = Array(repeating: 0, count: Int(max(0, end - start) + 63) / 64)
    }

    mutating func insert(_ offset: Int) {
        let bit = offset - Int(start)
        words[bit >> 6] |= 1 << UInt64(bit & 63)
        count += 1
    }

    /// Every offset of `run` starts an (empty) entry.
    mutating func insert(run: Range<Int>) {
        var bit = run.lowerBound - Int(start)
        let last = run.upperBound - Int(start)
        while bit < last {
            if bit & 63 == 0, last - bit >= 64 {
                words[bit >> 6] = .max
                bit += 64
            } else {
                words[bit >> 6] |= 1 << UInt64(bit & 63)
                bit += 1
            }
        }
        count += run.count
    }

    func contains(_ offset: Int64) -> Bool {
        let bit = offset - start
        guard bit >= 0, bit < Int64(words.count) * 64 else { return false }
        return words[Int(bit >> 6)] & (1 << UInt64(bit & 63)) != 0
    }
}

/// Checks the references of records against the snapshot through the one `DictionaryResolver`
/// (range, kind, the entry's own record rules, cycles, depth), each entry once per kind; the
/// entries' own references are followed too. One per ring checker: it caches what it has checked.
final class ReferenceChecker {
    private(set) var findings: [Finding] = []
    /// Entries (reference and kind) already reported as broken: reported once, not once per record.
    private var reported: Set<String> = []
    private lazy var resolver = DictionaryResolver<Void>(source: source) { [unowned self] entry, reference, _ in
        self.walk(entry.recordValue, from: Int(reference), nesting: 0)
    }
    private let source: SnapshotDictionary

    init(source: SnapshotDictionary) {
        self.source = source
    }

    func takeFindings() -> [Finding] {
        defer { findings = [] }
        return findings
    }

    /// Checks every reference in `value`, which sits at file offset `offset` (a record's slot, or the
    /// entry that holds it), `nesting` messages deep.
    func walk(_ value: RecordValue, from offset: Int, nesting: Int) {
        switch value {
        case .message(_, let fields):
            for field in fields { walk(field.value, from: offset, nesting: nesting + 1) }
        case .list(let values):
            for item in values { walk(item, from: offset, nesting: nesting) }
        case .reference(let kind, let reference):
            check(kind, reference, from: offset, nesting: nesting)
        default:
            break
        }
    }

    private func check(_ kind: String, _ reference: Int64, from offset: Int, nesting: Int) {
        guard reference != 0, let entryKind = DictionaryEntryKind(rawValue: kind) else { return }
        do {
            // The field names the kind, so every message of the resolver says what was referred to.
            try resolver.resolve(entryKind, at: reference, field: "\(kind) reference", nesting: nesting)
        } catch let error as FormatError {
            if error.rule == .dictRefRange {
                // Reported where the bad reference is written, for each place it is written.
                findings.append(Finding(rule: error.rule, offset: offset, message: error.message))
            } else if reported.insert("\(reference) \(kind)").inserted {
                findings.append(Finding(rule: error.rule, offset: error.offset, message: error.message))
            }
        } catch {
            findings.append(Finding(rule: .dictRefRange, offset: offset, message: "reference \(reference) (\(kind)): \(error)"))
        }
        for broken in resolver.takeFindings() {
            findings.append(Finding(rule: broken.rule, offset: broken.offset, message: broken.message))
        }
    }
}
