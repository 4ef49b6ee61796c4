#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file mapped into memory with MAP_SHARED, so that other processes mapping it see our stores and
/// we see theirs.
///
/// The file can grow while mapped (the dictionary is its growing tail). So that growing never moves
/// or multiplies the mapping, the file is mapped at the start of a reservation of address space (no
/// memory: PROT_NONE, MAP_NORESERVE) much larger than the file; a growth maps the file again over
/// the same addresses (MAP_FIXED replaces the old pages in one step), so pointers any thread took
/// stay valid and one mapping per file is all there is. A file that outgrows its reservation moves
/// to one at least twice its size and the old one is retired, kept until `close` since pointers
/// into it may still be in use: at most a few, since each reservation at least doubles.
package final class MappedFile: @unchecked Sendable {  // every mutable field is guarded by `lock`
    package let path: String
    package let writable: Bool
    private let descriptor: Int32
    private let lock = NSLock()
    /// The reservation the file is mapped at the start of (nil until the file has a byte).
    private var reservation: UnsafeMutableRawBufferPointer?
    /// How many bytes of the file are mapped at the reservation's start.
    private var mapped = 0
    /// Earlier reservations, unmapped at `close`.
    private var retired: [UnsafeMutableRawBufferPointer] = []
    private var isClosed = false

    /// Address space reserved per file, before any growth needs more: the file's own size doubled,
    /// and never less than this (a file past it moves once per doubling: a few retired ranges at most).
    package static let minimumReservation = 1 << 30  // 1 GiB of addresses, no memory

    private init(path: String, descriptor: Int32, writable: Bool) {
        self.path = path
        self.descriptor = descriptor
        self.writable = writable
    }

    /// Creates (or truncates) a file of `size` bytes, readable and writable by the owner only, and maps it.
    package static func create(path: String, size: Int) throws -> MappedFile {
        let opened = try SystemFile.open(path, .readWrite, create: 0o600, truncate: true)
        let file = MappedFile(path: path, descriptor: opened.descriptor, writable: true)
        // A stale file of another user may already exist with wider permissions: O_CREAT keeps them.
        try opened.setPermissions(0o600)
        try opened.resize(to: size)
        try file.mapWholeFile()
        return file
    }

    /// Opens and maps an existing regular file.
    package static func open(path: String, writable: Bool) throws -> MappedFile {
        let opened = try SystemFile.open(path, writable ? .readWrite : .readOnly)
        let file = MappedFile(path: path, descriptor: opened.descriptor, writable: writable)
        try file.mapWholeFile()
        return file
    }

    deinit { close() }

    package func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        isClosed = true
        for range in retired + [reservation].compactMap({ $0 }) {
            TruncationGuard.unregister(range)
            munmap(range.baseAddress, range.count)
        }
        retired.removeAll()
        reservation = nil
        mapped = 0
        Glibc.close(descriptor)
    }

    /// The mapping: the file's bytes as of the last growth we saw (its count is the file size then).
    /// Its start never changes while the file stays within its reservation.
    package var bytes: UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        return UnsafeMutableRawBufferPointer(start: reservation?.baseAddress, count: mapped)
    }

    /// Pages of this file that read past its end (another process shrank it) and were replaced by
    /// zeros (`TruncationGuard`), since it was opened. Other files' truncations do not count.
    package var truncationEvents: Int {
        lock.lock()
        defer { lock.unlock() }
        return (retired + [reservation].compactMap { $0 }).reduce(0) { $0 + TruncationGuard.events(in: $1) }
    }

    /// Address ranges this file holds: its reservation and any retired ones (tests of the bound).
    package var reservedRanges: Int {
        lock.lock()
        defer { lock.unlock() }
        return retired.count + (reservation == nil ? 0 : 1)
    }

    /// The file's size on disk now (another process may have grown it).
    package func currentFileSize() throws -> Int {
        try SystemFile(descriptor: descriptor, path: path).size()
    }

    /// Which file on disk this mapping is: a writer that re-creates its file (a new inode at the
    /// same path) leaves readers of the old one behind, and they find out by comparing this with
    /// `FileIdentity(path:)`.
    package func identity() throws -> FileIdentity {
        FileIdentity(try SystemFile(descriptor: descriptor, path: path).status())
    }

    /// Maps the file again if it grew since the last mapping. Returns the mapping.
    @discardableResult
    package func refresh() throws -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        let size = try currentFileSize()
        if mapped >= size { return currentLocked }
        return try mapLocked(size: size)
    }

    /// Grows the file to at least `size` bytes (never shrinks it: another process may have grown it
    /// further) and maps it again. Returns the mapping.
    @discardableResult
    package func grow(toAtLeast size: Int) throws -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        if try currentFileSize() < size {
            try SystemFile(descriptor: descriptor, path: path).resize(to: size)
        }
        let actual = try currentFileSize()
        if mapped >= actual { return currentLocked }
        return try mapLocked(size: actual)
    }

    private var currentLocked: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: reservation?.baseAddress, count: mapped)
    }

    private func mapWholeFile() throws {
        lock.lock()
        defer { lock.unlock() }
        _ = try mapLocked(size: try currentFileSize())
    }

    /// Maps the file's first `size` bytes at the reservation's start, reserving (again) first when
    /// there is no reservation or it is too small.
    private func mapLocked(size: Int) throws -> UnsafeMutableRawBufferPointer {
        guard !isClosed else { throw SystemError("mmap", path: path, errno: EBADF) }
        guard size > 0 else { return currentLocked }
        if reservation == nil || reservation!.count < size {
            let (doubled, overflow) = size.multipliedReportingOverflow(by: 2)
            // Smaller reservations if a limit on address space (ulimit -v) refuses the first: the
            // file just moves to a new one sooner when it grows.
            var range: UnsafeMutableRawBufferPointer?
            for length in [max(Self.minimumReservation, overflow ? size : doubled), overflow ? size : doubled, size] where range == nil {
                if let address = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), address != MAP_FAILED {
                    range = UnsafeMutableRawBufferPointer(start: address, count: length)
                }
            }
            guard let range, let address = range.baseAddress else {
                throw SystemError("mmap (reserving \(size) bytes of address space)", path: path, errno: errno)
            }
            let length = range.count
            TruncationGuard.install()
            guard TruncationGuard.register(range) else {
                munmap(address, length)
                throw SystemError("mmap: more than \(TruncationGuard.capacity) files are mapped at once; the guard against other processes truncating them holds no more",
                                  path: path, errno: EMFILE)
            }
            if let old = reservation { retired.append(old) }
            reservation = range
        }
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        let base = reservation!.baseAddress!
        guard let address = mmap(base, size, protection, MAP_SHARED | MAP_FIXED, descriptor, 0), address != MAP_FAILED else {
            throw SystemError("mmap", path: path, errno: errno)
        }
        mapped = size
        return currentLocked
    }
}

/// Device and inode: what tells two files apart when the path stays the same.
package struct FileIdentity: Equatable, Sendable {
    package let device: UInt64
    package let inode: UInt64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    /// The identity of the file now at `path`, or nil when there is none.
    package init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        self.init(status)
    }
}
