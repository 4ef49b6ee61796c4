import Foundation
import Synchronization
import OTLPMmapCore
import OTLPMmapLayout
import Testing
import TestSupport

/// Another process shrinking a file we have mapped must not kill us (SIGBUS): the truncated pages
/// read as zeros and the event is counted.
@Suite struct TruncationTests {
    @Test func aFileTruncatedByAnotherProcessDoesNotKillTheReader() async throws {
        let writer = try makeFile(numBuffers: 64, bufferSize: 512)
        try writeSamples(into: writer, spans: 10)
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

    /// Parallel fuzz jobs each read their own file on a thread of their own: a truncation one of
    /// them reads must be counted on its thread, not blamed on another job's file.
    @Test func truncatedReadsAreCountedOnTheThreadThatReadThem() async throws {
        let writer = try makeFile(numBuffers: 64, bufferSize: 512)
        let reader = try MmapFile.open(path: writer.path)
        let lastSlot = reader.ring(.spans).slot(63)
        let (address, count) = (Int(bitPattern: lastSlot.baseAddress), lastSlot.count)
        let truncate = try await TestSupport.run(["-s", "100", writer.path], executable: "/usr/bin/truncate")
        #expect(truncate.status == 0, "\(truncate.stderr)")

        let (idle, reading) = try await TestSupport.offThePool {
            let idleBefore = TruncationGuard.eventsOnThisThread
            let counted = try Self.onAnotherThread {
                let before = TruncationGuard.eventsOnThisThread
                let bytes = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count))
                precondition(bytes.allSatisfy { $0 == 0 })
                return TruncationGuard.eventsOnThisThread - before
            }
            return (TruncationGuard.eventsOnThisThread - idleBefore, counted)
        }
        withExtendedLifetime(reader) {}
        #expect(reading >= 1, "the reading thread counted none of its truncated reads")
        #expect(idle == 0, "a thread that read nothing was charged \(idle) truncated reads")
    }

    /// Runs `body` on a new thread and waits for it (the caller is already off the cooperative pool).
    static func onAnotherThread<Result: Sendable>(_ body: @escaping @Sendable () -> Result) throws -> Result {
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<Result?>(nil)
        Thread { box.withLock { $0 = body() }; done.signal() }.start()
        done.wait()
        return box.withLock { $0! }
    }
}
