import Foundation

extension RunVerdict {
    /// Renders the verdicts as text, JSON or JUnit (one test case per scenario).
    /// Failures of a rule link to its anchor in the HTML spec (`links`).
    /// `runner` names the command in the report: `conform run` (a writer) or `conform collector`.
    package func render(format: ReportFormat, command: [String], links: RuleLinks = RuleLinks(), runner: String = "conform run") -> String {
        switch format {
        case .text:
            var out = "\(runner): \(command.joined(separator: " "))\n"
            for verdict in scenarios {
                let result = verdict.result
                let label = switch verdict.status {
                case .passed: "PASS "
                case .failed: "FAIL "
                case .skipped: "SKIP "
                case .expectedFailure: "XFAIL"
                }
                var notes = "\(result.recordsRead) records"
                if result.notWritten > 0 { notes += ", \(result.notWritten) not written (dropped or too large)" }
                if result.unsupported > 0 { notes += ", \(result.unsupported) commands unsupported" }
                out += "  \(label) \(result.scenario)  (\(notes), \(String(format: "%.2f", result.seconds)) s)\n"
                for failure in verdict.unexpected { out += "        \(failure.check) (\(Self.level(failure))): \(failure.message)\(links.suffix(forCheck: failure.check))\n" }
                for failure in verdict.expected { out += "        expected \(failure.check): \(failure.message)\(links.suffix(forCheck: failure.check))\n" }
                for failure in verdict.warnings { out += "        warning \(failure.check) (Recommended, not enforced): \(failure.message)\(links.suffix(forCheck: failure.check))\n" }
                if verdict.status == .failed, !result.testeeStderrTail.isEmpty {
                    out += "        the \(runner == "conform collector" ? "collector" : "testee")'s standard error ended:\n"
                    for line in result.testeeStderrTail.split(separator: "\n") { out += "          | \(line)\n" }
                }
            }
            if !nowPassing.isEmpty {
                out += "listed as failing but passed (remove them from \(failureListSource ?? "the failure list")):\n"
                for entry in nowPassing { out += "  line \(entry.line): \(entry.pattern)\(entry.reason.isEmpty ? "" : "  # \(entry.reason)")\n" }
            }
            return out + summary + "\n"
        case .json:
            let document: [String: Any] = [
                "command": command,
                "passed": passed,
                "summary": summary,
                "checked_nothing": checkedNothing ?? NSNull(),
                "now_passing": nowPassing.map { ["pattern": $0.pattern, "line": $0.line, "reason": $0.reason] as [String: Any] },
                "scenarios": scenarios.map { verdict in
                    let result = verdict.result
                    return ["name": result.scenario, "status": verdict.status.rawValue, "passed": verdict.status != .failed,
                            "skipped": verdict.status == .skipped, "failures": verdict.unexpected.map(\.description),
                            "expected_failures": verdict.expected.map(\.description), "warnings": verdict.warnings.map(\.description),
                            "checks": result.failedChecks, "rules": result.brokenRules.map(\.rawValue),
                            "rule_urls": result.brokenRules.map { links.url(for: $0) }, "records_read": result.recordsRead,
                            "not_written": result.notWritten, "unsupported": result.unsupported, "seconds": result.seconds,
                            "testee_stderr": result.testeeStderrTail] as [String: Any]
                },
            ]
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            let failed = count(.failed)
            let skipped = count(.skipped) + count(.expectedFailure)
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuite name=\"otlp-mmap \(runner)\" tests=\"\(scenarios.count + (nowPassing.isEmpty ? 0 : 1))\" failures=\"\(failed + (nowPassing.isEmpty ? 0 : 1))\" skipped=\"\(skipped)\">\n"
            for verdict in scenarios {
                let result = verdict.result
                out += "  <testcase classname=\"\(runner)\" name=\"\(ReportFormat.escape(result.scenario))\" time=\"\(String(format: "%.3f", result.seconds))\">"
                switch verdict.status {
                case .failed:
                    let text = verdict.unexpected.map { $0.description + links.suffix(forCheck: $0.check) }.joined(separator: "\n")
                    out += "<failure message=\"\(ReportFormat.escape(verdict.unexpected[0].description))\">\(ReportFormat.escape(text))</failure>"
                case .expectedFailure:
                    out += "<skipped message=\"expected failure: \(ReportFormat.escape(verdict.expected.map(\.check).joined(separator: ", ")))\"/>"
                case .skipped:
                    out += "<skipped message=\"\(result.unsupported) commands unsupported\"/>"
                case .passed:
                    break
                }
                if !verdict.warnings.isEmpty {
                    out += "<system-out>\(ReportFormat.escape(verdict.warnings.map { "warning \($0)" }.joined(separator: "\n")))</system-out>"
                }
                out += "</testcase>\n"
            }
            if !nowPassing.isEmpty {
                let lines = nowPassing.map { "line \($0.line): \($0.pattern)" }.joined(separator: "\n")
                out += "  <testcase classname=\"\(runner)\" name=\"failure list\"><failure message=\"listed failures now pass\">\(ReportFormat.escape(lines))</failure></testcase>\n"
            }
            return out + "</testsuite>\n"
        }
    }

    static func level(_ failure: CheckFailure) -> String {
        RunnerCheck.level(of: failure.check) == .should ? "Recommended, enforced" : "Required"
    }
}
