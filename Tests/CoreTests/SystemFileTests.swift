import Foundation
import OTLPMmapCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Every file the tools open goes through `SystemFile`: what is not a regular file is refused by
/// what it is, a missing one says so, and a pipe nobody writes does not hang the open.
@Suite struct SystemFileTests {
    @Test func aFolderADeviceAPipeAndNothingAreNamed() throws {
        let folder = try TestSupport.temporaryDirectory()
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let cases: [(String, String)] = [
            (folder.path, "\(folder.path) is a folder, not a file"),
            ("/dev/null", "/dev/null is not a regular file (it is a character device)"),
            (fifo, "\(fifo) is not a regular file (it is a pipe)"),
            (folder.appendingPathComponent("absent").path, "\(folder.appendingPathComponent("absent").path): no such file"),
            ("/etc/hostname/below", "/etc/hostname/below: a part of the path is not a folder"),
        ]
        for (path, message) in cases {
            #expect(throws: SystemError.self, "\(path)") { _ = try SystemFile.contents(of: path) }
            do {
                _ = try MmapFile.open(path: path)
                Issue.record("opened \(path)")
            } catch {
                #expect("\(error)" == message)
                #expect(error.localizedDescription == message)
            }
        }
    }

    @Test func contentsAreReadWholeAndALimitIsKept() throws {
        let path = try TestSupport.temporaryDirectory().appendingPathComponent("bytes").path
        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try SystemFile.contents(of: path) == bytes)
        do {
            _ = try SystemFile.contents(of: path, limit: 1_000)
            Issue.record("read past the limit")
        } catch {
            #expect(error.errno == EFBIG)
        }
        // A file created through it is the owner's alone, and written whole.
        let created = try SystemFile.open(path + ".new", .writeOnly, create: 0o600, truncate: true)
        try bytes.withUnsafeBytes { try created.writeAll($0) }
        try created.close()
        #expect(try SystemFile.contents(of: path + ".new") == bytes)
        #expect((try FileManager.default.attributesOfItem(atPath: path + ".new")[.posixPermissions] as? Int) == 0o600)
    }
}
