import Atomics
#if canImport(Glibc)
import Glibc
#endif

/// A 16-byte trace id, held as two integers so that making and writing one allocates nothing.
/// Byte order is big-endian: `high`'s first byte is the id's first byte.
public struct TraceID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The id from 16 bytes, or nil for another length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var bytes: [UInt8] {
        withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)
    }

    public var isValid: Bool { high != 0 || low != 0 }
    public var description: String { hex(high) + hex(low) }
}

/// An 8-byte span id, big-endian like `TraceID`.
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 8 else { return nil }
        value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    public var isValid: Bool { value != 0 }
    public var description: String { hex(value) }
}

/// The identity of a span: what children, links, logs and measurements refer to.
public struct SpanContext: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    /// W3C trace flags; bit 0 is "sampled".
    public var flags: UInt32

    public init(traceID: TraceID, spanID: SpanID, flags: UInt32 = 1) {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }
}

private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// Random, never-zero ids without a system call or a lock per id: each thread's state (a
/// `ThreadSlots` slot, seeded from the writer's seed or the system's random source) advances by a
/// fixed odd step and is scrambled with the SplitMix64 finaliser. Ids are unique per process and
/// unpredictable without the seed, which is what tracing needs; they are not secrets.
enum IDGenerator {
    /// SplitMix64's step: odd, so a state visits all 2^64 values before repeating.
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A span id from the next step of `slot`'s state.
    @inline(__always)
    static func spanID(_ slots: ThreadSlots, _ slot: ThreadSlot) -> SpanID {
        while true {
            let z = mix(slots.nextIDStep(in: slot))
            if z != 0 { return SpanID(z) }
        }
    }

    /// A new trace's id and its first span's id from one step: the halves mix the step with
    /// different odd constants, so they are unrelated.
    @inline(__always)
    static func rootIDs(_ slots: ThreadSlots, _ slot: ThreadSlot) -> (TraceID, SpanID) {
        while true {
            let step = slots.nextIDStep(in: slot)
            let trace = TraceID(high: mix(step), low: mix(step ^ 0xD6E8_FEB8_6659_FD93))
            let span = SpanID(mix(step ^ 0xA076_1D64_78BD_642F))
            if trace.isValid && span.isValid { return (trace, span) }
        }
    }

    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
