/// Turns the spec's snake_case and SCREAMING_CASE names into Swift names.
enum Naming {
    static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
        "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
        "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type",
    ]

    /// `start_time_unix_nano` → `startTimeUnixNano`.
    static func lowerCamel(_ snake: String) -> String {
        // Already UpperCamel (`InstrumentationScope`): only the first letter changes.
        if !snake.contains("_"), snake != snake.uppercased() {
            return snake.prefix(1).lowercased() + snake.dropFirst()
        }
        let parts = snake.lowercased().split(separator: "_")
        guard let first = parts.first else { return snake }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `event` → `Event`.
    static func upperCamel(_ snake: String) -> String {
        let camel = lowerCamel(snake)
        return camel.prefix(1).uppercased() + camel.dropFirst()
    }

    /// A name usable as an identifier: keywords get backticks.
    static func identifier(_ name: String) -> String {
        swiftKeywords.contains(name) ? "`\(name)`" : name
    }

    /// Enum value `SPAN_KIND_SERVER` of enum `SpanKind` → `server`.
    static func enumCase(_ value: String, of enumName: String) -> String {
        let prefix = screamingSnake(enumName) + "_"
        let stripped = value.hasPrefix(prefix) ? String(value.dropFirst(prefix.count)) : value
        return lowerCamel(stripped)
    }

    /// `SpanKind` → `SPAN_KIND`.
    static func screamingSnake(_ camel: String) -> String {
        var result = ""
        for (index, character) in camel.enumerated() {
            if character.isUppercase && index > 0 { result += "_" }
            result += character.uppercased()
        }
        return result
    }

    /// `HDR-SECTION-BOUNDS` → `hdrSectionBounds`.
    static func ruleConstant(_ id: String) -> String {
        lowerCamel(id.replacingOccurrences(of: "-", with: "_"))
    }

    /// A Swift string literal.
    static func literal(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}

/// Accumulates source text with indentation, so emitters read like the code they produce.
struct CodeWriter {
    private(set) var text = ""
    private var indentation = 0

    mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: "    ", count: indentation) + content + "\n"
        }
    }

    /// A line exactly as given, without indentation (the inside of a multi-line string literal).
    mutating func raw(_ content: String) { text += content + "\n" }

    mutating func block(_ opening: String, closing: String = "}", _ body: (inout CodeWriter) -> Void) {
        line(opening)
        indentation += 1
        body(&self)
        indentation -= 1
        line(closing)
    }

    /// Writes a doc comment, wrapped at about 100 columns.
    mutating func doc(_ text: String, prefix: String = "///") {
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                if !current.isEmpty && current.count + word.count + 1 > 96 - indentation * 4 {
                    line("\(prefix) \(current)")
                    current = ""
                }
                current += current.isEmpty ? String(word) : " \(word)"
            }
            line(current.isEmpty ? prefix : "\(prefix) \(current)")
        }
    }
}

import Foundation
