import Atomics
import CPlatform
#if canImport(Glibc)
import Glibc
#endif

/// Keeps a reader alive when another process shrinks a file it has mapped.
///
/// Reading a mapped page that now lies past the end of the file raises SIGBUS, which would kill the
/// reader: exactly what a crashing or hostile writer must not be able to do to a collector or a
/// checker. Once installed, the handler replaces such a page, and only pages inside mappings of
/// `MappedFile`, with a private page of zeros, counts the event, and lets the read continue. Callers
/// compare `events` before and after their work to notice. Any other SIGBUS keeps its default
/// action.
package enum TruncationGuard {
    /// Registered mappings (one address reservation per open file): triples of (start, length,
    /// pages replaced in it), start 0 for a free slot.
    package static let capacity = 256
    static let stride = 3
    nonisolated(unsafe) static let ranges: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage> = {
        let pointer = UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>.allocate(capacity: capacity * stride)
        pointer.initialize(repeating: .init(0), count: capacity * stride)
        return pointer
    }()
    nonisolated(unsafe) static let counter: UnsafeMutablePointer<UnsafeAtomic<Int>.Storage> = {
        let pointer = UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>.allocate(capacity: 2)
        pointer.initialize(repeating: .init(0), count: 2)
        return pointer
    }()

    /// How many truncated pages were replaced since the process started.
    package static var events: Int { UnsafeAtomic<Int>(at: counter).load(ordering: .acquiring) }

    /// How many of them were read by the calling thread: what a reader compares before and after
    /// its work when other threads of the process read other files (parallel fuzz jobs).
    package static var eventsOnThisThread: Int { Int(truncatingIfNeeded: otlp_mmap_thread_truncation_count()) }

    /// Installs the handler once per process.
    package static func install() {
        let installed = UnsafeAtomic<Int>(at: counter + 1)
        guard installed.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else { return }
        _ = ranges
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            TruncationGuard.handle(info)
        }
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, nil)
    }

    /// Guards `mapping`; false when every slot is taken (the caller must not map unguarded).
    static func register(_ mapping: UnsafeMutableRawBufferPointer) -> Bool {
        guard let base = mapping.baseAddress, mapping.count > 0 else { return true }
        for slot in 0..<capacity {
            let start = UnsafeAtomic<Int>(at: ranges + stride * slot)
            if start.compareExchange(expected: 0, desired: Int(bitPattern: base), ordering: .acquiringAndReleasing).exchanged {
                UnsafeAtomic<Int>(at: ranges + stride * slot + 2).store(0, ordering: .releasing)
                UnsafeAtomic<Int>(at: ranges + stride * slot + 1).store(mapping.count, ordering: .releasing)
                return true
            }
        }
        return false
    }

    static func unregister(_ mapping: UnsafeMutableRawBufferPointer) {
        guard let base = mapping.baseAddress else { return }
        for slot in 0..<capacity {
            let start = UnsafeAtomic<Int>(at: ranges + stride * slot)
            if start.load(ordering: .acquiring) == Int(bitPattern: base) {
                UnsafeAtomic<Int>(at: ranges + stride * slot + 1).store(0, ordering: .releasing)
                start.store(0, ordering: .releasing)
                return
            }
        }
    }

    /// Truncated pages replaced inside `mapping` (a registered range) since it was registered: what
    /// one file's reader compares, untouched by other files of the process being truncated.
    static func events(in mapping: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = mapping.baseAddress else { return 0 }
        for slot in 0..<capacity where UnsafeAtomic<Int>(at: ranges + stride * slot).load(ordering: .acquiring) == Int(bitPattern: base) {
            return UnsafeAtomic<Int>(at: ranges + stride * slot + 2).load(ordering: .acquiring)
        }
        return 0
    }

    /// Runs inside the signal handler: only async-signal-safe work (atomics, mmap, signal, raise).
    static func handle(_ info: UnsafeMutablePointer<siginfo_t>?) {
        guard let info, info.pointee.si_code == BUS_ADRERR, let address = info.pointee._sifields._sigfault.si_addr else {
            return fallBack()
        }
        let fault = Int(bitPattern: address)
        for slot in 0..<capacity {
            let start = UnsafeAtomic<Int>(at: ranges + stride * slot).load(ordering: .acquiring)
            let length = UnsafeAtomic<Int>(at: ranges + stride * slot + 1).load(ordering: .acquiring)
            guard start != 0, fault >= start, fault < start + length else { continue }
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let page = UnsafeMutableRawPointer(bitPattern: fault & ~(pageSize - 1))
            let replaced = mmap(page, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
            guard replaced != MAP_FAILED else { return fallBack() }
            UnsafeAtomic<Int>(at: counter).wrappingIncrement(ordering: .acquiringAndReleasing)
            UnsafeAtomic<Int>(at: ranges + stride * slot + 2).wrappingIncrement(ordering: .acquiringAndReleasing)
            otlp_mmap_count_thread_truncation()
            return
        }
        fallBack()
    }

    /// Not ours: restore the default action; returning re-runs the access, which then kills the process.
    static func fallBack() {
        signal(SIGBUS, SIG_DFL)
    }
}
