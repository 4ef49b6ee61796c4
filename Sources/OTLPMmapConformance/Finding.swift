import OTLPMmapLayout
import OTLPMmapWire

/// One rule violation found in a file: which rule, how bad, where, and what was seen.
package struct Finding: Sendable, Equatable, CustomStringConvertible {
    package enum Severity: String, Sendable {
        /// A MUST rule is broken: the file does not conform.
        case error
        /// A SHOULD rule is broken, or a MUST rule that a file still being written may break for a
        /// moment (a claimed slot not yet published).
        case warning
    }

    package var rule: RuleID
    package var level: String
    package var severity: Severity
    /// File offset of the byte (or structure, or record) where the problem is.
    package var offset: Int
    package var message: String

    package init(rule: RuleID, severity: Severity? = nil, offset: Int, message: String) {
        let info = RuleCatalogue.info(rule)
        self.rule = rule
        self.level = info?.level.rawValue ?? "MUST"
        self.severity = severity ?? (info?.level == .should ? .warning : .error)
        self.offset = offset
        self.message = message
    }

    package var description: String { "\(rule) (\(level), \(severity.rawValue)) at byte \(offset): \(message)" }
}

/// The result of checking one file.
/// What `conform check` found in one file; the library's package face (with `FileChecker`) for
/// programs outside this package, such as the fuzz targets and benchmarks.
package struct CheckReport: Sendable {
    package struct RingSummary: Sendable, Equatable {
        package var name: String
        package var offset: Int
        package var readerIndex: Int64?
        package var writerIndex: Int64?
        package var recordsChecked: Int
        /// Which availability-flag formula the published records use: "either" when every checked
        /// sequence is below 2^32 (the formulas agree there), "none" when nothing was published.
        package var flagFormula: String
    }

    package var file: String
    package var size: Int
    package var findings: [Finding]
    package var rings: [RingSummary]
    package var dictionaryEntries: Int

    /// No MUST rule is broken.
    package var passed: Bool { !findings.contains { $0.severity == .error } }
    package var errors: [Finding] { findings.filter { $0.severity == .error } }
    package var warnings: [Finding] { findings.filter { $0.severity == .warning } }
    /// The distinct rules broken, sorted.
    package var brokenRules: [RuleID] { Array(Set(findings.map(\.rule))).sorted() }
}
