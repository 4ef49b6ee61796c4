import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// The result of one scenario against one writer.
public struct ScenarioResult: Sendable {
    public var scenario: String
    public var failures: [String]
    /// Rules the writer broke, from decoding while consuming and from the final static check.
    public var brokenRules: [RuleID]
    public var recordsRead: Int
    public var seconds: Double
    public var passed: Bool { failures.isEmpty }
}

/// `conform run`: starts a writer under test on a scenario, consumes its file while it writes, as a
/// collector would, and checks protocol behaviour and content. A writer that crashes, hangs or
/// writes garbage gets a failing result, never a hung runner.
public struct LiveRunner: Sendable {
    public var command: [String]
    /// How long a claimed slot may stay unpublished before it counts as a hole (RING-HOLE).
    public var holeTimeout: Double = 2
    /// Scales every scenario's timeout (tests make hanging writers fail fast).
    public var timeoutOverride: Double?

    public init(command: [String]) { self.command = command }

    public func run(_ scenario: Scenario) -> ScenarioResult {
        let started = Date()
        var result = ScenarioResult(scenario: scenario.name, failures: [], brokenRules: [], recordsRead: 0, seconds: 0)
        func fail(_ message: String, rule: RuleID? = nil) {
            result.failures.append(rule.map { "\($0): \(message)" } ?? message)
            if let rule, !result.brokenRules.contains(rule) { result.brokenRules.append(rule) }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-conform-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("writer.otlpmmap").path
        let process = Process()
        let output = folder.appendingPathComponent("output")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: command[0].hasPrefix("/") ? command[0] : Self.which(command[0]))
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging([
            "SDK_MMAP_EXPORTER_FILE": path, "OTLP_MMAP_SCENARIO": scenario.name, "OTLP_MMAP_SCENARIO_FILE": scenario.path,
        ]) { $1 }
        process.standardOutput = try? FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        do {
            try process.run()
        } catch {
            fail("cannot start \(command[0]): \(error.localizedDescription)")
            result.seconds = Date().timeIntervalSince(started)
            return result
        }
        let deadline = started.addingTimeInterval(timeoutOverride ?? scenario.timeoutSeconds)
        let truncationsBefore = TruncationGuard.events
        var actual: [RingKind: [JSONValue]] = [:]
        var timedOut = false

        // Wait for the file, then consume until the writer has exited and nothing more is readable.
        var file: MmapFile?
        var blocked: [RingKind: (sequence: Int64, since: Date)] = [:]
        var deadRings: Set<RingKind> = []
        while true {
            if Date() > deadline { timedOut = true; break }
            if file == nil {
                if let opened = try? MmapFile.open(path: path, writable: true), opened.startTimeUnixNano != 0 {
                    file = opened
                } else if !process.isRunning {
                    break
                } else {
                    usleep(1_000)
                    continue
                }
            }
            guard let file else { break }
            let resolver = ReferenceResolver(dictionary: file.dictionary)
            var progressed = false
            for ring in file.rings where !deadRings.contains(ring.kind) {
                let next: (sequence: Int64, state: SlotState)?
                do throws(FormatError) {
                    next = try ring.next()
                } catch {
                    fail("\(ring.kind.name) ring at byte \(error.offset): \(error.message)", rule: error.rule)
                    deadRings.insert(ring.kind)
                    continue
                }
                guard let (sequence, state) = next else { blocked[ring.kind] = nil; continue }
                guard case .readable = state else {
                    if let waiting = blocked[ring.kind], waiting.sequence == sequence {
                        if Date().timeIntervalSince(waiting.since) > holeTimeout {
                            fail("\(ring.kind.name) sequence \(sequence) was claimed but not published for \(holeTimeout) s", rule: .ringHole)
                            deadRings.insert(ring.kind)
                        }
                    } else {
                        blocked[ring.kind] = (sequence, Date())
                    }
                    continue
                }
                blocked[ring.kind] = nil
                do throws(FormatError) {
                    let value = try ring.decodeRecord(sequence)
                    let offset = ring.slotFileOffset(sequence)
                    for finding in FileChecker.recordFindings(value, at: offset) where finding.severity == .error {
                        fail("\(ring.kind.name) sequence \(sequence) at byte \(finding.offset): \(finding.message)", rule: finding.rule)
                    }
                    let rendered = resolver.render(value)
                    for problem in Self.referenceErrors(rendered) {
                        fail("\(ring.kind.name) sequence \(sequence): \(problem)", rule: RuleID(String(problem.prefix { $0 != " " })))
                    }
                    actual[ring.kind, default: []].append(rendered)
                } catch {
                    fail("\(ring.kind.name) sequence \(sequence) at byte \(error.offset): \(error.message)", rule: error.rule)
                }
                ring.markRead(sequence)
                result.recordsRead += 1
                progressed = true
            }
            if !progressed {
                if !process.isRunning && blocked.isEmpty { break }
                if !process.isRunning && blocked.allSatisfy({ deadRings.contains($0.key) }) { break }
                usleep(200)
            }
        }
        if TruncationGuard.events > truncationsBefore {
            fail("the file shrank while the runner read it (reads past its new end were caught and read as zeros)", rule: .hdrSectionBounds)
        }
        if process.isRunning {
            if timedOut { fail("the writer did not finish within \(timeoutOverride ?? scenario.timeoutSeconds) s and was killed") }
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let tail = log.split(separator: "\n").suffix(5).joined(separator: "\n")
        if !timedOut && process.terminationReason == .uncaughtSignal {
            fail("the writer died of signal \(process.terminationStatus)\(tail.isEmpty ? "" : ": \(tail)")")
        } else if !timedOut && process.terminationStatus != 0 {
            fail("the writer exited with status \(process.terminationStatus)\(tail.isEmpty ? "" : ": \(tail)")")
        }
        if file == nil && !FileManager.default.fileExists(atPath: path) {
            fail("the writer never created the file at $SDK_MMAP_EXPORTER_FILE")
        } else if let report = try? FileChecker.check(path: path) {
            if file == nil { fail("the writer's file never became readable") }
            for finding in report.errors where !result.brokenRules.contains(finding.rule) {
                fail("at byte \(finding.offset): \(finding.message)", rule: finding.rule)
            }
        }
        compare(scenario, actual, fail)
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    func compare(_ scenario: Scenario, _ actual: [RingKind: [JSONValue]], _ fail: (String, RuleID?) -> Void) {
        var matcher = RecordMatcher()
        // Spans first: they bind the labels that log records and measurements refer to.
        for kind in [RingKind.spans, .events, .measurements] {
            let expected = scenario.expected(kind)
            let records = actual[kind] ?? []
            if records.count != expected.count {
                fail("\(kind.name): read \(records.count) records, the scenario expects \(expected.count)", nil)
            }
            var reported = 0
            for (index, (record, expectation)) in zip(records, expected).enumerated() {
                let problems = matcher.match(kind, record, expectation)
                guard !problems.isEmpty else { continue }
                reported += 1
                if reported <= 5 { fail("\(kind.name) record \(index): \(problems.joined(separator: "; "))", nil) }
            }
            if reported > 5 { fail("\(kind.name): \(reported - 5) more records differ", nil) }
        }
    }

    /// References the resolver could not resolve show an "error" member that starts with the rule ID.
    static func referenceErrors(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let pairs):
            return pairs.flatMap { key, member -> [String] in
                if key == "error", case .string(let text) = member { return [text] }
                return referenceErrors(member)
            }
        case .array(let items):
            return items.flatMap(referenceErrors)
        default:
            return []
        }
    }

