import OTLPMmapLayout
import OTLPMmapWire

/// One rule violation found in a file: which rule, how bad, where, and what was seen.
public struct Finding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// A MUST rule is broken: the file does not conform.
        case error
        /// A SHOULD rule is broken, or a MUST rule that a file still being written may break for a
        /// moment (a claimed slot not yet published).
        case warning
    }

    public var rule: RuleID
    public var level: String
    public var severity: Severity
    /// File offset of the byte (or structure, or record) where the problem is.
    public var offset: Int
    public var message: String

    public init(rule: RuleID, severity: Severity? = nil, offset: Int, message: String) {
        let info = RuleCatalogue.info(rule)
        self.rule = rule
        self.level = info?.level.rawValue ?? "MUST"
        self.severity = severity ?? (info?.level == .should ? .warning : .error)
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(rule) (\(level), \(severity.rawValue)) at byte \(offset): \(message)" }
}

/// The result of checking one file.
public struct CheckReport: Sendable {
    public struct RingSummary: Sendable, Equatable {
        public var name: String
        public var offset: Int
        public var readerIndex: Int64?
        public var writerIndex: Int64?
        public var recordsChecked: Int
        /// Which availability-flag formula the published records use: "either" when every checked
        /// sequence is below 2^32 (the formulas agree there), "none" when nothing was published.
        public var flagFormula: String
    }

    public var file: String
    public var size: Int
    public var findings: [Finding]
    public var rings: [RingSummary]
    public var dictionaryEntries: Int

    /// No MUST rule is broken.
    public var passed: Bool { !findings.contains { $0.severity == .error } }
    public var errors: [Finding] { findings.filter { $0.severity == .error } }
    public var warnings: [Finding] { findings.filter { $0.severity == .warning } }
    /// The distinct rules broken, sorted.
    public var brokenRules: [RuleID] { Array(Set(findings.map(\.rule))).sorted() }
}
