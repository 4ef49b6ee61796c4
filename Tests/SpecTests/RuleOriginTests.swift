import Foundation
import OTLPMmapSpec
import Testing
import TestSupport

/// protocol.md §7 says which rules upstream's text states and what upstream's collector does with
/// empty oneofs; the rule catalogue must agree with it.
@Suite struct RuleOriginTests {
    let spec: Spec

    init() throws { spec = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec")) }

    /// What §7 lists as stated normatively: pow2, zero reserved bytes, entries with a size prefix,
    /// offset 0 as null and entry offsets above 0, references to the kind their name says.
    @Test func onlyWhatUpstreamStatesHasOriginProtocolAndItIsAMust() {
        let stated: Set = ["RING-POW2", "HDR-RESERVED", "DICT-RESERVED", "DICT-ENTRY", "DICT-REF-RANGE", "DICT-REF-KIND"]
        #expect(Set(spec.layout.rules.filter { $0.origin == .protocolRule }.map(\.id)) == stated)
        #expect(spec.layout.rules.filter { stated.contains($0.id) }.allSatisfy { $0.level == .must })
    }

    /// Each oneof that must be set has its own rule, at the level upstream's behaviour calls for:
    /// a SpanEvent without an event kills upstream's collector; the other two it skips or accepts.
    @Test func eachEmptyOneofHasItsOwnRuleAndLevel() {
        let expected: [String: (oneof: String, rule: String, level: RuleLevel)] = [
            "SpanEvent": ("event", "REC-SPAN-EVENT", .must),
            "Measurement": ("value", "REC-MEASUREMENT-VALUE", .should),
            "MetricRef": ("aggregation", "REC-METRIC-AGGREGATION", .should),
        ]
        for (message, want) in expected {
            let members = spec.messages.message(named: message)?.fields.filter { $0.oneof == want.oneof } ?? []
            #expect(!members.isEmpty)
            #expect(members.allSatisfy { $0.rules == [want.rule] }, "\(message).\(want.oneof): \(members.map(\.rules))")
            #expect(spec.layout.rule(want.rule)?.level == want.level)
        }
        #expect(spec.layout.rule("REC-ONEOF") == nil)
    }
}
