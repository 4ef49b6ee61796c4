/// The byte layout of an OTLP-mmap file, as read from spec/layout.yaml.

/// The primitive types a fixed-layout field may have. The schema names them; the loader knows their sizes.
public enum FieldType: String, Sendable, CaseIterable {
    case int32, int64, uint64, reserved

    /// Size in bytes, or nil for `reserved`, which takes whatever size the field declares.
    public var size: Int? {
        switch self {
        case .int32: 4
        case .int64, .uint64: 8
        case .reserved: nil
        }
    }
}

/// What a writer stores in a field when it creates a file.
public enum InitialValue: Equatable, Sendable {
    case number(Int64)
    /// Computed from the sizes the writer chose (an offset or a count).
    case layout
    /// The writer's wall clock, in nanoseconds since the Unix epoch.
    case clock
}

public struct LayoutField: Sendable {
    public var name: String
    public var offset: Int
    public var size: Int
    public var type: FieldType
    public var atomic: Bool
    public var initial: InitialValue
    public var rules: [String]
    public var doc: String
    public var line: Int
    /// The format version that introduced the field; in files of earlier versions its bytes are
    /// reserved (zero), and readers treat it as absent.
    public var since: Int = 1
    /// The version from which writers should no longer rely on the field; readers still read it.
    public var deprecated: Int? = nil
}

/// A format version the spec describes.
public struct SpecVersion: Sendable, Equatable {
    public var number: Int
    public var doc: String
}

public struct Structure: Sendable {
    public var name: String
    public var size: Int
    public var doc: String
    public var fields: [LayoutField]
    public var line: Int

    public func field(named name: String) -> LayoutField? { fields.first { $0.name == name } }
}

public struct FileSection: Sendable {
    public enum Content: Sendable, Equatable {
        case structure(String)
        case ring(String)
        case dictionary
    }
    public var name: String
    public var content: Content
    /// `Structure.field` holding the section's file offset, or nil for the header at offset 0.
    public var locatedBy: (structure: String, field: String)?
    public var line: Int
}

/// One element type of a repeated part of a ring (the availability array).
public struct ArrayElement: Sendable {
    public var type: FieldType
    public var size: Int
    public var atomic: Bool
    public var initial: InitialValue
}

public struct RingPart: Sendable {
    public enum Content: Sendable {
        /// A fixed structure (the ring header).
        case structure(String)
        /// `count` elements of a primitive type; `count` names a field of the ring header.
        case array(count: String, element: ArrayElement)
        /// `count` opaque blocks of `elementSize` bytes; both name fields of the ring header.
        case blocks(count: String, elementSize: String)
    }
    public var name: String
    public var content: Content
    public var rules: [String]
    public var doc: String
    public var line: Int
}

public struct SequenceFormulas: Sendable {
    public var slotIndex: String
    public var flag: String
    public var flagAlternative: String
    public var doc: String
}

public struct RingSpec: Sendable {
    public var name: String
    /// The message type of the records in this ring's slots.
    public var record: String
    public var doc: String
    public var line: Int
}

public struct EntryKind: Sendable {
    public var name: String
    /// The message an entry of this kind holds, or nil for a raw UTF-8 string entry.
    public var message: String?
    public var doc: String
}

public enum RuleLevel: String, Sendable { case must = "MUST", should = "SHOULD" }

public enum RuleOrigin: String, Sendable {
    /// Stated normatively by the upstream written specification (../shared/protocol.md §7).
    case protocolRule = "protocol"
    /// Added by this project where the protocol is silent.
    case project
}

public struct Rule: Sendable {
    public var id: String
    public var level: RuleLevel
    public var origin: RuleOrigin
    public var text: String
    public var line: Int
}

public struct Layout: Sendable {
    public var formatName: String
    /// The newest version: what writers of this spec write.
    public var version: Int
    /// Every version the spec describes, oldest first (the newest is `version`): readers of this
    /// spec read files of each, each by its own layout.
    public var versions: [SpecVersion] = []
    public var doc: String
    public var fileDoc: String
    public var sections: [FileSection]
    public var structures: [Structure]
    public var ringDoc: String
    public var ringParts: [RingPart]
    public var sequence: SequenceFormulas
    public var rings: [RingSpec]
    public var dictionaryHeader: String
    public var dictionaryDoc: String
    public var entryKinds: [EntryKind]
    public var defaults: [(name: String, value: Int)]
    public var rules: [Rule]

    public func structure(named name: String) -> Structure? { structures.first { $0.name == name } }
    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// The ring header structure: the first part of every ring.
    public var ringHeader: Structure {
        for part in ringParts {
            if case .structure(let name) = part.content, let structure = structure(named: name) { return structure }
        }
        preconditionFailure("the loader guarantees a ring header")
    }
}

/// One part's share of a ring's byte size, as every emitter writes the ring geometry.
public enum RingSizeTerm: Sendable, Equatable {
    /// A fixed structure of this many bytes (the ring header).
    case bytes(Int)
    /// `count` (a ring header field) elements of `elementSize` bytes (the availability array).
    case elements(count: String, elementSize: Int)
    /// `count` blocks of `blockSize` bytes, both ring header fields (the slots).
    case blocks(count: String, blockSize: String)

    /// `4·num_buffers`, as the docs write the formula.
    public var text: String {
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
    public var ringSizeTerms: [RingSizeTerm] {
        ringParts.map { part in
            switch part.content {
            case .structure(let name): .bytes(structure(named: name)?.size ?? 0)
            case .array(let count, let element): .elements(count: count, elementSize: element.size)
            case .blocks(let count, let size): .blocks(count: count, blockSize: size)
            }
        }
    }

    /// The ring header fields the ring's size depends on, in header order.
    public var ringSizeParameters: [String] {
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
    public var ringSizeFormula: String { ringSizeTerms.map(\.text).joined(separator: " + ") }
}
