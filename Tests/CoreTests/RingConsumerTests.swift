import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing

/// The one ring consumer: holes are judged on the caller's monotonic clock alone.
@Suite struct RingConsumerTests {
    let second: UInt64 = 1_000_000_000

    func consumer(_ ring: Ring) throws -> RingConsumer {
        RingConsumer(cursor: try RingCursor(ring: ring), holeTimeout: .seconds(1))
    }

    @Test func aClaimedSlotIsSkippedOnlyAfterTheTimeoutHasPassedSinceItWasFirstSeen() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = try consumer(ring)
        _ = try #require(ring.claim())            // claimed; its producer "died"
        try ring.write(Measurement(metricRef: 7, timeUnixNano: 1, value: .asLong(1)))
        let start: UInt64 = 5_000 * second
        guard case .nothing = consumer.poll(now: start) else { Issue.record("a fresh hole was skipped"); return }
        guard case .nothing = consumer.poll(now: start + second - 1) else { Issue.record("skipped before the timeout"); return }
        guard case .hole(let sequence, let error) = consumer.poll(now: start + second) else { Issue.record("not skipped at the timeout"); return }
        #expect(sequence == 0 && error.rule == .ringHole && error.offset == ring.slotFileOffset(0))
        guard case .record(let next, _, _) = consumer.poll(now: start + second) else { Issue.record("the record behind the hole was not read"); return }
        #expect(next == 1)
    }

    /// Issue 24: twenty claimed slots in a row cost one timeout, not twenty. A slot claimed only
    /// after the first hole was seen still waits its own timeout.
    @Test func holesInARowAreSkippedAtOneTimeout() throws {
        let file = try makeFile(numBuffers: 32)
        let ring = file.ring(.measurements)
        var consumer = try consumer(ring)
        for _ in 0..<20 { _ = try #require(ring.claim()) }
        try ring.write(Measurement(metricRef: 7, timeUnixNano: 1, value: .asLong(1)))
        let start: UInt64 = 5_000 * second
        guard case .nothing = consumer.poll(now: start) else { Issue.record("a fresh hole was skipped"); return }
        let late = try #require(ring.claim())     // claimed after the first hole was seen
        for expected in 0..<20 {
            guard case .hole(let sequence, _) = consumer.poll(now: start + second) else { Issue.record("hole \(expected) was not skipped at once"); return }
            #expect(sequence == Int64(expected))
        }
        guard case .record(20, _, _) = consumer.poll(now: start + second) else { Issue.record("the record behind the holes was not read"); return }
        #expect(late == 21)
        guard case .nothing = consumer.poll(now: start + second) else { Issue.record("a slot claimed later was skipped without its own wait"); return }
        guard case .nothing = consumer.poll(now: start + 2 * second - 1) else { Issue.record("skipped before its own timeout"); return }
        guard case .hole(21, _) = consumer.poll(now: start + 2 * second + 1) else { Issue.record("the later hole was not skipped after its timeout"); return }
    }

    /// Issue 19: a writer_index seen to go backwards (a writer without 8-byte atomic stores tears
    /// them) is named as such, with the field's offset, by a consumer that checks indices.
    @Test func aWriterIndexGoingBackwardsIsReportedAsATornStore() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = RingConsumer(cursor: try RingCursor(ring: ring), holeTimeout: .seconds(1), holePolicy: .stop, checksIndices: true)
        for time in 1...3 { try ring.write(Measurement(metricRef: 7, timeUnixNano: UInt64(time), value: .asLong(1))) }
        guard case .record = consumer.poll(now: second) else { Issue.record("the first record was not read"); return }
        ring.header.writerIndex = 1
        guard case .broken(let error) = consumer.poll(now: second) else { Issue.record("a writer_index that went back was accepted"); return }
        #expect(error.rule == .ringIndexOrder && error.offset == ring.header.fileOffset + 24)
        #expect(error.message == "measurements writer_index went backwards from 2 to 1: a torn or non-atomic store (it is an 8-byte atomic field)")
    }

    @Test func aSlotPublishedWithinTheTimeoutIsRead() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = try consumer(ring)
        let record = Measurement(metricRef: 9, timeUnixNano: 2, value: .asLong(2))
        let (sequence, slot) = try ring.claim(payloadSize: record.encodedSize)
        var writer = ProtoWriter(slot)
        record.encode(to: &writer)
        guard case .nothing = consumer.poll(now: 10 * second) else { Issue.record("read an unpublished slot"); return }
        ring.publish(sequence)
        let payload = encode(record)
        guard case .record(let read, let bytes, _) = consumer.poll(now: 10 * second + second / 2) else { Issue.record("published slot not read"); return }
        #expect(read == sequence && bytes == payload)
    }

    @Test func aClockThatGoesBackwardsNeverSkipsAHole() throws {
        // The caller's clock is monotonic; one that is not (or a wrapped subtraction) must not
        // turn a live slot into a hole.
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = try consumer(ring)
        _ = try #require(ring.claim())
        guard case .nothing = consumer.poll(now: 100 * second) else { Issue.record("fresh hole skipped"); return }
        guard case .nothing = consumer.poll(now: 1) else { Issue.record("a clock going back skipped the hole"); return }
    }

    @Test func theStopPolicyStaysOnTheHoleAndHandsNothingBack() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = RingConsumer(cursor: try RingCursor(ring: ring, releaseEvery: 1), holeTimeout: .seconds(1), holePolicy: .stop)
        _ = try #require(ring.claim())
        try ring.write(Measurement(metricRef: 7, timeUnixNano: 1, value: .asLong(1)))
        _ = consumer.poll(now: 0)
        for _ in 0..<2 {
            guard case .hole(0, _) = consumer.poll(now: 2 * second) else { Issue.record("the hole was not reported again"); return }
        }
        #expect(consumer.next == 0 && ring.header.readerIndex == -1, "the stop policy moved past the hole or released it")
    }

    @Test func checkingIndicesReportsABrokenRing() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var consumer = RingConsumer(cursor: try RingCursor(ring: ring), holeTimeout: .seconds(1), checksIndices: true)
        ring.header.readerIndex = 5                     // past writer_index (-1): RING-INDEX-ORDER
        guard case .broken(let error) = consumer.poll(now: 0) else { Issue.record("a reader_index past writer_index went unnoticed"); return }
        #expect(error.rule == .ringIndexOrder)
    }
}
