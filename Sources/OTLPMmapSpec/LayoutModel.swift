/// The byte layout of an OTLP-mmap file, as read from spec/layout.yaml.

/// The primitive types a fixed-layout field may have. The schema names them; the loader knows their sizes.
package enum FieldType: String, Sendable, CaseIterable {
    case int32, int64, uint64, reserved

    /// Size in bytes, or nil for `reserved`, which takes whatever size the field declares.
    package var size: Int? {
        switch self {
        case .int32: 4
        case .int64, .uint64: 8
        case .reserved: nil
        }
    }
}

/// What a writer stores in a field when it creates a file.
package enum InitialValue: Equatable, Sendable {
    case number(Int64)
    /// Computed from the sizes the writer chose (an offset or a count).
    case layout
    /// The writer's wall clock, in nanoseconds since the Unix epoch.
    case clock
}

package struct LayoutField: Sendable {
    package var name: String
    package var offset: Int
    package var size: Int
    package var type: FieldType
    package var atomic: Bool
    package var initial: InitialValue
    package var rules: [String]
    package var doc: String
    package var line: Int
    /// The format version that introduced the field; in files of earlier versions its bytes are
    /// reserved (zero), and readers treat it as absent.
    package var since: Int = 1
    /// The version from which writers should no longer rely on the field; readers still read it.
    package var deprecated: Int? = nil
}

/// A format version the spec describes.
package struct SpecVersion: Sendable, Equatable {
    package var number: Int
    package var doc: String
}

package struct Structure: Sendable {
    package var name: String
    package var size: Int
    package var doc: String
    package var fields: [LayoutField]
    package var line: Int

    package func field(named name: String) -> LayoutField? { fields.first { $0.name == name } }
}

package struct FileSection: Sendable {
    package enum Content: Sendable, Equatable {
        case structure(String)
        case ring(String)
        case dictionary
    }
    package var name: String
    package var content: Content
    /// `Structure.field` holding the section's file offset, or nil for the header at offset 0.
    package var locatedBy: (structure: String, field: String)?
    package var line: Int
}

/// One element type of a repeated part of a ring (the availability array).
package struct ArrayElement: Sendable {
    package var type: FieldType
    package var size: Int
    package var atomic: Bool
    package var initial: InitialValue
}

package struct RingPart: Sendable {
    package enum Content: Sendable {
        /// A fixed structure (the ring header).
        case structure(String)
        /// `count` elements of a primitive type; `count` names a field of the ring header.
        case array(count: String, element: ArrayElement)
        /// `count` opaque blocks of `elementSize` bytes; both name fields of the ring header.
        case blocks(count: String, elementSize: String)
    }
    package var name: String
    package var content: Content
    package var rules: [String]
    package var doc: String
    package var line: Int
}

package struct SequenceFormulas: Sendable {
    package var slotIndex: String
    package var flag: String
    package var flagAlternative: String
    package var doc: String
}

package struct RingSpec: Sendable {
    package var name: String
    /// The message type of the records in this ring's slots.
    package var record: String
    package var doc: String
    package var line: Int
}

package struct EntryKind: Sendable {
    package var name: String
    /// The message an entry of this kind holds, or nil for a raw UTF-8 string entry.
    package var message: String?
    package var doc: String
}

package enum RuleLevel: String, Sendable { case must = "MUST", should = "SHOULD" }

package enum RuleOrigin: String, Sendable {
    /// Stated normatively by the upstream written specification (../shared/protocol.md §7).
    case protocolRule = "protocol"
    /// Added by this project where the protocol is silent.
    case project
}

package struct Rule: Sendable {
    package var id: String
    package var level: RuleLevel
    package var origin: RuleOrigin
    package var text: String
    package var line: Int
    /// The golden files (under golden/) that break this rule on purpose: the spec names them, the
    /// docs cite them, and `otlp-mmap gen golden` must make exactly these (a test compares them with
    /// golden/invalid/manifest.json).
    package var golden: [String] = []
}

package struct Layout: Sendable {
    package var formatName: String
    /// The newest version: what writers of this spec write.
    package var version: Int
    /// Every version the spec describes, oldest first (the newest is `version`): readers of this
    /// spec read files of each, each by its own layout.
    package var versions: [SpecVersion] = []
    package var doc: String
    package var fileDoc: String
    package var sections: [FileSection]
    package var structures: [Structure]
    package var ringDoc: String
    package var ringParts: [RingPart]
    package var sequence: SequenceFormulas
    package var rings: [RingSpec]
    package var dictionaryHeader: String
    package var dictionaryDoc: String
    package var entryKinds: [EntryKind]
    package var defaults: [(name: String, value: Int)]
    package var rules: [Rule]

    package func structure(named name: String) -> Structure? { structures.first { $0.name == name } }
    package func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// The ring header structure: the first part of every ring.
    package var ringHeader: Structure {
        for part in ringParts {
            if case .structure(let name) = part.content, let structure = structure(named: name) { return structure }
        }
        preconditionFailure("the loader guarantees a ring header")
    }
}

/// One part's share of a ring's byte size, as every emitter writes the ring geometry.
package enum RingSizeTerm: Sendable, Equatable {
    /// A fixed structure of this many bytes (the ring header).
    case bytes(Int)
    /// `count` (a ring header field) elements of `elementSize` bytes (the availability array).
    case elements(count: String, elementSize: Int)
    /// `count` blocks of `blockSize` bytes, both ring header fields (the slots).
    case blocks(count: String, blockSize: String)

    /// `4·num_buffers`, as the docs write the formula.
    package var text: String {
        switch self {
        case .bytes(let size): "\(size)"
        case .elements(let count, let size): "\(size)·\(count)"
        case .blocks(let count, let size): "\(count)·\(size)"
        }
    }
}

extension Layout {
    /// Each ring part's share of the ring's size, in part order: the ring is their sum, a part's
    /// offset the sum of those before it.
    package var ringSizeTerms: [RingSizeTerm] {
        ringParts.map { part in
            switch part.content {
            case .structure(let name): .bytes(structure(named: name)?.size ?? 0)
            case .array(let count, let element): .elements(count: count, elementSize: element.size)
            case .blocks(let count, let size): .blocks(count: count, blockSize: size)
            }
        }
    }

    /// The ring header fields the ring's size depends on, in header order.
    package var ringSizeParameters: [String] {
        let named = ringSizeTerms.flatMap { term -> [String] in
            switch term {
            case .bytes: []
            case .elements(let count, _): [count]
            case .blocks(let count, let size): [count, size]
            }
        }
        return ringHeader.fields.map(\.name).filter(named.contains)
    }

    /// `32 + 4·num_buffers + num_buffers·buffer_size`.
    package var ringSizeFormula: String { ringSizeTerms.map(\.text).joined(separator: " + ") }
}
