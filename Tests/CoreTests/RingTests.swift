import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// The claim-then-publish ring: many producers, one consumer.
@Suite struct RingTests {
    static func measurement(_ value: Int64, payload: Int = 0) -> Measurement {
        Measurement(metricRef: 1000 + value, attributes: payload > 0 ? [KeyValueRef(keyRef: 1, value: AnyValue(value: .stringValue(String(repeating: "x", count: payload))))] : [],
                    timeUnixNano: UInt64(value), value: .asLong(value))
    }

    func readAll(_ ring: Ring) throws -> [Measurement] {
        var result: [Measurement] = []
        while let (sequence, state) = try ring.next() {
            guard case .readable = state else { break }
            let (payload, offset) = try ring.copyRecord(sequence)
            result.append(try payload.withDecodableBytes { bytes throws(FormatError) in try Measurement.decode(bytes, baseOffset: offset) })
            ring.markRead(sequence)
        }
        return result
    }

    @Test func aNewRingIsEmptyWithEveryFlagUnset() throws {
        let file = try makeFile(numBuffers: 8)
        for ring in file.rings {
            #expect(ring.header.readerIndex == -1 && ring.header.writerIndex == -1)
            #expect((0..<8).allSatisfy { ring.availability[$0] == -1 })
            #expect(try ring.next() == nil)
        }
    }

    @Test func recordsComeOutInOrderAndIntact() throws {
        let file = try makeFile()
        let ring = file.ring(.measurements)
        for value in 0..<10 { try ring.write(Self.measurement(Int64(value))) }
        #expect(try readAll(ring) == (0..<10).map { Self.measurement(Int64($0)) })
        #expect(ring.header.readerIndex == 9 && ring.header.writerIndex == 9)
    }

