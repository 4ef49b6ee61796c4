import Foundation
import OTLPMmapCore
import OTLPMmapTestee
import OTLPMmapWire
#if canImport(Glibc)
import Glibc
#endif

/// A writer under test, started as a child process and spoken to over its standard input and output
/// in the testee protocol (spec/testee.yaml). Every wait has a deadline on the monotonic clock: a
/// testee that hangs, dies, answers garbage or answers out of order gives a `TesteeFailure` that
/// says which, never a hung runner.
final class TesteeProcess {
    let command: [String]
    let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private let errorLog: URL
    private var splitter = FrameSplitter()
    private var outputClosed = false

    /// Where the protocol's frames travel.
    enum Channel: String, Sendable, CaseIterable {
        /// Commands on the testee's standard input, replies on its standard output (the default).
        case stdio
        /// Commands on file descriptor 3 and replies on 4, named in `OTLP_MMAP_TESTEE_FDS=3,4`; the
        /// testee's standard output is its own (a library that prints there cannot break a frame)
        /// and goes to its log with standard error.
        case fds
    }

    /// The environment variable that tells a testee which descriptors carry the protocol.
    static let descriptorsVariable = "OTLP_MMAP_TESTEE_FDS"

    /// Starts `command` with `environment` added to the runner's own; its standard error goes to
    /// `errorLog` (shown in reports).
    init(command: [String], environment: [String: String], errorLog: URL, channel: Channel = .stdio) throws(TesteeFailure) {
        // A testee that dies leaves a pipe nobody reads: writing to it must be an error, not a signal.
        signal(SIGPIPE, SIG_IGN)
        self.command = command
        self.errorLog = errorLog
        let stdin = Pipe(), stdout = Pipe()
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        var environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        switch channel {
        case .stdio:
            process.executableURL = URL(fileURLWithPath: Self.resolve(command[0]))
            process.arguments = Array(command.dropFirst())
        case .fds:
            // Foundation's Process hands a child descriptors 0–2 only: a shell moves the pipes to 3
            // and 4 and gives the testee /dev/null as input and its log as output, then execs it.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec 3<&0 4>&1 </dev/null 1>&2 && exec \"$@\"", "sh", Self.resolve(command[0])] + command.dropFirst()
            environment[Self.descriptorsVariable] = "3,4"
        }
        process.environment = environment
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try? FileHandle(forWritingTo: errorLog)
        do {
            try process.run()
        } catch {
            throw TesteeFailure(.couldNotStart, "cannot start \(command[0]): \(error.localizedDescription)")
        }
        do {
            try SystemFile(descriptor: output.fileDescriptor, path: "the testee's standard output").setNonBlocking(true)
            try SystemFile(descriptor: input.fileDescriptor, path: "the testee's standard input").setNonBlocking(true)
        } catch {
            throw TesteeFailure(.couldNotStart, "cannot set up the pipes to \(command[0]): \(error)")
        }
    }

    /// Sends `command` and waits for its reply until `deadline`, calling `idle` between polls (the
    /// runner consumes the rings there, so that a testee waiting for room makes progress).
    func exchange(_ command: Command, what: String, deadline: ContinuousClock.Instant, idle: () -> Void) throws(TesteeFailure) -> Reply {
        try send(Frame.encode(command), what: what, deadline: deadline, idle: idle)
        while true {
            let frame: (payload: [UInt8], offset: Int)?
            do throws(FrameError) {
                frame = try splitter.next()
            } catch {
                throw TesteeFailure(.garbage, "answered \(what) with bytes that are not a frame, \(error)")
            }
            if let frame {
                let reply: Reply
                do throws(FrameError) {
                    reply = try Frame.decode(Reply.self, frame.payload, streamOffset: frame.offset)
                } catch {
                    throw TesteeFailure(.garbage, "answered \(what) with a frame that is not a Reply, \(error)")
                }
                guard reply.id == command.id else {
                    throw TesteeFailure(.outOfOrder, "answered with the id \(reply.id) while \(what) (id \(command.id)) waited for its reply: replies must come in the order of the commands")
                }
                return reply
            }
            if outputClosed { throw endOfOutput(waitingFor: what) }
            if ContinuousClock.now >= deadline {
                throw TesteeFailure(.hang, "did not answer \(what) within the time allowed")
            }
            readAvailable()
            idle()
        }
    }

