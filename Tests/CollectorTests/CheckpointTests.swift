import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapSDK
import OTLPProto
import Testing
import CollectorTestSupport
import TestSupport

/// A collector that stops and a new one that starts on the same file go on as one collector would:
/// spans opened before the restart end complete after it, cumulative series keep counting, and a
/// checkpoint that is damaged or belongs to another file is reported and ignored. Run both with and
/// without checkpoints, so that each test also shows what is lost without them.
@Suite struct CheckpointTests {
    @Test(arguments: [true, false])
    func openSpansAndCumulativeSeriesCarryOverARestart(checkpointing: Bool) async throws {
        let writer = try makeWriter("restart-\(checkpointing)")
        let configure: (inout CollectorConfiguration) -> Void = { if !checkpointing { $0.checkpointPath = nil } }
        let attributes = try writer.attributes(["phase": "before"])
        let requests = try writer.counter("requests")
        let latency = try writer.histogram("latency", boundaries: [10, 100], temporality: .cumulative)
        let sizes = try writer.exponentialHistogram("sizes", maxBuckets: 8, maxScale: 2, temporality: .cumulative)
        let open = (0..<3).map { writer.startSpan("open-\($0)", kind: .server, attributes: attributes, startTime: 1_000 + UInt64($0)) }
        for value in [1, 2, 3] { requests.record(value, time: 100) }
        for value in [5.0, 50.0] { latency.record(value, time: 100) }
        for value in [1.0, 4.0] { sizes.record(value, time: 100) }

        let first = CapturingExporter()
        await collect(writer.file.path, exporter: first, configure: configure) { $0.statistics[.records] >= 9 }
        #expect(first.spans.isEmpty, "no span ended yet")

        for span in open { span.end(status: .ok, at: 9_000) }
        requests.record(10, time: 200)
        latency.record(500, time: 200)
        sizes.record(16, time: 200)
        let second = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: second, configure: configure) { $0.statistics[.exportedSpans] >= 3 }

        let spans = second.spans.sorted { $0.name < $1.name }
        let points = Dictionary(uniqueKeysWithValues: second.metricList.map { ($0.name, $0) })
        if checkpointing {
            #expect(collector.statistics[.checkpointsRestored] == 1)
            #expect(spans.map(\.name) == ["open-0", "open-1", "open-2"])
            #expect(spans.map(\.startTimeUnixNano) == [1_000, 1_001, 1_002] && spans.allSatisfy { $0.endTimeUnixNano == 9_000 })
            #expect(spans.allSatisfy { $0.attributes.summary == ["phase": "s:before"] && $0.kind == .server })
            #expect(points["requests"]?.sum.dataPoints.map(\.asInt) == [16])
            #expect(points["requests"]?.sum.dataPoints.map(\.startTimeUnixNano) == [100], "a cumulative series keeps its start")
            #expect(points["latency"]?.histogram.dataPoints.map(\.bucketCounts) == [[1, 1, 1]])
            #expect(points["latency"]?.histogram.dataPoints.map(\.sum) == [555])
            #expect(points["sizes"]?.exponentialHistogram.dataPoints.map(\.count) == [3])
            #expect(points["sizes"]?.exponentialHistogram.dataPoints.map(\.sum) == [21])
        } else {
            // Without a checkpoint the starts are gone with the first collector's memory.
            #expect(spans.count == 3 && spans.allSatisfy { $0.name.isEmpty && $0.attributes.summary["otlp_mmap.start_missing"] == "b:true" })
            #expect(points["requests"]?.sum.dataPoints.map(\.asInt) == [10])
            #expect(points["latency"]?.histogram.dataPoints.map(\.count) == [1])
        }
    }

    @Test func aDamagedCheckpointIsReportedAndIgnored() async throws {
        let writer = try makeWriter()
        let span = writer.startSpan("before", startTime: 1_000)
        let first = CapturingExporter()
        await collect(writer.file.path, exporter: first) { $0.statistics[.records] >= 1 }
        let checkpoint = writer.file.path + ".checkpoint"
        // Cut inside its last field (written_unix_nano, a fixed64): no longer decodable.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: checkpoint))

        span.end(at: 2_000)
        let second = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: second) { $0.statistics[.exportedSpans] >= 1 }
        #expect(collector.statistics[.checkpointsIgnored] == 1 && collector.statistics[.checkpointsRestored] == 0)
        // The start was handed back with the first checkpoint: only the end is left to read.
        #expect(second.spans.map { $0.attributes.summary["otlp_mmap.start_missing"] } == ["b:true"])
    }

    @Test func aCheckpointOfAnotherFileIsIgnored() async throws {
        let writer = try makeWriter()
        _ = writer.startSpan("of the first file", startTime: 1_000)
        await collect(writer.file.path, exporter: CapturingExporter()) { $0.statistics[.records] >= 1 }
        let checkpoint = writer.file.path + ".checkpoint"
        #expect(FileManager.default.fileExists(atPath: checkpoint))

        // The writer re-creates its file (a new start time tells the files apart, as the format
        // says): the old checkpoint's open span must not reappear.
        let again = try makeWriter(at: writer.file.path, clock: { 1_800_000_000_000_000_000 })
        again.startSpan("of the second file", startTime: 3_000).end(at: 4_000)
        let exporter = CapturingExporter()
        let collector = await collect(again.file.path, exporter: exporter) { $0.statistics[.exportedSpans] >= 1 }
        #expect(exporter.spans.map(\.name) == ["of the second file"])
        #expect(collector.statistics[.checkpointsRestored] == 0 && collector.statistics[.checkpointsIgnored] == 0)
    }

    @Test func slotsAreHandedBackOnlyOnceTheCheckpointIsWritten() async throws {
        let writer = try makeWriter()
        let folder = try TestSupport.temporaryDirectory("unwritable")
        // A checkpoint in a folder that does not exist cannot be written: the collector reads the
        // records but keeps their slots, so that nothing it read is lost.
        let missing = folder.appendingPathComponent("no-such-folder/checkpoint").path
        _ = writer.startSpan("kept", startTime: 1_000)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter, configure: { $0.checkpointPath = missing }) {
            $0.statistics[.checkpointFailures] >= 1
        }
        #expect(collector.statistics[.records] == 1 && collector.statistics[.checkpointsWritten] == 0)
        let ring = writer.file.ring(.spans)
        #expect(ring.header.readerIndex == -1 && ring.header.writerIndex == 0, "the span start's slot is still the collector's")
    }
}
