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
                out.line("package static let \(Naming.ruleConstant(check.id)) = RunnerCheck(\(Naming.literal(check.id)), \(level), \(Naming.literal(check.text)))")
            }
            out.line()
            out.doc("Every check, in the order spec/testee.yaml lists them.")
            out.line("package static let all: [RunnerCheck] = [\(schema.checks.map { "." + Naming.ruleConstant($0.id) }.joined(separator: ", "))]")
        }
        return out.text
    }

    /// spec/readers.yaml's checks as `ReaderCheck` constants, with their origin.
    static func emitReaderChecks(_ readers: ReaderChecks, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.block("extension ReaderCheck {") { out in
            for check in readers.checks {
                out.doc("\(check.level.rawValue) (\(check.origin?.rawValue ?? "project"): \(check.source ?? "")): \(check.text)")
                let level = check.level == .must ? ".must" : ".should"
                out.line("package static let \(Naming.ruleConstant(check.id)) = ReaderCheck(\(Naming.literal(check.id)), \(level), \(Naming.literal(check.text)), "
                    + "origin: \(Naming.literal(check.origin?.rawValue ?? "project")), source: \(Naming.literal(check.source ?? "")))")
            }
            out.line()
            out.doc("Every check, in the order spec/readers.yaml lists them.")
            out.line("package static let all: [ReaderCheck] = [\(readers.checks.map { "." + Naming.ruleConstant($0.id) }.joined(separator: ", "))]")
        }
        return out.text
    }
}
