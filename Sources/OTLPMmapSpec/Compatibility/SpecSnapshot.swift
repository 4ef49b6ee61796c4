import Foundation

/// A spec to compare: a folder, or the spec/ folder of a repository at a git revision.
package enum SpecSnapshot {
    /// The spec in `folder` (holding layout.yaml and messages.yaml), its files named `display/…`.
    package static func load(folder: URL, display: String) throws -> (Spec, SpecDiff.Sources) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw SpecError(file: display, line: 0, "no such spec folder (\(folder.path)): give a folder holding \(SpecLoader.layoutFile) and \(SpecLoader.messagesFile)")
        }
        return (try SpecLoader.load(directory: folder, displayedAs: display), SpecDiff.Sources(folder: display))
    }

    /// The spec/ folder of the git repository at `root` as committed at `revision` (a branch, tag or
    /// commit), its files named `revision:spec/…`.
    package static func load(gitRevision revision: String, root: URL) throws -> (Spec, SpecDiff.Sources) {
        let display = "\(revision):spec"
        func show(_ name: String) throws -> String {
            let path = "\(display)/\(name)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", root.path, "show", path]
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            do {
                try process.run()
            } catch {
                throw SpecError(file: path, line: 0, "cannot run git: \(error.localizedDescription)")
            }
            // Read before waiting: a spec larger than the pipe's buffer would otherwise block git.
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw SpecError(file: path, line: 0, "git show failed in \(root.path): \(message.isEmpty ? "exit \(process.terminationStatus)" : message)")
            }
            guard let text = String(data: data, encoding: .utf8) else { throw SpecError(file: path, line: 0, "not UTF-8") }
            return text
        }
        let spec = try SpecLoader.load(layoutYAML: show(SpecLoader.layoutFile), messagesYAML: show(SpecLoader.messagesFile), folder: display)
        return (spec, SpecDiff.Sources(folder: display))
    }
}

// MARK: reports

extension SpecComparison {
    /// One line per change, then the verdict, for people.
    package func text(old: String, new: String) -> String {
        var lines = ["gen diff: \(old) (version \(oldVersion)) → \(new) (version \(newVersion))"]
        if changes.isEmpty { lines.append("  no changes") }
        for change in changes {
            let breaks = change.breaks.isEmpty ? "compatible" : "breaks \(change.breaks.map(\.phrase).joined(separator: ", "))"
            lines.append("  \(change.isBreaking ? "BREAKING  " : "compatible")  \(change.kind.rawValue)  \(change.subject): \(change.detail)  [\(breaks)]  \(change.file):\(change.line)")
        }
        lines.append("verdict: \(verdict.rawValue) — \(verdictExplanation)")
        return lines.joined(separator: "\n") + "\n"
    }

    package var verdictExplanation: String {
        switch verdict {
        case .compatible:
            "nothing breaks: readers of old files, old readers and existing writers keep working"
        case .compatibleWithVersionBump:
            "readers of old files and existing writers keep working; old readers refuse new files by their version (HDR-VERSION)"
        case .breaking:
            "files or writers of version \(oldVersion) are broken by version \(newVersion); the version was bumped, so nobody misreads silently"
        case .breakingWithoutVersionBump:
            "a change breaks \(Set(changes.flatMap(\.breaks)).sorted().map(\.phrase).joined(separator: ", ")) and format.version is still \(newVersion): bump it"
        }
    }

    /// The same as JSON, for tools.
    package func json(old: String, new: String) throws -> String {
        struct Report: Encodable {
            var old: String, new: String
            var oldVersion: Int, newVersion: Int, versionBumped: Bool
            var verdict: Verdict
            var changes: [SpecChange]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let report = Report(old: old, new: new, oldVersion: oldVersion, newVersion: newVersion, versionBumped: versionBumped, verdict: verdict, changes: changes)
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }
}
