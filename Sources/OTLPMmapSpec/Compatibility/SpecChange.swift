/// One difference between two specs, with whom it breaks. The kinds are stable identifiers (they
/// appear in JSON reports and in tests), in the spirit of `buf breaking`'s rule names.
package struct SpecChange: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable, CaseIterable {
        // The fixed structures (file, ring and dictionary headers).
        case structureAdded = "structure-added"
        case structureRemoved = "structure-removed"
        case structureResized = "structure-resized"
        case fieldMoved = "field-moved"
        case fieldResized = "field-resized"
        case fieldRetyped = "field-retyped"
        case fieldAtomicityChanged = "field-atomicity-changed"
        case fieldInitialChanged = "field-initial-changed"
        /// A field became reserved bytes (or disappeared into them).
        case fieldRemoved = "field-removed"
        /// Reserved bytes taken into use by a new field.
        case reservedTaken = "reserved-taken"
        // The file's sections, the rings and the dictionary.
        case sectionAdded = "section-added"
        case sectionRemoved = "section-removed"
        case sectionMoved = "section-moved"
        case ringAdded = "ring-added"
        case ringRemoved = "ring-removed"
        case ringRecordChanged = "ring-record-changed"
        case ringPartsChanged = "ring-parts-changed"
        case ringFormulaChanged = "ring-formula-changed"
        case entryKindAdded = "entry-kind-added"
        case entryKindRemoved = "entry-kind-removed"
        case entryKindMessageChanged = "entry-kind-message-changed"
        case defaultChanged = "default-changed"
        // Record messages and enums.
        case messageAdded = "message-added"
        case messageRemoved = "message-removed"
        case messageFieldAdded = "message-field-added"
        case messageFieldRemoved = "message-field-removed"
        case messageFieldRenumbered = "message-field-renumbered"
        case messageFieldRetyped = "message-field-retyped"
        case messageFieldCardinalityChanged = "message-field-cardinality-changed"
        case messageFieldOneofChanged = "message-field-oneof-changed"
        case messageFieldRenamed = "message-field-renamed"
        case messageFieldConstraintChanged = "message-field-constraint-changed"
        case enumAdded = "enum-added"
        case enumRemoved = "enum-removed"
        case enumValueAdded = "enum-value-added"
        case enumValueRemoved = "enum-value-removed"
        case enumValueRenumbered = "enum-value-renumbered"
        // The rule catalogue.
        case ruleAdded = "rule-added"
        case ruleRemoved = "rule-removed"
        case ruleLevelChanged = "rule-level-changed"
        case ruleTextChanged = "rule-text-changed"
        // The format version.
        case versionBumped = "version-bumped"
        case versionLowered = "version-lowered"
    }

    /// Who a change breaks.
    package enum Audience: String, Sendable, Codable, CaseIterable, Comparable {
        /// Readers built from the new spec, given files written under the old one.
        case readersOfOldFiles = "readers-of-old-files"
        /// Readers built from the old spec, given files written under the new one.
        case oldReadersOfNewFiles = "old-readers-of-new-files"
        /// Writers built from the old spec, whose files the new spec's readers now read.
        case writers

        package static func < (lhs: Audience, rhs: Audience) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        package var phrase: String {
            switch self {
            case .readersOfOldFiles: "readers of old files"
            case .oldReadersOfNewFiles: "old readers of new files"
            case .writers: "writers"
            }
        }
    }

    package var kind: Kind
    /// What changed: `FileHeader.spans`, `SpanEvent.name`, `RING-HOLE`.
    package var subject: String
    /// How: `offset 16 → 24`.
    package var detail: String
    /// Empty for a compatible change.
    package var breaks: [Audience]
    /// Where to look: the new spec's file and line, or the old one's for what was removed.
    package var file: String
    package var line: Int

    package init(_ kind: Kind, _ subject: String, _ detail: String, breaks: [Audience], file: String, line: Int) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
        self.breaks = breaks.sorted()
        self.file = file
        self.line = line
    }

    package var isBreaking: Bool { !breaks.isEmpty }
}

/// What `SpecDiff.compare` found: every change, and the verdict a person changing the format needs.
package struct SpecComparison: Sendable, Equatable, Codable {
    package enum Verdict: String, Sendable, Codable {
        /// Nobody is broken.
        case compatible
        /// Only old readers are broken by new files, and the version was bumped: they refuse those
        /// files by their version (HDR-VERSION) instead of misreading them.
        case compatibleWithVersionBump = "compatible-with-version-bump"
        /// Readers of existing files or existing writers are broken (with or without a bump).
        case breaking
        /// Something breaks somebody and the version was not bumped: the change cannot ship as is.
        case breakingWithoutVersionBump = "breaking-without-version-bump"
    }

    package var oldVersion: Int
    package var newVersion: Int
    package var changes: [SpecChange]

    package init(oldVersion: Int, newVersion: Int, changes: [SpecChange]) {
        self.oldVersion = oldVersion
        self.newVersion = newVersion
        self.changes = changes
    }

    package var versionBumped: Bool { newVersion > oldVersion }

    package var verdict: Verdict {
        let broken = Set(changes.flatMap(\.breaks))
        if broken.isEmpty { return .compatible }
        if !versionBumped { return .breakingWithoutVersionBump }
        return broken == [.oldReadersOfNewFiles] ? .compatibleWithVersionBump : .breaking
    }

    /// The exit status of `gen diff`: non-zero for a change that breaks somebody without a version bump.
    package var exitStatus: Int32 { verdict == .breakingWithoutVersionBump ? 1 : 0 }
}
