import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import TestSupport

/// Many threads recording at once: nothing lost, nothing duplicated, each dictionary entry once.
@Suite struct ConcurrencyTests {
    /// Runs `body(thread)` on `count` OS threads started together and waits for all of them,
    /// suspended rather than blocking a thread of the cooperative pool.
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async throws {
        try await TestSupport.offThePool { Self.runThreads(count, body) }
    }

    static func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for thread in 0..<count {
            done.enter()
            Thread {
                start.wait()
                body(thread)
                done.leave()
            }.start()
        }
        for _ in 0..<count { start.signal() }
        done.wait()
    }

    @Test func internedValuesAreWrittenOnceEvenWhenThreadsRace() async throws {
        let writer = try makeWriter()
        let entriesBefore = try writer.file.dictionary.entries().count
        let keys = (0..<50).map { "race.key.\($0)" }
        let results = Results()
        try await onThreads(8) { thread in
            for round in 0..<20 {
                // Every thread interns every key, scope and metric, in a different order.
                let ordered = thread % 2 == 0 ? keys : keys.reversed()
                let attributes = try? writer.attributes(ordered.map { Attribute($0, .int(Int64(round))) })
                let scope = try? writer.scope("race.scope", version: "1")
                let metric = try? writer.counter("race.metric", scope: scope)
                results.add(attributes?.count ?? -1, scope?.ref ?? -1, metric?.metricRef ?? -1)
            }
        }
        #expect(results.attributeCounts == [50])
        #expect(results.scopeRefs.count == 1 && results.metricRefs.count == 1)
        let entries = try writer.file.dictionary.entries()
        // 50 keys + the scope name "race.scope" + its version "1" + the scope + the metric.
        #expect(entries.count - entriesBefore == 54)
        var texts: [String] = []
        for entry in entries {
            let (bytes, _) = try writer.file.dictionary.payload(at: entry.offset)
            if let text = String(validating: bytes, as: UTF8.self), text.hasPrefix("race.") { texts.append(text) }
        }
        #expect(texts.count == Set(texts).count, "a string was written twice")
        #expect(Set(texts).isSuperset(of: keys))
    }

    /// 8 threads × 100 000 records into one ring while a consumer drains it.
    @Test func eightThreadsTimesAHundredThousandRecordsLoseAndDuplicateNothing() async throws {
        let writer = try makeWriter(numBuffers: 1024, bufferSize: 128, fullRingWait: .seconds(30))
        let counter = try writer.counter("concurrency.records")
        let threads = 8
        let perThread = 100_000
        let threadAttributes = try (0..<threads).map { try writer.attributes(["thread": .int(Int64($0))]) }
        let threadKeyRef = try #require(try writer.file.dictionary.entries().first { entry in
            (try? writer.file.dictionary.resolve(entry.offset, as: .string)) == .string("thread")
        }).offset

        let ring = writer.file.ring(.measurements)
        let finished = Flag()
        let consumer = Thread {
            var seen = [[UInt8]](repeating: [UInt8](repeating: 0, count: perThread), count: threads)
            var problems: [String] = []
            var received = 0
            while received < threads * perThread && problems.count < 10 {
                guard let (sequence, state) = try? ring.next(), case .readable = state else {
                    if finished.isSet && (try? ring.next()) == nil { break }
                    sched_yield()
                    continue
                }
                do {
                    let (payload, offset) = try ring.copyRecord(sequence)
                    let record = try payload.withDecodableBytes { bytes throws(FormatError) in try Measurement.decode(bytes, baseOffset: offset) }
                    guard record.metricRef == counter.metricRef, case .asLong(let value)? = record.value,
                          let attribute = record.attributes.first, attribute.keyRef == threadKeyRef,
                          case .intValue(let thread)? = attribute.value?.value, (0..<threads).contains(Int(thread)),
                          (0..<Int64(perThread)).contains(value)
                    else {
                        problems.append("record \(sequence) is not intact: \(record)")
                        continue
                    }
                    seen[Int(thread)][Int(value)] += 1
                } catch {
                    problems.append("\(error)")
                }
                received += 1
                ring.markRead(sequence)
            }
            finished.result = (seen, problems, received)
        }
        consumer.start()
        try await onThreads(threads) { thread in
            for value in 0..<perThread {
                counter.record(value, attributes: threadAttributes[thread])
            }
        }
        finished.set()
        let deadline = ContinuousClock.now + .seconds(60)
        while finished.result == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let (seen, problems, received) = try #require(finished.result)
        #expect(problems.isEmpty, "\(problems)")
        #expect(writer.statistics.value(.written, .measurements) == threads * perThread)
        #expect(writer.statistics.value(.dropped, .measurements) == 0)
        #expect(received == threads * perThread)
        #expect(seen.allSatisfy { $0.allSatisfy { $0 == 1 } }, "a record was lost or duplicated")
    }

    /// Each thread counts and makes ids in its own slot; exited threads' counts must stay in the
    /// totals, their slots must go to later threads, and ids must stay unique across threads.
    @Test func shortLivedThreadsKeepTheirCountsReuseSlotsAndNeverRepeatAnID() async throws {
        let writer = try makeWriter(numBuffers: 2048)
        let threads = 200
        let perThread = 5
        try await TestSupport.offThePool {
            for _ in 0..<threads {
                let exited = DispatchSemaphore(value: 0)
                let thread = Thread {
                    for _ in 0..<perThread {
                        writer.startSpan("short-lived").end()
                        writer.log(.info, "from a short-lived thread")
                    }
                    exited.signal()
                }
                thread.start()
                exited.wait()
                // Let the thread finish exiting (its slot is handed back by the pthread key's destructor).
                while !thread.isFinished { usleep(100) }
            }
        }
        #expect(writer.statistics.value(.written, .spans) == threads * perThread * 2)
        #expect(writer.statistics.value(.written, .events) == threads * perThread)
        #expect(writer.statistics.threadSlots < 10, "\(writer.statistics.threadSlots) slots for threads that ran one after another")

        var spanIDs = Set<[UInt8]>()
        var traceIDs = Set<[UInt8]>()
        for event in try drain(SpanEvent.self, writer.file, .spans) {
            guard case .start? = event.event else { continue }
            spanIDs.insert(event.spanId)
            traceIDs.insert(event.traceId)
        }
        #expect(spanIDs.count == threads * perThread, "span ids repeated across threads")
        #expect(traceIDs.count == threads * perThread, "trace ids repeated across threads")
    }

    @Test func aFullRingDropsAndCountsInsteadOfHanging() throws {
        let writer = try makeWriter(numBuffers: 16, bufferSize: 128)
        let started = ContinuousClock.now
        for index in 0..<100 { writer.log(.info, "record \(index)") }
        // Dropping, not waiting: a failsafe bound (the README's rule), far from a hang.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(writer.statistics.value(.written, .events) == 15)
        #expect(writer.statistics.value(.dropped, .events) == 85)
        // What was written is intact and in order; the ring was not corrupted by the refused writes.
        let events = try drain(Event.self, writer.file, .events)
        #expect(events.map { $0.body } == (0..<15).map { AnyValue(value: .stringValue("record \($0)")) })
        #expect(writer.log(.info, "after draining") == .written)
    }

    @Test func aFullRingWaitsAtMostTheConfiguredTime() throws {
        let writer = try makeWriter(numBuffers: 2, bufferSize: 128, fullRingWait: .milliseconds(50))
        #expect(writer.log(.info, "fills the only usable slot") == .written)
        let started = ContinuousClock.now
        #expect(writer.log(.info, "dropped after waiting") == .dropped)
        let waited = ContinuousClock.now - started
        // At least the configured wait (a machine cannot make it shorter); at most a failsafe.
        #expect(waited >= .milliseconds(45) && waited < .seconds(60), "waited \(waited)")
        #expect(writer.statistics.value(.dropped, .events) == 1)
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var attributeCounts: Set<Int> = []
    private(set) var scopeRefs: Set<Int64> = []
    private(set) var metricRefs: Set<Int64> = []
    func add(_ count: Int, _ scope: Int64, _ metric: Int64) {
        lock.lock()
        attributeCounts.insert(count); scopeRefs.insert(scope); metricRefs.insert(metric)
        lock.unlock()
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var stored: ([[UInt8]], [String], Int)?
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
    var result: ([[UInt8]], [String], Int)? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
