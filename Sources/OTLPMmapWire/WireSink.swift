/// What every generated record message offers: sizing and encoding without allocation, decoding from
/// untrusted bytes, and a generic view of its content.
package protocol WireMessage: Sendable {
    /// Bytes `encode(to:)` writes (no length prefix).
    var encodedSize: Int { get }
    func encode(to writer: inout ProtoWriter)
    init(from reader: inout ProtoReader) throws(FormatError)
    var recordValue: RecordValue { get }
}

/// A message of the format's own schema, with the record rules spec/messages.yaml names on its
/// fields generated as `validate(at:into:)` — the one validator every reader calls.
package protocol RuleCheckedMessage: WireMessage {
    /// Appends every rule the message (and its nested messages) breaks, each naming `offset`.
    func validate(at offset: Int, into findings: inout [FormatError])
}

/// Where streaming encoders write: a `ProtoWriter` into memory, or a `SizeCounter` that only adds up
/// the bytes. One generic encoding function serves both, so a record's size and its bytes cannot
/// disagree.
public protocol WireSink {
    /// Writes `bytes`, then sets the written bytes at `offsets` (relative to `bytes`) to `value`:
    /// a pre-encoded block whose field keys depend on where it is written.
    mutating func writeRaw(_ bytes: UnsafeRawBufferPointer, settingBytesAt offsets: UnsafeBufferPointer<Int32>, to value: UInt8)
    mutating func writeVarint(_ value: UInt64)
    mutating func writeFixed32(_ value: UInt32)
    mutating func writeFixed64(_ value: UInt64)
    mutating func writeRaw(_ bytes: UnsafeRawBufferPointer)
    mutating func writeLengthDelimited(_ string: String)
    /// Reserves `count` bytes and lets `fill` store exactly that many at the pointer it gets: a
    /// field of known size (key, length and value) checked and counted once, not per part.
    /// `SizeCounter` only counts and never calls `fill`.
    mutating func writeReserved(_ count: Int, _ fill: (UnsafeMutableRawPointer) -> Void)
}

/// A message encoded field by field from values the caller already holds, without building a
/// generated message value first (which would allocate its arrays).
public protocol StreamedMessage {
    func encode<Sink: WireSink>(to sink: inout Sink)
    /// Bytes `encode(to:)` writes. The default runs `encode` on a `SizeCounter`; hot records
    /// compute it arithmetically instead (a test checks the two agree).
    var encodedSize: Int { get }
}

extension StreamedMessage {
    /// Bytes `encode(to:)` writes, counted by running it on a `SizeCounter`.
    @inlinable
    package var countedSize: Int {
        var counter = SizeCounter()
        encode(to: &counter)
        return counter.count
    }

    @inlinable
    package var encodedSize: Int {
        var counter = SizeCounter()
        encode(to: &counter)
        return counter.count
    }
}

/// Counts the bytes an encoding would write, without writing.
public struct SizeCounter: WireSink {
    @usableFromInline package var count: Int
    @inlinable package init() { count = 0 }
    @inlinable public mutating func writeVarint(_ value: UInt64) { count += varintSize(value) }
    @inlinable public mutating func writeFixed32(_ value: UInt32) { count += 4 }
    @inlinable public mutating func writeFixed64(_ value: UInt64) { count += 8 }
    @inlinable public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer) { count += bytes.count }
    @inlinable public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer, settingBytesAt offsets: UnsafeBufferPointer<Int32>, to value: UInt8) {
        count += bytes.count
    }
    @inlinable public mutating func writeLengthDelimited(_ string: String) { count += lengthDelimitedSize(string.utf8.count) }
    @inlinable public mutating func writeReserved(_ count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) { self.count += count }
}

