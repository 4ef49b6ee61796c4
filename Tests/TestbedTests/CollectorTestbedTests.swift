import Foundation
import OTLPMmapReceiver
import OTLPMmapTestee
import OTLPProto
@testable import OTLPMmapTestbed
import Testing
import TestSupport

/// `conform collector`: the reference collector passes every built-in scenario from a folder
/// outside the repository, over gRPC and over HTTP; each planted collector defect is reported by the
/// check that names it; collectors that export nothing, hang, crash or cannot start get a failure
/// naming the reader check, within the run's time bounds.
@Suite struct CollectorTestbedTests {
    static func testbed(_ arguments: [String], collector: [String]) async throws -> (status: Int32, json: JSON, seconds: Double) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let started = ContinuousClock.now
        let result = try await TestSupport.run(["conform", "collector", "--format", "json"] + arguments + ["--"] + collector, timeout: 300, directory: folder)
        let took = ContinuousClock.now - started
        guard let json = try? JSON(parsing: result.stdout) else {
            // A crash report's head names the fault and the crashed thread's frames; its tail is registers.
            let crash = result.stderr.split(separator: "\n").filter { $0.contains("crashed") || $0.contains("Fatal error") || $0.contains(" at /") }.prefix(30)
            throw ReportMissing("conform collector printed no JSON report (status \(result.status)): \(result.stdout.prefix(2000))\n\(crash.joined(separator: "\n"))\n\(result.stderr.prefix(3000))")
        }
        return (result.status, json, Double(took.components.seconds))
    }

    /// The scenario files in the repository: the built-in list is exactly those.
    static func scenarioFiles() throws -> [String] {
        let folder = TestSupport.repositoryRoot.appendingPathComponent("scenarios/collectors")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
            .map { String($0.dropLast(".yaml".count)) }.sorted()
    }

    @Test func everyScenarioFileIsBuiltInAndLoads() throws {
        let files = try Self.scenarioFiles()
        #expect(files.count >= 16, "\(files)")
        let loaded = try TestbedScriptLoader.builtIn()
        #expect(loaded.map(\.name).sorted() == files)
        #expect(CollectorTestbed.scenarioNames.sorted() == files)
        // Every scenario is about one reader check at least (its own, or the one a step names).
        #expect(loaded.allSatisfy { !$0.description.isEmpty }, "\(loaded.map(\.name))")
    }

    /// A scenario author's mistake is an error naming the file and what is wrong, never a crash.
    @Test(arguments: [
        ("name: x\nsteps:\n  - hole: {ring: disks}\n", "ring is spans, events or measurements"),
        ("name: x\nsteps:\n  - receiver: {refuse: 1, shout: 2}\n", "receiver: unknown key 'shout'"),
        ("name: x\nsteps:\n  - wait_arrived: {within_ms: 10, check: READ-NOTHING-AT-ALL}\n", "'READ-NOTHING-AT-ALL' is no reader check"),
        ("name: x\nsteps:\n  - kill_collector\n  - kill_collector\n", "the collector is not running"),
        ("name: x\nsteps: [\n", "bad.yaml"),
    ])
    func aBrokenScenarioIsAnErrorNamingWhatIsWrong(_ yaml: String, _ expected: String) {
        do {
            _ = try TestbedScriptLoader.load(yaml: yaml, source: "bad.yaml")
            Issue.record("loaded: \(yaml)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect("\(error)".contains("bad.yaml"), "\(error)")
        }
    }

    @Test(arguments: [["--exporter", "otlp-grpc", "--endpoint", "{grpc}"], ["--exporter", "otlp-http", "--endpoint", "{http}"]])
    func theReferenceCollectorPassesEveryScenario(_ exporter: [String]) async throws {
        let (status, json, _) = try await Self.testbed([], collector: [TestSupport.toolPath, "collect", "--file", "{file}"] + exporter)
        #expect(status == 0, "\(json)")
        let scenarios = json["scenarios"].array
        #expect(scenarios.compactMap { $0["name"].string }.sorted() == (try Self.scenarioFiles()), "\(json)")
        for scenario in scenarios {
            #expect(scenario["status"].string == "passed", "\(scenario)")
            #expect(scenario["warnings"].array.isEmpty, "\(scenario)")
            #expect((scenario["records_read"].int ?? 0) >= 1, "\(scenario)")
        }
    }

    /// Each planted defect of the reference collector (`collect --bug`) is found by the check
    /// that names it, in the scenario about it, and by no other check; the same scenarios pass
    /// without the defect (above). READ-SIGNALS-APART is a SHOULD: a warning.
    @Test(arguments: [
        ("stall-at-hole", "hole", ["READ-SKIP-HOLE"]),
        ("stop-at-bad-slot", "bad-slot", ["READ-SKIP-BAD"]),
        ("crash-on-empty-oneof", "empty-oneof", ["READ-EMPTY-ONEOF", "READ-LIVENESS"]),
        ("release-before-export", "restart", ["READ-AT-LEAST-ONCE"]),
        // The span open across the kill arrives as an end without its start: its start is lost.
        ("ignore-checkpoint", "restart", ["READ-AT-LEAST-ONCE"]),
        ("ignore-reset", "reset", ["READ-FOLLOW-RESET"]),
        ("retry-at-once", "outage", ["READ-RETRY"]),
        ("resend-partial", "partial-success", ["READ-PARTIAL-SUCCESS"]),
        ("hold-slots", "spans", ["READ-KEEP-UP"]),
        ("one-queue", "one-signal-refused", []),
    ] as [(String, String, Set<String>)])
    func eachPlantedDefectIsFoundByItsCheck(_ bug: String, _ scenario: String, _ checks: Set<String>) async throws {
        try await TestSupport.oneHeavyAtATime {
            let (status, json, _) = try await Self.testbed(["--scenario", scenario, "--export-timeout", "5", "--stop-timeout", "5"],
                                                          collector: [TestSupport.toolPath, "collect", "--file", "{file}", "--exporter", "otlp-grpc",
                                                                      "--endpoint", "{grpc}", "--bug", bug])
            let result = json["scenarios"][0]
            let failures = result["failures"].array.compactMap(\.string)
            let failed = Set(failures.compactMap { $0.split(separator: ":").first.map(String.init) })
            #expect(failed == checks, "\(bug): \(failures)")
            #expect(status == (checks.isEmpty ? 0 : 1), "\(json)")
            if bug == "one-queue" {
                let warnings = result["warnings"].array.compactMap(\.string)
                #expect(warnings.contains { $0.hasPrefix("READ-SIGNALS-APART:") }, "\(result)")
            }
            if bug == "retry-at-once" {
                // Hundreds of early retries are one line per signal, with their count.
                #expect(failures.count <= 3 && failures.contains { $0.contains("more times)") }, "\(failures)")
            }
        }
    }

    /// The collector is also told through the environment, as upstream's collector is:
    /// `otlp-mmap collect` with no argument takes the file, the endpoint and the protocol from it.
    @Test func theFileTheEndpointAndTheProtocolAreInTheEnvironmentToo() async throws {
        let (status, json, _) = try await Self.testbed(["--scenario", "spans", "--scenario", "logs", "--scenario", "metrics"],
                                                      collector: [TestSupport.toolPath, "collect"])
        #expect(status == 0, "\(json)")
        #expect(json["scenarios"].array.count == 3, "\(json)")
        #expect(json["scenarios"].array.allSatisfy { $0["status"].string == "passed" }, "\(json)")
    }

    /// A collector that floods the receiver with what is not OTLP fails READ-WELL-FORMED-EXPORT
    /// (the first few named), and the run ends within its bounds.
    @Test func aCollectorThatSendsGarbageIsNamed() async throws {
        let flood = """
            import sys, time, urllib.request
            for i in range(50):
                request = urllib.request.Request(sys.argv[1] + "/v1/traces", data=bytes([0xFF, 0x00, i % 256]) * 7,
                                                 headers={"Content-Type": "application/x-protobuf"})
                try:
                    urllib.request.urlopen(request, timeout=60)
                except Exception:
                    pass
            time.sleep(100)
            """
        let (status, json, seconds) = try await Self.testbed(["--scenario", "spans", "--export-timeout", "3", "--stop-timeout", "1"],
                                                            collector: ["python3", "-c", flood, "{http}"])
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        let garbage = failures.filter { $0.hasPrefix("READ-WELL-FORMED-EXPORT: the collector sent what is not an OTLP export") }
        #expect((1...5).contains(garbage.count), "\(failures)")
        #expect(seconds < 60, "took \(seconds) s")
    }

    /// A collector whose memory grows past the bound fails READ-BOUNDED-MEMORY (here one that
    /// holds 300 MiB and exports nothing, against a bound of 100 MiB); the reference collector
    /// stays under the same bound.
    @Test func aCollectorThatGrowsPastTheBoundIsNamed() async throws {
        let hog = ["python3", "-c", "import time\nx = b'm' * (300 << 20)\ntime.sleep(100)"]
        let (status, json, _) = try await Self.testbed(["--scenario", "spans", "--export-timeout", "60", "--stop-timeout", "1", "--max-rss-mb", "100"], collector: hog)
        #expect(status == 1)
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.hasPrefix("READ-BOUNDED-MEMORY: the collector's resident memory reached") && $0.contains("past the bound of 100 MiB") }, "\(failures)")
        let reference = try await Self.testbed(["--scenario", "volume", "--max-rss-mb", "100"], collector: [TestSupport.toolPath, "collect"])
        #expect(reference.status == 0, "\(reference.json)")
    }

    /// `--load`: the reference collector holds a modest rate with nothing dropped or lost, and the
    /// report carries its CPU, memory and latency; a collector that exports nothing holds no rate.
    @Test func theLoadReportMeasuresTheCollector() async throws {
        try await TestSupport.oneHeavyAtATime {
            let (status, json, _) = try await Self.testbed(["--load", "300", "--duration", "2"], collector: [TestSupport.toolPath, "collect"])
            #expect(status == 0, "\(json)")
            let row = json["rates"][0]
            #expect(row["rate"].int == 300 && (row["written"].int ?? 0) >= 500, "\(json)")
            #expect(row["dropped"].int == 0 && row["lost"].int == 0 && row["held"].bool == true, "\(json)")
            #expect((row["cpu_percent"].double ?? 0) > 0 && (row["peak_rss_bytes"].int ?? 0) > 1 << 20, "\(json)")
            #expect((row["latency_p50_ms"].double ?? -1) >= 0 && (row["latency_p99_ms"].double ?? -1) >= (row["latency_p50_ms"].double ?? 0), "\(json)")
            #expect(json["highest_rate_held"].int == 300, "\(json)")

            let idle = try await Self.testbed(["--load", "300", "--duration", "1", "--export-timeout", "1", "--stop-timeout", "1"], collector: ["/bin/sleep", "100"])
            let lost = idle.json["rates"][0]
            #expect(lost["held"].bool == false && lost["lost"].int == lost["written"].int && (lost["written"].int ?? 0) > 0, "\(idle.json)")
            #expect(idle.json["highest_rate_held"].isNull, "\(idle.json)")
        }
    }

    /// A protocol `collect` cannot speak is an error naming the variable, not a silent debug export.
    @Test func anUnknownProtocolInTheEnvironmentIsAnError() async throws {
        let result = try await TestSupport.start(["collect", "--file", "/nonexistent/x.otlpmmap"],
                                                 environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"]).wait(timeout: 60)
        #expect(result.status != 0)
        #expect(result.stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL is 'http/json'"), "\(result.stderr)")
    }

    /// A collector that reads nothing and ignores SIGTERM: what never arrived is READ-CONTENT, the
    /// hang READ-LIVENESS, and the run ends within its bounds.
    @Test func aCollectorThatExportsNothingAndHangsFailsInTime() async throws {
        let (status, json, seconds) = try await Self.testbed(["--scenario", "spans", "--export-timeout", "2", "--stop-timeout", "1"],
                                                            collector: ["/bin/sh", "-c", "trap '' TERM; sleep 100"])
        #expect(status == 1)
        let checks = json["scenarios"][0]["checks"].array.compactMap(\.string)
        #expect(Set(checks) == ["READ-LIVENESS", "READ-CONTENT"], "\(json)")
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("did not stop within 1.0 seconds of SIGTERM and was killed") }, "\(failures)")
        #expect(failures.contains { $0.contains("span 'GET /cart/{id}'") && $0.contains("never arrived") }, "\(failures)")
        #expect(seconds < 60, "took \(seconds) s")
    }

    /// What a scenario is about names what never arrived: the span behind a bad slot is READ-SKIP-BAD,
    /// the one behind a hole READ-SKIP-HOLE, around an empty SpanEvent READ-EMPTY-ONEOF (here a
    /// "collector" that reads nothing at all).
    @Test func theRecordsBehindABadSlotOrAHoleNameTheirCheck() async throws {
        let (status, json, _) = try await Self.testbed(["--scenario", "bad-slot", "--scenario", "hole", "--scenario", "empty-oneof",
                                                        "--export-timeout", "1", "--stop-timeout", "1"],
                                                       collector: ["/bin/sleep", "100"])
        #expect(status == 1)
        let byScenario = Dictionary(uniqueKeysWithValues: json["scenarios"].array.map { ($0["name"].string ?? "", $0["checks"].array.compactMap(\.string)) })
        // Only those: `sleep` stops at the SIGTERM (it is started with no signal blocked; spawned by
        // Foundation from a cooperative thread it inherited a mask that blocked SIGTERM).
        #expect(byScenario["bad-slot"] == ["READ-SKIP-BAD"], "\(json)")
        #expect(byScenario["hole"] == ["READ-SKIP-HOLE"], "\(json)")
        #expect(byScenario["empty-oneof"] == ["READ-EMPTY-ONEOF"], "\(json)")
    }

    /// Text and JUnit reports name the command they come from; an unknown scenario is a usage error.
    @Test func reportsSayConformCollector() async throws {
        let text = try await TestSupport.run(["conform", "collector", "--scenario", "spans", "--", "./no-such-collector"])
        #expect(text.status == 1)
        #expect(text.stdout.hasPrefix("conform collector: ./no-such-collector\n"), "\(text.stdout)")
        #expect(text.stdout.hasSuffix("0 passed, 1 failed, 0 skipped, 0 expected failures\n"), "\(text.stdout)")
        let junit = try await TestSupport.run(["conform", "collector", "--scenario", "spans", "--format", "junit", "--", "./no-such-collector"])
        #expect(junit.stdout.contains("<testsuite name=\"otlp-mmap conform collector\"") && junit.stdout.contains("READ-LIVENESS"), "\(junit.stdout)")
        let unknown = try await TestSupport.run(["conform", "collector", "--scenario", "no-such-scenario", "--", "./no-such-collector"])
        #expect(unknown.status == 64, "\(unknown)")
        #expect(unknown.stderr.contains("no-such-scenario") && unknown.stderr.contains("spans"), "\(unknown.stderr)")
    }

    @Test func aCollectorThatCrashesOrCannotStartIsNamed() async throws {
        let crashed = try await Self.testbed(["--scenario", "spans"], collector: ["/bin/sh", "-c", "echo 'reader: out of luck' >&2; exit 3"])
        #expect(crashed.status == 1)
        let failures = crashed.json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.first?.hasPrefix("READ-LIVENESS") == true && failures.first?.contains("exited with status 3 before it was asked to stop") == true, "\(failures)")
        #expect(failures.first?.contains("reader: out of luck") == true, "\(failures)")

        let missing = try await Self.testbed(["--scenario", "spans"], collector: ["./no-such-collector"])
        #expect(missing.status == 1)
        #expect(missing.json["scenarios"][0]["checks"].array.compactMap(\.string) == ["READ-LIVENESS"], "\(missing.json)")
        #expect(missing.json["scenarios"][0]["failures"].array.compactMap(\.string).first?.contains("no-such-collector") == true, "\(missing.json)")
    }
}

