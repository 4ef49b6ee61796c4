import Atomics
import CPlatform
import Foundation
import OTLPMmapCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One word of a thread's slot.
typealias SlotWord = UnsafeAtomic<Int>.Storage
/// A thread's slot: `ThreadSlots.words` words.
typealias ThreadSlot = UnsafeMutablePointer<SlotWord>

/// Per-thread state of one writer: its record counters and its id generator.
///
/// An atomic read-modify-write (a locked instruction) costs about 10 ns here, as much as encoding a
/// small record. A counter or id state that many threads share needs one per record; a slot that
/// only its own thread writes does not: the owner increments with a plain (relaxed) load and store,
/// and readers of the statistics sum every slot with relaxed loads.
///
/// Slots are found through a pthread key. A thread's slot is handed back when the thread exits and
/// given to the next new thread, so a writer used by short-lived threads keeps a bounded number of
/// slots, and the counts of exited threads stay in the sums.
final class ThreadSlots: @unchecked Sendable {
    /// Words of a slot; 16 × 8 = 128 bytes, so that two threads' slots never share a cache line
    /// (nor the adjacent line that some processors prefetch with it).
    static let words = 16
    private static let inUseWord = 0
    private static let firstCounterWord = 1
    private static let idStateWord = 15

    private let key: pthread_key_t
    /// This object's number for the thread-local cache; numbers are never reused.
    private let owner: UInt64
    private static let owners = ManagedAtomic<UInt64>(0)
    private let lock = NSLock()
    /// Every slot handed out, in use or not. Guarded by `lock`.
    private var slots: [ThreadSlot] = []
    /// Where new slots' id states come from: one shared step per new slot, not per id.
    private let seeds: ManagedAtomic<UInt64>

    init(idSeed: UInt64?) throws(ConfigurationError) {
        var random = SystemRandomNumberGenerator()
        seeds = ManagedAtomic(idSeed ?? random.next())
        var key = pthread_key_t()
        guard pthread_key_create(&key, releaseThreadSlot) == 0 else {
            throw ConfigurationError(rule: "SDK", message: "cannot create a thread-local key for the writer (too many writers alive in this process)")
        }
        self.key = key
        owner = Self.owners.wrappingIncrementThenLoad(ordering: .relaxed)
    }

    deinit {
        pthread_key_delete(key)
        // A slot still marked in use belongs to a thread that is alive (or exiting right now, its
        // destructor's last act being to mark it free); leaving those allocated is the price of
        // never freeing memory another thread may still touch.
        for slot in slots where UnsafeAtomic(at: slot + Self.inUseWord).load(ordering: .acquiring) == 0 {
            slot.deallocate()
        }
    }

    /// The calling thread's slot, attached on its first record.
    @inline(__always)
    func current() -> ThreadSlot {
        if let slot = otlp_mmap_thread_cache_get(owner) {
            return slot.assumingMemoryBound(to: SlotWord.self)
        }
        return lookUp()
    }

    /// The slow path: the pthread key (another writer was used last on this thread) or a new slot.
    @inline(never)
    private func lookUp() -> ThreadSlot {
        let slot = pthread_getspecific(key)?.assumingMemoryBound(to: SlotWord.self) ?? attach()
        otlp_mmap_thread_cache_set(owner, slot)
        return slot
    }

    @inline(never)
    private func attach() -> ThreadSlot {
        let slot = lock.withLock { () -> ThreadSlot in
            for slot in slots where UnsafeAtomic(at: slot + Self.inUseWord).compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return slot
            }
            // Aligned to its own size, so that no other data shares its cache lines.
            let bytes = Self.words * MemoryLayout<SlotWord>.stride
            let slot = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes).bindMemory(to: SlotWord.self, capacity: Self.words)
            slot.initialize(repeating: SlotWord(0), count: Self.words)
            UnsafeAtomic(at: slot + Self.inUseWord).store(1, ordering: .relaxed)
            let seed = IDGenerator.mix(seeds.wrappingIncrementThenLoad(by: IDGenerator.gamma, ordering: .relaxed))
            UnsafeAtomic(at: slot + Self.idStateWord).store(Int(bitPattern: UInt(seed)), ordering: .relaxed)
            slots.append(slot)
            return slot
        }
        pthread_setspecific(key, slot)
        return slot
    }

    /// Slots allocated.
    var count: Int { lock.withLock { slots.count } }

    // MARK: counters

    /// Adds one to counter `index` of the calling thread's slot: no locked instruction.
    @inline(__always)
    func increment(_ index: Int, in slot: ThreadSlot) {
        let counter = UnsafeAtomic<Int>(at: slot + Self.firstCounterWord + index)
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// The sum of counter `index` over every slot.
    func sum(_ index: Int) -> Int {
        lock.withLock { slots.reduce(0) { $0 &+ UnsafeAtomic<Int>(at: $1 + Self.firstCounterWord + index).load(ordering: .relaxed) } }
    }

    // MARK: ids

    /// Advances the calling thread's id state by one step and returns the new state.
    @inline(__always)
    func nextIDStep(in slot: ThreadSlot) -> UInt64 {
        let state = UnsafeAtomic<Int>(at: slot + Self.idStateWord)
        let next = UInt64(UInt(bitPattern: state.load(ordering: .relaxed))) &+ IDGenerator.gamma
        state.store(Int(bitPattern: UInt(next)), ordering: .relaxed)
        return next
    }
}

/// The pthread key's destructor: a thread that exits hands its slot back.
private func releaseThreadSlot(_ slot: UnsafeMutableRawPointer?) {
    guard let slot else { return }
    UnsafeAtomic<Int>(at: slot.assumingMemoryBound(to: SlotWord.self)).store(0, ordering: .releasing)
}