    /// Waits until the process has exited, or `deadline`; then kills it. True when it exited by itself.
    func waitForExit(deadline: ContinuousClock.Instant, idle: () -> Void) -> Bool {
        while process.isRunning && ContinuousClock.now < deadline {
            readAvailable()
            idle()
            // Not a busy loop: spinning here took a core from the testee trying to exit (and from
            // the thread that notices its exit) on a loaded 2-core machine, which then missed the deadline.
            usleep(500)
        }
        let exited = !process.isRunning
        terminate()
        return exited
    }

    func terminate() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? input.close()
    }

    /// How the process ended, for reports: nil while it runs.
    var ending: String? {
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal ? "died of signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
    }

    /// The last lines the testee wrote on standard error.
    var errorTail: String {
        let text = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }

    /// Bytes left on standard output after the last whole frame.
    var unansweredBytes: Int { splitter.pendingBytes }

    private func send(_ bytes: [UInt8], what: String, deadline: ContinuousClock.Instant, idle: () -> Void) throws(TesteeFailure) {
        var sent = 0
        while sent < bytes.count {
            let written: Int?
            do {
                written = try bytes[sent...].withUnsafeBytes { try SystemFile(descriptor: input.fileDescriptor, path: "the testee's standard input").write($0) }
            } catch {
                throw endOfOutput(waitingFor: what, reading: false)
            }
            if let written, written > 0 { sent += written; continue }
            if ContinuousClock.now >= deadline { throw TesteeFailure(.hang, "did not read \(what) from its standard input within the time allowed") }
            readAvailable()
            idle()
        }
    }

    /// How long a wait for the testee's output lasts before the runner looks at the file again:
    /// a millisecond while it reads the rings; a tenth of that while it watches a paused ring, where a slot
    /// published before its bytes are in place may be seen for well under a millisecond.
    var pollInterval: Duration = .milliseconds(1)

    /// Reads what standard output holds now, waiting at most `pollInterval` for it.
    private func readAvailable() {
        guard !outputClosed else { usleep(200); return }
        var poller = pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let micros = max(0, Int(pollInterval.wholeNanoseconds / 1_000))
        if micros >= 1_000 {
            guard poll(&poller, 1, Int32(clamping: micros / 1_000)) > 0 else { return }
        } else if poll(&poller, 1, 0) <= 0 {
            usleep(UInt32(micros))
            return
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count: Int?
        do {
            count = try chunk.withUnsafeMutableBytes { try SystemFile(descriptor: output.fileDescriptor, path: "the testee's standard output").read(into: $0) }
        } catch {
            outputClosed = true // a read error
            return
        }
        guard let count else { return } // nothing now
        if count > 0 {
            chunk.withUnsafeBytes { splitter.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        } else {
            outputClosed = true // the end
        }
    }

    private func endOfOutput(waitingFor what: String, reading: Bool = true) -> TesteeFailure {
        // Give the process a moment to be reaped, so the report can say how it ended.
        let settle = ContinuousClock.now.advanced(by: .milliseconds(500))
        while process.isRunning && ContinuousClock.now < settle { usleep(1_000) }
        let how = ending ?? (reading ? "closed its standard output" : "closed its standard input")
        let tail = errorTail
        let kind: TesteeFailure.Kind = process.isRunning || process.terminationReason == .exit ? .exited : .crashed
        return TesteeFailure(kind, "\(how) while \(what) waited for its reply\(tail.isEmpty ? "" : "; its standard error ended: \(tail)")")
    }

    static func resolve(_ name: String) -> String { Executables.resolve(name) }
}

/// The testee broke the protocol (as opposed to writing a file that breaks a rule of the format).
struct TesteeFailure: Error, CustomStringConvertible {
    enum Kind: String { case couldNotStart = "could not start", hang, crashed, exited, garbage, outOfOrder = "out of order" }
    var kind: Kind
    var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    var description: String { "the testee \(message)" }
}

/// Programs named on a command line, found as a shell finds them: the testee's and the collector's.
package enum Executables {
    /// A bare name is looked up on PATH; anything with a slash is a path (relative to the current folder).
    package static func resolve(_ name: String) -> String {
        if name.contains("/") { return name }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return name
    }
}
