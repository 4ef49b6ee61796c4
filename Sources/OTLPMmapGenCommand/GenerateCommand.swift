import ArgumentParser
import Foundation
import OTLPMmapGenerator
import OTLPMmapSpec

/// The options of generation, shared by `otlp-mmap-gen`, `otlp-mmap gen` and `otlp-mmap gen layout`.
public struct GenerateOptions: ParsableArguments {
    @Option(name: .long, help: "Repository root, the folder that holds spec/.")
    public var root: String = FileManager.default.currentDirectoryPath

    @Flag(name: .long, help: "Write nothing; exit with status 1 and name every generated file that differs from what spec/ produces.")
    public var check = false

    public init() {}
}

/// `gen`: regenerates every generated file from spec/, or with `--check` reports the stale ones.
/// Shared by `otlp-mmap gen` and the bootstrap tool `otlp-mmap-gen`, which builds without the
/// generated layout and so still runs when a spec change broke it.
public struct GenerateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate the Swift layout, the .proto schema and docs/ from spec/.",
        discussion: "Run it from the repository root (or pass --root). Generation is deterministic: the same spec gives the same bytes."
    )

    @OptionGroup public var options: GenerateOptions

    public init() {}

    public func run() throws { try Self.generate(root: options.root, check: options.check) }

    public static func generate(root: String, check: Bool) throws {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true)
        let spec: Spec
        do {
            spec = try SpecLoader.load(directory: rootURL.appendingPathComponent("spec"))
        } catch let error as SpecError {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let files = Generator.generate(spec, examples: try RuleExamples.load(root: rootURL), scenarios: try ScenarioSources.load(root: rootURL))
        if check {
            let stale = Generator.check(files, root: rootURL)
            if stale.isEmpty {
                print("generated files are up to date (\(files.count) files)")
                return
            }
            for problem in stale { printError("stale: \(problem)") }
            printError("run `swift run otlp-mmap gen` and commit the result")
            throw ExitCode.failure
        }
        let changed = try Generator.write(files, root: rootURL)
        print(changed.isEmpty ? "generated files are up to date" : changed.map { "wrote \($0)" }.joined(separator: "\n"))
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The same generation as `otlp-mmap gen layout`, under the `gen` group of the main tool.
public struct GenerateLayoutCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Generate the Swift layout, the .proto schema and docs/ from spec/ (the default of `gen`)."
    )

    @OptionGroup public var options: GenerateOptions

    public init() {}

    public func run() throws { try GenerateCommand.generate(root: options.root, check: options.check) }
}
