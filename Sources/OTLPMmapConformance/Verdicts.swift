import Foundation
import OTLPMmapCore
import OTLPMmapLayout

/// Known failures a writer's CI accepts for now, one per line: a check (`RING-FLAG-FORMULA`), or
/// `scenario/check`, either with `*` and `?` wildcards; `#` starts the reason. A listed failure is
/// expected; a listed line that matches no failure is reported, so the list shrinks as bugs are fixed.
package struct FailureList: Sendable {
    package struct Entry: Sendable, Equatable {
        package var pattern: String
        package var reason: String
        package var line: Int
    }

    package var entries: [Entry]
    package var source: String

    package init(text: String, source: String) throws {
        self.source = source
        entries = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let parts = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let pattern = parts[0].trimmingCharacters(in: .whitespaces)
            let reason = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            guard !pattern.isEmpty else { continue }
            guard !pattern.contains(where: \.isWhitespace), pattern.split(separator: "/", omittingEmptySubsequences: false).count <= 2 else {
                throw ScenarioError("\(source), line \(number + 1): '\(pattern)' is not a check or scenario/check (one per line, # for the reason)")
            }
            let check = String(pattern.split(separator: "/").last ?? "")
            if !check.contains(where: { $0 == "*" || $0 == "?" }) && RunnerCheck.level(of: check) == nil {
                throw ScenarioError("\(source), line \(number + 1): '\(check)' names no rule of spec/layout.yaml and no runner check")
            }
            entries.append(Entry(pattern: pattern, reason: reason, line: number + 1))
        }
    }

    package static func load(path: String) throws -> FailureList {
        do {
            return try FailureList(text: SystemFile.text(of: path), source: path)
        } catch let error as ScenarioError {
            throw error
        } catch {
            throw ScenarioError("cannot read the failure list: \(error)")
        }
    }

    /// The first entry that lists `check` failing in `scenario`.
    func entry(scenario: String, check: String) -> Int? {
        entries.firstIndex { entry in
            entry.pattern.contains("/") ? Self.glob(entry.pattern, "\(scenario)/\(check)") : Self.glob(entry.pattern, check)
        }
    }

    /// Whether an entry can apply to `scenario` at all (for reporting entries that matched nothing).
    func applies(_ entry: Entry, toAnyOf scenarios: [String]) -> Bool {
        guard let scenarioPart = entry.pattern.split(separator: "/").first, entry.pattern.contains("/") else { return !scenarios.isEmpty }
        return scenarios.contains { Self.glob(String(scenarioPart), $0) }
    }

    static func glob(_ pattern: String, _ text: String) -> Bool { fnmatch(pattern, text, 0) == 0 }
}

/// How failed checks count: a Required check (a MUST rule or runner check) fails the run; a
/// Recommended one (SHOULD) is a warning unless `enforceRecommended`; a listed one is expected.
package struct VerdictPolicy: Sendable {
    package var failureList: FailureList?
    package var enforceRecommended: Bool
    /// Whether a run that checked nothing (every scenario skipped, or no record read at all) may pass.
    package var allowSkipped: Bool

    package init(failureList: FailureList? = nil, enforceRecommended: Bool = false, allowSkipped: Bool = false) {
        self.failureList = failureList
        self.enforceRecommended = enforceRecommended
        self.allowSkipped = allowSkipped
    }

    package func judge(_ results: [ScenarioResult]) -> RunVerdict {
        var used: Set<Int> = []
        let verdicts = results.map { result in
            var verdict = ScenarioVerdict(result: result)
            for failure in result.failures {
                if let index = failureList?.entry(scenario: result.scenario, check: failure.check) {
                    used.insert(index)
                    verdict.expected.append(failure)
                } else if RunnerCheck.level(of: failure.check) == .should && !enforceRecommended {
                    verdict.warnings.append(failure)
                } else {
                    verdict.unexpected.append(failure)
                }
            }
            return verdict
        }
        let scenarios = results.map(\.scenario)
        let stale = (failureList?.entries ?? []).enumerated().filter { index, entry in
            !used.contains(index) && failureList!.applies(entry, toAnyOf: scenarios)
        }.map(\.element)
        var verdict = RunVerdict(scenarios: verdicts, nowPassing: stale, failureListSource: failureList?.source)
        if !allowSkipped, !verdicts.isEmpty, verdicts.allSatisfy({ $0.status != .failed }) {
            if verdicts.allSatisfy({ $0.status == .skipped }) {
                verdict.checkedNothing = "every scenario was skipped (the testee answered UNSUPPORTED): nothing was checked; --allow-skipped accepts that"
            } else if results.allSatisfy({ $0.recordsRead == 0 }) {
                verdict.checkedNothing = "no scenario read a record from the testee's file: nothing it wrote was checked; --allow-skipped accepts that"
            }
        }
        return verdict
    }

    /// The failures of a fuzz case that count (fuzz cases match entries as scenario `fuzz`).
    package func unexpectedFailures(ofFuzzCase result: ScenarioResult) -> [CheckFailure] {
        var named = result
        named.scenario = "fuzz"
        return judge([named]).scenarios[0].unexpected
    }
}

package struct ScenarioVerdict: Sendable {
    package enum Status: String, Sendable { case passed, failed, skipped, expectedFailure = "expected failure" }
    package var result: ScenarioResult
    /// Failures that fail the run.
    package var unexpected: [CheckFailure] = []
    /// Failures the failure list names.
    package var expected: [CheckFailure] = []
    /// Recommended checks that failed, not enforced.
    package var warnings: [CheckFailure] = []

    package var status: Status {
        if !unexpected.isEmpty { return .failed }
        if !expected.isEmpty { return .expectedFailure }
        return result.unsupported > 0 ? .skipped : .passed
    }
}

package struct RunVerdict: Sendable {
    package var scenarios: [ScenarioVerdict]
    /// Failure-list entries that matched no failure although their scenarios ran.
    package var nowPassing: [FailureList.Entry]
    package var failureListSource: String?
    /// Why the run proves nothing, when it does not (it then fails unless skipping was allowed).
    package var checkedNothing: String?

    /// The run fails on an unexpected failure, on a listed failure that no longer happens (the
    /// list must be brought up to date, as protobuf's conformance runner asks), and when it checked nothing.
    package var passed: Bool { scenarios.allSatisfy { $0.status != .failed } && nowPassing.isEmpty && checkedNothing == nil }

    package func count(_ status: ScenarioVerdict.Status) -> Int { scenarios.filter { $0.status == status }.count }

    package var summary: String {
        "\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped, \(count(.expectedFailure)) expected failures"
            + (nowPassing.isEmpty ? "" : ", \(nowPassing.count) listed failures now pass")
            + (checkedNothing.map { "; FAIL: \($0)" } ?? "")
    }
}
