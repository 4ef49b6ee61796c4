import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import TestSupport

/// A writer process is killed with SIGKILL while writing; every record it had published is read
/// intact afterwards by this process, which mapped the same file.
@Suite struct CrashSurvivalTests {
    /// What one run observed: per ring, per writer thread, the record numbers read.
    struct Observed {
        var spanStarts: [Int: [Int]] = [:]
        var events: [Int: [Int]] = [:]
        var requests: [Int: [Int]] = [:]
        var records = 0
        var recordsPerRing: [RingKind: Int] = [:]
        /// writer_index + 1 after the kill: every sequence a producer claimed.
        var claimed: [RingKind: Int] = [:]
        /// Claimed sequences never published: the writer died between claim and publish.
        var unpublished: [RingKind: Int] = [:]
        var problems: [String] = []
    }

    @Test func publishedRecordsSurviveAKillAtRandomMoments() async throws {
        var generator = SystemRandomNumberGenerator()
        for run in 0..<5 {
            let delay = Double.random(in: 0.05...0.4, using: &generator)
            let observed = try await killWriter(after: delay, run: run)
            #expect(observed.problems.isEmpty, "run \(run): \(observed.problems.prefix(5))")
            #expect(observed.records > 100, "run \(run): the writer should have written before the kill (\(observed.records))")
            for kind in RingKind.allCases {
                // Each of the 2 writer threads can have at most one claim in flight when it dies;
                // every other claimed sequence was published, and every published one was read.
                #expect((observed.unpublished[kind] ?? 0) <= 2, "run \(run), \(kind): \(observed.unpublished[kind] ?? 0) holes")
                #expect(observed.recordsPerRing[kind, default: 0] == observed.claimed[kind, default: 0] - observed.unpublished[kind, default: 0],
                        "run \(run), \(kind): read \(observed.recordsPerRing[kind, default: 0]) of \(observed.claimed[kind, default: 0]) claimed")
            }
            for (name, perThread) in [("span starts", observed.spanStarts), ("events", observed.events), ("measurements", observed.requests)] {
                for (thread, numbers) in perThread {
                    // One thread publishes in order, so what it published is 0..<n: a gap is a lost record.
                    #expect(numbers.sorted() == Array(0..<numbers.count), "run \(run), \(name), thread \(thread): lost or duplicated records")
                }
            }
        }
    }

    func killWriter(after delay: Double, run: Int) async throws -> Observed {
        let path = try TestSupport.temporaryDirectory("crash\(run)").appendingPathComponent("crash.otlpmmap").path
        let child = try TestSupport.start(["write", path, "--endless", "--threads", "2", "--num-buffers", "4096",
                                           "--buffer-size", "256", "--wait-ms", "20000"])
        let file = try await openWhenReady(path, child: child)
        var observed = Observed()
        var metricNames: [Int64: String] = [:]
        let killAt = ContinuousClock.now + .seconds(delay)
        // Consume while the writer runs, as a collector would.
        while ContinuousClock.now < killAt {
            var progressed = false
            for ring in file.rings {
                guard let (sequence, state) = try ring.next(), case .readable = state else { continue }
                inspect(file, ring, sequence, &observed, &metricNames)
                ring.markRead(sequence)
                progressed = true
            }
            if !progressed { try await Task.sleep(for: .microseconds(50)) }
        }
        kill(child.process.processIdentifier, SIGKILL)
        let result = await child.wait(timeout: 10)
        #expect(result.status == SIGKILL, "the writer should die by SIGKILL, not exit on its own: \(result.stderr)")
        // After the crash: every readable slot up to writer_index, past a slot the dead writer claimed
        // but never published.
        for ring in file.rings {
            let (reader, writer) = try ring.indices()
            var sequence = reader + 1
            observed.claimed[ring.kind] = Int(writer + 1)
            while sequence <= writer {
                if case .readable = ring.state(of: sequence) {
                    inspect(file, ring, sequence, &observed, &metricNames)
                } else {
                    observed.unpublished[ring.kind, default: 0] += 1
                }
                sequence += 1
            }
        }
        return observed
    }

    func openWhenReady(_ path: String, child: TestSupport.Child) async throws -> MmapFile {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            if let file = try? MmapFile.open(path: path, writable: true), file.startTimeUnixNano != 0,
               (try? file.dictionary.entries().count) ?? 0 >= 4 {
                return file
            }
            guard ContinuousClock.now < deadline, child.isRunning else {
                throw FormatError(.hdrSize, at: 0, "the writer did not create \(path): \(await child.wait(timeout: 1).stderr)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    func inspect(_ file: MmapFile, _ ring: Ring, _ sequence: Int64, _ observed: inout Observed, _ metricNames: inout [Int64: String]) {
        observed.records += 1
        observed.recordsPerRing[ring.kind, default: 0] += 1
        do {
            let (payload, offset) = try ring.copyRecord(sequence)
            switch ring.kind {
            case .spans:
                let record = try decodeGenerated(SpanEvent.self, payload, offset)
                guard record.traceId.count == 16, record.spanId.count == 8 else { throw FormatError(.recSpanId, at: offset, "bad ids") }
                if case .start(let start)? = record.event, !start.name.hasSuffix(".child") {
                    let (thread, number) = try numbers(start.name, offset)
                    observed.spanStarts[thread, default: []].append(number)
                }
            case .events:
                let record = try decodeGenerated(Event.self, payload, offset)
                guard case .stringValue(let text)? = record.body?.value else { throw FormatError(.slotDecode, at: offset, "no body") }
                let (thread, number) = try numbers(text, offset)
                observed.events[thread, default: []].append(number)
            case .measurements:
                let record = try decodeGenerated(Measurement.self, payload, offset)
                if metricNames[record.metricRef] == nil {
                    let (bytes, entryOffset) = try file.dictionary.payload(at: record.metricRef)
                    metricNames[record.metricRef] = try decodeGenerated(MetricRef.self, bytes, entryOffset).name
                }
                guard metricNames[record.metricRef] == "demo.requests" else { return }
                guard case .asLong(let number)? = record.value, case .intValue(let thread)? = record.attributes.first?.value?.value else {
                    throw FormatError(.slotDecode, at: offset, "measurement without value or thread")
                }
                observed.requests[Int(thread), default: []].append(Int(number))
            }
        } catch {
            observed.problems.append("\(ring.kind.name) \(sequence): \(error)")
        }
    }

    /// "demo-T-I" → (T, I).
    func numbers(_ name: String, _ offset: Int) throws -> (Int, Int) {
        let parts = name.split(separator: "-")
        guard parts.count == 3, let thread = Int(parts[1]), let number = Int(parts[2]) else {
            throw FormatError(.slotDecode, at: offset, "unexpected name \(name)")
        }
        return (thread, number)
    }
}
