import Foundation
import OTLPMmapLayout
import OTLPMmapWire

/// Where reports link a rule: its anchor in the HTML spec (`otlp-mmap gen docs --html OUT` writes
/// OUT/rules.html with every rule at `#RULE-ID`). `page` is that page's URL as the report's reader
/// reaches it: relative (the default, for a report kept beside the pages) or absolute.
package struct RuleLinks: Sendable, Equatable {
    /// Overrides the default page, for CI that publishes the pages somewhere.
    package static let environmentVariable = "OTLP_MMAP_RULES_URL"
    package var page: String

    package init(page: String = "rules.html") {
        self.page = page
    }

    /// The page a command's `--rules-url` names, else `OTLP_MMAP_RULES_URL`'s, else the default.
    package static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> RuleLinks {
        (option ?? environment[environmentVariable]).map { RuleLinks(page: $0) } ?? RuleLinks()
    }

    package func url(for rule: RuleID) -> String { "\(page)#\(rule.rawValue)" }

    /// The link of a runner failure's check when it is a rule of the format (runner checks such as
    /// CONTENT-LOST are described in docs/testee.md, not on the rules page): nil otherwise.
    package func url(forCheck check: String) -> String? {
        RuleCatalogue.all.first { $0.id.rawValue == check }.map { url(for: $0.id) }
    }

    /// "  (URL)" after a failure of a rule, nothing after a runner check's.
    func suffix(forCheck check: String) -> String { url(forCheck: check).map { "  (\($0))" } ?? "" }
}

/// Renders check reports for people (a table), programs (JSON) and CI systems (JUnit XML); every
/// finding links to its rule's anchor in the HTML spec.
package enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, junit

    package func render(_ reports: [CheckReport], links: RuleLinks = RuleLinks()) -> String {
        switch self {
        case .text: reports.map { Self.text($0, links: links) }.joined(separator: "\n")
        case .json: Self.json(reports, links: links)
        case .junit: Self.junit(reports, links: links)
        }
    }

    static func text(_ report: CheckReport, links: RuleLinks) -> String {
        var out = "\(report.file) (\(report.size) bytes): \(report.passed ? "PASS" : "FAIL"), "
        out += "\(report.errors.count) error\(report.errors.count == 1 ? "" : "s"), \(report.warnings.count) warning\(report.warnings.count == 1 ? "" : "s")\n"
        for ring in report.rings {
            let indices = ring.readerIndex.map { "reader \($0), writer \(ring.writerIndex ?? 0)" } ?? "not readable"
            out += "  \(ring.name) ring at \(ring.offset): \(indices), \(ring.recordsChecked) records checked, flag formula \(ring.flagFormula)\n"
        }
        out += "  dictionary: \(report.dictionaryEntries) entries\n"
        guard !report.findings.isEmpty else { return out }
        let rows = report.findings.map { [$0.rule.rawValue, $0.level, $0.severity.rawValue, String($0.offset), "\($0.message)  (\(links.url(for: $0.rule)))"] }
        let header = ["RULE", "LEVEL", "SEVERITY", "OFFSET", "MESSAGE"]
        let widths = (0..<4).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "  " + (0..<4).map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + cells[4] + "\n"
        }
        out += line(header)
        for row in rows { out += line(row) }
        return out
    }

    static func json(_ reports: [CheckReport], links: RuleLinks) -> String {
        let files: [[String: Any]] = reports.map { report in
            [
                "file": report.file,
                "size": report.size,
                "passed": report.passed,
                "dictionary_entries": report.dictionaryEntries,
                "rings": report.rings.map { ring -> [String: Any] in
                    var object: [String: Any] = ["name": ring.name, "offset": ring.offset, "records_checked": ring.recordsChecked, "flag_formula": ring.flagFormula]
                    if let reader = ring.readerIndex { object["reader_index"] = reader }
                    if let writer = ring.writerIndex { object["writer_index"] = writer }
                    return object
                },
                "findings": report.findings.map { finding -> [String: Any] in
                    ["rule": finding.rule.rawValue, "level": finding.level, "severity": finding.severity.rawValue,
                     "offset": finding.offset, "message": finding.message, "rule_url": links.url(for: finding.rule)]
                },
            ]
        }
        let document: [String: Any] = ["passed": reports.allSatisfy(\.passed), "files": files]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// One test suite per file, one test case per rule of the spec: failed when the file breaks a
    /// MUST rule, with warnings (SHOULD rules, holes) in the case's system-out.
    static func junit(_ reports: [CheckReport], links: RuleLinks) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = reports.reduce(0) { total, report in total + Set(report.errors.map(\.rule)).count }
        out += "<testsuites name=\"otlp-mmap conform check\" tests=\"\(reports.count * RuleCatalogue.all.count)\" failures=\"\(failures)\">\n"
        for report in reports {
            let failed = Set(report.errors.map(\.rule))
            out += "  <testsuite name=\"\(escape(report.file))\" tests=\"\(RuleCatalogue.all.count)\" failures=\"\(failed.count)\">\n"
            for rule in RuleCatalogue.all {
                let findings = report.findings.filter { $0.rule == rule.id }
                out += "    <testcase classname=\"\(escape(report.file))\" name=\"\(rule.id.rawValue)\">"
                out += "<properties><property name=\"rule_url\" value=\"\(escape(links.url(for: rule.id)))\"/></properties>"
                if failed.contains(rule.id) {
                    let messages = findings.filter { $0.severity == .error }.map { "byte \($0.offset): \($0.message) (\(links.url(for: rule.id)))" }
                    out += "<failure message=\"\(escape(messages.first ?? ""))\" type=\"\(rule.level.rawValue)\">\(escape(messages.joined(separator: "\n")))</failure>"
                }
                let warnings = findings.filter { $0.severity == .warning }.map { "warning at byte \($0.offset): \($0.message)" }
                if !warnings.isEmpty { out += "<system-out>\(escape(warnings.joined(separator: "\n")))</system-out>" }
                out += "</testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
