/// Writes protobuf wire format straight into caller-provided memory (a ring slot or a dictionary
/// entry), so encoding a record needs no heap allocation. The caller sizes the destination from
/// `encodedSize` first; writing past the capacity is a programming error and traps.
// The hot-path types (ProtoWriter, WireSink, SizeCounter, StreamedMessage, WireSize, WireType,
// SharedMemory, Core's Ring, the generated ring views and field numbers) are declared `public` in
// modules that are not products: Swift 6.3 does not inline `@inlinable package` members of a
// `package` type into another module (members of a `public` type inline; a measured 2× slower
// writer otherwise). Their members stay `package` unless a public protocol requires them.
public struct ProtoWriter: WireSink {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    @usableFromInline var _count: Int = 0
    @inlinable package var count: Int { _count }

    @inlinable package init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        capacity = buffer.count
    }

    @inlinable @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        // 0 <= _count <= capacity always holds and n is a small non-negative size, so wrapping
        // arithmetic cannot wrap: one compare per write instead of three overflow checks.
        precondition(UInt(bitPattern: n) <= UInt(bitPattern: capacity &- _count), "ProtoWriter overflow: the caller sized the buffer wrongly")
        let pointer = base + _count
        _count &+= n
        return pointer
    }

    @inlinable @inline(__always)
    public mutating func writeVarint(_ value: UInt64) {
        if value < 0x80 {
            // Tags, small lengths and small numbers: most varints of a record.
            reserve(1).storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        } else if value < 0x4000 {
            // Two-byte keys (field numbers 16 and up), dictionary references in small files, lengths.
            let pointer = reserve(2)
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value >> 7), toByteOffset: 1, as: UInt8.self)
        } else if value < 0x20_0000 {
            // Dictionary references (offsets) in files up to 2 MiB.
            let pointer = reserve(3)
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, as: UInt8.self)
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value >> 7) | 0x80, toByteOffset: 1, as: UInt8.self)
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value >> 14), toByteOffset: 2, as: UInt8.self)
        } else {
            writeLongVarint(value)
        }
    }

    @usableFromInline @inline(never)
    mutating func writeLongVarint(_ value: UInt64) {
        var value = value
        let pointer = reserve(varintSize(value))
        var index = 0
        while value >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: index, as: UInt8.self)
            value >>= 7
            index += 1
        }
        pointer.storeBytes(of: UInt8(value), toByteOffset: index, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public mutating func writeFixed32(_ value: UInt32) {
        reserve(4).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    @inlinable @inline(__always)
    public mutating func writeFixed64(_ value: UInt64) {
        reserve(8).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        copySmall(to: reserve(bytes.count), from: bytes.baseAddress!, count: bytes.count)
    }

    @inlinable @inline(__always)
    public mutating func writeRaw(_ bytes: UnsafeRawBufferPointer, settingBytesAt offsets: UnsafeBufferPointer<Int32>, to value: UInt8) {
        guard bytes.count > 0 else { return }
        let destination = reserve(bytes.count)
        copySmall(to: destination, from: bytes.baseAddress!, count: bytes.count)
        for offset in offsets {
            precondition(offset >= 0 && Int(offset) < bytes.count, "offset outside the block")
            destination.storeBytes(of: value, toByteOffset: Int(offset), as: UInt8.self)
        }
    }

    @inlinable @inline(__always)
    public mutating func writeReserved(_ count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) {
        fill(reserve(count))
    }

    /// Writes a length prefix followed by the bytes.
    @inlinable
    package mutating func writeLengthDelimited(_ bytes: UnsafeRawBufferPointer) {
        writeVarint(UInt64(bytes.count))
        writeRaw(bytes)
    }

    @inlinable
    package mutating func writeLengthDelimited(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeLengthDelimited($0) }
    }

    @inlinable
    public mutating func writeLengthDelimited(_ string: String) {
        // withUTF8 gives small (inline) strings a stack copy and native ones their storage: no allocation.
        var string = string
        string.withUTF8 { writeLengthDelimited(UnsafeRawBufferPointer($0)) }
    }
}

/// Copies `count` bytes. Record fields are short (names, ids, attribute blocks of a few dozen
/// bytes), where a call into the C library's memcpy costs more than the copy: those go word by word.
@inlinable @inline(__always)
package func copySmall(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
    guard count <= 128 else {
        destination.copyMemory(from: source, byteCount: count)
        return
    }
    var offset = 0
    while offset + 8 <= count {
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
        offset += 8
    }
    if offset + 4 <= count {
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt32.self), toByteOffset: offset, as: UInt32.self)
        offset += 4
    }
    while offset < count {
        destination.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
        offset += 1
    }
}

/// Bytes a varint encoding of `value` takes (1 to 10).
@inlinable @inline(__always)
package func varintSize(_ value: UInt64) -> Int {
    let bits = 64 - value.leadingZeroBitCount
    return bits == 0 ? 1 : (bits + 6) / 7
}

/// Bytes a length-delimited item of `length` payload bytes takes, prefix included.
@inlinable @inline(__always)
package func lengthDelimitedSize(_ length: Int) -> Int { varintSize(UInt64(length)) + length }

extension Array where Element == UInt8 {
    /// `size` bytes written by `write` through a `ProtoWriter`; writing other than exactly `size`
    /// bytes is a programming error and traps.
    @inlinable
    package static func encoded(size: Int, _ write: (inout ProtoWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var writer = ProtoWriter(UnsafeMutableRawBufferPointer(buffer))
            write(&writer)
            precondition(writer.count == size, "wrote \(writer.count) of \(size) bytes")
            count = size
        }
    }
}
