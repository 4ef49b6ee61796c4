/// Bytes each field writer of `WireSink+Fields.swift` writes, for messages that compute their
/// `encodedSize` arithmetically. Each mirrors the writer of the same name, defaults left out alike.
public enum WireSize {
    /// Bytes of a field key.
    @inlinable @inline(__always) package static func tag(_ number: Int) -> Int { varintSize(UInt64(number) << 3) }
    @inlinable @inline(__always) package static func int64(_ number: Int, _ value: Int64) -> Int {
        value == 0 ? 0 : tag(number) + varintSize(UInt64(bitPattern: value))
    }
    @inlinable @inline(__always) package static func uint64(_ number: Int, _ value: UInt64) -> Int {
        value == 0 ? 0 : tag(number) + varintSize(value)
    }
    @inlinable @inline(__always) package static func enumeration(_ number: Int, _ rawValue: Int32) -> Int { int64(number, Int64(rawValue)) }
    @inlinable @inline(__always) package static func bool(_ number: Int, _ value: Bool) -> Int { value ? tag(number) + 1 : 0 }
    @inlinable @inline(__always) package static func fixed64(_ number: Int, _ value: UInt64) -> Int { value == 0 ? 0 : tag(number) + 8 }
    @inlinable @inline(__always) package static func fixed32(_ number: Int, _ value: UInt32) -> Int { value == 0 ? 0 : tag(number) + 4 }
    @inlinable @inline(__always) package static func double(_ number: Int, _ value: Double) -> Int { fixed64(number, value.bitPattern) }
    @inlinable @inline(__always) package static func string(_ number: Int, _ value: String) -> Int {
        value.isEmpty ? 0 : tag(number) + lengthDelimitedSize(value.utf8.count)
    }
    /// A bytes field of `count` bytes, not written when empty.
    @inlinable @inline(__always) package static func bytes(_ number: Int, count: Int) -> Int {
        count == 0 ? 0 : tag(number) + lengthDelimitedSize(count)
    }
    /// A 16-byte id field (`writeID128Field`).
    @inlinable @inline(__always) package static func id128(_ number: Int) -> Int { tag(number) + 1 + 16 }
    /// An 8-byte id field (`writeID64Field`).
    @inlinable @inline(__always) package static func id64(_ number: Int) -> Int { tag(number) + 1 + 8 }
    /// An embedded message of `size` bytes.
    @inlinable @inline(__always) package static func message(_ number: Int, size: Int) -> Int { tag(number) + lengthDelimitedSize(size) }
}
