import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing

/// Core's one dictionary resolver: what every reader's references go through.
@Suite struct DictionaryResolverTests {
    /// Builds nothing but a count of builds, and follows an AnyValue's value_ref like the collector does.
    final class Counting {
        var builds: [Int64: Int] = [:]
        lazy var resolver = DictionaryResolver<Int>(source: dictionary) { [unowned self] entry, reference, resolver in
            self.builds[reference, default: 0] += 1
            if case .anyValue(let value) = entry, case .valueRef(let next)? = value.value {
                return try resolver.resolve(.anyValue, at: next, field: "value_ref") + 1
            }
            return 0
        }
        let dictionary: DictionaryRegion
        init(_ dictionary: DictionaryRegion) { self.dictionary = dictionary }
    }

    /// A chain of `count` AnyValue entries, each referring to the one before; returns the last.
    func chain(_ dictionary: DictionaryRegion, count: Int) throws -> Int64 {
        var previous = try dictionary.append(AnyValue(value: .intValue(0)))
        for _ in 1..<count { previous = try dictionary.append(AnyValue(value: .valueRef(previous))) }
        return previous
    }

    @Test func anEntryReferringToItselfIsACycleNotAHang() throws {
        let file = try makeFile()
        let reference = file.dictionary.firstEntryOffset
        #expect(try file.dictionary.append(AnyValue(value: .valueRef(reference))) == reference)
        let counting = Counting(file.dictionary)
        let error = expectFormatError(.wireDepth) { _ = try counting.resolver.resolve(.anyValue, at: reference, field: "value_ref") }
        #expect(error?.message.contains("refers back to itself") == true, "\(String(describing: error))")
    }

    @Test func chainsDeeperThanSixtyFourLevelsAreRefusedCountingTheirNesting() throws {
        let file = try makeFile(dictionaryBytes: 1 << 16)
        let long = try chain(file.dictionary, count: 70)
        let first = Counting(file.dictionary), second = Counting(file.dictionary), third = Counting(file.dictionary)
        expectFormatError(.wireDepth) { _ = try first.resolver.resolve(.anyValue, at: long, field: "value_ref") }
        let short = try chain(file.dictionary, count: 40)
        #expect(try second.resolver.resolve(.anyValue, at: short, field: "value_ref") == 39)
        // The same chain, reached from 30 messages deep, goes past the bound.
        let error = expectFormatError(.wireDepth) { _ = try third.resolver.resolve(.anyValue, at: short, field: "value_ref", nesting: 30) }
        #expect(error?.message.contains("nested more than 64 deep") == true)
    }

    /// Issue 19: an entry built (and cached) near the top of a chain was later met deeper, and the
    /// cache returned it without counting the levels below it, so whether a chain broke WIRE-DEPTH
    /// depended on which record resolved it first. Met again, a cached entry counts its height.
    @Test func aCachedEntryMetAgainDeeperStillCountsTheLevelsBelowIt() throws {
        let file = try makeFile(dictionaryBytes: 1 << 16)
        var entries = [try file.dictionary.append(AnyValue(value: .intValue(0)))]
        for _ in 1..<70 { entries.append(try file.dictionary.append(AnyValue(value: .valueRef(entries.last!)))) }
        let counting = Counting(file.dictionary)
        // Entry 40 first: 40 levels, inside the bound; then entry 69, whose chain reaches entry 40 at level 30.
        #expect(try counting.resolver.resolve(.anyValue, at: entries[40], field: "value_ref") == 40)
        let error = expectFormatError(.wireDepth) { _ = try counting.resolver.resolve(.anyValue, at: entries[69], field: "value_ref") }
        #expect(error?.message.contains("nested more than 64 deep") == true, "\(String(describing: error))")
        // From a deeper place, the cached entry 40 alone no longer fits either.
        expectFormatError(.wireDepth) { _ = try counting.resolver.resolve(.anyValue, at: entries[40], field: "value_ref", nesting: 30) }
        #expect(try counting.resolver.resolve(.anyValue, at: entries[40], field: "value_ref", nesting: 20) == 40)
    }

    /// Entries that share what they refer to expand exponentially: each of 12 entries an array
    /// referring twice to the one below is 2^12 copies of the bottom one. DICT-REF-EXPANSION bounds
    /// an entry's expanded size; the resolver gives up as soon as the bound is passed, and an entry
    /// under the bound resolves.
    @Test func entriesThatExpandPastTheBoundAreRefused() throws {
        let file = try makeFile(dictionaryBytes: 1 << 16)
        var entries = [try file.dictionary.append(AnyValue(value: .stringValue(String(repeating: "x", count: 2_000))))]
        for _ in 0..<12 {
            let twice = AnyValue(value: .valueRef(entries.last!))
            entries.append(try file.dictionary.append(AnyValue(value: .arrayValue(ArrayValue(values: [twice, twice])))))
        }
        let resolver = DictionaryResolver<Int>(source: file.dictionary) { entry, _, resolver in
            if case .anyValue(let value) = entry, case .arrayValue(let array)? = value.value {
                for element in array.values { if case .valueRef(let next)? = element.value { _ = try resolver.resolve(.anyValue, at: next, field: "value_ref", nesting: 2) } }
            }
            return 0
        }
        // 2 000 × 2^10 ≈ 2 MB: under the bound.
        #expect(try resolver.resolve(.anyValue, at: entries[10], field: "value_ref") == 0)
        // 2 000 × 2^12 ≈ 8 MB: past it, reported at the entry that went over.
        let error = expectFormatError(.dictRefExpansion) { _ = try resolver.resolve(.anyValue, at: entries[12], field: "value_ref") }
        #expect(error?.message.contains("expands to more than 4194304 bytes") == true, "\(String(describing: error))")
    }

    @Test func eachEntryIsBuiltOnceAndAFailureIsNotCached() throws {
        let file = try makeFile()
        let last = try chain(file.dictionary, count: 3)
        let counting = Counting(file.dictionary)
        #expect(try counting.resolver.resolve(.anyValue, at: last, field: "value_ref") == 2)
        #expect(try counting.resolver.resolve(.anyValue, at: last, field: "value_ref") == 2)
        #expect(counting.builds.values.sorted() == [1, 1, 1])
        let text = try file.dictionary.appendString("not a resource")
        expectFormatError(.dictRefKind) { _ = try counting.resolver.resolve(.resource, at: text, field: "resource_ref") }
        expectFormatError(.dictRefKind) { _ = try counting.resolver.resolve(.resource, at: text, field: "resource_ref") }
        // Read as the kind it is, the same entry resolves.
        #expect(try counting.resolver.resolve(.string, at: text, field: "key_ref") == 0)
    }

    @Test func anEntryBreakingARecommendedRuleResolvesAndReportsItOnce() throws {
        let file = try makeFile()
        let metric = try file.dictionary.append(MetricRef(name: "no.aggregation"))
        let counting = Counting(file.dictionary)
        #expect(try counting.resolver.resolve(.metricRef, at: metric, field: "metric_ref") == 0)
        _ = try counting.resolver.resolve(.metricRef, at: metric, field: "metric_ref")
        let findings = counting.resolver.takeFindings()
        #expect(findings.map(\.rule).sorted() == [.dictRefZero, .recMetricAggregation])
        #expect(findings.allSatisfy { $0.offset == Int(metric) })
        #expect(counting.resolver.takeFindings().isEmpty)
    }
}
