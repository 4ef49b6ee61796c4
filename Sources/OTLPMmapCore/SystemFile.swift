#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor and the path it was opened from, in the style of swift-system's
/// `FileDescriptor`: thin typed calls over the raw ones, each failure a `SystemError` that names
/// the call and the path and says "no such file", "is a folder" or "is not a regular file". Every
/// file the tools open goes through it; the descriptor is closed by `close()`, not by a deinit.
package struct SystemFile: Sendable {
    package let descriptor: Int32
    package let path: String

    package enum Access: Sendable {
        case readOnly, writeOnly, readWrite
        var flags: Int32 {
            switch self {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        }
    }

    /// A descriptor opened elsewhere (a pipe's end), named for errors.
    package init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Opens a regular file (close-on-exec). `create` makes it if absent with those permissions
    /// (and `truncate` empties it); anything but a regular file — a folder, a device, a pipe — is
    /// refused with what it is.
    package static func open(_ path: String, _ access: Access, create permissions: mode_t? = nil, truncate: Bool = false) throws(SystemError) -> SystemFile {
        var flags = access.flags | O_CLOEXEC
        if permissions != nil { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        // O_NONBLOCK: opening a FIFO nobody writes would otherwise wait for good; cleared below.
        let descriptor = Glibc.open(path, flags | O_NONBLOCK, permissions ?? 0)
        guard descriptor >= 0 else { throw SystemError("open", path: path, errno: errno) }
        let file = SystemFile(descriptor: descriptor, path: path)
        do throws(SystemError) {
            let status = try file.status()
            if let type = Self.typeName(status.st_mode) {
                throw SystemError(notARegularFile: path, operation: "open", type: type)
            }
            try file.setNonBlocking(false)
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        return file
    }

    /// Opens a folder, to sync it.
    package static func openFolder(_ path: String) throws(SystemError) -> SystemFile {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SystemError("open", path: path, errno: errno) }
        return SystemFile(descriptor: descriptor, path: path)
    }

    /// What a non-regular file is, in words; nil for a regular file.
    static func typeName(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a pipe"
        case S_IFSOCK: "a socket"
        default: "not a file"
        }
    }

    package func status() throws(SystemError) -> stat {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw SystemError("fstat", path: path, errno: errno) }
        return status
    }

    package func size() throws(SystemError) -> Int { Int(try status().st_size) }

    package func resize(to size: Int) throws(SystemError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw SystemError("ftruncate", path: path, errno: errno) }
    }

    package func setPermissions(_ permissions: mode_t) throws(SystemError) {
        guard fchmod(descriptor, permissions) == 0 else { throw SystemError("fchmod", path: path, errno: errno) }
    }

    package func setNonBlocking(_ nonBlocking: Bool) throws(SystemError) {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) == 0 else {
            throw SystemError("fcntl", path: path, errno: errno)
        }
    }

    /// Reads what is there, up to `buffer.count` bytes: the count (0 at the end), nil when a
    /// non-blocking descriptor has nothing now.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw SystemError("read", path: path, errno: errno)
        }
    }

    /// Writes what it can: the count, nil when a non-blocking descriptor takes nothing now.
    package func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        while true {
            let count = Glibc.write(descriptor, bytes.baseAddress, bytes.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw SystemError("write", path: path, errno: errno)
        }
    }

    /// Writes every byte (a blocking descriptor).
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var written = 0
        while written < bytes.count {
            guard let count = try write(UnsafeRawBufferPointer(rebasing: bytes[written...])) else {
                throw SystemError("write", path: path, errno: EAGAIN)
            }
            written += count
        }
    }

    /// The whole file from its start; more than `limit` bytes is refused (EFBIG) rather than
    /// read into memory.
    package func readAll(limit: Int) throws(SystemError) -> [UInt8] {
        let expected = try size()
        guard expected <= limit else { throw SystemError("read", path: path, errno: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: max(expected, 4096))
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count < limit else { throw SystemError("read", path: path, errno: EFBIG) }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit - bytes.count)))
            }
            let read: Int?
            do {
                read = try bytes.withUnsafeMutableBytes { buffer in
                    try self.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
                }
            } catch let error as SystemError {
                throw error
            } catch {
                throw SystemError("read", path: path, errno: EIO)
            }
            guard let read, read > 0 else { break }
            count += read
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    package func sync() throws(SystemError) {
        guard fsync(descriptor) == 0 else { throw SystemError("fsync", path: path, errno: errno) }
    }

    package func close() throws(SystemError) {
        guard Glibc.close(descriptor) == 0 else { throw SystemError("close", path: path, errno: errno) }
    }

    /// The bytes of the regular file at `path` (at most `limit`).
    package static func contents(of path: String, limit: Int = 1 << 30) throws(SystemError) -> [UInt8] {
        let file = try open(path, .readOnly)
        defer { try? file.close() }
        return try file.readAll(limit: limit)
    }

    /// The text of the regular file at `path`, as UTF-8 (ill-formed bytes replaced).
    package static func text(of path: String, limit: Int = 64 << 20) throws(SystemError) -> String {
        String(decoding: try contents(of: path, limit: limit), as: UTF8.self)
    }

    package static func rename(_ from: String, to: String) throws(SystemError) {
        guard Glibc.rename(from, to) == 0 else { throw SystemError("rename", path: to, errno: errno) }
    }
}

#if canImport(Foundation)
import Foundation

/// Foundation's `localizedDescription` (which callers outside this package reach for) says the same.
extension SystemError: LocalizedError {
    package var errorDescription: String? { description }
}
#endif
