import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing

/// The consumer cursor decides readiness from flags alone and hands slots back in batches.
@Suite struct RingCursorTests {
    func record(_ value: Int64) -> Measurement {
        Measurement(metricRef: 1000 + value, timeUnixNano: UInt64(value), value: .asLong(value))
    }

    @Test func readinessComesFromTheFlagAndReleaseIsBatched() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var cursor = try RingCursor(ring: ring, releaseEvery: 3)
        #expect(cursor.peek() == .empty)
        for value in 0..<5 { try ring.write(record(Int64(value))) }
        var seen: [Int64] = []
        while case .readable = cursor.peek() {
            let (payload, offset) = try ring.copyRecord(cursor.next)
            let decoded = try payload.withDecodableBytes { bytes throws(FormatError) in try Measurement.decode(bytes, baseOffset: offset) }
            if case .asLong(let value)? = decoded.value { seen.append(value) }
            cursor.advance()
            // reader_index moves only after every third record.
            #expect(ring.header.readerIndex == Int64(seen.count / 3 * 3) - 1)
        }
        #expect(seen == [0, 1, 2, 3, 4])
        #expect(cursor.unreleased == 2)
        cursor.release()
        #expect(ring.header.readerIndex == 4 && cursor.unreleased == 0)
    }

    @Test func aClaimedButUnpublishedSlotIsNotReadable() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        var cursor = try RingCursor(ring: ring)
        let sequence = try #require(ring.claim())
        #expect(cursor.peek() == .unpublished)
        ring.publish(sequence)
        guard case .readable = cursor.peek() else {
            Issue.record("a published slot must be readable")
            return
        }
        cursor.advance()
        #expect(cursor.peek() == .empty)
    }

    @Test func aFlagLeftFromTheLastLapIsNotTakenForThisOne() throws {
        let file = try makeFile(numBuffers: 4)
        let ring = file.ring(.measurements)
        var cursor = try RingCursor(ring: ring, releaseEvery: 1)
        // Lap 0 fills and drains every slot; lap 1's first sequence (4) reuses slot 0, whose flag
        // still says lap 0 until sequence 4 is published.
        for value in 0..<4 {
            try ring.write(record(Int64(value)))
            cursor.advance()
        }
        let sequence = try #require(ring.claim())
        #expect(sequence == 4 && ring.availability[0] == 0)
        #expect(cursor.peek() == .unpublished)
        #expect(!cursor.isNextPublished)
        ring.publish(sequence)
        #expect(ring.availability[0] == 1)
        #expect(cursor.isNextPublished)
        guard case .readable = cursor.peek() else {
            Issue.record("sequence 4 was published")
            return
        }
    }

    @Test func aCursorStartsAfterAValidReaderIndexOnly() throws {
        let file = try makeFile(numBuffers: 8)
        let ring = file.ring(.measurements)
        for value in 0..<3 { try ring.write(record(Int64(value))) }
        ring.markRead(1)
        #expect(try RingCursor(ring: ring).next == 2)
        ring.header.readerIndex = 5   // past writer_index
        #expect(throws: FormatError.self) { try RingCursor(ring: ring) }
    }
}
