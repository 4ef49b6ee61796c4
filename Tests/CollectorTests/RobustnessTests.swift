import Foundation
import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import CollectorTestSupport
import TestSupport

/// The collector never crashes, stalls or silently loses data on a bad file, a dead writer, a
/// re-created file or a receiver that refuses exports.
@Suite struct RobustnessTests {
    @Test func anUndecodableRecordIsReportedCountedAndSkipped() async throws {
        let writer = try makeWriter()
        writer.log(.info, .text("before"), time: 1)
        // A record whose first byte starts a varint that never ends: WIRE-FORMAT.
        let garbage = [UInt8](repeating: 0xff, count: 3)
        _ = try garbage.withUnsafeBytes { bytes in try writer.file.ring(.events).write(size: 3) { $0.writeRaw(bytes) } }
        writer.log(.info, .text("after"), time: 2)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedLogs] >= 2 }
        #expect(exporter.logRecords.map(\.body.summary) == ["s:before", "s:after"])
        #expect(collector.statistics[.invalidRecords] == 1)
    }

    /// Issue 19, bug 2: a dictionary entry whose 2-byte length prefix starts on the last byte of
    /// the size the collector mapped, written after the writer grew the file, was read from the
    /// stale mapping ("varint is truncated", DICT-REF-RANGE) and its record dropped.
    @Test func anEntryWhosePrefixStraddlesTheCollectorsMappingIsRead() async throws {
        let writer = try makeWriter()
        writer.log(.info, .text("first"), time: 1)
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(writer.file.path, exporter: exporter)
        defer { task.cancel() }
        try await waitFor { collector.statistics[.exportedLogs] >= 1 }   // it has mapped the file as it is now

        let mapped = try writer.file.file.currentFileSize()
        let dictionary = writer.file.dictionary
        // Fill the dictionary up to one byte before the mapped size, in entries of any size.
        var remaining = mapped - 1 - Int(dictionary.header.end)
        try #require(remaining >= 0)
        while remaining > 0 {
            let payload = remaining <= 128 ? remaining - 1 : remaining <= 130 ? 1 : min(remaining - 3, 16_000)
            _ = try dictionary.appendString(String(repeating: "f", count: payload))
            remaining = mapped - 1 - Int(dictionary.header.end)
        }
        try #require(Int(dictionary.header.end) == mapped - 1)
        // The next interned string (200 bytes: a 2-byte prefix) starts on the mapping's last byte.
        let key = "straddling." + String(repeating: "k", count: 189)
        let attributes = try writer.attributes([Attribute(key, .int(7))])
        #expect(try writer.file.file.currentFileSize() > mapped, "the writer grew the file for the entry")
        writer.log(.info, .text("second"), attributes: attributes, time: 2)

        try await waitFor { collector.statistics[.exportedLogs] + collector.statistics[.invalidRecords] >= 2 }
        collector.stop()
        await task.value
        #expect(collector.statistics[.invalidRecords] == 0)
        let second = try #require(exporter.logRecords.first { $0.timeUnixNano == 2 })
        #expect(second.attributes.summary == [key: "i:7"])
    }

    @Test func aBadAttributeUpdateLeavesItsSpanAsItWas() async throws {
        // An update whose key reference lies outside the dictionary is skipped; the span it names
        // keeps its attributes and ends whole.
        let writer = try makeWriter()
        let span = writer.startSpan("kept", kind: .internal, attributes: try writer.attributes(["before": 1]))
        try writer.file.ring(.spans).write(SpanEvent(
            traceId: span.context.traceID.bytes, spanId: span.context.spanID.bytes,
            event: .attributes(UpdateAttributes(attributes: [KeyValueRef(keyRef: 999_999, value: nil)]))))
        span.end(status: .ok)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedSpans] >= 1 }
        #expect(collector.statistics[.invalidRecords] == 1)
        let exported = try #require(exporter.spans.first)
        #expect(exported.name == "kept" && exported.attributes.summary == ["before": "i:1"] && exported.status.code == .ok)
        #expect(collector.statistics[.orphanSpanEvents] == 0)
    }

    @Test func aReferenceOutsideTheDictionaryIsReportedAndSkipped() async throws {
        let writer = try makeWriter()
        let ring = writer.file.ring(.events)
        try ring.write(Event(scopeRef: 999_999, timeUnixNano: 5, severityNumber: .info))
        writer.log(.info, .text("fine"), time: 6)
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedLogs] >= 1 }
        #expect(exporter.logRecords.map(\.timeUnixNano) == [6])
        #expect(collector.statistics[.invalidRecords] == 1)
    }

    @Test func aSlotClaimedByADeadWriterIsSkippedAfterTheHoleTimeout() async throws {
        let writer = try makeWriter()
        let ring = writer.file.ring(.events)
        _ = try #require(ring.claim())          // claimed, never published: its writer "died"
        writer.log(.info, .text("behind the hole"), time: 7)
        let exporter = CapturingExporter()
        let started = ContinuousClock.now
        let collector = await collect(writer.file.path, exporter: exporter, configure: { $0.holeTimeout = .milliseconds(200) }) {
            $0.statistics[.exportedLogs] >= 1
        }
        #expect(exporter.logRecords.map(\.timeUnixNano) == [7])
        #expect(collector.statistics[.holesSkipped] == 1)
        #expect(ContinuousClock.now - started >= .milliseconds(200), "the hole must be waited for before it is skipped")
    }

    @Test func aReCreatedFileIsFollowedWithoutRestartingTheCollector() async throws {
        let first = try makeWriter()
        let path = first.file.path
        first.log(.info, .text("from the first file"), time: 1)
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(path, exporter: exporter)
        defer { task.cancel() }
        try await waitFor { collector.statistics[.exportedLogs] >= 1 }

        // The writer restarts: a new file at the same path, with its own dictionary and rings.
        var second = WriterConfiguration(path: path, resource: [Attribute("service.name", "restarted")])
        second.clock = { 2_000_000_000_000_000_000 }
        let restarted = try TelemetryWriter(configuration: second)
        restarted.log(.warn, .text("from the second file"), time: 2)
        try await waitFor { collector.statistics[.exportedLogs] >= 2 }
        collector.stop()
        await task.value
        #expect(exporter.logRecords.map(\.body.summary) == ["s:from the first file", "s:from the second file"])
        #expect(collector.statistics[.fileResets] >= 1)
        let resources = exporter.logs.flatMap(\.resourceLogs).map { $0.resource.attributes.summary["service.name"] }
        #expect(resources == ["s:collector-tests", "s:restarted"])
    }

    @Test func recordsReadFromTheOldFileAreNotHandedBackIntoTheNewOne() async throws {
        // Log records still waiting for their batch when the writer re-creates the file in place
        // (same inode, new start time): their positions belong to the old file, and storing them
        // as the new file's reader_index would put it past its writer_index.
        let first = try makeWriter()
        let path = first.file.path
        for index in 0..<5 { first.log(.info, .text("old \(index)"), time: 1) }
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(path, exporter: exporter) { $0.batchTimeout = .seconds(30) }
        defer { task.cancel() }
        try await waitFor { collector.statistics[.records] >= 5 }

        let restarted = try makeWriter(at: path, clock: { 2_000_000_000_000_000_000 })
        restarted.log(.warn, .text("new"), time: 2)
        try await waitFor { collector.statistics[.fileResets] >= 1 }
        let ring = restarted.file.ring(.events)
        #expect(ring.header.readerIndex <= ring.header.writerIndex, "reader_index \(ring.header.readerIndex) past writer_index \(ring.header.writerIndex)")
        collector.stop()
        await task.value
        #expect(exporter.logRecords.map(\.body.summary).sorted() == ["s:new", "s:old 0", "s:old 1", "s:old 2", "s:old 3", "s:old 4"])
    }

    @Test func aRefusedExportIsRetriedUntilItIsAccepted() async throws {
        let writer = try makeWriter()
        writer.log(.info, .text("retried"), time: 1)
        let exporter = CapturingExporter(failures: 3)
        let collector = await collect(writer.file.path, exporter: exporter) { $0.statistics[.exportedLogs] >= 1 }
        #expect(exporter.logRecords.map(\.body.summary) == ["s:retried"], "exported exactly once")
        #expect(collector.statistics[.failedExports] == 3)
        #expect(collector.statistics[.droppedRequests] == 0)
    }

    @Test func logRecordsAreHandedBackOnlyAfterTheirExport() async throws {
        let writer = try makeWriter()
        for time in 1...5 { writer.log(.info, .text("record \(time)"), time: UInt64(time)) }
        let ring = writer.file.ring(.events)

        // A collector whose receiver never accepts reads the records but must not release them.
        let refusing = CapturingExporter(failures: .max)
        // Stopped once it read them all and was refused, at its own short deadline (not the
        // tests' 60 s failsafe): it cannot deliver.
        let first = await collect(writer.file.path, exporter: refusing, timeout: .seconds(60), configure: { $0.shutdownTimeout = .milliseconds(200) }) {
            $0.statistics[.records] >= 5 && $0.statistics[.failedExports] > 0
        }
        #expect(first.statistics[.records] == 5 && first.statistics[.failedExports] > 0)
        #expect(ring.header.readerIndex == -1, "records were handed back to the writer before they were exported")

        // The next collector (after a restart, say) gets every one of them.
        let accepting = CapturingExporter()
        await collect(writer.file.path, exporter: accepting) { $0.statistics[.exportedLogs] >= 5 }
        #expect(accepting.logRecords.map(\.timeUnixNano) == [1, 2, 3, 4, 5])
        #expect(ring.header.readerIndex == 4)
    }

    @Test func aMissingFileIsWaitedFor() async throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("later.otlpmmap").path
        let exporter = CapturingExporter()
        let (collector, task) = startCollector(path, exporter: exporter)
        try await Task.sleep(for: .milliseconds(100))
        var late = WriterConfiguration(path: path)
        late.clock = { 3 }
        let writer = try TelemetryWriter(configuration: late)
        writer.log(.info, .text("late"), time: 3)
        try await waitFor { collector.statistics[.exportedLogs] >= 1 }
        collector.stop()
        await task.value
        #expect(exporter.logRecords.map(\.body.summary) == ["s:late"])
    }
}

