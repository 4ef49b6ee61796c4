import ArgumentParser
import Foundation
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapSDK

struct WriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Demo writer: spans, logs and measurements from several threads through the reference SDK.",
        discussion: """
            Each span gets a child span, a log record and a measurement of a counter and a histogram. \
            The file is created anew (path from the argument or $SDK_MMAP_EXPORTER_FILE), or with --append \
            written into as it is (any writer's file, or one a collector is reading). With --endless the \
            threads write until the process is killed (crash tests use it).
            """
    )

    @Argument(help: "The file to write. Defaults to $SDK_MMAP_EXPORTER_FILE.")
    var file: String?

    @Option(help: "Spans per thread (each with a child span, a log record and measurements).")
    var spans = 50

    @Option(help: "Number of the first span of each thread (names are demo-THREAD-NUMBER).")
    var first = 0

    @Option(help: "Writer threads.")
    var threads = 4

    @Option(help: "Slots per ring of a new file.")
    var numBuffers = RingSize.default.numBuffers

    @Option(help: "Bytes per slot of a new file.")
    var bufferSize = RingSize.default.bufferSize

    @Option(help: "Milliseconds a record may wait for room in a full ring before it is dropped.")
    var waitMs = 0

    @Flag(help: "Write into the existing file, keeping its header, rings and dictionary, instead of creating it.")
    var append = false

    @Flag(help: "Write until killed, numbering records per thread (for crash tests).")
    var endless = false

    func run() async throws {
        guard let path = file ?? FileEnvironment.path() else {
            throw ValidationError("give a file or set \(FileEnvironment.variable)")
        }
        let ring = RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
        for warning in WriterConfiguration.environmentWarnings() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        var configuration = WriterConfiguration(path: path, events: ring, spans: ring, measurements: ring, fullRingWait: .milliseconds(waitMs))
        configuration.attach = append
        let writer = try TelemetryWriter(configuration: configuration)
        try await SampleWorkload(writer: writer).run(threads: threads, first: first, spans: endless ? Int.max : spans)
        let stats = writer.statistics
        print("wrote \(stats.total(.written)) records to \(path) (dropped \(stats.total(.dropped)), too large \(stats.total(.tooLarge)))")
    }
}
