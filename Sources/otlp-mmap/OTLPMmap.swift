import ArgumentParser
import OTLPMmapGenCommand

@main
struct OTLPMmap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otlp-mmap",
        abstract: "Reference toolkit for the OTLP-mmap file format.",
        subcommands: [GenGroup.self, InspectCommand.self, ConformCommand.self, CollectCommand.self, DemoCommand.self, WriteCommand.self, TesteeCommand.self]
    )
}
