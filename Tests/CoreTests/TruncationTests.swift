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

    /// Issue 24, finding 7: every growth used to add a mapping, kept until close; after 300 growths
    /// a reader held 289, past the guard's 256 slots, and a truncation of the later ones would have
    /// killed it. The file now stays in one address reservation: one guarded range, one address.
    @Test func aFileGrownMoreTimesThanTheGuardHasSlotsStaysOneGuardedMapping() async throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("grown").path
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let writer = try MappedFile.create(path: path, size: page)
        let reader = try MappedFile.open(path: path, writable: false)
        let base = reader.bytes.baseAddress
        let growths = TruncationGuard.capacity + 44
        for growth in 1...growths {
            let mapping = try writer.grow(toAtLeast: page * (growth + 1))
            mapping[page * growth] = UInt8(truncatingIfNeeded: growth)
            let seen = try reader.refresh()
            #expect(seen.count == page * (growth + 1))
            if seen[page * growth] != UInt8(truncatingIfNeeded: growth) { Issue.record("growth \(growth) not seen through the reader's mapping") }
        }
        #expect(reader.reservedRanges == 1 && writer.reservedRanges == 1)
        #expect(reader.bytes.baseAddress == base, "the mapping moved")

        // Shrink the file under the reader: its last pages (mapped by the 300th growth) read as zeros.
        let truncate = try await TestSupport.run(["-s", "\(page)", path], executable: "/usr/bin/truncate")
        #expect(truncate.status == 0, "\(truncate.stderr)")
        let last = UnsafeRawBufferPointer(rebasing: reader.bytes[(page * growths)...])
        let before = TruncationGuard.events, beforeHere = reader.truncationEvents, writerBefore = writer.truncationEvents
        #expect(Array(last).allSatisfy { $0 == 0 })
        #expect(TruncationGuard.events > before)
        // Counted for the file whose pages were read, not for another file of the process.
        #expect(reader.truncationEvents > beforeHere)
        #expect(writer.truncationEvents == writerBefore)
    }

    /// A file that outgrows its reservation moves to a larger one; the old one stays mapped (pointers
    /// into it stay valid) until close. The file is sparse: no disk, no memory.
    @Test func aFileThatOutgrowsItsReservationMovesAndKeepsTheOldPointersValid() throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("outgrown").path
        let file = try MappedFile.create(path: path, size: 4096)
        let first = file.bytes
        first[0] = 42
        let grown = try file.grow(toAtLeast: MappedFile.minimumReservation + 4096)
        #expect(grown.count == MappedFile.minimumReservation + 4096)
        #expect(file.reservedRanges == 2)
        #expect(first[0] == 42 && grown[0] == 42)
        grown[0] = 7
        #expect(first[0] == 7, "the retired mapping no longer shows the file")
        file.close()
        try FileManager.default.removeItem(atPath: path)
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
