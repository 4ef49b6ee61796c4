import OTLPMmapLayout
import OTLPMmapWire

/// Where a resolver finds entries: the live dictionary of a mapped file, or a checker's private
/// snapshot of one. Implementations check DICT-REF-RANGE (the entry starts inside the dictionary and
/// ends before its end) and hand over bytes nobody changes while they are decoded.
package protocol DictionaryEntrySource {
    func withEntryPayload<Result>(
        at reference: Int64, field: String, _ body: (UnsafeRawBufferPointer, _ payloadOffset: Int) throws(FormatError) -> Result
    ) throws -> Result
}

/// The one place a reference becomes what it points at: range, kind (the entry decodes as the kind
/// its field names), the record rules of the entry (its generated `validate`), cycles and depth
/// (WIRE-DEPTH), each entry built once and cached. What an entry becomes is the caller's: JSON for
/// `inspect` and `conform run`, OTLP values for the collector, nothing but findings for
/// `conform check` — `build` makes it, given the decoded entry and this resolver for the entry's own
/// references.
///
/// Entries are write-once, so a cache keyed by reference and kind stays right for the file's life.
/// A failed resolution is not cached. Depth counts references followed and, through `nesting`,
/// the messages a reference sits inside, so a chain of entries each nested 64 deep is still bounded.
package final class DictionaryResolver<Built> {
    package typealias Build = (_ entry: DecodedEntry, _ reference: Int64, _ resolver: DictionaryResolver<Built>) throws -> Built

    package let source: any DictionaryEntrySource
    private let build: Build
    /// Inlinable with the fast path below: a generic class's dictionary used unspecialized from
    /// another module costs a metadata lookup per call (a sixth of a drain's CPU, measured).
    @usableFromInline var cache: [Key: Cached] = [:]
    /// References being built right now, innermost last, with the depth each was reached at and the
    /// deepest level any reference inside it reached.
    @usableFromInline var chain: [(reference: Int64, depth: Int, reach: Int, expanded: Int)] = []
    /// Findings of the rules an entry breaks that still let it be built (SHOULD-level ones), each
    /// reported the first time its entry is built; the caller takes them with `takeFindings()`.
    private var findings: [FormatError] = []

    /// A built entry and how many levels its references reach below it: a cached entry met again
    /// deeper than where it was built must still fit in WIRE-DEPTH with everything under it.
    @usableFromInline struct Cached {
        @usableFromInline let built: Built
        @usableFromInline let height: Int
        /// Payload bytes of the entry and of every entry its references reach, each counted where it
        /// is referred to (DICT-REF-EXPANSION).
        @usableFromInline let expanded: Int
    }

    /// DICT-REF-EXPANSION's bound on an entry's expanded size.
    package static var maxExpandedBytes: Int { 4 << 20 }

    @usableFromInline struct Key: Hashable {
        @usableFromInline var reference: Int64
        @usableFromInline var kind: DictionaryEntryKind
        @inlinable init(reference: Int64, kind: DictionaryEntryKind) {
            self.reference = reference
            self.kind = kind
        }
        @inlinable func hash(into hasher: inout Hasher) { hasher.combine(reference) }
        @inlinable static func == (lhs: Key, rhs: Key) -> Bool { lhs.reference == rhs.reference && lhs.kind == rhs.kind }
    }

    package init(source: any DictionaryEntrySource, build: @escaping Build) {
        self.source = source
        self.build = build
    }

    /// How deep the entry being built sits (0 outside any entry).
    package var depth: Int { chain.last?.depth ?? 0 }

    /// What the entry at `reference` (not 0: a zero reference means "none" in a way only its field
    /// knows) becomes, read as `kind`. `field` names the referring field in errors; `nesting` is how
    /// many messages deep the reference sits inside the record or entry that holds it.
    @inlinable
    package func resolve(_ kind: DictionaryEntryKind, at reference: Int64, field: String, nesting: Int = 0) throws -> Built {
        if let hit = cache[Key(reference: reference, kind: kind)] {
            // An entry without references, met outside any entry (a record's keys, say): nothing to account.
            if hit.height == 0 && chain.isEmpty { return hit.built }
            try account(hit, at: reference, field: field, nesting: nesting)
            return hit.built
        }
        return try resolveUncached(kind, at: reference, field: field, nesting: nesting)
    }

    /// A cached entry met at this depth: it and what it refers to must fit in WIRE-DEPTH here too,
    /// and the entry being built reaches as deep as it does.
    @usableFromInline
    func account(_ hit: Cached, at reference: Int64, field: String, nesting: Int) throws {
        let depth = self.depth + nesting + 1
        guard depth + hit.height <= ProtoReader.maxDepth else {
            throw FormatError(.wireDepth, at: Int(clamping: reference),
                              "\(field) \(reference): references nested more than \(ProtoReader.maxDepth) deep (its entries reach \(hit.height) levels below it, at depth \(depth))")
        }
        if !chain.isEmpty {
            chain[chain.count - 1].reach = max(chain[chain.count - 1].reach, depth + hit.height)
            try addExpansion(hit.expanded)
        }
    }

    /// Adds what a reference expands to to the entry being built, failing as soon as it is past the
    /// bound: a wide entry of references is refused after as many of them as the bound allows.
    @usableFromInline
    func addExpansion(_ bytes: Int) throws {
        let index = chain.count - 1
        chain[index].expanded += bytes
        guard chain[index].expanded <= Self.maxExpandedBytes else {
            throw FormatError(.dictRefExpansion, at: Int(clamping: chain[index].reference),
                              "entry \(chain[index].reference) expands to more than \(Self.maxExpandedBytes) bytes with the entries its references reach (each counted where it is referred to)")
        }
    }

    /// The first resolution of an entry: checked, decoded, validated, built, cached.
    @usableFromInline
    func resolveUncached(_ kind: DictionaryEntryKind, at reference: Int64, field: String, nesting: Int) throws -> Built {
        let key = Key(reference: reference, kind: kind)
        let depth = self.depth + nesting + 1
        if chain.contains(where: { $0.reference == reference }) {
            throw FormatError(.wireDepth, at: Int(clamping: reference),
                              "\(field) \(reference) refers back to itself through \(chain.map { String($0.reference) }.joined(separator: " → "))")
        }
        guard depth <= ProtoReader.maxDepth else {
            throw FormatError(.wireDepth, at: Int(clamping: reference), "\(field) \(reference): references nested more than \(ProtoReader.maxDepth) deep")
        }
        let (entry, payloadBytes) = try decode(kind, at: reference, field: field)
        chain.append((reference, depth, depth, 0))
        do { try addExpansion(payloadBytes) } catch { chain.removeLast(); throw error }
        let built: Built
        do {
            built = try build(entry, reference, self)
        } catch {
            chain.removeLast()
            throw error
        }
        let (_, _, reach, expanded) = chain.removeLast()
        cache[key] = Cached(built: built, height: reach - depth, expanded: expanded)
        if !chain.isEmpty {
            chain[chain.count - 1].reach = max(chain[chain.count - 1].reach, reach)
            try addExpansion(expanded)
        }
        return built
    }

    /// Decodes the entry and applies its record rules: a MUST-level finding makes the entry unusable
    /// (thrown), a SHOULD-level one is kept for `takeFindings()`.
    private func decode(_ kind: DictionaryEntryKind, at reference: Int64, field: String) throws -> (DecodedEntry, payloadBytes: Int) {
        let entry: DecodedEntry
        var payloadBytes = 0
        do {
            entry = try source.withEntryPayload(at: reference, field: field) { payload, payloadOffset throws(FormatError) in
                payloadBytes = payload.count
                return try kind.decodeEntry(payload, baseOffset: payloadOffset)
            }
        } catch let error as FormatError where ![.dictRefRange, .recUtf8, .wireDepth, .dictRefExpansion].contains(error.rule) {
            throw FormatError(.dictRefKind, at: error.offset, "\(field) \(reference) is not a valid \(kind.rawValue): \(error.message)")
        }
        var broken: [FormatError] = []
        entry.validate(at: Int(clamping: reference), into: &broken)
        if let fatal = broken.first(where: { RuleCatalogue.level(of: $0.rule) == .must }) { throw fatal }
        findings += broken
        return (entry, payloadBytes)
    }

    /// The SHOULD-level findings of entries built since the last call.
    package func takeFindings() -> [FormatError] {
        defer { findings = [] }
        return findings
    }
}

extension RuleCatalogue {
    /// A rule's level; a rule the catalogue does not list counts as MUST, the safe side.
    package static func level(of rule: RuleID) -> RuleInfo.Level {
        info(rule)?.level ?? .must
    }
}

extension DictionaryRegion: DictionaryEntrySource {
    /// The payload is copied out of the shared mapping first: a hostile writer may change the bytes
    /// while we decode, and a decoder must see one version of them.
    package func withEntryPayload<Result>(
        at reference: Int64, field: String, _ body: (UnsafeRawBufferPointer, Int) throws(FormatError) -> Result
    ) throws -> Result {
        let (bytes, payloadOffset) = try payload(at: reference, field: field)
        return try bytes.withDecodableBytes { payload throws(FormatError) in try body(payload, payloadOffset) }
    }
}
