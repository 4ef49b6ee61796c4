import Foundation
import OTLPMmapReceiver
import OTLPMmapTestee
import OTLPProto
@testable import OTLPMmapTestbed
import Testing
import TestSupport

/// `conform collector` (issue 20, first slice): the reference collector passes from a folder
/// outside the repository, over gRPC and over HTTP; collectors that export nothing, hang, crash
/// or cannot start get a failure naming the reader check, within the run's time bounds.
@Suite struct CollectorTestbedTests {
    static func testbed(_ arguments: [String], collector: [String]) async throws -> (status: Int32, json: JSON, seconds: Double) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let started = ContinuousClock.now
        let result = try await TestSupport.run(["conform", "collector", "--format", "json"] + arguments + ["--"] + collector, timeout: 300, directory: folder)
        let took = ContinuousClock.now - started
        return (result.status, try JSON(parsing: result.stdout), Double(took.components.seconds))
    }

    @Test(arguments: [["--exporter", "otlp-grpc", "--endpoint", "{grpc}"], ["--exporter", "otlp-http", "--endpoint", "{http}"]])
    func theReferenceCollectorPasses(_ exporter: [String]) async throws {
        let (status, json, _) = try await Self.testbed([], collector: [TestSupport.toolPath, "collect", "--file", "{file}"] + exporter)
        #expect(status == 0, "\(json)")
        let scenarios = json["scenarios"].array
        #expect(scenarios.compactMap { $0["name"].string } == ["content", "bad-slot", "hole", "empty-oneof"], "\(json)")
        #expect(scenarios.allSatisfy { $0["status"].string == "passed" }, "\(json)")
        #expect((scenarios.first?["records_read"].int ?? 0) >= 4, "\(json)")
    }

    /// The collector is also told through the environment, as upstream's collector is.
    @Test func theFileAndTheEndpointAreInTheEnvironmentToo() async throws {
        let script = "exec \"$0\" collect --file \"$SDK_MMAP_EXPORTER_FILE\" --exporter otlp-grpc --endpoint \"$OTEL_EXPORTER_OTLP_ENDPOINT\""
        let (status, json, _) = try await Self.testbed([], collector: ["/bin/sh", "-c", script, TestSupport.toolPath])
        #expect(status == 0, "\(json)")
    }

    /// A collector that reads nothing and ignores SIGTERM: what never arrived is READ-CONTENT, the
    /// hang READ-LIVENESS, and the run ends within its bounds.
    @Test func aCollectorThatExportsNothingAndHangsFailsInTime() async throws {
        let (status, json, seconds) = try await Self.testbed(["--scenario", "content", "--export-timeout", "2", "--stop-timeout", "1"],
                                                            collector: ["/bin/sh", "-c", "trap '' TERM; sleep 100"])
        #expect(status == 1)
        let checks = json["scenarios"][0]["checks"].array.compactMap(\.string)
        #expect(Set(checks) == ["READ-LIVENESS", "READ-CONTENT"], "\(json)")
        let failures = json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.contains { $0.contains("did not stop within 1.0 seconds of SIGTERM and was killed") }, "\(failures)")
        #expect(failures.contains { $0.contains("span 'checkout'") && $0.contains("never arrived") }, "\(failures)")
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

    /// Text and JUnit reports name the command they come from.
    @Test func reportsSayConformCollector() async throws {
        let text = try await TestSupport.run(["conform", "collector", "--scenario", "content", "--", "./no-such-collector"])
        #expect(text.status == 1)
        #expect(text.stdout.hasPrefix("conform collector: ./no-such-collector\n"), "\(text.stdout)")
        #expect(text.stdout.hasSuffix("0 passed, 1 failed, 0 skipped, 0 expected failures\n"), "\(text.stdout)")
        let junit = try await TestSupport.run(["conform", "collector", "--scenario", "content", "--format", "junit", "--", "./no-such-collector"])
        #expect(junit.stdout.contains("<testsuite name=\"otlp-mmap conform collector\"") && junit.stdout.contains("READ-LIVENESS"), "\(junit.stdout)")
    }

    @Test func aCollectorThatCrashesOrCannotStartIsNamed() async throws {
        let crashed = try await Self.testbed([], collector: ["/bin/sh", "-c", "echo 'reader: out of luck' >&2; exit 3"])
        #expect(crashed.status == 1)
        let failures = crashed.json["scenarios"][0]["failures"].array.compactMap(\.string)
        #expect(failures.first?.hasPrefix("READ-LIVENESS") == true && failures.first?.contains("exited with status 3 before it was asked to stop") == true, "\(failures)")
        #expect(failures.first?.contains("reader: out of luck") == true, "\(failures)")

        let missing = try await Self.testbed([], collector: ["./no-such-collector"])
        #expect(missing.status == 1)
        #expect(missing.json["scenarios"][0]["failures"].array.compactMap(\.string) == ["READ-LIVENESS: the collector cannot start ./no-such-collector: The operation could not be completed. The file doesn’t exist."]
                || missing.json["scenarios"][0]["checks"].array.compactMap(\.string) == ["READ-LIVENESS"], "\(missing.json)")
    }
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
