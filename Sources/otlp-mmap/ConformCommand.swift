import ArgumentParser
import Foundation
import OTLPMmapConformance
import OTLPMmapCore

struct ConformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Check OTLP-mmap files from any writer against the spec's rules.",
        subcommands: [ConformCheckCommand.self, ConformRunCommand.self, ConformFuzzCommand.self, ConformCollectorCommand.self]
    )
}

struct ConformCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check files (also ones still being written) against every rule in spec/.",
        discussion: "Reports rule ID, MUST/SHOULD, byte offset and message for each violation. Exits with status 1 when a file breaks a MUST rule."
    )

    @Argument(help: "Files to check.")
    var files: [String]

    @Option(help: "Report format: text, json or junit.")
    var format: ReportFormat = .text

    @Flag(help: "The files' writers have finished: a claimed slot never published is a failure, not a warning.")
    var final = false

    @Option(name: .long, help: "The HTML spec's rules page that findings link to (`gen docs --html` writes it; default: $OTLP_MMAP_RULES_URL, else rules.html).")
    var rulesURL: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file") }
    }

    func run() throws {
        var reports: [CheckReport] = []
        for file in files {
            do {
                reports.append(try FileChecker.check(path: file, final: final))
            } catch {
                FileHandle.standardError.write(Data("error: \(error is SystemError ? "" : "cannot read \(file): ")\(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let links = RuleLinks.resolve(option: rulesURL)
        print(format.render(reports, links: links), terminator: "")
        if !reports.allSatisfy(\.passed) { throw ExitCode.failure }
    }
}
extension ReportFormat: ExpressibleByArgument {}