    @Test func aFullRingRefusesWritesWithoutCorruptingAnything() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        for value in 0..<7 { try ring.write(Self.measurement(Int64(value))) }
        let slotsBefore = Array(UnsafeRawBufferPointer(start: file.file.bytes.baseAddress! + ring.fileOffset, count: ring.byteSize))
        #expect(throws: ProduceError.full(ring: "measurements")) { try ring.write(Self.measurement(99)) }
        #expect(ring.claim() == nil)
        let slotsAfter = Array(UnsafeRawBufferPointer(start: file.file.bytes.baseAddress! + ring.fileOffset, count: ring.byteSize))
        #expect(slotsBefore == slotsAfter, "a refused write changed the ring's bytes")
        #expect(try readAll(ring) == (0..<7).map { Self.measurement(Int64($0)) })
        // Reading freed the slots: writing works again, across the wrap.
        for value in 7..<14 { try ring.write(Self.measurement(Int64(value))) }
        #expect(try readAll(ring) == (7..<14).map { Self.measurement(Int64($0)) })
    }

    @Test func aRecordLargerThanASlotIsRejectedBeforeClaiming() throws {
        let file = try makeFile(numBuffers: 8, bufferSize: 64)
        let ring = file.ring(.measurements)
        let big = Self.measurement(1, payload: 100)
        do throws(ProduceError) {
            try ring.write(big)
            Issue.record("a record larger than its slot was written")
        } catch {
            #expect(error == .tooLarge(ring: "measurements", recordBytes: big.encodedSize + 1, slotBytes: 64))
            #expect("\(error)".contains("does not fit a 64-byte slot of the measurements ring"))
        }
        #expect(ring.header.writerIndex == -1, "a rejected record must not leave a claimed hole")
        // The largest record that fits is accepted: length prefix plus payload == buffer_size.
        var fitting = Self.measurement(1, payload: 1)
        while lengthDelimitedSize(fitting.encodedSize) < 64 {
            fitting = Self.measurement(1, payload: (fitting.attributes.first.map { if case .stringValue(let s)? = $0.value?.value { s.count } else { 0 } } ?? 0) + 1)
        }
        #expect(lengthDelimitedSize(fitting.encodedSize) == 64)
        try ring.write(fitting)
        #expect(try readAll(ring) == [fitting])
    }

    /// Eight OS threads (not tasks, which share a two-thread pool here) produce while a ninth consumes.
    @Test func manyThreadsProducingConcurrentlyLoseAndDuplicateNothing() async throws {
        let file = try makeFile(numBuffers: 256, bufferSize: 64)
        let ring = file.ring(.measurements)
        let producers = 8
        let perProducer = 20_000
        let done = DispatchGroup()
        for producer in 0..<producers {
            done.enter()
            let thread = Thread {
                for index in 0..<perProducer {
                    let value = Int64(producer * perProducer + index)
                    while (try? ring.write(Self.measurement(value))) == nil { sched_yield() }
                }
                done.leave()
            }
            thread.start()
        }
        // The consumer spins on the ring: on a thread of its own, not one of the cooperative pool's.
        let (seen, received, problem, joined) = try await TestSupport.offThePool { () throws -> ([Int], Int, String?, Bool) in
            var seen = [Int](repeating: 0, count: producers * perProducer)
            var received = 0
            let deadline = ContinuousClock.now + .seconds(120)
            while received < producers * perProducer && ContinuousClock.now < deadline {
                guard let (sequence, state) = try ring.next(), case .readable = state else { sched_yield(); continue }
                let (payload, offset) = try ring.copyRecord(sequence)
                let record = try payload.withDecodableBytes { bytes throws(FormatError) in try Measurement.decode(bytes, baseOffset: offset) }
                guard case .asLong(let value)? = record.value, record.metricRef == 1000 + value, record.timeUnixNano == UInt64(value),
                      value >= 0, value < Int64(seen.count) else {
                    return (seen, received, "record \(sequence) is not intact: \(record)", false)
                }
                seen[Int(value)] += 1
                received += 1
                ring.markRead(sequence)
            }
            return (seen, received, nil, done.wait(timeout: .now() + 10) == .success)
        }
        #expect(problem == nil)
        #expect(joined)
        #expect(received == producers * perProducer, "lost records")
        #expect(seen.allSatisfy { $0 == 1 }, "lost or duplicated records")
        #expect(ring.header.writerIndex == Int64(producers * perProducer - 1))
        #expect(try ring.next() == nil)
    }

    @Test func outOfOrderPublicationWaitsForTheHole() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.spans)
        let first = try #require(ring.claim())
        let second = try #require(ring.claim())
        var writer = ProtoWriter(ring.slot(second))
        let record = SpanEvent(traceId: Array(repeating: 1, count: 16), spanId: Array(repeating: 2, count: 8), event: .name(ChangeSpanName(name: "b")))
        writer.writeVarint(UInt64(record.encodedSize))
        record.encode(to: &writer)
        ring.publish(second)
        #expect(ring.state(of: second) == .readable(.either))
        #expect(try ring.next()?.state == .unpublished, "the consumer must not skip the unpublished first slot")
        writer = ProtoWriter(ring.slot(first))
        writer.writeVarint(UInt64(record.encodedSize))
        record.encode(to: &writer)
        ring.publish(first)
        #expect(try ring.next()?.state == .readable(.either))
    }

    /// Sequences past 2^32, published with either formula, and a stale flag from the previous lap.
    @Test(arguments: [FlagFormula.shiftThenTruncate, .truncateThenShift])
    func sequencesPast2To32AreReadableWithEitherFormula(formula: FlagFormula) throws {
        let file = try makeFile(numBuffers: 4)
        let ring = file.ring(.events)
        let base: Int64 = (1 << 32) + 1
        ring.header.readerIndex = base
        ring.header.writerIndex = base
        let sequence = try #require(ring.claim())
        #expect(sequence == base + 1)
        let event = Event(timeUnixNano: 7, severityText: "late")
        var writer = ProtoWriter(ring.slot(sequence))
        writer.writeVarint(UInt64(event.encodedSize))
        event.encode(to: &writer)
        let index = Int(RingLayout.slotIndex(sequence: sequence, numBuffers: 4))
        // The flag this slot had one lap earlier: never mistaken for the new one.
        ring.availability[index] = RingLayout.flag(sequence: sequence - 4, log2NumBuffers: 2)
        #expect(ring.state(of: sequence) == .unpublished)
        ring.availability[index] = formula == .shiftThenTruncate
            ? RingLayout.flag(sequence: sequence, log2NumBuffers: 2)
            : RingLayout.alternativeFlag(sequence: sequence, log2NumBuffers: 2)
        #expect(ring.state(of: sequence) == .readable(formula))
        #expect(try ring.decodeRecord(sequence) == event.recordValue)
    }

    @Test func inconsistentIndicesAreErrorsNamingTheRule() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.spans)
        ring.header.readerIndex = 5
        ring.header.writerIndex = 3
        let order = expectFormatError(.ringIndexOrder) { _ = try ring.next() }
        #expect(order?.offset == ring.fileOffset + 16)
        ring.header.readerIndex = -7
        expectFormatError(.ringIndexRange) { _ = try ring.next() }
        ring.header.readerIndex = 0
        ring.header.writerIndex = 8
        let capacity = expectFormatError(.ringCapacity) { _ = try ring.next() }
        #expect(capacity?.offset == ring.fileOffset + 24)
    }

    @Test func aBadLengthPrefixIsASlotLengthError() throws {
        let file = try makeFile(numBuffers: 8, bufferSize: 32)
        let ring = file.ring(.events)
        let sequence = try #require(ring.claim())
        let slot = ring.slot(sequence)
        slot[0] = 100 // longer than the 32-byte slot
        ring.publish(sequence)
        let error = expectFormatError(.slotLength) { _ = try ring.decodeRecord(sequence) }
        #expect(error?.offset == ring.slotFileOffset(sequence))
        for index in 0..<32 { slot[index] = 0xFF } // a varint that never ends inside the slot
        expectFormatError(.slotLength) { _ = try ring.decodeRecord(sequence) }
    }

    /// Issue 24, findings 1 and 2: another process set writer_index to Int64.max. The writer refuses
    /// and counts instead of trapping on `writer + 1`; reading the ring reports RING-CAPACITY.
    @Test func aWriterIndexOfInt64MaxIsRefusedNotATrap() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        ring.header.writerIndex = Int64.max
        #expect(ring.claim() == nil)
        expectFormatError(.ringCapacity) { _ = try ring.indices() }
        // Both at the end of the sequence space: nothing unread, and nothing traps.
        ring.header.readerIndex = Int64.max
        #expect(ring.claim() == nil)
        let cursor = try RingCursor(ring: ring)
        #expect(cursor.unreleased == 0)
    }

}
