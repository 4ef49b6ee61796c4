import Foundation

extension ScenarioResult {
    /// Renders results as text, JSON or JUnit (one test case per scenario).
    public static func render(_ results: [ScenarioResult], format: ReportFormat, command: [String]) -> String {
        let failed = results.filter { !$0.passed }.count
        let skipped = results.filter(\.skipped).count
        let summary = "\(results.count - failed - skipped) passed, \(failed) failed, \(skipped) skipped"
        switch format {
        case .text:
            var out = "conform run: \(command.joined(separator: " "))\n"
            for result in results {
                let verdict = result.passed ? (result.skipped ? "SKIP" : "PASS") : "FAIL"
                var notes = "\(result.recordsRead) records"
                if result.notWritten > 0 { notes += ", \(result.notWritten) not written (dropped or too large)" }
                if result.unsupported > 0 { notes += ", \(result.unsupported) commands unsupported" }
                out += "  \(verdict)  \(result.scenario)  (\(notes), \(String(format: "%.2f", result.seconds)) s)\n"
                for failure in result.failures { out += "        \(failure)\n" }
            }
            return out + summary + "\n"
        case .json:
            let document: [String: Any] = [
                "command": command,
                "passed": results.allSatisfy(\.passed),
                "summary": summary,
                "scenarios": results.map {
                    ["name": $0.scenario, "passed": $0.passed, "skipped": $0.skipped, "failures": $0.failures.map(\.description),
                     "checks": $0.failedChecks, "rules": $0.brokenRules.map(\.rawValue), "records_read": $0.recordsRead, "not_written": $0.notWritten,
                     "unsupported": $0.unsupported, "seconds": $0.seconds] as [String: Any]
                },
            ]
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuite name=\"otlp-mmap conform run\" tests=\"\(results.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
            for result in results {
                out += "  <testcase classname=\"conform run\" name=\"\(ReportFormat.escape(result.scenario))\" time=\"\(String(format: "%.3f", result.seconds))\">"
                if !result.passed {
                    out += "<failure message=\"\(ReportFormat.escape(result.failures.first?.description ?? ""))\">\(ReportFormat.escape(result.failures.map(\.description).joined(separator: "\n")))</failure>"
                } else if result.skipped {
                    out += "<skipped message=\"\(result.unsupported) commands unsupported\"/>"
                }
                out += "</testcase>\n"
            }
            return out + "</testsuite>\n"
        }
    }
}
