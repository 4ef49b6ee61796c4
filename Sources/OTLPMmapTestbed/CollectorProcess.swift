import Foundation
import OTLPMmapConformance

/// The collector under test, as a process: told where things are the way collectors are told —
/// `SDK_MMAP_EXPORTER_FILE`, `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_PROTOCOL`, and
/// the placeholders `{file}`, `{grpc}` and `{http}` in its arguments. Its output goes to files, so
/// that a chatty collector can never block on a full pipe, and waiting suspends, never blocks.
final class CollectorProcess: Sendable {
    struct Places: Sendable {
        var file: String
        var grpc: String
        var http: String
    }

    private let process: Process
    let standardError: URL

    /// `command` with its placeholders replaced by `places`.
    static func arguments(_ command: [String], _ places: Places) -> [String] {
        command.map {
            $0.replacingOccurrences(of: "{file}", with: places.file).replacingOccurrences(of: "{grpc}", with: places.grpc)
                .replacingOccurrences(of: "{http}", with: places.http)
        }
    }

    init(command: [String], places: Places, folder: URL) throws {
        let arguments = Self.arguments(command, places)
        guard let program = arguments.first else { throw TestbedError("give the collector's command after --") }
        let process = Process()
        // Foundation starts it as the leader of a process group of its own: a stop is sent to the
        // group, so that it reaches whatever the collector started too (Foundation counts a process
        // as running while any descendant holds its exit socket).
        process.executableURL = URL(fileURLWithPath: Executables.resolve(program))
        process.arguments = Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["SDK_MMAP_EXPORTER_FILE"] = places.file
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = places.grpc
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
        process.environment = environment
        let output = folder.appendingPathComponent("collector.stdout"), errors = folder.appendingPathComponent("collector.stderr")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw TestbedError("the collector cannot start \(program): \(error.localizedDescription)")
        }
        self.process = process
        standardError = errors
    }

    var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the collector's process group (to the process alone without setsid).
    private func signal(_ signal: Int32) {
        let pid = process.processIdentifier
        if Foundation.kill(-pid, signal) != 0 { Foundation.kill(pid, signal) }
    }

    /// How it ended, for reports; nil while it runs.
    var ending: String? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? "died of signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
    }

    /// The last lines it wrote to standard error.
    var errorTail: String {
        let text = (try? String(contentsOf: standardError, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }

    /// Asks it to stop (SIGTERM) and waits up to `grace`; then kills it. True when it stopped by itself.
    func stop(grace: Duration) async -> Bool {
        guard process.isRunning else { return true }
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let stopped = !process.isRunning
        kill()
        return stopped
    }

    /// SIGKILL, and waits for it to be reaped.
    func kill() {
        signal(SIGKILL)
        process.waitUntilExit()
    }
}

struct TestbedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
