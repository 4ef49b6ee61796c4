import OTLPMmapSpec

/// Emits the conformance runner's checks (spec/testee.yaml `checks`) as `RunnerCheck` constants.
enum SwiftRunnerChecksEmitter {
    static func emit(_ schema: MessageSchema, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.block("extension RunnerCheck {") { out in
            for check in schema.checks {
                out.doc("\(check.level.rawValue): \(check.text)")
                let level = check.level == .must ? ".must" : ".should"
                out.line("public static let \(Naming.ruleConstant(check.id)) = RunnerCheck(\(Naming.literal(check.id)), \(level), \(Naming.literal(check.text)))")
            }
            out.line()
            out.doc("Every check, in the order spec/testee.yaml lists them.")
            out.line("public static let all: [RunnerCheck] = [\(schema.checks.map { "." + Naming.ruleConstant($0.id) }.joined(separator: ", "))]")
        }
        return out.text
    }
}
