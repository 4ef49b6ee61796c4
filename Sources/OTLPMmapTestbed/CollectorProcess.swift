import Foundation
import OTLPMmapCore
import OTLPMmapConformance
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The collector under test, as a process: told where things are the way collectors are told —
/// `SDK_MMAP_EXPORTER_FILE`, `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_EXPORTER_OTLP_PROTOCOL`, and
/// the placeholders `{file}`, `{grpc}` and `{http}` in its arguments. Its output goes to files, so
/// that a chatty collector can never block on a full pipe, and waiting suspends, never blocks.
///
/// Started with `posix_spawn` rather than Foundation's `Process`, which hands the child the
/// spawning thread's signal mask — a cooperative thread's, with SIGTERM blocked, so that a plain
/// `sleep` ignored the stop — and counts a process as running while any descendant lives on. Here
/// the child starts with no signal blocked and every signal at its default, in a process group
/// of its own that stops are sent to, and it is reaped with `waitpid`.
final class CollectorProcess: Sendable {
    struct Places: Sendable {
        var file: String
        var grpc: String
        var http: String
    }

    private let pid: pid_t
    /// The wait status once reaped.
    private let status = Mutex<Int32?>(nil)
    let standardError: URL

    /// `command` with its placeholders replaced by `places`.
    static func arguments(_ command: [String], _ places: Places) -> [String] {
        command.map {
            $0.replacingOccurrences(of: "{file}", with: places.file).replacingOccurrences(of: "{grpc}", with: places.grpc)
                .replacingOccurrences(of: "{http}", with: places.http)
        }
    }

    /// OTEL_METRIC_EXPORT_INTERVAL as the collector is told.
    static let metricIntervalMilliseconds = 500

    init(command: [String], places: Places, folder: URL) throws {
        let arguments = Self.arguments(command, places)
        guard let program = arguments.first else { throw TestbedError("give the collector's command after --") }
        let path = Executables.resolve(program)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestbedError("the collector cannot start \(program): no executable file at \(path)")
        }
        var environment = ProcessInfo.processInfo.environment
        environment[FileEnvironment.variable] = places.file
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = places.grpc
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
        // Standard OpenTelemetry settings, so that a collector that honours them exports soon
        // (metrics every half second, batches after 100 ms) and a scenario need not wait long.
        environment["OTEL_METRIC_EXPORT_INTERVAL"] = "\(Self.metricIntervalMilliseconds)"
        environment["OTEL_BSP_SCHEDULE_DELAY"] = "100"
        let output = folder.appendingPathComponent("collector.stdout"), errors = folder.appendingPathComponent("collector.stderr")

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, Int32(signal)) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Appended: a collector restarted by a scenario adds to what the first run wrote.
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // (The receiver's sockets are close-on-exec, as SwiftNIO opens them.)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw TestbedError("the collector cannot start \(program): \(String(cString: strerror(result)))")
        }
        pid = child
        standardError = errors
    }

    /// Reaps the process if it has ended; its wait status then.
    private func reaped() -> Int32? {
        status.withLock { status in
            if status != nil { return status }
            var value: Int32 = 0
            if waitpid(pid, &value, WNOHANG) == pid { status = value }
            return status
        }
    }

    var isRunning: Bool { reaped() == nil }

    /// Its CPU time and memory so far (/proc), while it runs. A collector started through a shell
    /// is measured only if the shell `exec`s it.
    var usage: ProcessUsage? { isRunning ? ProcessUsage.of(pid) : nil }

    /// How it ended, for reports; nil while it runs.
    var ending: String? {
        guard let status = reaped() else { return nil }
        let signal = status & 0x7F
        return signal != 0 ? "died of signal \(signal)" : "exited with status \((status >> 8) & 0xFF)"
    }

    /// The last lines it wrote to standard error.
    var errorTail: String {
        let text = (try? String(contentsOf: standardError, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }

    /// Sends `signal` to the collector's process group.
    private func send(_ signal: Int32) {
        if Glibc.kill(-pid, signal) != 0 { Glibc.kill(pid, signal) }
    }

    /// Asks it to stop (SIGTERM) and waits up to `grace`; then kills it. True when it stopped by itself.
    func stop(grace: Duration) async -> Bool {
        guard isRunning else { return true }
        send(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let stopped = !isRunning
        await kill()
        return stopped
    }

    /// SIGKILL to its group, and waits (suspending) until it is reaped.
    func kill() async {
        send(SIGKILL)
        while isRunning { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

struct TestbedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