struct ReportMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The comparison behind READ-CONTENT and READ-NOTHING-ELSE, on planted differences.
@Suite struct TestbedComparisonTests {
    static let span = ExpectedExport.Span(traceID: "0a", spanID: "01", name: "checkout", kind: 2, start: 1, end: 2, statusCode: 1,
                                          attributes: AttributeText.written([KeyValue(key: "owner", value: Value(value: .stringValue("Zo\u{EB}")))]))
    static let log = ExpectedExport.LogRecord(time: 5, severity: 13, body: "s:low stock", attributes: "")

    static func expected() -> ExpectedExport {
        var expected = ExpectedExport()
        expected.spans = [span]
        expected.logRecords = [log]
        expected.metrics["orders"] = .init(name: "orders", kind: .sum, temporality: 2, monotonic: true)
        expected.series[.init(metric: "orders", attributes: "")] = .init(count: 2, value: .int(5))
        return expected
    }

    static func arrived(spans: [ExpectedExport.Span], logs: [ExpectedExport.LogRecord], orders: [Int64]) -> ArrivedExport {
        var arrived = ArrivedExport()
        arrived.spans = spans
        arrived.logRecords = logs
        arrived.metrics["orders"] = .init(name: "orders", kind: .sum, temporality: 2, monotonic: true)
        arrived.points[.init(metric: "orders", attributes: "")] = orders.enumerated().map { .init(time: UInt64($0.offset), count: 1, value: .int($0.element)) }
        return arrived
    }

