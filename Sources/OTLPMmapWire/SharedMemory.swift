import Atomics

/// Atomic access to integers at arbitrary addresses of a shared mapping.
///
/// Naturally aligned fields go through swift-atomics, which the other process's atomics (Rust, Java,
/// C) are compatible with. Files from other writers may put 8-byte ring header fields at unaligned
/// offsets (see RING-ALIGN), where no portable atomic instruction exists. There we fall back to
/// fenced plain accesses and, for loads, read until two consecutive reads agree, which keeps a torn
/// value from a concurrent store out of our hands in practice. Read-modify-write operations
/// (compare-and-swap, fetch-add) have no such fallback: callers must refuse to produce into an
/// unaligned ring.
public enum SharedMemory {
    @inlinable
    package static func isAligned(_ pointer: UnsafeMutableRawPointer, to size: Int) -> Bool {
        UInt(bitPattern: pointer) % UInt(size) == 0
    }

    @inlinable
    package static func loadInt64(_ pointer: UnsafeMutableRawPointer) -> Int64 {
        if isAligned(pointer, to: 8) {
            return UnsafeAtomic<Int64>(at: pointer.assumingMemoryBound(to: Int64.AtomicRepresentation.self))
                .load(ordering: .acquiring)
        }
        return stableUnalignedLoad(pointer, as: Int64.self)
    }

    @inlinable
    package static func storeInt64(_ pointer: UnsafeMutableRawPointer, _ value: Int64) {
        if isAligned(pointer, to: 8) {
            UnsafeAtomic<Int64>(at: pointer.assumingMemoryBound(to: Int64.AtomicRepresentation.self))
                .store(value, ordering: .releasing)
        } else {
            atomicMemoryFence(ordering: .releasing)
            pointer.storeBytes(of: value.littleEndian, as: Int64.self)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
    }

    /// Compare-and-swap on an aligned field; returns whether it exchanged and the value seen.
    @inlinable
    package static func compareExchangeInt64(
        _ pointer: UnsafeMutableRawPointer, expected: Int64, desired: Int64
    ) -> (exchanged: Bool, original: Int64) {
        precondition(isAligned(pointer, to: 8), "atomic read-modify-write on an unaligned field")
        return UnsafeAtomic<Int64>(at: pointer.assumingMemoryBound(to: Int64.AtomicRepresentation.self))
            .compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing)
    }

    /// Fetch-add on an aligned field; returns the value before the addition.
    @inlinable
    package static func fetchAddInt64(_ pointer: UnsafeMutableRawPointer, _ delta: Int64) -> Int64 {
        precondition(isAligned(pointer, to: 8), "atomic read-modify-write on an unaligned field")
        return UnsafeAtomic<Int64>(at: pointer.assumingMemoryBound(to: Int64.AtomicRepresentation.self))
            .loadThenWrappingIncrement(by: delta, ordering: .acquiringAndReleasing)
    }

    @inlinable
    package static func loadUInt64(_ pointer: UnsafeMutableRawPointer) -> UInt64 {
        UInt64(bitPattern: loadInt64(pointer))
    }

    @inlinable
    package static func storeUInt64(_ pointer: UnsafeMutableRawPointer, _ value: UInt64) {
        storeInt64(pointer, Int64(bitPattern: value))
    }

    @inlinable
    package static func loadInt32(_ pointer: UnsafeMutableRawPointer) -> Int32 {
        if isAligned(pointer, to: 4) {
            return UnsafeAtomic<Int32>(at: pointer.assumingMemoryBound(to: Int32.AtomicRepresentation.self))
                .load(ordering: .acquiring)
        }
        return stableUnalignedLoad(pointer, as: Int32.self)
    }

    @inlinable
    package static func storeInt32(_ pointer: UnsafeMutableRawPointer, _ value: Int32) {
        if isAligned(pointer, to: 4) {
            UnsafeAtomic<Int32>(at: pointer.assumingMemoryBound(to: Int32.AtomicRepresentation.self))
                .store(value, ordering: .releasing)
        } else {
            atomicMemoryFence(ordering: .releasing)
            pointer.storeBytes(of: value.littleEndian, as: Int32.self)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
    }

    /// Non-atomic little-endian load for fields nobody changes after creation (sizes, version).
    @inlinable
    package static func loadPlain<T: FixedWidthInteger>(_ pointer: UnsafeMutableRawPointer, as type: T.Type) -> T {
        T(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: T.self))
    }

    @inlinable
    package static func storePlain<T: FixedWidthInteger>(_ pointer: UnsafeMutableRawPointer, _ value: T) {
        pointer.storeBytes(of: value.littleEndian, as: T.self)
    }

    /// Reads until two consecutive reads agree. Bounded, so that a writer changing the bytes without
    /// pause cannot hang us: after that many tries the last value is returned, and whatever uses it
    /// validates it like any other untrusted value.
    @usableFromInline
    static func stableUnalignedLoad<T: FixedWidthInteger>(_ pointer: UnsafeMutableRawPointer, as type: T.Type) -> T {
        var previous = T(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: T.self))
        for _ in 0..<1_000 {
            atomicMemoryFence(ordering: .acquiring)
            let current = T(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: T.self))
            atomicMemoryFence(ordering: .acquiring)
            if current == previous { return current }
            previous = current
        }
        return previous
    }
}
