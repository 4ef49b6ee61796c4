import Foundation

/// The field numbers of a set of `.proto` files (spec/otlp: opentelemetry-proto), as the generator
/// needs them to emit the collector's OTLP field constants. Only messages and their fields are kept;
/// enums, options, imports and services are read past.
package struct ProtoFieldNumbers: Sendable, Equatable {
    package struct Message: Sendable, Equatable {
        package var name: String
        /// `proto package` + message path, e.g. `opentelemetry.proto.trace.v1.Span.Event`.
        package var fullName: String
        package var fields: [(name: String, number: Int)]
        package var nested: [Message]
        /// Where the message is declared: `file:line`.
        package var source: String

        package static func == (lhs: Message, rhs: Message) -> Bool {
            lhs.fullName == rhs.fullName && lhs.fields.elementsEqual(rhs.fields, by: { $0 == $1 }) && lhs.nested == rhs.nested
        }
    }

    /// Top-level messages of every file, files in path order.
    package var messages: [Message]
    /// The files read, relative to the spec folder (`otlp/…/trace.proto`).
    package var files: [String]
}

/// Reads `.proto` files into `ProtoFieldNumbers`. Errors name the file and line.
package enum ProtoFieldsLoader {
    /// Every `.proto` under `directory`, in path order; `displayedAs` prefixes the paths in errors.
    package static func load(directory: URL, displayedAs folder: String) throws -> ProtoFieldNumbers {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            throw SpecError(file: folder, line: 0, "cannot list \(directory.path)")
        }
        let base = directory.standardizedFileURL.path
        var paths: [String] = []
        for case let url as URL in enumerator where url.pathExtension == "proto" {
            paths.append(String(url.standardizedFileURL.path.dropFirst(base.count + 1)))
        }
        paths.sort()
        guard !paths.isEmpty else { throw SpecError(file: folder, line: 0, "no .proto file under \(directory.path)") }
        var result = ProtoFieldNumbers(messages: [], files: [])
        for path in paths {
            let name = "\(folder)/\(path)"
            let url = directory.appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw SpecError(file: name, line: 0, "cannot read \(url.path) as UTF-8 text")
            }
            for message in try parse(text, file: name) {
                // The generated constants name messages without their proto package.
                if let other = result.messages.first(where: { $0.name == message.name }) {
                    throw SpecError(file: name, line: 0, "message '\(message.name)' is declared twice (\(other.fullName) at \(other.source), and \(message.fullName)); top-level message names must be unique across \(folder)")
                }
                result.messages.append(message)
            }
            result.files.append(name)
        }
        return result
    }

    /// The messages of one `.proto` text.
    package static func parse(_ text: String, file: String) throws -> [ProtoFieldNumbers.Message] {
        var parser = Parser(tokens: try tokenize(text, file: file), file: file)
        return try parser.parseFile()
    }

    struct Token: Equatable {
        var text: String
        var line: Int
    }

    /// Identifiers (dotted), numbers, string literals and single-character symbols; comments dropped.
    static func tokenize(_ text: String, file: String) throws -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        var line = 1
        func isWord(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "." }
        while i < chars.count {
            let c = chars[i]
            if c == "\n" { line += 1; i += 1; continue }
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                let start = line
                i += 2
                while i + 1 < chars.count, !(chars[i] == "*" && chars[i + 1] == "/") {
                    if chars[i] == "\n" { line += 1 }
                    i += 1
                }
                guard i + 1 < chars.count else { throw SpecError(file: file, line: start, "comment not closed") }
                i += 2
                continue
            }
            if c == "\"" || c == "'" {
                let start = i
                i += 1
                while i < chars.count, chars[i] != c, chars[i] != "\n" { i += chars[i] == "\\" ? 2 : 1 }
                guard i < chars.count, chars[i] == c else { throw SpecError(file: file, line: line, "string literal not closed") }
                i += 1
                tokens.append(Token(text: String(String.UnicodeScalarView(chars[start..<i])), line: line))
                continue
            }
            if isWord(c) {
                let start = i
                while i < chars.count, isWord(chars[i]) { i += 1 }
                tokens.append(Token(text: String(String.UnicodeScalarView(chars[start..<i])), line: line))
                continue
            }
            tokens.append(Token(text: String(c), line: line))
            i += 1
        }
        return tokens
    }

    struct Parser {
        var tokens: [Token]
        var file: String
        var index = 0
        var package = ""

        init(tokens: [Token], file: String) {
            self.tokens = tokens
            self.file = file
        }

        var lastLine: Int { tokens.last?.line ?? 1 }

        func error(_ message: String) -> SpecError {
            SpecError(file: file, line: index < tokens.count ? tokens[index].line : lastLine, message)
        }

        mutating func next() throws -> Token {
            guard index < tokens.count else { throw error("unexpected end of file") }
            defer { index += 1 }
            return tokens[index]
        }

        mutating func expect(_ text: String) throws {
            let token = try next()
            guard token.text == text else { throw SpecError(file: file, line: token.line, "expected '\(text)', found '\(token.text)'") }
        }

        /// Skips to the end of a statement: its `;`, or a balanced `{ … }` block.
        mutating func skipStatement() throws {
            var depth = 0
            while true {
                let token = try next()
                switch token.text {
                case "{": depth += 1
                case "}":
                    depth -= 1
                    if depth == 0 { return }
                    if depth < 0 { throw SpecError(file: file, line: token.line, "unbalanced '}'") }
                case ";" where depth == 0: return
                default: break
                }
            }
        }

        mutating func parseFile() throws -> [ProtoFieldNumbers.Message] {
            var messages: [ProtoFieldNumbers.Message] = []
            while index < tokens.count {
                switch tokens[index].text {
                case "package":
                    index += 1
                    package = try next().text
                    try expect(";")
                case "message":
                    messages.append(try message(prefix: package))
                case ";":
                    index += 1
                default:
                    try skipStatement()
                }
            }
            return messages
        }

        mutating func message(prefix: String) throws -> ProtoFieldNumbers.Message {
            let line = tokens[index].line
            try expect("message")
            let name = try next().text
            let fullName = prefix.isEmpty ? name : "\(prefix).\(name)"
            try expect("{")
            var result = ProtoFieldNumbers.Message(name: name, fullName: fullName, fields: [], nested: [], source: "\(file):\(line)")
            try body(into: &result, closesOneof: false)
            return result
        }

        /// Fields and nested declarations up to the closing `}`.
        mutating func body(into message: inout ProtoFieldNumbers.Message, closesOneof: Bool) throws {
            while true {
                let token = try next()
                switch token.text {
                case "}": return
                case ";": continue
                case "message":
                    index -= 1
                    message.nested.append(try self.message(prefix: message.fullName))
                case "oneof":
                    _ = try next()
                    try expect("{")
                    try body(into: &message, closesOneof: true)
                case "enum", "option", "reserved", "extensions", "extend":
                    index -= 1
                    try skipStatement()
                default:
                    index -= 1
                    try field(into: &message)
                }
            }
        }

        /// `[repeated|optional] type name = number [options];` or `map<K, V> name = number;`.
        mutating func field(into message: inout ProtoFieldNumbers.Message) throws {
            var token = try next()
            if token.text == "repeated" || token.text == "optional" { token = try next() }
            if token.text == "map" {
                try expect("<")
                while try next().text != ">" {}
            }
            let nameToken = try next()
            guard let first = nameToken.text.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else {
                throw SpecError(file: file, line: nameToken.line, "expected a field name, found '\(nameToken.text)'")
            }
            try expect("=")
            let numberToken = try next()
            guard let number = Int(numberToken.text), (1...536_870_911).contains(number) else {
                throw SpecError(file: file, line: numberToken.line, "field '\(nameToken.text)': '\(numberToken.text)' is not a field number (1 to 2^29-1)")
            }
            if message.fields.contains(where: { $0.number == number || $0.name == nameToken.text }) {
                throw SpecError(file: file, line: nameToken.line, "field '\(nameToken.text)' = \(number): name or number used twice in \(message.fullName)")
            }
            message.fields.append((nameToken.text, number))
            try skipStatement()
        }
    }
}
