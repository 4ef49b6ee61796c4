import Foundation
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// Two OS processes mapping one file: what one writes, the other reads.
@Suite struct CrossProcessTests {
    /// A child process (the SDK, attached with `write --append`) writes samples into a file this
    /// process created and keeps mapped; this process consumes concurrently. The rings hold 15
    /// records, so the child can only finish because we read, and the dictionary starts at its
    /// minimum, so the child must grow the file under our mapping.
    @Test func recordsWrittenByAnotherProcessAreReadIntact() async throws {
        let file = try makeFile(numBuffers: 16, bufferSize: 256, dictionaryBytes: 64)
        let count = 100
        let child = try TestSupport.start(["write", file.path, "--append", "--threads", "1", "--spans", "\(count)", "--wait-ms", "60000"])

        // Per sample: a server span and its child (two records each), a log record, two measurements.
        var spans: [SpanEvent] = [], events: [Event] = [], measurements: [Measurement] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while (spans.count < 4 * count || events.count < count || measurements.count < 2 * count) && ContinuousClock.now < deadline {
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
        #expect(spans.count == 4 * count && events.count == count && measurements.count == 2 * count)
        #expect(try file.file.currentFileSize() > file.header.dictionary + 64, "the child should have grown the dictionary")

        let dictionary = file.dictionary
        let started = spans.compactMap { record -> (name: String, span: [UInt8])? in
            guard case .start(let start)? = record.event else { return nil }
            return (start.name, record.spanId)
        }
        let names = started.map(\.name)
        #expect(names == (0..<count).flatMap { [SampleWorkload.name(thread: 0, index: $0), SampleWorkload.name(thread: 0, index: $0) + ".child"] })
        #expect(spans.filter { if case .end? = $0.event { true } else { false } }.count == 2 * count)
        for (index, event) in events.enumerated() {
            #expect(event.body == AnyValue(value: .stringValue(SampleWorkload.name(thread: 0, index: index))))
            // The log record carries its server span's context.
            #expect(event.spanContext?.spanId == started[2 * index].span)
        }
        let requests = measurements.compactMap { if case .asLong(let value)? = $0.value { value } else { nil } }
        #expect(requests == (0..<count).map(Int64.init))
        let attribute = try #require(measurements.first?.attributes.first)
        #expect(try dictionary.resolve(attribute.keyRef, as: .string) == .string("thread"))
        let scope = try dictionary.resolve(try #require(spans.first).scopeRef, as: .instrumentationScope)
        guard case .reference(_, let nameRef)? = scope[field: "name_ref"] else {
            Issue.record("scope without a name")
            return
        }
        #expect(try dictionary.resolve(nameRef, as: .string) == .string(SampleWorkload.scopeName))
    }

    /// This process writes and keeps the file mapped; a child process inspects it.
    @Test func anotherProcessInspectsWhatWeWrite() async throws {
        let file = try makeFile(numBuffers: 64, bufferSize: 256)
        try writeSamples(into: file, spans: 10)
        let firstStart = try file.ring(.spans).copyRecord(0).payload
        let firstRecord = try firstStart.withDecodableBytes { bytes throws(FormatError) in try SpanEvent.decode(bytes, baseOffset: 0) }
        let result = try await TestSupport.run(["inspect", "--json", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rings = try #require(json["rings"] as? [[String: Any]])
        #expect(rings.map { $0["unread"] as? Int } == [10, 40, 20])
        let spanRecords = try #require(rings[1]["records"] as? [[String: Any]])
        let first = try #require(spanRecords.first?["SpanEvent"] as? [String: Any])
        #expect(first["trace_id"] as? String == hexString(firstRecord.traceId))
        let start = try #require(first["start"] as? [String: Any])
        #expect(start["name"] as? String == SampleWorkload.name(thread: 0, index: 0))
        let scope = try #require((first["scope_ref"] as? [String: Any])?["value"] as? [String: Any])
        #expect((scope["name_ref"] as? [String: Any])?["value"] as? String == SampleWorkload.scopeName)
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
