/// The ID of a rule of the format (spec/layout.yaml `rules`). The generated layout declares one
/// constant per rule; this runtime only needs the few it raises itself, and a test checks that those
/// exist in the spec.
@usableFromInline package struct RuleID: Hashable, Sendable, CustomStringConvertible, Comparable {
    @usableFromInline package let rawValue: String
    @usableFromInline package init(_ rawValue: String) { self.rawValue = rawValue }
    @usableFromInline package var description: String { rawValue }
    @usableFromInline package static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Rules the wire runtime raises without help from generated code. Internal, because the generated
    /// layout declares the package constants of every rule; a test checks these IDs exist in the spec.
    @usableFromInline static let wireFormat = RuleID("WIRE-FORMAT")
    @usableFromInline static let wireDepth = RuleID("WIRE-DEPTH")
    @usableFromInline static let recUtf8 = RuleID("REC-UTF8")
    /// Valid protobuf, but a known field has another wire type: the bytes are some other message.
    @usableFromInline static let slotDecode = RuleID("SLOT-DECODE")
    /// The rule IDs this runtime raises, for the test that checks them against the spec.
    @usableFromInline package static let raisedByRuntime = [wireFormat, wireDepth, recUtf8, slotDecode]
}

/// Something in a file breaks a rule of the format. Every error says which rule and the file offset
/// of the byte where the problem was seen, because the person reading it is usually debugging
/// somebody else's writer with a hex dump open.
@usableFromInline package struct FormatError: Error, CustomStringConvertible, Equatable, Sendable {
    @usableFromInline package var rule: RuleID
    /// File offset of the offending byte (or of the start of the offending structure).
    @usableFromInline package var offset: Int
    @usableFromInline package var message: String

    @usableFromInline package init(_ rule: RuleID, at offset: Int, _ message: String) {
        self.rule = rule
        self.offset = offset
        self.message = message
    }

    @usableFromInline package var description: String { "\(rule) at byte \(offset): \(message)" }
}

/// One field of a fixed-layout structure, as the generated layout describes it to generic code
/// (tests that compare with the protocol tables, checkers that walk every field).
@usableFromInline package struct LayoutFieldInfo: Sendable, Equatable {
    @usableFromInline package var name: String
    @usableFromInline package var offset: Int
    @usableFromInline package var size: Int
    @usableFromInline package var type: String
    @usableFromInline package var atomic: Bool
    @usableFromInline package var rules: [RuleID]
    /// The format version that introduced the field: files of older versions reserve its bytes.
    @usableFromInline package var since: Int
    /// The version from which the field is deprecated, if it is.
    @usableFromInline package var deprecated: Int?

    @usableFromInline package init(name: String, offset: Int, size: Int, type: String, atomic: Bool, rules: [RuleID], since: Int = 1, deprecated: Int? = nil) {
        self.name = name
        self.offset = offset
        self.size = size
        self.type = type
        self.atomic = atomic
        self.rules = rules
        self.since = since
        self.deprecated = deprecated
    }
}

/// One field of a record message, as the generated layout describes it to generic code.
@usableFromInline package struct MessageFieldInfo: Sendable, Equatable {
    @usableFromInline package var name: String
    @usableFromInline package var number: Int
    @usableFromInline package var repeated: Bool
    @usableFromInline package var oneof: String?
    /// The dictionary entry kind an int64 reference field points at.
    @usableFromInline package var ref: String?
    /// The exact byte length a bytes field must have when present.
    @usableFromInline package var length: Int?
    @usableFromInline package var rules: [RuleID]
    /// The format version that introduced the field; files of older versions never hold it.
    @usableFromInline package var since: Int
    /// The version from which writers should no longer write it, if any.
    @usableFromInline package var deprecated: Int?

    @usableFromInline package init(name: String, number: Int, repeated: Bool, oneof: String?, ref: String?, length: Int?, rules: [RuleID], since: Int = 1, deprecated: Int? = nil) {
        self.name = name
        self.number = number
        self.repeated = repeated
        self.oneof = oneof
        self.ref = ref
        self.length = length
        self.rules = rules
        self.since = since
        self.deprecated = deprecated
    }
}