/// A writer that starts spans it never ends, or makes up attribute sets without end, must not
/// grow the collector's memory (or its checkpoints) without bound.
@Suite struct BoundedStateTests {
    @Test func spansBeyondTheMostOpenAreExportedUnfinished() async throws {
        let writer = try makeWriter()
        let names = Set((0..<20).map { "open-\($0)" })
        for name in names.sorted() { _ = writer.startSpan(name, startTime: 1_000) }
        let exporter = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: exporter, configure: { $0.maxOpenSpans = 8 }) {
            $0.statistics[.exportedSpans] >= 12
        }
        // Each start past the eighth finishes the least recently seen span (an eighth of 9 is 1).
        #expect(collector.statistics[.evictedSpans] == 12)
        let exported = exporter.spans
        #expect(exported.count == 12 && Set(exported.map(\.name)).count == 12 && Set(exported.map(\.name)).isSubset(of: names))
        #expect(exported.allSatisfy { $0.attributes.summary["otlp_mmap.unfinished"] == "b:true" })
    }

    @Test func attributeSetsBeyondTheLimitGoIntoTheOverflowSeries() async throws {
        let writer = try makeWriter()
        let logins = try writer.counter("logins")
        for user in 0..<10 { logins.record(1, attributes: try writer.attributes(["user": .int(Int64(user))]), time: 100) }
        let configure: (inout CollectorConfiguration) -> Void = { $0.maxSeriesPerMetric = 3 }
        let first = CapturingExporter()
        let collector = await collect(writer.file.path, exporter: first, configure: configure) { $0.statistics[.records] >= 10 }
        #expect(collector.statistics[.overflowMeasurements] == 7)
        let points = try #require(first.metricList.first { $0.name == "logins" }).sum.dataPoints
        #expect(points.count == 4)
        #expect(points.filter { $0.attributes.summary["user"] != nil }.map(\.asInt) == [1, 1, 1])
        #expect(points.filter { $0.attributes.summary == ["otel.metric.overflow": "b:true"] }.map(\.asInt) == [7])

        // A collector resuming from the checkpoint knows the metric is at its limit: two more new
        // attribute sets go into the overflow series too.
        for user in 10..<12 { logins.record(1, attributes: try writer.attributes(["user": .int(Int64(user))]), time: 200) }
        let second = CapturingExporter()
        await collect(writer.file.path, exporter: second, configure: configure) { $0.statistics[.records] >= 2 }
        let resumed = try #require(second.metricList.first { $0.name == "logins" }).sum.dataPoints
        #expect(resumed.count == 4)
        #expect(resumed.filter { $0.attributes.summary == ["otel.metric.overflow": "b:true"] }.map(\.asInt) == [9])
    }
}
