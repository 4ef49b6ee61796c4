import ArgumentParser
import Foundation
import OTLPMmapGenCommand
import OTLPMmapGolden

struct GenGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate the files derived from spec/ (default) or golden/.",
        subcommands: [GenerateLayoutCommand.self, GenerateDiffCommand.self, GenerateDocsCommand.self, GoldenCommand.self],
        defaultSubcommand: GenerateLayoutCommand.self
    )
}

struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Regenerate golden/: valid files from the reference writer with their decodes, invalid files with their rules.",
        discussion: "With --check, writes nothing and exits with status 1 naming each golden file the writer no longer produces byte for byte."
    )

    @Option(name: .long, help: "Repository root, the folder that holds golden/.")
    var root: String = FileManager.default.currentDirectoryPath

    @Flag(name: .long, help: "Compare instead of writing.")
    var check = false

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let cases = try GoldenCases.make(in: scratch)
        let golden = URL(fileURLWithPath: root).appendingPathComponent("golden")
        if check {
            let stale = GoldenFolder.stale(cases, root: golden)
            guard stale.isEmpty else {
                for path in stale { FileHandle.standardError.write(Data("stale: golden/\(path)\n".utf8)) }
                throw ExitCode.failure
            }
            print("golden files are up to date (\(cases.count) files)")
        } else {
            try GoldenFolder.write(cases, root: golden)
            print("wrote \(cases.count) golden files to \(golden.path)")
        }
    }
}