    @Test func whatArrivesAsWrittenPasses() {
        #expect(ExportComparison().failures(Self.expected(), Self.arrived(spans: [Self.span], logs: [Self.log], orders: [2, 5])).isEmpty)
    }

    @Test func eachDifferenceIsNamed() {
        var altered = Self.span
        // Canonically equivalent text, other bytes: an altered attribute.
        altered.attributes = AttributeText.written([KeyValue(key: "owner", value: Value(value: .stringValue("Zoe\u{308}")))])
        var stranger = Self.span
        stranger.spanID = "02"
        let failures = ExportComparison().failures(Self.expected(), Self.arrived(spans: [altered, altered, stranger], logs: [], orders: [5, 4]))
        let lines = failures.map(\.description)
        #expect(lines.contains { $0.hasPrefix("READ-CONTENT: span 'checkout' (span_id 01) arrived altered: attributes expected") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("READ-NOTHING-ELSE: span 'checkout' (span_id 01) arrived 2 times") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("READ-NOTHING-ELSE: span 'checkout' (span_id 02) arrived, but the file holds no such span") }, "\(lines)")
        #expect(lines.contains { $0 == "READ-CONTENT: the log record s:low stock at 5 never arrived" }, "\(lines)")
        // Cumulative: the last point counts.
        #expect(lines.contains { $0 == "READ-CONTENT: the series 'orders' arrived as 4, but the measurements add up to 5" }, "\(lines)")
        // After a restart, a second copy is at least once.
        let restarted = ExportComparison(restarted: true).failures(Self.expected(), Self.arrived(spans: [Self.span, Self.span], logs: [Self.log], orders: [5]))
        #expect(restarted.isEmpty, "\(restarted)")
    }

