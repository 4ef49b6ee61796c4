/// A problem in the schema files themselves, located at the YAML line that causes it, so that the
/// person editing spec/ can jump straight there.
package struct SpecError: Error, CustomStringConvertible, Equatable, Sendable {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String

    package init(file: String, line: Int, column: Int = 1, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`; an error about a whole file (it cannot be read) has no line.
    package var description: String { line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)" }
}
