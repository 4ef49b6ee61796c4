import ArgumentParser
import Foundation
import OTLPMmapCore

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a file's header, rings and unread records, with dictionary references resolved.",
        discussion: "Reads the file without changing it, so it is safe on a file a writer and a collector are using."
    )

    @Argument(help: "The OTLP-mmap file.")
    var file: String

    @Flag(name: .long, help: "Print JSON instead of indented text.")
    var json = false

    func run() throws {
        let mapped: MmapFile
        do {
            mapped = try MmapFile.open(path: file)
        } catch {
            // A SystemError names the path itself.
            FileHandle.standardError.write(Data("error: \(error is SystemError ? "" : "\(file): ")\(error)\n".utf8))
            throw ExitCode(1)
        }
        let truncations = mapped.file.truncationEvents
        let report = Inspector.inspect(mapped, compact: !json)
        if mapped.file.truncationEvents > truncations {
            FileHandle.standardError.write(Data("warning: \(file) shrank while it was read; what lay past its new end was read as zeros\n".utf8))
        }
        print(json ? report.serialized() : report.text(), terminator: json ? "\n" : "")
    }
}
