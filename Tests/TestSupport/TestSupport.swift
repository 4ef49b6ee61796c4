import Foundation

/// Paths and processes the test targets share.
package enum TestSupport {
    /// The repository root: the folder above this file that holds Package.swift.
    package static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The `otlp-mmap` executable SwiftPM built next to the test bundle.
    package static var toolPath: String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        // On Linux the test bundle is `<build>/otlp-mmapPackageTests.xctest`, an executable file.
        for _ in 0..<3 {
            let candidate = folder.appendingPathComponent("otlp-mmap").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/otlp-mmap").path
    }

    /// A fresh, empty folder removed at process exit by the OS's tmp cleanup, unique per call.
    package static func temporaryDirectory(_ label: String = #function) throws -> URL {
        let name = label.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("otlp-mmap-tests")
            .appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fixture file under ConformanceTests/fixtures.
    package static func fixture(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("ConformanceTests/fixtures").appendingPathComponent(name)
    }

    package struct ProcessResult: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// A started child process whose output is collected in files (pipes could fill up and block it).
    package final class Child: @unchecked Sendable {
        package let process: Process
        let outURL: URL
        let errURL: URL

        init(process: Process, outURL: URL, errURL: URL) {
            self.process = process
            self.outURL = outURL
            self.errURL = errURL
        }

        package var isRunning: Bool { process.isRunning }

        /// What the child has written to standard output so far.
        package var standardOutput: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }

        /// Waits for the child, killing it after `timeout` seconds so a hung child cannot hang the
        /// tests. Suspends rather than blocks: tests run on the cooperative pool (two threads on a
        /// two-core machine), and a test blocked on a child starves every other test's tasks.
        package func wait(timeout: Double = 60) async -> ProcessResult {
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(2)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await exit()
            let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err)
        }

        /// Waits until the child's standard error contains `text`; false when it exits or `timeout`
        /// seconds pass first. For "it has got that far" rather than a fixed pause.
        package func waitForStandardError(containing text: String, timeout: Double = 30) async -> Bool {
            let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
            while ContinuousClock.now < deadline {
                if let err = try? String(contentsOf: errURL, encoding: .utf8), err.contains(text) { return true }
                guard process.isRunning else { return false }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return false
        }

        /// Returns once the child has exited (after a kill, say).
        package func exit() async {
            while process.isRunning { try? await Task.sleep(for: .milliseconds(1)) }
            process.waitUntilExit()    // reaped already: returns at once, and settles terminationStatus
        }
    }

    /// Starts `otlp-mmap` (or `executable`) with `arguments`.
    /// `directory`: the child's working folder (default: the repository root).
    package static func start(_ arguments: [String], executable: String? = nil, environment: [String: String] = [:],
                             directory: URL? = nil) throws -> Child {
        let folder = try temporaryDirectory("process")
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? toolPath)
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        return Child(process: process, outURL: outURL, errURL: errURL)
    }

    /// Runs `otlp-mmap` with `arguments` to completion.
    package static func run(_ arguments: [String], executable: String? = nil, timeout: Double = 120, directory: URL? = nil) async throws -> ProcessResult {
        try await start(arguments, executable: executable, directory: directory).wait(timeout: timeout)
    }
}

extension TestSupport {
    /// Runs blocking work — OS threads started and joined, a consumer spinning on a ring — on a
    /// thread of its own, and suspends until it returns. Swift Testing runs every test on the
    /// cooperative pool, two threads on this 2-core machine: a test that blocks one of them for
    /// seconds stalls every async test beside it (the in-process collectors), which then miss their
    /// deadlines. `body` returns what the test checks: issues are recorded on the test's task.
    package static func offThePool<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Swift.Result { try body() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}

extension TestSupport {
    /// Tests that keep the machine's cores busy for long (fuzz runs of hundreds of cases) take turns:
    /// on a 2-core machine two of them at once starve the timing-bound tests running beside them.
    package static func oneHeavyAtATime<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        await HeavyTurns.shared.acquire()
        do {
            let result = try await body()
            await HeavyTurns.shared.release()
            return result
        } catch {
            await HeavyTurns.shared.release()
            throw error
        }
    }
}

/// A one-permit queue, FIFO, that suspends waiters instead of blocking threads.
actor HeavyTurns {
    static let shared = HeavyTurns()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
