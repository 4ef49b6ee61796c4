import Foundation
import OTLPMmapCollector
import OTLPProto
import SwiftProtobuf
import Testing

/// The collector writes trace and log requests' bytes itself; they must be what swift-protobuf would write.
@Suite struct RequestEncodingTests {
    typealias Span = Opentelemetry_Proto_Trace_V1_Span
    typealias KeyValue = Opentelemetry_Proto_Common_V1_KeyValue
    typealias AnyValue = Opentelemetry_Proto_Common_V1_AnyValue

    static func keyValue(_ key: String, _ value: AnyValue?) -> KeyValue {
        var keyValue = KeyValue()
        keyValue.key = key
        if let value { keyValue.value = value }
        return keyValue
    }

    /// Every kind of AnyValue, nested, with the values proto3 leaves out (zero, empty) among them.
    static var values: [AnyValue] {
        var values: [AnyValue] = []
        for set in [{ (v: inout AnyValue) in v.stringValue = "text ✓" }, { $0.stringValue = "" }, { $0.boolValue = true },
                    { $0.boolValue = false }, { $0.intValue = -42 }, { $0.intValue = 0 }, { $0.intValue = .max },
                    { $0.doubleValue = -0.0 }, { $0.doubleValue = 3.25 }, { $0.bytesValue = Data([0, 1, 255]) },
                    { $0.bytesValue = Data() }, { _ in }] {
            var value = AnyValue()
            set(&value)
            values.append(value)
        }
        var array = AnyValue()
        array.arrayValue.values = values
        var list = AnyValue()
        list.kvlistValue.values = values.enumerated().map { keyValue("k\($0.offset)", $0.element) } + [keyValue("nested", array), keyValue("none", nil)]
        return values + [array, list]
    }

    static func span(_ index: Int) -> Span {
        var span = Span()
        span.traceID = Data((0..<16).map { UInt8(truncatingIfNeeded: index + $0 + 1) })
        span.spanID = Data((0..<8).map { UInt8(truncatingIfNeeded: index * 3 + $0 + 1) })
        if index % 2 == 0 { span.parentSpanID = Data(repeating: 7, count: 8) }
        if index % 3 == 0 { span.traceState = "vendor=value" }
        span.name = index == 4 ? "" : "span \(index)"
        span.kind = index == 5 ? .UNRECOGNIZED(-3) : Span.SpanKind(rawValue: index % 6) ?? .internal
        span.startTimeUnixNano = index == 1 ? 0 : 1_700_000_000_000_000_000 + UInt64(index)
        span.endTimeUnixNano = UInt64(index) * 1_000
        span.attributes = values.enumerated().map { keyValue("attribute.\($0.offset)", $0.element) }
        span.droppedAttributesCount = UInt32(index % 2)
        if index % 2 == 1 {
            var event = Span.Event()
            event.timeUnixNano = 5
            event.name = "event"
            event.attributes = [keyValue("e", values[0])]
            event.droppedAttributesCount = 1
            span.events = [event, Span.Event()]
            span.droppedEventsCount = 2
            var link = Span.Link()
            link.traceID = span.traceID
            link.spanID = span.spanID
            link.traceState = "t"
            link.attributes = [keyValue("l", values[4])]
            link.droppedAttributesCount = 3
            link.flags = 0x101
            span.links = [link]
            span.droppedLinksCount = 4
        }
        if index % 3 != 2 {
            span.status.code = index % 3 == 0 ? .error : .unset   // a status at its defaults is still written
            if index % 3 == 0 { span.status.message = "failed" }
        }
        span.flags = index % 2 == 0 ? 0x301 : 0
        return span
    }

    @Test func encodedRequestsAreWhatSwiftProtobufWrites() throws {
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = [Self.keyValue("service.name", Self.values[0])]
        resource.droppedAttributesCount = 2
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "scope"
        scope.version = "1.0"
        scope.attributes = [Self.keyValue("s", Self.values[2])]
        scope.droppedAttributesCount = 1
        let spans = (0..<12).map(Self.span)
        let groups = [(resource, [(scope, Array(spans[0..<5])), (Opentelemetry_Proto_Common_V1_InstrumentationScope(), Array(spans[5..<7]))]),
                      (Opentelemetry_Proto_Resource_V1_Resource(), [(scope, Array(spans[7...]))])]
        let encoded = RequestEncoding.traces(groups)

        var expected = TracesRequest()
        expected.resourceSpans = groups.map { resource, scopes in
            Opentelemetry_Proto_Trace_V1_ResourceSpans.with {
                $0.resource = resource
                $0.scopeSpans = scopes.map { scope, spans in Opentelemetry_Proto_Trace_V1_ScopeSpans.with { $0.scope = scope; $0.spans = spans } }
            }
        }
        #expect(encoded.items == 12)
        #expect(try TracesRequest(serializedBytes: encoded.bytes) == expected)
        #expect(encoded.bytes == (try expected.serializedBytes() as [UInt8]))
    }

    @Test func encodedLogRequestsAreWhatSwiftProtobufWrites() throws {
        typealias LogRecord = Opentelemetry_Proto_Logs_V1_LogRecord
        let records = Self.values.enumerated().map { index, value in
            var record = LogRecord()
            record.timeUnixNano = index == 0 ? 0 : UInt64(index) * 1_000_000
            record.observedTimeUnixNano = UInt64(index) * 7
            record.severityNumber = index == 3 ? .UNRECOGNIZED(-2) : Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: index % 25) ?? .info
            record.severityText = index % 2 == 0 ? "" : "INFO"
            if index % 4 != 1 { record.body = value }   // absent, and present at every kind
            record.attributes = Array(Self.values.prefix(index % 5)).enumerated().map { Self.keyValue("a\($0.offset)", $0.element) }
            record.droppedAttributesCount = UInt32(index % 3)
            record.flags = index % 2 == 0 ? 1 : 0
            if index % 3 == 0 {
                record.traceID = Data(repeating: UInt8(index + 1), count: 16)
                record.spanID = Data(repeating: 9, count: 8)
            }
            record.eventName = index % 5 == 0 ? "event.\(index)" : ""
            return record
        }
        let groups = [(Opentelemetry_Proto_Resource_V1_Resource(), [(Opentelemetry_Proto_Common_V1_InstrumentationScope(), Array(records.prefix(4))),
                                                                  (Opentelemetry_Proto_Common_V1_InstrumentationScope.with { $0.name = "s" }, Array(records.dropFirst(4)))])]
        let encoded = RequestEncoding.logs(groups)
        var expected = LogsRequest()
        expected.resourceLogs = groups.map { resource, scopes in
            Opentelemetry_Proto_Logs_V1_ResourceLogs.with {
                $0.resource = resource
                $0.scopeLogs = scopes.map { scope, records in Opentelemetry_Proto_Logs_V1_ScopeLogs.with { $0.scope = scope; $0.logRecords = records } }
            }
        }
        #expect(encoded.items == records.count)
        #expect(try LogsRequest(serializedBytes: encoded.bytes) == expected)
        #expect(encoded.bytes == (try expected.serializedBytes() as [UInt8]))
    }

    @Test func anEmptyRequestIsEmpty() {
        let encoded = RequestEncoding.traces([])
        #expect(encoded.bytes.isEmpty && encoded.items == 0)
    }
}
