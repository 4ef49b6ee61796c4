/// The record messages, as read from spec/messages.yaml.

package enum ScalarType: String, Sendable, CaseIterable {
    case int64, uint32, fixed32, fixed64, double, bool, string, bytes

    /// The protobuf wire type of a single value: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
    package var wireType: Int {
        switch self {
        case .int64, .uint32, .bool: 0
        case .fixed64, .double: 1
        case .string, .bytes: 2
        case .fixed32: 5
        }
    }

    /// Whether a repeated field of this type is written packed (proto3 default for numbers).
    package var packable: Bool { wireType != 2 }
}

package enum MessageFieldType: Sendable, Equatable {
    case scalar(ScalarType)
    case enumeration(String)
    case message(String)

    package var wireType: Int {
        switch self {
        case .scalar(let scalar): scalar.wireType
        case .enumeration: 0
        case .message: 2
        }
    }
}

package struct MessageField: Sendable {
    package var name: String
    package var number: Int
    package var type: MessageFieldType
    package var repeated: Bool
    package var oneof: String?
    /// The dictionary entry kind this int64 refers to.
    package var ref: String?
    /// Exact byte length required when present.
    package var length: Int?
    package var rules: [String]
    package var line: Int
    /// The format version that introduced the field (files of earlier versions never hold it).
    package var since: Int = 1
    /// The version from which writers should no longer write the field; readers still read it.
    package var deprecated: Int? = nil
}

package struct Message: Sendable {
    package var name: String
    package var doc: String
    package var fields: [MessageField]
    package var reserved: [Int]
    package var line: Int
    /// The message this one is declared in (`SpanEvent` for `StartSpan`), nil at the top level.
    /// Names are unique across the schema whatever the nesting, so code that does not nest (the
    /// generated Swift) can use them as they are; the .proto nests as upstream's does.
    package var parent: String? = nil

    /// Oneof names in the order their first member appears.
    package var oneofs: [String] {
        var names: [String] = []
        for field in fields { if let name = field.oneof, !names.contains(name) { names.append(name) } }
        return names
    }

    package func members(ofOneof name: String) -> [MessageField] { fields.filter { $0.oneof == name } }
}

package struct EnumValue: Sendable {
    package var name: String
    package var number: Int
}

package struct EnumType: Sendable {
    package var name: String
    package var doc: String
    package var values: [EnumValue]
    package var line: Int
    /// The message this enum is declared in, nil at the top level.
    package var parent: String? = nil
}

package struct MessageSchema: Sendable {
    package var package: String
    /// What the schema is for, in Markdown (the testee protocol's description lives here).
    package var doc: String = ""
    package var enums: [EnumType]
    package var messages: [Message]
    /// What a runner checks beyond the format's rules (spec/testee.yaml only).
    package var checks: [RunnerCheckSpec] = []

    package func message(named name: String) -> Message? { messages.first { $0.name == name } }
    package func enumeration(named name: String) -> EnumType? { enums.first { $0.name == name } }

    /// The names enclosing a type and the type itself, outermost first: `["SpanEvent", "StartSpan", "SpanKind"]`.
    package func path(of name: String) -> [String] {
        var path = [name]
        var parent = message(named: name)?.parent ?? enumeration(named: name)?.parent
        while let outer = parent, !path.contains(outer) {
            path.insert(outer, at: 0)
            parent = message(named: outer)?.parent
        }
        return path
    }

    /// The type's name qualified by its enclosing messages: `SpanEvent.StartSpan`.
    package func qualifiedName(of name: String) -> String { path(of: name).joined(separator: ".") }
}

/// The whole specification: layout and messages, checked against each other, and the testee
/// protocol the conformance runner speaks with writers under test.
package struct Spec: Sendable {
    package var layout: Layout
    package var messages: MessageSchema
    /// spec/testee.yaml, when the spec has one.
    package var testee: MessageSchema?
    /// spec/readers.yaml, when the spec has one: what a reader of the format must do.
    package var readers: ReaderChecks?
    /// spec/otlp's `.proto` files (opentelemetry-proto), when the spec has them: the OTLP field
    /// numbers the collector writes requests with.
    package var otlp: ProtoFieldNumbers?
    /// The spec files' texts by their name under spec/, so generated files can cite them.
    package var sourceFiles: [String]
}

/// A check the conformance runner makes about a testee, beside the format's rules: its ID appears
/// in reports and failure lists as a rule ID does.
package struct RunnerCheckSpec: Sendable {
    package var id: String
    package var level: RuleLevel
    package var text: String
    /// Where the check comes from (spec/readers.yaml's checks carry it; the testee runner's do not).
    package var origin: CheckOrigin?
    package var source: String?
    package var line: Int
}

/// Where a reader check comes from.
package enum CheckOrigin: String, Sendable {
    /// The upstream written specification states it (../shared/protocol.md §7).
    case protocolText = "protocol"
    /// It guards against a known defect of the existing collector (protocol.md §6).
    case defect
    /// OTLP's own rules for exporters.
    case otlp
    /// This project's requirement.
    case project
}

/// spec/readers.yaml: what a reader (a collector) of OTLP-mmap files must do, as the collector
/// testbed checks it.
package struct ReaderChecks: Sendable {
    package var doc: String
    package var checks: [RunnerCheckSpec]
}
