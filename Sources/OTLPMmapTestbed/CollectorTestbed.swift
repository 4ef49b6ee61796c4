import Foundation
import NIOPosix
import OTLPMmapConformance
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapReceiver
import OTLPMmapReferenceTestee
import OTLPMmapSDK
import OTLPMmapTestee

extension CollectorTestbed {
    /// The built-in scenarios (scenarios/collectors, compiled in); a test loads
    /// them all, so that a broken one fails the build's tests, not a user's run.
    static let loaded = Result { try TestbedScriptLoader.builtIn() }

    /// Throws the error that broke a built-in scenario, if one did.
    package static func checkBuiltInScenarios() throws { _ = try loaded.get() }

    static var builtIn: [TestbedScript] { (try? loaded.get()) ?? [] }

    package static var scenarioNames: [String] { builtIn.map(\.name) }

    /// Runs the named scenarios (all when `names` is nil), one after the other.
    package func run(scenarios names: [String]? = nil) async -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        for script in Self.builtIn where names?.contains(script.name) ?? true {
            results.append(await run(script))
        }
        return results
    }

    func run(_ script: TestbedScript) async -> ScenarioResult {
        var run = ScenarioRun(testbed: self, script: script)
        return await run.run()
    }
}

/// One scenario's run: the file, the writer, the receiver, the collector, and what was written.
struct ScenarioRun {
    let testbed: CollectorTestbed
    let script: TestbedScript
    let started = ContinuousClock.now
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-testbed-\(UUID().uuidString)")
    var path: String { folder.appendingPathComponent("testbed.otlpmmap").path }
    var result: ScenarioResult
    var expected = ExpectedExport()
    var testee: ReferenceTestee
    var collector: CollectorProcess?
    /// Set when the collector ended on its own: the remaining steps are skipped.
    var collectorEnded = false

    init(testbed: CollectorTestbed, script: TestbedScript) {
        self.testbed = testbed
        self.script = script
        result = ScenarioResult(scenario: script.name, failures: [], recordsRead: 0, unsupported: 0, notWritten: 0, seconds: 0)
        testee = ReferenceTestee(fullRingWait: testbed.fullRingWait)
    }

    mutating func fail(_ check: ReaderCheck, _ message: String) { result.failures.append(CheckFailure(check, message)) }

