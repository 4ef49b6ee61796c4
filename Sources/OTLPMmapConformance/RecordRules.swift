import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// The checker's private copy of the dictionary as an entry source for Core's resolver: entries by
/// the offsets the walk found, so a reference into the middle of an entry is told apart from one
/// outside the dictionary.
struct SnapshotDictionary: DictionaryEntrySource {
    let buffer: UnsafeRawBufferPointer
    let entries: [Int64: Range<Int>]
    let start: Int64
    let end: Int64

    func withEntryPayload<Result>(
        at reference: Int64, field: String, _ body: (UnsafeRawBufferPointer, Int) throws(FormatError) -> Result
    ) throws -> Result {
        guard let payload = entries[reference] else {
            let inside = reference >= start && reference < end
            throw FormatError(.dictRefRange, at: Int(clamping: reference), inside
                ? "\(field) \(reference) points into the middle of a dictionary entry"
                : "\(field) \(reference) is outside the dictionary's entries [\(start), \(end))")
        }
        return try body(UnsafeRawBufferPointer(rebasing: buffer[payload]), payload.lowerBound)
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
