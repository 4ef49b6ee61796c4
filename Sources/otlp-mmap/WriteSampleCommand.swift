import ArgumentParser
import Foundation
import OTLPMmapCore
import OTLPMmapLayout

struct WriteSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-sample",
        abstract: "Write deterministic sample telemetry (spans, log events, measurements) into a file.",
        discussion: "Each sample is a span start and end, a log event and a counter measurement. Without --append the file is created anew."
    )

    @Argument(help: "The file to write. Defaults to $SDK_MMAP_EXPORTER_FILE.")
    var file: String?

    @Option(help: "Number of samples.")
    var count = 50

    @Option(help: "Index of the first sample.")
    var first = 0

    @Flag(help: "Write into an existing file (any writer's) instead of creating one.")
    var append = false

    @Option(help: "Slots per ring for a new file.")
    var numBuffers = FileLayout.defaultNumBuffers

    @Option(help: "Bytes per slot for a new file.")
    var bufferSize = FileLayout.defaultBufferSize

    @Option(help: "Seconds to wait for a consumer when a ring is full.")
    var patience = 10.0

    func run() throws {
        guard let path = file ?? FileEnvironment.path() else {
            throw ValidationError("give a file or set \(FileEnvironment.variable)")
        }
        let mapped: MmapFile
        if append {
            mapped = try MmapFile.open(path: path, writable: true)
        } else {
            let ring = FileConfiguration.RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
            let now = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
            mapped = try MmapFile.create(path: path, configuration: FileConfiguration(
                events: ring, spans: ring, measurements: ring, startTimeUnixNano: now))
        }
        let writer = try SampleWriter(file: mapped)
        try writer.write(first..<(first + count), patience: patience)
        print("wrote \(count) samples (\(count * 4) records) to \(path)")
    }
}