    mutating func run() async -> ScenarioResult {
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try await createFile()
        } catch {
            fail(.readLiveness, "the testbed could not create the scenario's file: \(error)")
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
            guard startCollector(places) else { return finish() }
            for step in script.steps {
                guard await perform(step, receiver: receiver, places: places) else { break }
                if endedOnItsOwn() { break }
            }
            if !collectorEnded {
                // Spans and log records are exported as they are read, metrics every
                // OTEL_METRIC_EXPORT_INTERVAL; a collector that ignores it is waited for here until
                // the export timeout, and passes if it exports them on the stop.
                _ = await waitArrived(receiver, signals: Set(OTLPSignal.allCases), within: testbed.exportTimeout)
                checkMemory()
                if !endedOnItsOwn(), let collector, !(await collector.stop(grace: testbed.stopTimeout)) {
                    fail(.readLiveness, "the collector did not stop within \(testbed.stopTimeout) of SIGTERM and was killed")
                }
            }
            for malformed in receiver.malformed.prefix(5) {
                fail(.readWellFormedExport, "the collector sent what is not an OTLP export: \(malformed)")
            }
            let arrived = ArrivedExport(receiver.received)
            result.recordsRead = arrived.recordCount
            result.notWritten = expected.notWritten
            let content = ExportComparison(missing: script.missing, restarted: script.restartsCollector).failures(expected, arrived)
            result.failures += content
            result.failures += ExchangeChecks.failures(receiver.received)
            // Slots still held matter only when what they held arrived (else the comparison says it once).
            if !collectorEnded, !content.contains(where: { [ReaderCheck.readContent.id, script.missing.id].contains($0.check) }),
               let writer = testee.writer {
                for kind in RingKind.allCases {
                    let ring = writer.file.ring(kind)
                    let (reader, written) = (ring.header.readerIndex, ring.header.writerIndex)
                    if reader < written {
                        fail(.readKeepUp, "the \(kind.name) ring's reader_index is \(reader) after the collector stopped, with \(written - reader) exported records (up to sequence \(written)) not handed back to writers")
                    }
                }
            }
            if !result.failures.isEmpty, let tail = collector?.errorTail, !tail.isEmpty { result.testeeStderrTail = tail }
            return finish()
        }
    }

    func finish() -> ScenarioResult {
        var result = result
        let elapsed = ContinuousClock.now - started
        result.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }

    // MARK: the collector

    mutating func startCollector(_ places: CollectorProcess.Places) -> Bool {
        do {
            collector = try CollectorProcess(command: testbed.command, places: places, folder: folder)
            return true
        } catch {
            fail(.readLiveness, "\(error)")
            collectorEnded = true
            return false
        }
    }

    /// Whether the collector ended without being asked (reported once, under READ-LIVENESS).
    /// READ-BOUNDED-MEMORY, from the collector's peak resident set (VmHWM) while it still runs;
    /// whether the collector is past the bound (now or before).
    @discardableResult
    mutating func checkMemory() -> Bool {
        if result.failures.contains(where: { $0.check == ReaderCheck.readBoundedMemory.id }) { return true }
        guard let peak = collector?.usage?.peakResidentBytes, peak > testbed.maxResidentBytes else { return false }
        fail(.readBoundedMemory, "the collector's resident memory reached \(peak >> 20) MiB, past the bound of \(testbed.maxResidentBytes >> 20) MiB")
        return true
    }

    mutating func endedOnItsOwn() -> Bool {
        guard !collectorEnded else { return true }
        guard let collector, let ending = collector.ending else { return false }
        collectorEnded = true
        let tail = collector.errorTail
        fail(.readLiveness, "the collector \(ending) before it was asked to stop\(tail.isEmpty ? "" : "; its standard error ended: \(tail)")")
        return true
    }

    // MARK: steps

    /// Carries out one step; false when the scenario cannot go on.
    mutating func perform(_ step: TestbedScript.Step, receiver: OTLPReceiver, places: CollectorProcess.Places) async -> Bool {
        switch step {
        case .write(let command):
            return await write(command)
        case .broken(let record):
            do { try writeBroken(record) } catch {
                fail(.readLiveness, "the testbed could not write the broken record \(record.rawValue): \(error)")
                return false
            }
        case .hole(let kind):
            guard testee.writer?.file.ring(kind).claim() != nil else {
                fail(.readKeepUp, "the \(kind.name) ring stayed full: the testbed could not claim a slot for a hole")
                return false
            }
        case .valueRefLog(let body, let key, let time):
            do { try writeValueRefLog(body: body, key: key, time: time) } catch {
                fail(.readLiveness, "the testbed could not write a log record with value_ref: \(error)")
                return false
            }
        case .receiver(let signals, let step):
            let policy = ReceiverPolicy(refuseNext: step.refuseNext, refuseUntil: step.refuseFor.map { ContinuousClock.now + $0 },
                                        retryAfter: step.retryAfter, rejectItems: step.rejectItems, delay: step.delay)
            for signal in signals { receiver.setPolicy(policy, for: signal) }
        case .waitArrived(let signals, let within, let check):
            if let missing = await waitArrived(receiver, signals: signals, within: within) {
                fail(check, missing)
            }
        case .sleep(let time):
            try? await Task.sleep(for: time)
        case .killCollector:
            checkMemory()
            await collector?.kill()
            collector = nil
        case .startCollector:
            return startCollector(places)
        case .recreateFile:
            // The old writer's mapping stays valid: the unlinked file lives on until it is unmapped.
            if unlink(path) != 0 {
                fail(.readLiveness, "the testbed could not remove the file to re-create it: \(String(cString: strerror(errno)))")
                return false
            }
            return await createFileOrFail()
        case .resetFile:
            return await createFileOrFail()
        }
        return true
    }

    mutating func createFileOrFail() async -> Bool {
        do { try await createFile() } catch {
            fail(.readLiveness, "the testbed could not create the file again: \(error)")
            return false
        }
        return true
    }

    /// Creates (or re-creates, or resets in place) the scenario's file through a new reference writer.
    mutating func createFile() async throws {
        var create = script.file
        create.path = path
        testee = ReferenceTestee(fullRingWait: testbed.fullRingWait)
        let command = Command(id: 0, command: .createFile(create))
        let reply = try await NIOThreadPool.singleton.runIfActive { [testee] in testee.perform(command) }
        guard reply.status == .ok else { throw TestbedError("create_file was answered \(reply.status.name ?? "\(reply.status.rawValue)"): \(reply.message)") }
        expected.add(command, reply)
    }

    /// A writer command, carried out off the cooperative pool (a full ring makes the writer wait).
    mutating func write(_ command: Command) async -> Bool {
        let reply: Reply
        do {
            reply = try await NIOThreadPool.singleton.runIfActive { [testee] in testee.perform(command) }
        } catch {
            fail(.readLiveness, "the testbed could not write: \(error)")
            return false
        }
        guard reply.status != .error, reply.status != .unsupported else {
            fail(.readLiveness, "the testbed's writer refused a step of the scenario (\(reply.message)): the scenario is wrong")
            return false
        }
        expected.add(command, reply)
        return true
    }

    func writeBroken(_ record: TestbedScript.BrokenRecord) throws {
        guard let writer = testee.writer else { throw TestbedError("no file") }
        let traceID = [UInt8](repeating: 0xA1, count: 16), spanID = [UInt8](repeating: 0xB2, count: 8)
        switch record {
        case .undecodable:
            // A length-delimited field whose length runs past the record's end.
            let bytes: [UInt8] = [0x0A, 0x10, 0x01, 0x02, 0x03]
            _ = try writer.file.ring(.spans).write(size: bytes.count) { out in bytes.withUnsafeBytes { out.writeRaw($0) } }
        case .spanEventWithoutEvent:
            _ = try writer.file.ring(.spans).write(OTLPMmapLayout.SpanEvent(traceId: traceID, spanId: spanID, scopeRef: writer.defaultScope.ref, event: nil))
        case .measurementWithoutValue:
            guard let metric = testee.metricRef(ofInstrument: script.instrumentOfBrokenMeasurement) else { throw TestbedError("the instrument was not defined") }
            _ = try writer.file.ring(.measurements).write(OTLPMmapLayout.Measurement(metricRef: metric, timeUnixNano: 1_700_000_000_000_000_000, value: nil))
        case .metricWithoutAggregation:
            let metric = try writer.metric(OTLPMmapLayout.MetricRef(name: "testbed.no-aggregation", instrumentationScopeRef: writer.defaultScope.ref, aggregation: nil))
            _ = try writer.file.ring(.measurements).write(OTLPMmapLayout.Measurement(metricRef: metric, timeUnixNano: 1_700_000_000_000_000_000, value: .asLong(1)))
        case .referenceOutOfRange:
            _ = try writer.file.ring(.events).write(OTLPMmapLayout.Event(scopeRef: 1 << 40, timeUnixNano: 1_700_000_000_000_000_000, severityNumber: .init(rawValue: 9)))
        case .truncatedVarint:
            // scope_ref (field 1, a varint) whose only byte says another follows.
            let bytes: [UInt8] = [0x08, 0x80]
            _ = try writer.file.ring(.events).write(size: bytes.count) { out in bytes.withUnsafeBytes { out.writeRaw($0) } }
        }
    }

    mutating func writeValueRefLog(body: String, key: String, time: UInt64) throws {
        guard let writer = testee.writer else { throw TestbedError("no file") }
        let dictionary = writer.file.dictionary
        let value = try dictionary.append(OTLPMmapLayout.AnyValue(value: .stringValue(body)))
        let keyRef = try dictionary.appendString(key)
        let reference = OTLPMmapLayout.AnyValue(value: .valueRef(value))
        _ = try writer.file.ring(.events).write(OTLPMmapLayout.Event(
            scopeRef: writer.defaultScope.ref, timeUnixNano: time, severityNumber: .init(rawValue: 9), body: reference,
            attributes: [OTLPMmapLayout.KeyValueRef(keyRef: keyRef, value: reference)]))
        let text = "s:" + AttributeText.quoted(body)
        expected.logRecords.append(.init(time: time, severity: 9, body: text, attributes: "\(AttributeText.quoted(key))=\(text)",
                                         scope: ExpectedExport.defaultScope))
    }

    /// Waits until everything written so far for `signals` has arrived, or `within` has passed, or
    /// the collector ended. Nil when it arrived; else what is missing, with what the ring indices
    /// show of the collector's reading.
    mutating func waitArrived(_ receiver: OTLPReceiver, signals: Set<OTLPSignal>, within: Duration) async -> String? {
        let deadline = ContinuousClock.now + within
        let before = readerIndices()
        while true {
            let arrived = ArrivedExport(receiver.received)
            if ExportComparison.complete(expected, arrived, signals: signals) { return nil }
            // A collector past its memory bound has failed: waiting longer tells nothing more.
            let overMemory = checkMemory()
            if endedOnItsOwn() || overMemory || ContinuousClock.now >= deadline {
                let names = signals.map(\.rawValue).sorted().joined(separator: ", ")
                var missing = "what the file holds (\(names)) had not all arrived \(overMemory ? "when the collector passed its memory bound" : "within \(within)")"
                missing += ": \(arrived.spans.count) of \(expected.spans.count) spans, \(arrived.logRecords.count) of \(expected.logRecords.count) log records, \(arrived.points.count) of \(expected.series.count) metric series"
                let after = readerIndices()
                let stalled = RingKind.allCases.filter { kind in before[kind] == after[kind] && (after[kind] ?? 0) < (writerIndices()[kind] ?? 0) }
                if !stalled.isEmpty {
                    missing += "; the collector did not read on: reader_index of \(stalled.map(\.name).joined(separator: ", ")) stayed at \(stalled.map { "\(after[$0] ?? 0)" }.joined(separator: ", ")) with records behind it"
                }
                return missing
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func readerIndices() -> [RingKind: Int64] {
        guard let writer = testee.writer else { return [:] }
        return Dictionary(uniqueKeysWithValues: RingKind.allCases.map { ($0, writer.file.ring($0).header.readerIndex) })
    }

    func writerIndices() -> [RingKind: Int64] {
        guard let writer = testee.writer else { return [:] }
        return Dictionary(uniqueKeysWithValues: RingKind.allCases.map { ($0, writer.file.ring($0).header.writerIndex) })
    }
}

/// Checks of how the collector talked to the receiver: retries no sooner than asked (READ-RETRY),
/// partial successes not sent again (READ-PARTIAL-SUCCESS).
enum ExchangeChecks {
    static let timingSlack: Duration = .milliseconds(20)

    /// One failure per check and signal, the first seen, with how many more there were: a
    /// collector that retries at once for seconds would otherwise fill the report.
    static func failures(_ exports: [ReceivedExport]) -> [CheckFailure] {
        var firsts: [(key: String, failure: CheckFailure)] = [], more: [String: Int] = [:]
        for (failure, signal) in allFailures(exports) {
            let key = "\(failure.check) \(signal)"
            if more[key] == nil {
                firsts.append((key, failure))
                more[key] = 0
            } else {
                more[key]! += 1
            }
        }
        return firsts.map { first in
            let extra = more[first.key] ?? 0
            return extra == 0 ? first.failure : CheckFailure(first.failure.check, first.failure.message + " (and \(extra) more time\(extra == 1 ? "" : "s"))")
        }
    }

    private static func allFailures(_ exports: [ReceivedExport]) -> [(CheckFailure, OTLPSignal)] {
        var failures: [(CheckFailure, OTLPSignal)] = []
        for (index, export) in exports.enumerated() {
            switch export.answer {
            case .refused(let retryAfter?):
                // The same request sent again must come no sooner than asked. Both times are taken
                // as the receiver handles the requests, so a few milliseconds of its own scheduling
                // are allowed for (`timingSlack`); HTTP's Retry-After rounds up to whole seconds.
                guard let again = exports[(index + 1)...].first(where: { $0.request == export.request }) else { continue }
                let waited = again.arrived - export.arrived
                if waited + timingSlack < retryAfter {
                    failures.append((CheckFailure(.readRetry, "a \(export.request.signal.rawValue) export refused with a retry delay of \(retryAfter) was sent again after \(waited)"), export.request.signal))
                }
            case .accepted(let rejected) where rejected > 0:
                if exports[(index + 1)...].contains(where: { $0.request == export.request }) {
                    failures.append((CheckFailure(.readPartialSuccess, "a \(export.request.signal.rawValue) export answered partial_success (\(rejected) rejected) was sent again"), export.request.signal))
                }
            default:
                continue
            }
        }
        return failures
    }
}
