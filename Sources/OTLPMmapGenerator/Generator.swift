import Foundation
import OTLPMmapSpec

/// One file the generator produces, with its path relative to the repository root.
package struct GeneratedFile: Equatable, Sendable {
    package var path: String
    package var contents: String
}

/// Turns the spec into every generated file of the repository. Output depends only on the spec, so
/// generating twice gives the same bytes; `check` relies on that to find stale files.
package enum Generator {
    /// Folders that hold only generated files: a file there that the generator does not produce is stale.
    package static let generatedFolders = [
        "Sources/OTLPMmapLayout/Generated",
        "Sources/OTLPMmapTestee/Generated",
        "Sources/OTLPMmapConformance/Generated",
        "Sources/OTLPMmapTestbed/Generated",
        "docs",
        "proto",
        "generated",
    ]

    /// Hand-written folders inside a generated one: the guides beside the generated docs.
    package static let handWrittenFolders = ["docs/guides"]

    /// `examples`: the invalid golden files that demonstrate each rule, listed in the rule catalogue.
    /// `scenarios`: the conformance scenarios, embedded into the runner so that it works from any folder.
    package static func generate(_ spec: Spec, examples: RuleExamples = RuleExamples(), scenarios: ScenarioSources = ScenarioSources()) -> [GeneratedFile] {
        let header = GeneratedHeader(sources: spec.sourceFiles)
        return formatFiles(spec, header, examples: examples) + (spec.testee.map(testeeFiles) ?? [])
            + (spec.readers.map(readerFiles) ?? [])
            + (scenarios.files.isEmpty ? [] : [scenarioFile(
                scenarios.files, folder: ScenarioSources.folder, type: "BuiltInScenarios",
                path: "Sources/OTLPMmapConformance/Generated/BuiltInScenarios.swift",
                doc: "The conformance scenarios, compiled in: `conform run` needs no file of this repository.")])
            + (scenarios.collectorFiles.isEmpty ? [] : [scenarioFile(
                scenarios.collectorFiles, folder: ScenarioSources.collectorFolder, type: "BuiltInCollectorScenarios",
                path: "Sources/OTLPMmapTestbed/Generated/BuiltInCollectorScenarios.swift",
                doc: "The collector testbed's scenarios, compiled in: `conform collector` needs no file of this repository.")])
            + (spec.otlp.map { [SwiftOTLPFieldsEmitter.emit($0)] } ?? [])
    }

    /// Scenario files as Swift string literals, in an enum `type` at `path`.
    static func scenarioFile(_ files: [(name: String, text: String)], folder: String, type: String, path: String, doc: String) -> GeneratedFile {
        var out = CodeWriter()
        out.line(GeneratedHeader(sources: [folder + "/*.yaml"]).swift.trimmingCharacters(in: .newlines))
        out.line()
        out.doc(doc)
        out.block("enum \(type) {") { out in
            out.block("static let all: [(file: String, yaml: String)] = [", closing: "]") { out in
                for (name, text) in files {
                    var hashes = "#"
                    while text.contains("\"\"\"" + hashes) { hashes += "#" }
                    out.line("(\(Naming.literal(name)), \(hashes)\"\"\"")
                    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                        out.raw(String(line))
                    }
                    out.raw("\"\"\"\(hashes)),")
                }
            }
        }
        return GeneratedFile(path: path, contents: out.text)
    }

    /// Where a schema's .proto goes: under proto/, in folders named by its package.
    static func protoPath(_ schema: MessageSchema, file: String) -> String {
        "proto/\(schema.package.replacingOccurrences(of: ".", with: "/"))/\(file)"
    }

    /// Every output language, in the order their files are listed.
    static let emitters: [any OutputEmitter.Type] = [SwiftOutput.self, ProtoOutput.self, MarkdownOutput.self, COutput.self]

    /// The testee protocol's files, every language's.
    static func testeeFiles(_ schema: MessageSchema) -> [GeneratedFile] {
        let header = GeneratedHeader(sources: ["spec/testee.yaml"])
        return emitters.flatMap { $0.testeeFiles(schema, header) }
    }

    /// What a reader must do (spec/readers.yaml): the collector testbed's check constants and the
    /// readers' chapter of the docs.
    static func readerFiles(_ readers: ReaderChecks) -> [GeneratedFile] {
        let header = GeneratedHeader(sources: ["spec/readers.yaml"])
        return [
            GeneratedFile(path: "Sources/OTLPMmapConformance/Generated/ReaderChecks.swift", contents: SwiftRunnerChecksEmitter.emitReaderChecks(readers, header)),
            GeneratedFile(path: "docs/readers.md", contents: DocsEmitter.readers(readers, header)),
        ]
    }

    static func formatFiles(_ spec: Spec, _ header: GeneratedHeader, examples: RuleExamples) -> [GeneratedFile] {
        emitters.flatMap { $0.formatFiles(spec, header, examples: examples) }
    }

    /// Writes the files under `root`, creating folders, and deletes stale files in generated folders.
    /// Returns the paths it changed.
    @discardableResult
    package static func write(_ files: [GeneratedFile], root: URL) throws -> [String] {
        var changed: [String] = []
        for problem in check(files, root: root) {
            let url = root.appendingPathComponent(problem.path)
            if let file = files.first(where: { $0.path == problem.path }) {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url, options: .atomic)
            } else {
                try FileManager.default.removeItem(at: url)
            }
            changed.append(problem.path)
        }
        return changed
    }

    package struct Staleness: Equatable, Sendable, CustomStringConvertible {
        package enum Reason: String, Sendable { case missing, differs, notGenerated = "not produced by the generator" }
        package var path: String
        package var reason: Reason
        package var description: String { "\(path): \(reason.rawValue)" }

        package init(path: String, reason: Reason) {
            self.path = path
            self.reason = reason
        }
    }

    /// Compares the files on disk with what the spec produces. Empty means up to date.
    package static func check(_ files: [GeneratedFile], root: URL) -> [Staleness] {
        var problems: [Staleness] = []
        for file in files {
            let url = root.appendingPathComponent(file.path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                problems.append(Staleness(path: file.path, reason: .missing))
                continue
            }
            if data != Data(file.contents.utf8) { problems.append(Staleness(path: file.path, reason: .differs)) }
        }
        let produced = Set(files.map(\.path))
        for folder in generatedFolders {
            let base = root.appendingPathComponent(folder)
            guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
            var found: [String] = []
            for case let url as URL in enumerator {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let relative = folder + "/" + url.path.dropFirst(base.path.count + 1)
                if handWrittenFolders.contains(where: { relative.hasPrefix($0 + "/") }) { continue }
                if !produced.contains(relative) { found.append(relative) }
            }
            problems += found.sorted().map { Staleness(path: $0, reason: .notGenerated) }
        }
        return problems
    }
}

