import Foundation

extension Fuzzer.Progress {
    /// One line for standard error while a run goes on.
    package var line: String {
        "fuzz: \(cases) cases (\(String(format: "%.1f", casesPerSecond))/s), \(records) records, no counted failure yet"
            + (toleratedFailures > 0 ? ", \(toleratedFailures) cases failed only listed or Recommended checks" : "") + ", \(String(format: "%.0f", elapsed.seconds)) s"
    }

    /// The closing line, in the words `conform run` ends with.
    func closingLine(failed: Bool) -> String {
        let passed = cases - toleratedFailures - (failed ? 1 : 0)
        return "\(max(0, passed)) passed, \(failed ? 1 : 0) failed, 0 skipped, \(toleratedFailures) expected failures"
    }
}

extension Fuzzer.Report {
    /// The report; `replayCommand` is how to run the saved case again (the CLI knows its own name).
    package func render(format: ReportFormat, replayCommand: String?) -> String {
        switch format {
        case .json:
            var document: [String: Any] = [
                "seed": String(seed), "cases": progress.cases, "records": progress.records,
                "seconds": progress.elapsed.seconds, "passed": failure == nil, "tolerated_failures": progress.toleratedFailures,
            ]
            if let failure {
                document["failure"] = [
                    "case": failure.caseIndex, "checks": failure.original.failedChecks,
                    "failures": failure.original.failures.map(\.description),
                    "shrunk_steps": failure.shrunk.steps.count, "original_steps": failure.originalSteps,
                    "shrunk_failures": failure.shrunkResult.failures.map(\.description), "trials": failure.trials,
                    "replay": failure.replayPath ?? NSNull(), "replay_command": replayCommand ?? NSNull(),
                    "attempts_per_candidate": failure.attemptsPerCandidate,
                    "original_reproduction": failure.originalReproduction.map { ["failed": $0.failed, "runs": $0.runs] } ?? NSNull(),
                    "shrunk_reproduction": failure.shrunkReproduction.map { ["failed": $0.failed, "runs": $0.runs] } ?? NSNull(),
                ] as [String: Any]
            }
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            // One test case for the run: a CI shows the shrunk case's failures and how to replay it.
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuite name=\"otlp-mmap conform fuzz\" tests=\"1\" failures=\"\(failure == nil ? 0 : 1)\" skipped=\"0\">\n"
            out += "  <testcase classname=\"conform fuzz\" name=\"seed \(seed), \(progress.cases) cases\" time=\"\(String(format: "%.3f", progress.elapsed.seconds))\">"
            if let failure {
                let lines = failure.shrunkResult.failures.map(\.description) + failure.reproductionLines
                    + (failure.originalReproduction?.failed == 0 ? [] : failure.shrunkReproduction.map { ["the shrunk case \($0)"] } ?? [])
                    + ["replay: \(replayCommand ?? failure.replayPath ?? "(not saved)")"]
                out += "<failure message=\"\(ReportFormat.escape(failure.shrunkResult.failures.first?.description ?? "case \(failure.caseIndex) failed"))\">"
                out += ReportFormat.escape(lines.joined(separator: "\n")) + "</failure>"
            }
            return out + "</testcase>\n</testsuite>\n"
        case .text:
            var out = "conform fuzz: seed \(seed), \(progress.cases) cases, \(progress.records) records in \(String(format: "%.1f", progress.elapsed.seconds)) s\n"
            guard let failure else { return out + "no failure\n" + progress.closingLine(failed: false) + "\n" }
            out += "FAIL  case \(failure.caseIndex) (\(failure.original.scenario)):\n"
            for line in failure.original.failures.prefix(10) { out += "        \(line)\n" }
            if failure.original.failures.count > 10 { out += "        … \(failure.original.failures.count - 10) more\n" }
            if failure.original.testeeDidNotStart {
                return out + "the testee could not be started: nothing was shrunk or saved\n" + progress.closingLine(failed: true) + "\n"
            }
            for line in failure.reproductionLines { out += line + "\n" }
            if failure.originalReproduction?.failed != 0 {
                let rate = failure.shrunkReproduction.map { " \($0), with" } ?? " fails with"
                out += "shrunk to \(failure.shrunk.steps.count) steps in \(failure.trials) runs; the shrunk case\(rate):\n"
                for line in failure.shrunkResult.failures.prefix(10) { out += "        \(line)\n" }
            }
            if let path = failure.replayPath {
                out += "saved to \(path)\nreplay: \(replayCommand ?? path)\n"
            } else {
                out += "the shrunk case could not be saved: \(failure.saveError ?? "")\n"
            }
            return out + progress.closingLine(failed: true) + "\n"
        }
    }
}

extension Fuzzer.Failure {
    /// How often the case and its shrunk form failed again, in words.
    var reproductionLines: [String] {
        guard let original = originalReproduction else { return [] }
        if original.failed == 0 {
            return ["the case \(original) (it failed once and never again): it was not shrunk, and is saved whole — replay it with --repeat"]
        }
        if original.always { return ["the case \(original)"] }
        return ["the case \(original): a failure that does not always reproduce, so each candidate ran up to \(attemptsPerCandidate) times while shrinking"]
    }
}

extension Fuzzer {
    /// Reads a duration as `conform fuzz --duration` takes it: seconds, or a number with s, m or h.
    package static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("h", 3600), ("m", 60), ("s", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast()), number > 0 else { return nil }
            return .milliseconds(Int64(number * factor * 1000))
        }
        guard let number = Double(text), number > 0 else { return nil }
        return .milliseconds(Int64(number * 1000))
    }
}
