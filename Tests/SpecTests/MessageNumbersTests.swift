import OTLPMmapSpec
import Testing
import TestSupport

/// protocol.md §4 is the wire contract: every message's field numbers and types, copied here from it.
@Suite struct MessageNumbersTests {
    static let expected: [String: [String: (Int, String)]] = [
        "SpanEvent": ["scope_ref": (20, "int64"), "trace_id": (1, "bytes"), "span_id": (2, "bytes"), "start": (11, "StartSpan"),
                      "end": (12, "EndSpan"), "name": (13, "ChangeSpanName"), "attributes": (14, "UpdateAttributes"), "link": (15, "AddLink")],
        "StartSpan": ["parent_span_id": (4, "bytes"), "flags": (16, "fixed32"), "name": (5, "string"), "kind": (6, "SpanKind"),
                      "start_time_unix_nano": (7, "fixed64"), "attributes": (9, "KeyValueRef")],
        "EndSpan": ["end_time_unix_nano": (8, "fixed64"), "status": (15, "Status")],
        "ChangeSpanName": ["name": (5, "string")],
        "UpdateAttributes": ["attributes": (9, "KeyValueRef")],
        "AddLink": ["links": (13, "Link")],
        "Link": ["trace_id": (1, "bytes"), "span_id": (2, "bytes"), "trace_state": (3, "string"), "attributes": (4, "KeyValueRef"),
                 "dropped_attributes_count": (5, "uint32"), "flags": (6, "fixed32")],
        "Status": ["message": (2, "string"), "code": (3, "StatusCode")],
        "Measurement": ["metric_ref": (1, "int64"), "attributes": (2, "KeyValueRef"), "time_unix_nano": (3, "fixed64"),
                        "as_long": (4, "int64"), "as_double": (5, "double"), "span_context": (6, "SpanContext")],
        "MetricRef": ["name": (1, "string"), "description": (2, "string"), "unit": (3, "string"), "instrumentation_scope_ref": (4, "int64"),
                      "gauge": (5, "Gauge"), "sum": (6, "Sum"), "histogram": (7, "Histogram"), "exp_hist": (8, "ExponentialHistogram")],
        "Gauge": [:],
        "Sum": ["aggregation_temporality": (2, "AggregationTemporality"), "is_monotonic": (3, "bool")],
        "Histogram": ["aggregation_temporality": (1, "AggregationTemporality"), "bucket_boundaries": (2, "double")],
        "ExponentialHistogram": ["aggregation_temporality": (1, "AggregationTemporality"), "max_buckets": (2, "int64"), "max_scale": (3, "int64")],
        "Event": ["scope_ref": (1, "int64"), "time_unix_nano": (2, "fixed64"), "severity_number": (3, "SeverityNumber"),
                  "severity_text": (4, "string"), "body": (5, "AnyValue"), "event_name_ref": (6, "int64"), "span_context": (7, "SpanContext"),
                  "attributes": (8, "KeyValueRef")],
        "Resource": ["attributes": (1, "KeyValueRef"), "dropped_attributes_count": (2, "uint32")],
        "InstrumentationScope": ["name_ref": (1, "int64"), "version_ref": (2, "int64"), "attributes": (3, "KeyValueRef"),
                                 "dropped_attributes_count": (4, "uint32"), "resource_ref": (5, "int64")],
        "KeyValueRef": ["key_ref": (1, "int64"), "value": (2, "AnyValue")],
        "AnyValue": ["string_value": (1, "string"), "bool_value": (2, "bool"), "int_value": (3, "int64"), "double_value": (4, "double"),
                     "array_value": (5, "ArrayValue"), "kvlist_value": (6, "KeyValueList"), "bytes_value": (7, "bytes"), "value_ref": (8, "int64")],
        "ArrayValue": ["values": (1, "AnyValue")],
        "KeyValueList": ["values": (1, "KeyValueRef")],
        "SpanContext": ["span_id": (1, "bytes"), "trace_id": (2, "bytes"), "flags": (3, "fixed32")],
    ]

    static let references: [String: String] = [
        "key_ref": "string", "name_ref": "string", "version_ref": "string", "event_name_ref": "string",
        "resource_ref": "Resource", "scope_ref": "InstrumentationScope", "instrumentation_scope_ref": "InstrumentationScope",
        "metric_ref": "MetricRef", "value_ref": "AnyValue",
    ]

    @Test func everyFieldNumberAndTypeIsTheProtocols() throws {
        let spec = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec"))
        #expect(Set(spec.messages.messages.map(\.name)) == Set(Self.expected.keys))
        for message in spec.messages.messages {
            let expected = try #require(Self.expected[message.name])
            var actual: [String: (Int, String)] = [:]
            for field in message.fields {
                let type: String
                switch field.type {
                case .scalar(let scalar): type = scalar.rawValue
                case .enumeration(let name), .message(let name): type = name
                }
                actual[field.name] = (field.number, type)
                if let kind = Self.references[field.name] {
                    #expect(field.ref == kind, "\(message.name).\(field.name) should refer to \(kind)")
                }
            }
            #expect(actual.count == expected.count, "\(message.name) fields")
            for (name, (number, type)) in expected {
                #expect(actual[name]?.0 == number && actual[name]?.1 == type, "\(message.name).\(name) should be \(type) = \(number)")
            }
        }
        #expect(spec.messages.message(named: "Status")?.reserved == [1])
        #expect(spec.messages.package == "opentelemetry.proto.mmap.v1")
    }

    @Test func enumValuesAreTheProtocols() throws {
        let spec = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec"))
        func numbers(_ name: String) -> [Int] { spec.messages.enumeration(named: name)?.values.map(\.number) ?? [] }
        #expect(numbers("SpanKind") == Array(0...5))
        #expect(numbers("StatusCode") == [0, 1, 2])
        #expect(numbers("AggregationTemporality") == [0, 1, 2])
        #expect(numbers("SeverityNumber") == Array(0...24))
    }
}
