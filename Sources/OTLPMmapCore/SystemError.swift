#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed operating-system call on a path: the call, the path, and what went wrong in words a
/// user reads ("no such file", "is a folder", "is not a regular file (a character device)"),
/// errno's own text otherwise.
package struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    package var operation: String
    package var path: String
    package var errno: Int32
    /// Set when the path exists but is not a regular file: what it is ("a folder", "a character device"…).
    package var fileType: String?

    package init(_ operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    package init(notARegularFile path: String, operation: String, type: String) {
        self.init(operation, path: path, errno: type == "a folder" ? EISDIR : EINVAL)
        fileType = type
    }

    package var description: String {
        if let fileType { return fileType == "a folder" ? "\(path) is a folder, not a file" : "\(path) is not a regular file (it is \(fileType))" }
        switch errno {
        case ENOENT: return "\(path): no such file"
        case EISDIR: return "\(path) is a folder, not a file"
        case EACCES, EPERM: return "\(path): permission denied (\(operation))"
        case ENOTDIR: return "\(path): a part of the path is not a folder"
        default: return "\(operation) \(path): \(String(cString: strerror(errno)))"
        }
    }
}
