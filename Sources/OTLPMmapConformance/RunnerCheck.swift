import OTLPMmapLayout
import OTLPMmapWire

/// What the runner checks about a testee beyond the format's own rules (those are named by their
/// rule IDs from spec/layout.yaml). The checks themselves are spec/testee.yaml's `checks`, generated
/// into Generated/RunnerChecks.swift. Every failure in a report names a rule or one of these, so
/// that a failure list can name it too.
package struct RunnerCheck: Sendable, Hashable {
    package let id: String
    package let level: RuleInfo.Level
    package let text: String

    init(_ id: String, _ level: RuleInfo.Level, _ text: String) {
        self.id = id
        self.level = level
        self.text = text
    }

    /// The runner check with this ID; nil for a rule ID or an unknown name.
    package static func named(_ id: String) -> RunnerCheck? { all.first { $0.id == id } }

    /// The level of a check named by a rule ID or a runner check ID; nil for an unknown name.
    package static func level(of check: String) -> RuleInfo.Level? {
        if let runner = all.first(where: { $0.id == check }) { return runner.level }
        if let reader = ReaderCheck.named(check) { return reader.level }
        return RuleCatalogue.all.first { $0.id.rawValue == check }?.level
    }
}

/// One failed check of a script, with what happened.
package struct CheckFailure: Sendable, Equatable, CustomStringConvertible {
    /// A rule ID (RING-HOLE) or a runner check ID (CONTENT-LOST).
    package var check: String
    package var message: String

    package init(_ check: String, _ message: String) {
        self.check = check
        self.message = message
    }

    init(_ check: RunnerCheck, _ message: String) { self.init(check.id, message) }
    init(_ rule: RuleID, _ message: String) { self.init(rule.rawValue, message) }
    package init(_ check: ReaderCheck, _ message: String) { self.init(check.id, message) }

    package var description: String { "\(check): \(message)" }
}
