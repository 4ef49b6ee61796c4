import Foundation
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapSDK
import OTLPMmapLayout
@testable import OTLPMmapConformance
import Testing
import TestSupport

/// Issue 19: a published slot that reads as empty or invalid is held and read again a moment later.
/// If its bytes changed, the writer raised the flag before its bytes were in place (RING-FLAG), and
/// the record the slot then holds is read; if not, the slot is what it first read as.
@Suite struct SlotRecheckTests {
    static func file(_ label: String) throws -> MmapFile {
        let folder = try TestSupport.temporaryDirectory(label)
        let ring = FileConfiguration.RingSize(numBuffers: 16, bufferSize: 256)
        return try MmapFile.create(path: folder.appendingPathComponent("test.otlpmmap").path, configuration: FileConfiguration(
            events: ring, spans: ring, measurements: ring, dictionaryBytes: 4096, startTimeUnixNano: 1_700_000_000_000_000_000))
    }

    /// One sample of the sample workload (one log record in the events ring) written into `file`.
    static func writeOneSample(into file: MmapFile) throws {
        var configuration = WriterConfiguration(path: file.path, resource: [Attribute("service.name", "slot-recheck")])
        configuration.attach = true
        try SampleWorkload(writer: TelemetryWriter(configuration: configuration)).run(thread: 0, spans: 1)
    }

    /// Polls until the consumer has read or rechecked everything there is (bounded).
    static func settle(_ consumer: LiveConsumer) {
        consumer.drain(until: ContinuousClock.now.advanced(by: .seconds(5)))
    }

    @Test func aSlotWhoseBytesArriveAfterItsFlagIsRingFlagAndItsRecordIsRead() throws {
        let file = try Self.file(#function)
        try Self.writeOneSample(into: file)
        let events = file.ring(.events)
        let slot = events.slot(0)
        let written = Array(UnsafeRawBufferPointer(slot))
        // The flag is up, the bytes are not there yet: what an early publish looks like.
        for index in slot.indices { slot[index] = 0 }
        let consumer = LiveConsumer(path: file.path, holeTimeout: .seconds(2))
        #expect(consumer.poll())
        #expect(consumer.isRecheckingASlot)
        #expect(consumer.records[.events] == nil, "a slot read as empty was believed at once")
        // The writer's bytes land before the second look.
        written.withUnsafeBytes { slot.copyMemory(from: $0) }
        Self.settle(consumer)
        #expect(!consumer.isRecheckingASlot)
        let events0 = consumer.failures.filter { $0.message.hasPrefix("events sequence 0") }
        #expect(events0.map(\.check) == ["RING-FLAG"], "\(consumer.failures)")
        #expect(events0.first?.message.contains("published before its bytes were in place") == true)
        #expect(consumer.records[.events]?.map(\.sequence) == [0], "the record the slot holds now was not read")
        #expect(consumer.unreadable[.events] == nil)
        // Held slots go back to the writer once believed.
        #expect(try events.indices().reader == 0)
    }

    @Test func aSlotThatStaysBrokenIsReportedAsWhatItReadAs() throws {
        let file = try Self.file(#function)
        try Self.writeOneSample(into: file)
        let slot = file.ring(.events).slot(0)
        // A length prefix longer than the slot: SLOT-LENGTH, and it stays so.
        slot[0] = 0xFF
        slot[1] = 0x7F
        let consumer = LiveConsumer(path: file.path, holeTimeout: .seconds(2))
        Self.settle(consumer)
        let events0 = consumer.failures.filter { $0.message.hasPrefix("events sequence 0") }
        #expect(events0.map(\.check) == ["SLOT-LENGTH"], "\(consumer.failures)")
        #expect(consumer.unreadable[.events] == 1)
        #expect(consumer.records[.events] == nil)
        #expect(try file.ring(.events).indices().reader == 0)
    }
}
