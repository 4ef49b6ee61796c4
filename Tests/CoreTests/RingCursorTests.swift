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

    /// HDR-INIT-ORDER for readers: a consumer that hands slots back after the writer re-initialised
    /// the file in place (same inode, a new start time) must not store its old reader_index into
    /// the new rings, or the next reader skips the new file's first records (the collector testbed's
    /// reset scenario found this: the log pipeline's release after export landed in the new file).
    @Test func slotsAreNotHandedBackIntoAFileReinitialisedInPlace() throws {
        let writer = try makeFile(numBuffers: 8)
        let path = writer.file.path
        let reader = try MmapFile.open(path: path, writable: true)
        var cursor = try RingCursor(ring: reader.ring(.measurements), releaseEvery: Int.max, file: reader)
        for value in 0..<3 { try writer.ring(.measurements).write(record(Int64(value))) }
        while case .readable = cursor.peek() { cursor.advance() }
        cursor.release()
        #expect(reader.ring(.measurements).header.readerIndex == 2)
        try writer.ring(.measurements).write(record(3))
        cursor.advance()

        let configuration = FileConfiguration(events: .init(numBuffers: 8, bufferSize: 128), spans: .init(numBuffers: 8, bufferSize: 128),
                                              measurements: .init(numBuffers: 8, bufferSize: 128), dictionaryBytes: 1024,
                                              startTimeUnixNano: 1_800_000_000_000_000_000)
        let again = try MmapFile.create(path: path, configuration: configuration)
        #expect(reader.header.startTimeUnixNano == 1_800_000_000_000_000_000, "the reader's mapping shows the file re-initialised in place")
        cursor.release()
        #expect(again.ring(.measurements).header.readerIndex == -1, "the old cursor's reader_index landed in the new file")
        #expect(!reader.handBack(.measurements, through: 3, replacing: 2, startTime: 1_700_000_000_000_000_000))
        #expect(again.ring(.measurements).header.readerIndex == -1)
        // The same call for the file as it now is hands back.
        #expect(reader.handBack(.measurements, through: 0, replacing: -1, startTime: 1_800_000_000_000_000_000))
        #expect(again.ring(.measurements).header.readerIndex == 0)
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