/// The "do not edit" banner every generated file starts with, in each file type's comment syntax.
struct GeneratedHeader {
    var sources: [String]

    var lines: [String] {
        [
            "GENERATED by `otlp-mmap gen` from \(sources.joined(separator: " and ")). Do not edit:",
            "change \(sources.joined(separator: " or ")) and run `swift run otlp-mmap gen`; CI fails when this file is stale.",
        ]
    }

    var swift: String { lines.map { "// \($0)\n" }.joined() }
    var proto: String { swift }
    var markdown: String { "<!-- \(lines.joined(separator: " ")) -->\n" }
    var xml: String { "<!-- \(lines.joined(separator: " ")) -->\n" }
}

/// The scenarios compiled into the binary, by file name, sorted: the testee runner's
/// (scenarios/writers/*.yaml) and the collector testbed's
/// (scenarios/collectors/*.yaml).
package struct ScenarioSources: Sendable, Equatable {
    package static let folder = "scenarios/writers"
    package static let collectorFolder = "scenarios/collectors"
    package var files: [(name: String, text: String)]
    package var collectorFiles: [(name: String, text: String)]

    package init(files: [(name: String, text: String)] = [], collectorFiles: [(name: String, text: String)] = []) {
        self.files = files
        self.collectorFiles = collectorFiles
    }

    package static func == (lhs: ScenarioSources, rhs: ScenarioSources) -> Bool {
        lhs.files.map(\.name) == rhs.files.map(\.name) && lhs.files.map(\.text) == rhs.files.map(\.text)
            && lhs.collectorFiles.map(\.name) == rhs.collectorFiles.map(\.name) && lhs.collectorFiles.map(\.text) == rhs.collectorFiles.map(\.text)
    }

    package static func load(root: URL) throws -> ScenarioSources {
        ScenarioSources(files: try yamlFiles(root.appendingPathComponent(folder)),
                        collectorFiles: try yamlFiles(root.appendingPathComponent(collectorFolder)))
    }

    static func yamlFiles(_ folder: URL) throws -> [(name: String, text: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return try names.filter { $0.hasSuffix(".yaml") }.sorted().map { name in
            (name, try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
        }
    }
}

/// Which golden files break which rule, as the spec's rules name them (`golden:` in
/// spec/layout.yaml). The rule catalogue in docs/ cites them; the files themselves are made
/// downstream by `otlp-mmap gen golden`, which is checked against the spec, not read by the generator.
package struct RuleExamples: Sendable, Equatable {
    package var filesByRule: [String: [String]]

    package init(filesByRule: [String: [String]] = [:]) { self.filesByRule = filesByRule }

    package init(_ spec: Spec) {
        var byRule: [String: [String]] = [:]
        for rule in spec.layout.rules where !rule.golden.isEmpty { byRule[rule.id] = rule.golden }
        self.init(filesByRule: byRule)
    }

    package func files(for rule: String) -> [String] { (filesByRule[rule] ?? []).sorted() }
}
