import ArgumentParser
import Foundation
import OTLPMmapCore
import OTLPMmapSDK

struct WriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Demo writer: spans, logs and measurements from several threads through the reference SDK.",
        discussion: """
            Each span gets a child span, a log record and a measurement of a counter and a histogram. \
            The file is created anew (path from the argument or $SDK_MMAP_EXPORTER_FILE). With --endless the \
            threads write until the process is killed (crash tests use it).
            """
    )

    @Argument(help: "The file to create. Defaults to $SDK_MMAP_EXPORTER_FILE.")
    var file: String?

    @Option(help: "Spans per thread (each with a child span, a log record and measurements).")
    var spans = 50

    @Option(help: "Writer threads.")
    var threads = 4

    @Option(help: "Slots per ring.")
    var numBuffers: Int64 = 1024

    @Option(help: "Bytes per slot.")
    var bufferSize: Int64 = 512

    @Option(help: "Milliseconds a record may wait for room in a full ring before it is dropped.")
    var waitMs = 0

    @Flag(help: "Write until killed, numbering records per thread (for crash tests).")
    var endless = false

    func run() throws {
        guard let path = file ?? FileEnvironment.path() else {
            throw ValidationError("give a file or set \(FileEnvironment.variable)")
        }
        let ring = RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
        for warning in WriterConfiguration.environmentWarnings() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let writer = try TelemetryWriter(configuration: WriterConfiguration(
            path: path, events: ring, spans: ring, measurements: ring, fullRingWait: .milliseconds(waitMs)))
        let demo = try DemoWorkload(writer: writer)
        let group = DispatchGroup()
        let failure = ErrorBox()
        for thread in 0..<threads {
            group.enter()
            Thread { [spans, endless] in
                defer { group.leave() }
                do {
                    try demo.run(thread: thread, spans: endless ? Int.max : spans)
                } catch {
                    failure.set(error)
                }
            }.start()
        }
        group.wait()
        if let error = failure.error { throw error }
        let stats = writer.statistics
        print("wrote \(stats.total(.written)) records to \(path) (dropped \(stats.total(.dropped)), too large \(stats.total(.tooLarge)))")
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ error: Error) { lock.lock(); self.error = self.error ?? error; lock.unlock() }
}
