import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// Two OS processes mapping one file: what one writes, the other reads.
@Suite struct CrossProcessTests {
    /// A child process writes samples into a file this process created and keeps mapped; this process
    /// consumes concurrently. The rings hold 15 records, so the child can only finish because we read,
    /// and the dictionary starts at its minimum, so the child must grow the file under our mapping.
    @Test func recordsWrittenByAnotherProcessAreReadIntact() async throws {
        let file = try makeFile(numBuffers: 16, bufferSize: 256, dictionaryBytes: 64)
        let count = 200
        let child = try TestSupport.start(["write-sample", file.path, "--append", "--count", "\(count)", "--patience", "60"])

        var spans: [SpanEvent] = [], events: [Event] = [], measurements: [Measurement] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while (spans.count < 2 * count || events.count < count || measurements.count < count) && ContinuousClock.now < deadline {
            var progressed = false
            for ring in file.rings {
                guard let (sequence, state) = try ring.next(), case .readable = state else { continue }
                let (payload, offset) = try ring.copyRecord(sequence)
                try payload.withDecodableBytes { bytes throws(FormatError) in
                    switch ring.kind {
                    case .spans: spans.append(try SpanEvent.decode(bytes, baseOffset: offset))
                    case .events: events.append(try Event.decode(bytes, baseOffset: offset))
                    case .measurements: measurements.append(try Measurement.decode(bytes, baseOffset: offset))
                    }
                }
                ring.markRead(sequence)
                progressed = true
            }
            if !progressed { try await Task.sleep(for: .microseconds(100)) }
        }
        let result = await child.wait(timeout: 30)
        #expect(result.status == 0, "child failed: \(result.stderr)")
        #expect(spans.count == 2 * count && events.count == count && measurements.count == count)
        #expect(try file.file.currentFileSize() > file.header.dictionary + 64, "the child should have grown the dictionary")

        let dictionary = file.dictionary
        for index in 0..<min(count, events.count) {
            let time = SampleWriter.baseTime + UInt64(index) * 1_000
            let start = spans[2 * index], end = spans[2 * index + 1]
            #expect(start.traceId == SampleWriter.traceId(index) && start.spanId == SampleWriter.spanId(index))
            guard case .start(let started)? = start.event, case .end(let ended)? = end.event else {
                Issue.record("span \(index) is not a start followed by an end")
                continue
            }
            #expect(started.name == "sample-span-\(index)" && started.startTimeUnixNano == time && started.kind == .server)
            #expect(ended.endTimeUnixNano == time + 500 && ended.status?.code == .ok)
            #expect(events[index].body == AnyValue(value: .stringValue("sample event \(index)")))
            #expect(events[index].timeUnixNano == time + 250 && events[index].severityNumber == .info)
            #expect(measurements[index].value == .asLong(1))
            let attribute = try #require(measurements[index].attributes.first)
            #expect(try dictionary.resolve(attribute.keyRef, as: .string) == .string("sample.index"))
            #expect(attribute.value == AnyValue(value: .intValue(Int64(index))))
        }
        let scope = try dictionary.resolve(try #require(spans.first).scopeRef, as: .instrumentationScope)
        guard case .reference(_, let nameRef)? = scope[field: "name_ref"] else {
            Issue.record("scope without a name")
            return
        }
        #expect(try dictionary.resolve(nameRef, as: .string) == .string("otlp-mmap.sample"))
    }

    /// This process writes and keeps the file mapped; a child process inspects it.
    @Test func anotherProcessInspectsWhatWeWrite() async throws {
        let file = try makeFile(numBuffers: 64, bufferSize: 256)
        let writer = try SampleWriter(file: file)
        try writer.write(0..<10)
        let result = try await TestSupport.run(["inspect", "--json", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rings = try #require(json["rings"] as? [[String: Any]])
        #expect(rings.map { $0["unread"] as? Int } == [10, 20, 10])
        let spanRecords = try #require(rings[1]["records"] as? [[String: Any]])
        let first = try #require(spanRecords.first?["SpanEvent"] as? [String: Any])
        #expect(first["trace_id"] as? String == hexString(SampleWriter.traceId(0)))
        let start = try #require(first["start"] as? [String: Any])
        #expect(start["name"] as? String == "sample-span-0")
        let scope = try #require((first["scope_ref"] as? [String: Any])?["value"] as? [String: Any])
        #expect((scope["name_ref"] as? [String: Any])?["value"] as? String == "otlp-mmap.sample")
        // Inspecting changed nothing.
        #expect(file.rings.map { $0.header.readerIndex } == [-1, -1, -1])
    }

    @Test func inspectReportsAnInvalidFileWithRuleAndOffset() async throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("bad").path
        var bytes = [UInt8](repeating: 0, count: 128)
        bytes[0] = 3
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try await TestSupport.run(["inspect", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("HDR-VERSION at byte 0: version is 3; this reader knows version 1"), "\(result.stderr)")
    }
}
