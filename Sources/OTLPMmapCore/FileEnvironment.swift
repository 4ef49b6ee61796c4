import Foundation

/// `SDK_MMAP_EXPORTER_FILE`: the variable that names the file, shared with the other
/// implementations — read by writers (`WriterConfiguration.fromEnvironment`) and collectors
/// (`collect` without `--file`), and set by the conformance runners for the program under test.
package enum FileEnvironment {
    package static let variable = "SDK_MMAP_EXPORTER_FILE"

    /// The path the variable names, or nil when it is unset or empty.
    package static func path(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let path = environment[variable], !path.isEmpty else { return nil }
        return path
    }
}