    static func which(_ name: String) -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return name
    }
}

extension ScenarioResult {
    /// Renders results as text, JSON or JUnit (one test case per scenario).
    public static func render(_ results: [ScenarioResult], format: ReportFormat, command: [String]) -> String {
        switch format {
        case .text:
            var out = "conform run: \(command.joined(separator: " "))\n"
            for result in results {
                out += "  \(result.passed ? "PASS" : "FAIL")  \(result.scenario)  (\(result.recordsRead) records, \(String(format: "%.2f", result.seconds)) s)\n"
                for failure in result.failures { out += "        \(failure)\n" }
            }
            let failed = results.filter { !$0.passed }.count
            return out + "\(results.count - failed) passed, \(failed) failed\n"
        case .json:
            let document: [String: Any] = [
                "command": command,
                "passed": results.allSatisfy(\.passed),
                "scenarios": results.map { ["name": $0.scenario, "passed": $0.passed, "failures": $0.failures,
                                            "rules": $0.brokenRules.map(\.rawValue), "records_read": $0.recordsRead, "seconds": $0.seconds] as [String: Any] },
            ]
            let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self) + "\n"
        case .junit:
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            out += "<testsuite name=\"otlp-mmap conform run\" tests=\"\(results.count)\" failures=\"\(results.filter { !$0.passed }.count)\">\n"
            for result in results {
                out += "  <testcase classname=\"conform run\" name=\"\(ReportFormat.escape(result.scenario))\" time=\"\(String(format: "%.3f", result.seconds))\">"
                if !result.passed {
                    out += "<failure message=\"\(ReportFormat.escape(result.failures.first ?? ""))\">\(ReportFormat.escape(result.failures.joined(separator: "\n")))</failure>"
                }
                out += "</testcase>\n"
            }
            return out + "</testsuite>\n"
        }
    }
}
