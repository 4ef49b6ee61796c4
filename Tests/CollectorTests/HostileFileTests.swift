import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import Testing
import CollectorTestSupport
import TestSupport

/// Issue 24: what a scribbling neighbour did to the collector's reading, one finding per test.
@Suite struct HostileFileTests {
    /// Finding 5: a flag raised for a sequence nobody claimed (past writer_index) made the collector
    /// export an empty log record from an unwritten slot, without a word. It reads no slot past
    /// writer_index, reports RING-FLAG once, and reads the sequence when a producer claims it.
    @Test func aFlagRaisedAheadOfWriterIndexIsReportedAndItsSlotNotRead() async throws {
        let writer = try makeWriter()
        writer.log(.info, .text("real"), time: 1)
        let events = writer.file.ring(.events)
        #expect(events.header.writerIndex == 0)
        let index = Int(RingLayout.slotIndex(sequence: 1, numBuffers: events.numBuffers))
        events.availability[index] = RingLayout.flag(sequence: 1, log2NumBuffers: events.log2NumBuffers)

        let capture = LogCapture()
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(writer.file.path, exporter: exporter, logger: capture.logger)
        try await waitFor({ collector.statistics[.exportedLogs] >= 1 && capture.lines.contains { $0.contains("RING-FLAG") } }, "the record and the report")
        // The neighbour's flag goes; a real producer claims sequence 1, writes it and publishes it.
        events.availability[index] = RingLayout.availabilityInitial
        writer.log(.info, .text("after"), time: 2)
        try await waitFor({ collector.statistics[.exportedLogs] >= 2 }, "the record written after")
        collector.stop()
        await task.value

        #expect(exporter.logRecords.map(\.body.summary) == ["s:real", "s:after"])
        let reports = capture.lines.filter { $0.contains("RING-FLAG") }
        #expect(reports.count == 1, "\(reports)")
        #expect(reports.first?.contains("events sequence 1 is flagged published, but writer_index is 0") == true, "\(reports)")
        #expect(reports.first?.contains("at byte \(events.flagFileOffset(1))") == true, "\(reports)")
    }

    /// Stores `value` into the 8-byte field at `offset` of `file`, as another process would.
    static func scribble(_ file: MmapFile, at offset: Int, _ value: Int64) {
        (file.file.bytes.baseAddress! + offset).storeBytes(of: value, as: Int64.self)
    }

    /// Finding 6: a file with one bad ring (its header, or its indices) exported nothing, not even
    /// from its intact rings. The bad ring is reported once and left unread; the others are read.
    @Test(arguments: [
        ("num_buffers 3", RingHeaderView.Offset.numBuffers, Int64(3), "RING-POW2"),
        ("reader_index past writer_index", RingHeaderView.Offset.readerIndex, Int64(100), "RING-INDEX-ORDER"),
    ])
    func aBadRingLeavesTheOtherRingsRead(_ label: String, _ field: Int, _ value: Int64, _ rule: String) async throws {
        let writer = try makeWriter(label)
        writer.startSpan("lost with its ring").end()
        writer.log(.info, .text("kept"), time: 1)
        try writer.counter("kept").record(5)
        Self.scribble(writer.file, at: writer.file.ring(.spans).fileOffset + field, value)

        let capture = LogCapture()
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(writer.file.path, exporter: exporter, logger: capture.logger) { $0.metricInterval = .milliseconds(50) }
        try await waitFor({ collector.statistics[.exportedLogs] >= 1 && collector.statistics[.exportedMetricPoints] >= 1 }, "the intact rings' records")
        collector.stop()
        await task.value

        #expect(exporter.logRecords.map(\.body.summary) == ["s:kept"])
        #expect(exporter.metricList.map(\.name) .contains("kept"))
        #expect(exporter.spans.isEmpty)
        #expect(collector.statistics[.ringsUnread] == 1)
        let reports = capture.lines.filter { $0.contains("not reading the spans ring") }
        #expect(reports.count == 1 && reports.first?.contains(rule) == true, "\(capture.lines)")
    }

    /// Finding 6, second half: a header field a scribbler keeps changing logged "waiting for a valid
    /// file" at every poll, one line per new value. It is reported once per rule and place.
    @Test func aHeaderFieldThatKeepsChangingIsReportedOnce() async throws {
        let writer = try makeWriter()
        writer.log(.info, .text("after the attack"), time: 1)
        Self.scribble(writer.file, at: FileHeaderView.Offset.version, 2)
        let capture = LogCapture()
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(writer.file.path, exporter: exporter, logger: capture.logger)
        try await waitFor({ capture.lines.contains { $0.contains("waiting for a valid file") } }, "the first report")
        // A new bad version every millisecond for a while: as many polls as the collector makes.
        for version in 3..<203 {
            Self.scribble(writer.file, at: FileHeaderView.Offset.version, Int64(version))
            try await Task.sleep(for: .milliseconds(1))
        }
        Self.scribble(writer.file, at: FileHeaderView.Offset.version, 1)
        try await waitFor({ collector.statistics[.exportedLogs] >= 1 }, "the record once the header is sound")
        collector.stop()
        await task.value

        let reports = capture.lines.filter { $0.contains("waiting for a valid file") }
        #expect(reports.count == 1, "\(reports)")
        #expect(reports.first?.contains("HDR-VERSION at byte 0") == true, "\(reports)")
    }
}
