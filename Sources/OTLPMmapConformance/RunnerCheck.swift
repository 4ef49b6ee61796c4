import OTLPMmapLayout
import OTLPMmapWire

/// What the runner checks about a testee beyond the format's own rules (those are named by their
/// rule IDs from spec/layout.yaml). Every failure in a report names a rule or one of these, so that
/// a failure list can name it too.
public struct RunnerCheck: Sendable, Hashable {
    public let id: String
    public let level: RuleInfo.Level
    public let text: String

    public static let contentLost = RunnerCheck("CONTENT-LOST", .must, "Every record command answered OK arrives in the file.")
    public static let contentUnexpected = RunnerCheck("CONTENT-UNEXPECTED", .must,
        "Nothing arrives that no command asked for or that was answered DROPPED or TOO_LARGE: no duplicate, no altered record.")
    public static let contentOrder = RunnerCheck("CONTENT-ORDER", .must, "The records of one thread of commands arrive in the order of the commands.")
    public static let contentScope = RunnerCheck("CONTENT-SCOPE", .must, "A record carries the scope its command named.")
    public static let contentResource = RunnerCheck("CONTENT-RESOURCE", .must, "The resource carries the attributes create_file gave.")
    public static let fileCreated = RunnerCheck("FILE-CREATED", .must, "The testee creates the file create_file names and makes it readable.")
    public static let testeeProtocol = RunnerCheck("TESTEE-PROTOCOL", .must,
        "The testee starts, answers every command with one frame holding a Reply with the command's id, in order, in time, and exits with status 0 after exit.")
    public static let replyValid = RunnerCheck("REPLY-VALID", .must, "Every reply's status is one of OK, DROPPED, TOO_LARGE, UNSUPPORTED and ERROR, with one part per command of a run_parallel.")
    public static let replyError = RunnerCheck("REPLY-ERROR", .should, "The testee carries out every well-formed command rather than answering ERROR.")
    public static let replyTooLarge = RunnerCheck("REPLY-TOO-LARGE", .should,
        "TOO_LARGE is the answer only for a record that may not fit a slot: one whose largest possible encoding fits is written.")

    public static let all: [RunnerCheck] = [contentLost, contentUnexpected, contentOrder, contentScope, contentResource,
                                            fileCreated, testeeProtocol, replyValid, replyError, replyTooLarge]

    init(_ id: String, _ level: RuleInfo.Level, _ text: String) {
        self.id = id
        self.level = level
        self.text = text
    }

    /// The runner check with this ID; nil for a rule ID or an unknown name.
    public static func named(_ id: String) -> RunnerCheck? { all.first { $0.id == id } }

    /// The level of a check named by a rule ID or a runner check ID; nil for an unknown name.
    public static func level(of check: String) -> RuleInfo.Level? {
        if let runner = all.first(where: { $0.id == check }) { return runner.level }
        return RuleCatalogue.all.first { $0.id.rawValue == check }?.level
    }
}

/// One failed check of a script, with what happened.
public struct CheckFailure: Sendable, Equatable, CustomStringConvertible {
    /// A rule ID (RING-HOLE) or a runner check ID (CONTENT-LOST).
    public var check: String
    public var message: String

    public init(_ check: String, _ message: String) {
        self.check = check
        self.message = message
    }

    init(_ check: RunnerCheck, _ message: String) { self.init(check.id, message) }
    init(_ rule: RuleID, _ message: String) { self.init(rule.rawValue, message) }

    public var description: String { "\(check): \(message)" }
}