    /// A request accepted twice unchanged is one export sent again (at least once): it counts once.
    /// The same span in another request is a duplicate.
    @Test func aResentRequestCountsOnceAnotherCopyIsADuplicate() async {
        func request(_ names: [String]) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
            var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scope.spans = names.map { name in
                var span = Opentelemetry_Proto_Trace_V1_Span()
                span.traceID = Data([0x0A])
                span.spanID = Data([0x01])
                span.name = name
                return span
            }
            var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resource.scopeSpans = [scope]
            var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
            request.resourceSpans = [resource]
            return request
        }
        let receiver = OTLPReceiver()
        _ = await receiver.answer(.traces(request(["checkout"])), via: .grpc)
        _ = await receiver.answer(.traces(request(["checkout"])), via: .grpc)
        #expect(ArrivedExport(receiver.received).spans.count == 1)
        _ = await receiver.answer(.traces(request(["checkout", "other"])), via: .grpc)
        var expected = ExpectedExport()
        expected.spans = [.init(traceID: "0a", spanID: "01", name: "checkout", kind: 0, start: 0, end: 0, statusCode: 0, attributes: "",
                                scope: ExpectedExport.scopeText(name: "", version: "", attributes: ""))]
        let lines = ExportComparison().failures(expected, ArrivedExport(receiver.received)).map(\.description)
        #expect(lines.contains { $0.hasPrefix("READ-NOTHING-ELSE: span 'checkout' (span_id 01) arrived 3 times") }, "\(lines)")
    }
}
