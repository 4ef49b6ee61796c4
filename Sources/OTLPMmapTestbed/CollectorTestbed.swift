import Foundation
import OTLPMmapConformance
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapReceiver
import OTLPMmapSDK
import OTLPProto

/// `conform collector`: runs a collector under test between a file the testbed writes and a real
/// OTLP receiver the testbed hosts, and checks what arrives against what was written. Every
/// failure names a check of spec/readers.yaml (`ReaderCheck`). A collector that cannot start,
/// crashes, hangs or stops exporting fails within the scenario's time bounds; the testbed never
/// waits longer than `exportTimeout` + `stopTimeout` per scenario.
package struct CollectorTestbed: Sendable {
    package var command: [String]
    /// How long the testbed waits for everything written to arrive.
    package var exportTimeout: Duration = .seconds(30)
    /// How long the collector may take to stop after SIGTERM (then SIGKILL).
    package var stopTimeout: Duration = .seconds(10)

    package init(command: [String]) { self.command = command }

    package static var scenarioNames: [String] { TestbedScenario.all.map(\.name) }

    /// Runs the named scenarios (all when `names` is nil), one after the other.
    package func run(scenarios names: [String]? = nil) async -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        for scenario in TestbedScenario.all where names?.contains(scenario.name) ?? true {
            results.append(await run(scenario))
        }
        return results
    }

    func run(_ scenario: TestbedScenario) async -> ScenarioResult {
        let started = ContinuousClock.now
        var result = ScenarioResult(scenario: scenario.name, failures: [], recordsRead: 0, unsupported: 0, notWritten: 0, seconds: 0)
        func fail(_ check: ReaderCheck, _ message: String) { result.failures.append(CheckFailure(check, message)) }
        func finish() -> ScenarioResult {
            result.seconds = Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            return result
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-testbed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("testbed.otlpmmap").path
        let writer: TelemetryWriter
        let expected: ExpectedExport
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            writer = try TelemetryWriter(configuration: WriterConfiguration(path: path, resource: [Attribute("service.name", "otlp-mmap-testbed")]))
            expected = try scenario.write(writer)
        } catch {
            fail(.readLiveness, "the testbed could not write the scenario's file: \(error)")
            return finish()
        }

        let receiver = OTLPReceiver()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await receiver.run() }
            defer { group.cancelAll() }
            let ports: OTLPReceiver.Ports
            do {
                ports = try await receiver.ports
            } catch {
                fail(.readLiveness, "the testbed's receiver could not listen: \(error)")
                return finish()
            }
            let places = CollectorProcess.Places(file: path, grpc: "http://127.0.0.1:\(ports.grpc)", http: "http://127.0.0.1:\(ports.http)")
            let collector: CollectorProcess
            do {
                collector = try CollectorProcess(command: command, places: places, folder: folder)
            } catch {
                fail(.readLiveness, "\(error)")
                return finish()
            }
            // Spans and log records are exported as they are read; metrics at the latest on the stop.
            let deadline = ContinuousClock.now + exportTimeout
            while collector.isRunning, ContinuousClock.now < deadline {
                let arrived = Arrived(receiver)
                if arrived.spans.count >= expected.spans.count && arrived.logRecords.count >= expected.logRecords.count { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            if let ending = collector.ending {
                let tail = collector.errorTail
                fail(.readLiveness, "the collector \(ending) before it was asked to stop\(tail.isEmpty ? "" : "; its standard error ended: \(tail)")")
            } else if !(await collector.stop(grace: stopTimeout)) {
                fail(.readLiveness, "the collector did not stop within \(stopTimeout) of SIGTERM and was killed")
            }
            for malformed in receiver.malformed.prefix(5) {
                fail(.readWellFormedExport, "the collector sent what is not an OTLP export: \(malformed)")
            }
            let arrived = Arrived(receiver)
            result.recordsRead = arrived.spans.count + arrived.logRecords.count + arrived.sums.count
            let content = Self.compare(expected, arrived, missing: scenario.missing)
            result.failures += content
            // Slots still held matter only when what they held arrived (else READ-CONTENT says it once).
            for kind in RingKind.allCases where !content.contains(where: { [ReaderCheck.readContent.id, scenario.missing.id].contains($0.check) }) {
                let ring = writer.file.ring(kind)
                let (reader, written) = (ring.header.readerIndex, ring.header.writerIndex)
                if reader < written {
                    fail(.readKeepUp, "the \(kind.name) ring's reader_index is \(reader) after the collector stopped, with \(written - reader) exported records (up to sequence \(written)) not handed back to writers")
                }
            }
            if !result.failures.isEmpty {
                let tail = collector.errorTail
                if !tail.isEmpty { result.testeeStderrTail = tail }
            }
            return finish()
        }
    }

    /// What the receiver accepted, in the expected form.
    struct Arrived {
        var spans: [ExpectedExport.Span] = []
        var logRecords: [ExpectedExport.LogRecord] = []
        var sums: [String: Int64] = [:]

        init(spans: [ExpectedExport.Span] = [], logRecords: [ExpectedExport.LogRecord] = [], sums: [String: Int64] = [:]) {
            (self.spans, self.logRecords, self.sums) = (spans, logRecords, sums)
        }

        /// A request accepted twice with the same content is one export sent again (after a timeout
        /// on its answer, say): at least once allows that, so it counts once.
        init(_ receiver: OTLPReceiver) {
            var traces: [Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest] = []
            var logs: [Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest] = []
            var metrics: [Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest] = []
            for export in receiver.received {
                guard case .accepted = export.answer else { continue }
                switch export.request {
                case .traces(let request) where traces.contains(request): continue
                case .logs(let request) where logs.contains(request): continue
                case .metrics(let request) where metrics.contains(request): continue
                case .traces(let request): traces.append(request)
                case .logs(let request): logs.append(request)
                case .metrics(let request): metrics.append(request)
                }
                switch export.request {
                case .traces(let request):
                    for span in request.resourceSpans.flatMap({ $0.scopeSpans.flatMap(\.spans) }) {
                        spans.append(.init(traceID: AttributeText.hex(Array(span.traceID)), spanID: AttributeText.hex(Array(span.spanID)),
                                           parentSpanID: AttributeText.hex(Array(span.parentSpanID)), name: span.name, kind: span.kind.rawValue,
                                           start: span.startTimeUnixNano, end: span.endTimeUnixNano, statusCode: span.status.code.rawValue,
                                           statusMessage: span.status.message, attributes: AttributeText.received(span.attributes)))
                    }
                case .logs(let request):
                    for record in request.resourceLogs.flatMap({ $0.scopeLogs.flatMap(\.logRecords) }) {
                        logRecords.append(.init(time: record.timeUnixNano, severity: record.severityNumber.rawValue,
                                                body: record.body.stringValue, attributes: AttributeText.received(record.attributes)))
                    }
                case .metrics(let request):
                    for metric in request.resourceMetrics.flatMap({ $0.scopeMetrics.flatMap(\.metrics) }) {
                        if case .sum(let sum)? = metric.data, let last = sum.dataPoints.last { sums[metric.name] = last.asInt }
                    }
                }
            }
        }
    }

    /// READ-CONTENT for what is missing or altered, READ-NOTHING-ELSE for what is extra or twice.
    /// `missing`: the check a record that never arrived fails (the one the scenario is about).
    static func compare(_ expected: ExpectedExport, _ arrived: Arrived, missing: ReaderCheck = .readContent) -> [CheckFailure] {
        var failures: [CheckFailure] = []
        for span in expected.spans {
            let matching = arrived.spans.filter { $0.spanID == span.spanID && $0.traceID == span.traceID }
            guard let got = matching.first else {
                failures.append(CheckFailure(missing, "span '\(span.name)' (span_id \(span.spanID)) never arrived"))
                continue
            }
            if matching.count > 1 { failures.append(CheckFailure(.readNothingElse, "span '\(span.name)' (span_id \(span.spanID)) arrived \(matching.count) times")) }
            for difference in differences(span, got) {
                failures.append(CheckFailure(.readContent, "span '\(span.name)' (span_id \(span.spanID)) arrived altered: \(difference)"))
            }
        }
        for extra in arrived.spans where !expected.spans.contains(where: { $0.spanID == extra.spanID && $0.traceID == extra.traceID }) {
            failures.append(CheckFailure(.readNothingElse, "span '\(extra.name)' (span_id \(extra.spanID)) arrived, but the file holds no such span"))
        }
        for record in expected.logRecords {
            let matching = arrived.logRecords.filter { $0.time == record.time && $0.body == record.body }
            guard let got = matching.first else {
                failures.append(CheckFailure(missing, "the log record '\(record.body)' at \(record.time) never arrived"))
                continue
            }
            if matching.count > 1 { failures.append(CheckFailure(.readNothingElse, "the log record '\(record.body)' at \(record.time) arrived \(matching.count) times")) }
            if got != record { failures.append(CheckFailure(.readContent, "the log record '\(record.body)' at \(record.time) arrived altered: expected \(record), got \(got)")) }
        }
        for extra in arrived.logRecords where !expected.logRecords.contains(where: { $0.time == extra.time && $0.body == extra.body }) {
            failures.append(CheckFailure(.readNothingElse, "a log record '\(extra.body)' at \(extra.time) arrived, but the file holds no such record"))
        }
        for (name, value) in expected.sums.sorted(by: { $0.key < $1.key }) {
            guard let got = arrived.sums[name] else {
                failures.append(CheckFailure(missing, "the sum '\(name)' never arrived"))
                continue
            }
            if got != value { failures.append(CheckFailure(.readContent, "the sum '\(name)' arrived as \(got), but the measurements add up to \(value)")) }
        }
        return failures
    }

    static func differences(_ expected: ExpectedExport.Span, _ got: ExpectedExport.Span) -> [String] {
        var out: [String] = []
        func check<Value: Equatable>(_ field: String, _ want: Value, _ have: Value) {
            if want != have { out.append("\(field) expected \(want), got \(have)") }
        }
        check("name", expected.name, got.name)
        check("parent_span_id", expected.parentSpanID, got.parentSpanID)
        check("kind", expected.kind, got.kind)
        check("start_time_unix_nano", expected.start, got.start)
        check("end_time_unix_nano", expected.end, got.end)
        check("status.code", expected.statusCode, got.statusCode)
        check("status.message", expected.statusMessage, got.statusMessage)
        check("attributes", expected.attributes, got.attributes)
        return out
    }
}
