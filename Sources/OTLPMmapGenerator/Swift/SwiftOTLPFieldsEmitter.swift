import OTLPMmapSpec

/// The OTLP field numbers of spec/otlp's `.proto` files as Swift constants, for the collector's
/// request encoders and whatever else walks OTLP bytes (the benchmarks' item counter):
/// `OTLPFields.Span.traceId` is opentelemetry-proto's `Span.trace_id` = 1. A renumbered or renamed
/// field in the `.proto` files changes these, and the code follows (or stops compiling), with no hand
/// edit. They live in the layout module, below every user; the types are `public` in that non-product
/// module and the members `@inlinable package`, as the other generated hot-path types, so that a
/// field number compiles to a constant in the encoders of another module.
enum SwiftOTLPFieldsEmitter {
    static let path = "Sources/OTLPMmapLayout/Generated/OTLPFields.swift"

    static func emit(_ protos: ProtoFieldNumbers) -> GeneratedFile {
        var out = CodeWriter()
        out.line(GeneratedHeader(sources: ["spec/otlp/**/*.proto"]).swift.trimmingCharacters(in: .newlines))
        out.line()
        out.doc("Field numbers of the OTLP messages (spec/otlp), by message and field name.")
        out.block("public enum OTLPFields {") { out in
            for (index, message) in protos.messages.enumerated() {
                if index > 0 { out.line() }
                emit(message, into: &out)
            }
        }
        return GeneratedFile(path: path, contents: out.text)
    }

    static func emit(_ message: ProtoFieldNumbers.Message, into out: inout CodeWriter) {
        out.doc("`\(message.fullName)`.")
        out.block("public enum \(Naming.identifier(message.name)) {") { out in
            for field in message.fields {
                out.line("@inlinable package static var \(Naming.identifier(Naming.lowerCamel(field.name))): Int { \(field.number) }")
            }
            for nested in message.nested {
                out.line()
                emit(nested, into: &out)
            }
        }
    }
}
