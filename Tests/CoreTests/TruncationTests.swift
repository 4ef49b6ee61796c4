import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import Testing
import TestSupport

/// Another process shrinking a file we have mapped must not kill us (SIGBUS): the truncated pages
/// read as zeros and the event is counted.
@Suite struct TruncationTests {
    @Test func aFileTruncatedByAnotherProcessDoesNotKillTheReader() async throws {
        let writer = try makeFile(numBuffers: 64, bufferSize: 512)
        let sample = try SampleWriter(file: writer)
        try sample.write(0..<10)
        let reader = try MmapFile.open(path: writer.path)
        let spans = reader.ring(.spans)
        let lastSlot = spans.slot(63)
        let before = TruncationGuard.events

        let truncate = try await TestSupport.run(["-s", "100", writer.path], executable: "/usr/bin/truncate")
        #expect(truncate.status == 0, "\(truncate.stderr)")
        #expect(try reader.file.currentFileSize() == 100)

        // These pages lie past the new end of the file: without the guard this read is SIGBUS.
        let bytes = Array(UnsafeRawBufferPointer(lastSlot))
        #expect(bytes.allSatisfy { $0 == 0 })
        #expect(TruncationGuard.events > before)
        // Whole-file work keeps going on the zeros instead of crashing.
        _ = Inspector.inspect(reader)
    }
}
