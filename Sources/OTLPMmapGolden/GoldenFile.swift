import Foundation

/// A golden file: its bytes and, beside it, what it must decode to (valid files) or which rules it
/// must trigger (invalid files).
package struct GoldenFile: Sendable {
    package var name: String
    package var description: String
    package var bytes: [UInt8]
    /// The expected decode, `inspect --json`, for valid files.
    package var expectedDecode: String?
    /// The rule IDs `conform check` must report, exactly, for invalid files.
    package var rules: [String]

    /// Path under golden/.
    package var path: String { (expectedDecode != nil ? "valid/" : "invalid/") + name + ".otlpmmap" }
}

/// Writes and compares golden/ as a folder.
package enum GoldenFolder {
    package static func files(_ cases: [GoldenFile]) -> [(path: String, contents: Data)] {
        var files: [(String, Data)] = []
        for golden in cases {
            files.append((golden.path, Data(golden.bytes)))
            if let decode = golden.expectedDecode { files.append(("valid/\(golden.name).json", Data((decode + "\n").utf8))) }
        }
        let invalid = cases.filter { $0.expectedDecode == nil }
        let manifest: [[String: Any]] = invalid.map { ["file": $0.path, "rules": $0.rules, "description": $0.description] }
        let data = (try? JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        files.append(("invalid/manifest.json", data + Data("\n".utf8)))
        let valid = cases.filter { $0.expectedDecode != nil }
        let index: [[String: Any]] = valid.map { ["file": $0.path, "decode": "valid/\($0.name).json", "description": $0.description] }
        let indexData = (try? JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        files.append(("valid/index.json", indexData + Data("\n".utf8)))
        return files
    }

    /// Paths under `root` whose content differs from what the cases produce, or that no case produces.
    package static func stale(_ cases: [GoldenFile], root: URL) -> [String] {
        let expected = files(cases)
        var stale: [String] = []
        for (path, contents) in expected where FileManager.default.contents(atPath: root.appendingPathComponent(path).path) != contents {
            stale.append(path)
        }
        let produced = Set(expected.map(\.path))
        for folder in ["valid", "invalid"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
            stale += names.map { "\(folder)/\($0)" }.filter { !produced.contains($0) }.sorted()
        }
        return stale
    }

    package static func write(_ cases: [GoldenFile], root: URL) throws {
        for folder in ["valid", "invalid"] {
            let url = root.appendingPathComponent(folder)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        for (path, contents) in files(cases) { try contents.write(to: root.appendingPathComponent(path)) }
    }
}
