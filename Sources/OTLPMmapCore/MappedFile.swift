#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file mapped into memory with MAP_SHARED, so that other processes mapping it see our stores and
/// we see theirs.
///
/// The file can grow while mapped (the dictionary is its growing tail). Growing maps the file anew
/// and keeps the older mappings until `close`, so pointers that other threads took from an older
/// mapping stay valid; all mappings show the same pages.
package final class MappedFile: @unchecked Sendable {
    package let path: String
    package let writable: Bool
    private let descriptor: Int32
    private let lock = NSLock()
    private var mappings: [UnsafeMutableRawBufferPointer] = []
    private var isClosed = false

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
        for mapping in mappings where mapping.count > 0 {
            TruncationGuard.unregister(mapping)
            munmap(mapping.baseAddress, mapping.count)
        }
        mappings.removeAll()
        Glibc.close(descriptor)
    }

    /// The newest mapping. Its size is the file size when it was made.
    package var bytes: UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        return mappings.last ?? UnsafeMutableRawBufferPointer(start: nil, count: 0)
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

    /// Maps the file again if it grew since the newest mapping. Returns the newest mapping.
    @discardableResult
    package func refresh() throws -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        let size = try currentFileSize()
        if let last = mappings.last, last.count >= size { return last }
        return try mapLocked(size: size)
    }

    /// Grows the file to at least `size` bytes (never shrinks it: another process may have grown it
    /// further) and maps it again. Returns the newest mapping.
    @discardableResult
    package func grow(toAtLeast size: Int) throws -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        if try currentFileSize() < size {
            try SystemFile(descriptor: descriptor, path: path).resize(to: size)
        }
        let actual = try currentFileSize()
        if let last = mappings.last, last.count >= actual { return last }
        return try mapLocked(size: actual)
    }

    private func mapWholeFile() throws {
        lock.lock()
        defer { lock.unlock() }
        _ = try mapLocked(size: try currentFileSize())
    }

    private func mapLocked(size: Int) throws -> UnsafeMutableRawBufferPointer {
        guard !isClosed else { throw SystemError("mmap", path: path, errno: EBADF) }
        guard size > 0 else {
            let empty = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            mappings.append(empty)
            return empty
        }
        let protection = writable ? (PROT_READ | PROT_WRITE) : PROT_READ
        guard let address = mmap(nil, size, protection, MAP_SHARED, descriptor, 0), address != MAP_FAILED else {
            throw SystemError("mmap", path: path, errno: errno)
        }
        let mapping = UnsafeMutableRawBufferPointer(start: address, count: size)
        TruncationGuard.install()
        TruncationGuard.register(mapping)
        mappings.append(mapping)
        return mapping
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
