import Foundation
import SwiftProtobuf
import Testing
import TestSupport

/// The generated mmap.proto, compiled by protoc, names and nests its types as upstream's does
/// (protocol.md §4), so that code another project generates from it gets upstream's type names.
/// The expectations are copied from §4 — the nesting, the oneofs, the repeated fields, the enum
/// values — and the field numbers and types from `MessageNumbersTests`; nothing is derived from spec/.
@Suite struct ProtoDescriptorTests {
    typealias Field = Google_Protobuf_FieldDescriptorProto

    static let package = "opentelemetry.proto.mmap.v1"
    /// Every message by its path in the package.
    static let messagePaths = [
        "SpanEvent", "SpanEvent.StartSpan", "SpanEvent.EndSpan", "SpanEvent.ChangeSpanName", "SpanEvent.UpdateAttributes",
        "SpanEvent.AddLink", "SpanEvent.AddLink.Link", "Status", "Measurement", "MetricRef", "MetricRef.Gauge", "MetricRef.Sum",
        "MetricRef.Histogram", "MetricRef.ExponentialHistogram", "Event", "Resource", "InstrumentationScope", "KeyValueRef",
        "AnyValue", "ArrayValue", "KeyValueList", "SpanContext",
    ]
    static let enumPaths: [String: [Int32]] = [
        "SpanEvent.StartSpan.SpanKind": Array(0...5), "Status.StatusCode": [0, 1, 2],
        "AggregationTemporality": [0, 1, 2], "SeverityNumber": Array(0...24),
    ]
    static let oneofs: [String: [String: Set<String>]] = [
        "SpanEvent": ["event": ["start", "end", "name", "attributes", "link"]],
        "Measurement": ["value": ["as_long", "as_double"]],
        "MetricRef": ["aggregation": ["gauge", "sum", "histogram", "exp_hist"]],
        "AnyValue": ["value": ["string_value", "bool_value", "int_value", "double_value", "array_value", "kvlist_value", "bytes_value", "value_ref"]],
    ]
    static let repeated: Set<String> = [
        "StartSpan.attributes", "UpdateAttributes.attributes", "AddLink.links", "Link.attributes", "Measurement.attributes",
        "Histogram.bucket_boundaries", "Event.attributes", "Resource.attributes", "InstrumentationScope.attributes",
        "ArrayValue.values", "KeyValueList.values",
    ]

    /// protoc's descriptor of the committed proto/…/mmap.proto.
    func descriptor() async throws -> Google_Protobuf_FileDescriptorProto {
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("mmap.pb")
        let proto = TestSupport.repositoryRoot.appendingPathComponent("proto")
        let protoc = try await TestSupport.run(["protoc", "-I", proto.path, "--descriptor_set_out=\(output.path)", "opentelemetry/proto/mmap/v1/mmap.proto"],
                                               executable: "/usr/bin/env")
        try #require(protoc.status == 0, "\(protoc.stderr)")
        let set = try Google_Protobuf_FileDescriptorSet(serializedBytes: try Data(contentsOf: output))
        return try #require(set.file.first)
    }

    /// Every message and enum of `file` by its path, with the message descriptors.
    func walk(_ file: Google_Protobuf_FileDescriptorProto) -> (messages: [String: Google_Protobuf_DescriptorProto], enums: [String: Google_Protobuf_EnumDescriptorProto]) {
        var messages: [String: Google_Protobuf_DescriptorProto] = [:], enums: [String: Google_Protobuf_EnumDescriptorProto] = [:]
        func visit(_ message: Google_Protobuf_DescriptorProto, prefix: String) {
            let path = prefix.isEmpty ? message.name : "\(prefix).\(message.name)"
            messages[path] = message
            for nested in message.enumType { enums["\(path).\(nested.name)"] = nested }
            for nested in message.nestedType { visit(nested, prefix: path) }
        }
        for message in file.messageType { visit(message, prefix: "") }
        for enumeration in file.enumType { enums[enumeration.name] = enumeration }
        return (messages, enums)
    }

    static func scalarName(_ type: Field.TypeEnum) -> String? {
        switch type {
        case .int64: "int64"
        case .uint32: "uint32"
        case .fixed32: "fixed32"
        case .fixed64: "fixed64"
        case .double: "double"
        case .bool: "bool"
        case .string: "string"
        case .bytes: "bytes"
        default: nil
        }
    }

    @Test func typesAreNestedAndNamedAsUpstreamNamesThem() async throws {
        let file = try await descriptor()
        #expect(file.package == Self.package)
        let (messages, enums) = walk(file)
        #expect(Set(messages.keys) == Set(Self.messagePaths))
        #expect(messages.count == 22 && enums.count == 4)
        #expect(Set(enums.keys) == Set(Self.enumPaths.keys))
        for (path, numbers) in Self.enumPaths {
            #expect(enums[path]?.value.map(\.number) == numbers, "\(path)")
        }
        // A field's type is named by its full path, as protoc resolved it.
        let pathOfType = Dictionary(uniqueKeysWithValues: (Self.messagePaths + Array(Self.enumPaths.keys)).map { ($0.split(separator: ".").last.map(String.init)!, $0) })
        for path in Self.messagePaths {
            let message = try #require(messages[path])
            let name = String(path.split(separator: ".").last!)
            let expected = try #require(MessageNumbersTests.expected[name], "\(name) is in §4")
            #expect(Set(message.field.map(\.name)) == Set(expected.keys), "\(path) fields")
            for field in message.field {
                guard let (number, type) = expected[field.name] else { continue }
                #expect(field.number == Int32(number), "\(path).\(field.name) number")
                if let scalar = Self.scalarName(field.type) {
                    #expect(scalar == type, "\(path).\(field.name) type")
                } else {
                    #expect(field.typeName == ".\(Self.package).\(pathOfType[type] ?? "?")", "\(path).\(field.name) type \(field.typeName)")
                }
                #expect((field.label == .repeated) == Self.repeated.contains("\(name).\(field.name)"), "\(path).\(field.name) label")
                let oneof = field.hasOneofIndex ? message.oneofDecl[Int(field.oneofIndex)].name : nil
                let expectedOneof = Self.oneofs[name]?.first { $0.value.contains(field.name) }?.key
                #expect(oneof == expectedOneof, "\(path).\(field.name) oneof")
            }
        }
        #expect(messages["Status"]?.reservedRange.map { [$0.start, $0.end] } == [[1, 2]])
    }
}
