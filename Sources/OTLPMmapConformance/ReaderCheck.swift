import OTLPMmapLayout

/// What a reader (a collector) of OTLP-mmap files must do, as the collector testbed checks it: the
/// checks of spec/readers.yaml, generated into Generated/ReaderChecks.swift, each with where it
/// comes from. Reports and failure lists name them by ID, as they name rules and runner checks.
package struct ReaderCheck: Sendable, Hashable {
    package let id: String
    package let level: RuleInfo.Level
    package let text: String
    /// protocol, defect, otlp or project (spec/readers.yaml explains them).
    package let origin: String
    package let source: String

    init(_ id: String, _ level: RuleInfo.Level, _ text: String, origin: String, source: String) {
        self.id = id
        self.level = level
        self.text = text
        self.origin = origin
        self.source = source
    }

    /// The reader check with this ID; nil for any other name.
    package static func named(_ id: String) -> ReaderCheck? { all.first { $0.id == id } }

    /// Where reports link for it: its anchor in the readers' chapter of the docs.
    package var documentation: String { "docs/readers.md#\(id.lowercased())" }
}
