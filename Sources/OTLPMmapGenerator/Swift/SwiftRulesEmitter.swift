import OTLPMmapSpec

/// Emits the rule catalogue: one `RuleID` constant per rule and a table with level, origin and text.
enum SwiftRulesEmitter {
    static func emit(_ spec: Spec, _ header: GeneratedHeader) -> String {
        var out = CodeWriter()
        out.line(header.swift.trimmingCharacters(in: .newlines))
        out.line()
        out.line("import OTLPMmapWire")
        out.line()
        out.block("extension RuleID {") { out in
            for rule in spec.layout.rules {
                out.doc("\(rule.level.rawValue): \(rule.text)")
                out.line("package static let \(Naming.ruleConstant(rule.id)) = RuleID(\(Naming.literal(rule.id)))")
            }
        }
        out.line()
        out.doc("A rule of the format with its level and wording, as spec/layout.yaml states it.")
        out.block("package struct RuleInfo: Sendable {") { out in
            out.line("package enum Level: String, Sendable { case must = \"MUST\", should = \"SHOULD\" }")
            out.doc("`protocol`: stated normatively by the upstream written specification; `project`: follows from protobuf and OTLP, or added by this project.")
            out.line("package enum Origin: String, Sendable { case `protocol`, project }")
            out.line("package let id: RuleID")
            out.line("package let level: Level")
            out.line("package let origin: Origin")
            out.line("package let text: String")
        }
        out.line()
        out.block("package enum RuleCatalogue {") { out in
            out.block("package static let all: [RuleInfo] = [", closing: "]") { out in
                for rule in spec.layout.rules {
                    let origin = rule.origin == .project ? ".project" : ".protocol"
                    let level = rule.level == .must ? ".must" : ".should"
                    out.line("RuleInfo(id: .\(Naming.ruleConstant(rule.id)), level: \(level), origin: \(origin), text: \(Naming.literal(rule.text))),")
                }
            }
            out.line()
            out.block("package static func info(_ id: RuleID) -> RuleInfo? {") { out in
                out.line("all.first { $0.id == id }")
            }
        }
        return out.text
    }
}

extension String {
    func trimmingCharacters(in set: CharacterSet) -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

import Foundation
