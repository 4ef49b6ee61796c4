import Foundation
import Testing
import TestSupport

/// `tools/package.sh` makes a release a machine without Swift runs: the binary links no Swift
/// library dynamically, and, unpacked outside the repository with an empty environment, it checks
/// its own testee with the built-in scenarios and fuzz cases, and its own collector with the
/// collector testbed's. tools/test.sh packages before the tests
/// run (a release build beside the parallel tests would slow them) and names the tarball in
/// OTLP_MMAP_RELEASE_TARBALL; without it the test packages itself.
@Suite struct PackageTests {
    @Test(.timeLimit(.minutes(30))) func theReleaseRunsWithoutSwift() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("package-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var tarball = ProcessInfo.processInfo.environment["OTLP_MMAP_RELEASE_TARBALL"] ?? ""
        if tarball.isEmpty {
            let script = TestSupport.repositoryRoot.appendingPathComponent("tools/package.sh").path
            let packaged = try await TestSupport.run([script, folder.path], executable: "/bin/bash", timeout: 1_800)
            #expect(packaged.status == 0, "\(packaged.stderr.suffix(2_000))")
            tarball = packaged.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(tarball.hasSuffix(".tar.gz") && FileManager.default.fileExists(atPath: tarball), "\(tarball)")
        let unpacked = try await TestSupport.run(["-xzf", tarball, "-C", folder.path], executable: "/bin/tar")
        #expect(unpacked.status == 0, "\(unpacked.stderr)")
        let release = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { !$0.hasSuffix(".tar.gz") })
        let root = folder.appendingPathComponent(release)
        for file in ["otlp-mmap", "README.txt", "testee.md", "proto/testee.proto", "proto/mmap.proto", "example-testee.c", "otlp_mmap_layout.h"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file) is in the release")
        }
        let binary = root.appendingPathComponent("otlp-mmap").path
        let libraries = try await TestSupport.run([binary], executable: "/usr/bin/ldd")
        #expect(libraries.status == 0)
        let swiftLibraries = libraries.stdout.split(separator: "\n").filter { $0.contains("libswift") || $0.contains("libFoundation") || $0.contains("libdispatch") || $0.contains("not found") }
        #expect(swiftLibraries.isEmpty, "\(libraries.stdout)")
        // An empty environment: no PATH, no HOME, no Swift anywhere the binary could look.
        let run = try await TestSupport.run(["-i", "./otlp-mmap", "conform", "run", "--", "./otlp-mmap", "testee"], executable: "/usr/bin/env", timeout: 300, directory: root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("0 failed"), "\(run.stdout)")
        let fuzz = try await TestSupport.run(["-i", "./otlp-mmap", "conform", "fuzz", "--jobs", "1", "--seed", "9", "--cases", "30", "--", "./otlp-mmap", "testee"],
                                       executable: "/usr/bin/env", timeout: 300, directory: root)
        #expect(fuzz.status == 0, "\(fuzz.stdout)\(fuzz.stderr)")
        #expect(fuzz.stdout.contains("30 cases"), "\(fuzz.stdout)")
        // The collector testbed, its scenarios built in, against the packaged collector told
        // everything through the environment.
        let collector = try await TestSupport.run(["-i", "./otlp-mmap", "conform", "collector", "--", "./otlp-mmap", "collect"],
                                            executable: "/usr/bin/env", timeout: 600, directory: root)
        #expect(collector.status == 0, "\(collector.stdout)\(collector.stderr)")
        #expect(collector.stdout.hasSuffix("\(try FileManager.default.contentsOfDirectory(atPath: TestSupport.repositoryRoot.appendingPathComponent("scenarios/collectors").path).filter { $0.hasSuffix(".yaml") }.count) passed, 0 failed, 0 skipped, 0 expected failures\n"), "\(collector.stdout)")
    }
}
