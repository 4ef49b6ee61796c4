import ArgumentParser
import Foundation
import OTLPMmapGenerator
import OTLPMmapSpec

/// The options of generation, shared by `otlp-mmap-gen`, `otlp-mmap gen` and `otlp-mmap gen layout`.
package struct GenerateOptions: ParsableArguments {
    @Option(name: .long, help: "Repository root, the folder that holds spec/.")
    package var root: String = FileManager.default.currentDirectoryPath

    @Flag(name: .long, help: "Write nothing; exit with status 1 and name every generated file that differs from what spec/ produces.")
    package var check = false

    package init() {}
}

/// `gen`: regenerates every generated file from spec/, or with `--check` reports the stale ones.
/// Shared by `otlp-mmap gen` and the bootstrap tool `otlp-mmap-gen`, which builds without the
/// generated layout and so still runs when a spec change broke it.
package struct GenerateCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate the Swift layout, the .proto schema and docs/ from spec/.",
        discussion: "Run it from the repository root (or pass --root). Generation is deterministic: the same spec gives the same bytes."
    )

    @OptionGroup package var options: GenerateOptions

    package init() {}

    package func run() throws { try Self.generate(root: options.root, check: options.check) }

    package static func generate(root: String, check: Bool) throws {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true)
        let spec = try loadSpec(root: rootURL)
        let files = Generator.generate(spec, examples: RuleExamples(spec), scenarios: try ScenarioSources.load(root: rootURL))
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

/// The spec under `root`, or exit status 2 with the loader's error (file and line) on standard error.
func loadSpec(root: URL) throws -> Spec {
    do {
        return try SpecLoader.load(directory: root.appendingPathComponent("spec"))
    } catch let error as SpecError {
        let hint = FileManager.default.fileExists(atPath: root.appendingPathComponent("spec").path) ? "" : " (run from the repository root, or pass --root)"
        printError("error: \(error)\(hint)")
        throw ExitCode(2)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The same generation as `otlp-mmap gen layout`, under the `gen` group of the main tool.
package struct GenerateLayoutCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Generate the Swift layout, the .proto schema and docs/ from spec/ (the default of `gen`)."
    )

    @OptionGroup package var options: GenerateOptions

    package init() {}

    package func run() throws { try GenerateCommand.generate(root: options.root, check: options.check) }
}

/// `gen diff`: what changing the spec breaks, as `buf breaking` says it for protobuf.
package struct GenerateDiffCommand: ParsableCommand {
    package enum Format: String, ExpressibleByArgument, CaseIterable, Sendable { case text, json }

    package static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two specs and say whom each difference breaks.",
        discussion: """
            OLD and NEW are spec folders (each holding layout.yaml and messages.yaml). With --against REF, \
            the spec/ committed at a git revision is compared with spec/ under --root. Every difference is \
            classified by whom it breaks: readers of old files, old readers of new files, writers. Exit status: \
            0 when nothing breaks or the format version was bumped, 1 when a change breaks somebody without a \
            version bump, 2 when a spec cannot be loaded (the message names the file and line).
            """
    )

    @Argument(help: "OLD and NEW spec folders (none with --against).")
    package var folders: [String] = []

    @Option(name: .long, help: "Compare spec/ as committed at this git revision (branch, tag, commit) with spec/ under --root.")
    package var against: String?

    @Option(name: .long, help: "Repository root, the folder that holds spec/ (with --against).")
    package var root: String = FileManager.default.currentDirectoryPath

    @Option(name: .long, help: "text or json.")
    package var format: Format = .text

    package init() {}

    package func validate() throws {
        if against == nil, folders.count != 2 { throw ValidationError("give two spec folders, OLD and NEW, or --against GIT-REF") }
        if against != nil, !folders.isEmpty { throw ValidationError("--against compares with spec/ under --root: give no folders") }
    }

    package func run() throws {
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let comparison: SpecComparison, oldName: String, newName: String
        do {
            let old: (Spec, SpecDiff.Sources), new: (Spec, SpecDiff.Sources)
            if let against {
                let rootURL = URL(fileURLWithPath: root, relativeTo: current)
                old = try SpecSnapshot.load(gitRevision: against, root: rootURL)
                new = try SpecSnapshot.load(folder: rootURL.appendingPathComponent("spec"), display: "spec")
                (oldName, newName) = ("\(against):spec", "spec")
            } else {
                old = try SpecSnapshot.load(folder: URL(fileURLWithPath: folders[0], relativeTo: current), display: folders[0])
                new = try SpecSnapshot.load(folder: URL(fileURLWithPath: folders[1], relativeTo: current), display: folders[1])
                (oldName, newName) = (folders[0], folders[1])
            }
            comparison = SpecDiff.compare(old.0, new.0, oldSources: old.1, newSources: new.1)
        } catch let error as SpecError {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        print(format == .json ? try comparison.json(old: oldName, new: newName) : comparison.text(old: oldName, new: newName), terminator: "")
        if comparison.exitStatus != 0 { throw ExitCode(comparison.exitStatus) }
    }
}

/// `gen docs --html OUT`: the spec as a static site, every rule at its own anchor.
package struct GenerateDocsCommand: ParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Build the spec's HTML pages (layout, byte map, messages, rules with their golden files) into a folder.",
        discussion: "Every rule is at rules.html#RULE-ID, the anchor conformance reports link findings to (--rules-url)."
    )

    @Option(name: .long, help: "Repository root, the folder that holds spec/ and golden/.")
    package var root: String = FileManager.default.currentDirectoryPath

    @Option(name: .long, help: "The folder to write the pages into (created if needed).")
    package var html: String

    package init() {}

    package func run() throws {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true)
        let spec = try loadSpec(root: rootURL)
        let folder = URL(fileURLWithPath: html, isDirectory: true)
        let written: [String]
        do {
            written = try HTMLEmitter.write(spec, examples: RuleExamples(spec), root: rootURL, to: folder)
        } catch {
            printError("error: cannot write the pages to \(folder.path): \(error is SiteError ? "\(error)" : error.localizedDescription)")
            throw ExitCode.failure
        }
        print("wrote \(written.count) files to \(folder.path) (open \(folder.appendingPathComponent("index.html").path))")
    }
}
