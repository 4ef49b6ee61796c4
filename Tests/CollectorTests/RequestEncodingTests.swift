import Foundation
@testable import OTLPMmapCollector
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto
import SwiftProtobuf
import CollectorTestSupport
import TestSupport
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
        let spans = try (0..<12).map { try #require(AssembledSpan(Self.span($0))) }
        let groups = [(resource, [(scope, Array(spans[0..<5])), (Opentelemetry_Proto_Common_V1_InstrumentationScope(), Array(spans[5..<7]))]),
                      (Opentelemetry_Proto_Resource_V1_Resource(), [(scope, Array(spans[7...]))])]
        let encoded = RequestEncoding.traces(groups)

        var expected = TracesRequest()
        expected.resourceSpans = groups.map { resource, scopes in
            Opentelemetry_Proto_Trace_V1_ResourceSpans.with {
                $0.resource = resource
                $0.scopeSpans = scopes.map { scope, spans in Opentelemetry_Proto_Trace_V1_ScopeSpans.with { $0.scope = scope; $0.spans = spans.map(\.otlp) } }
            }
        }
        #expect(encoded.items == 12)
        #expect(try TracesRequest(serializedBytes: encoded.bytes) == expected)
        #expect(encoded.bytes == (try expected.serializedBytes() as [UInt8]))
    }

    /// Event records become the LogRecord bytes swift-protobuf writes for the OTLP record they mean.
    @Test func logRecordsAreTheBytesSwiftProtobufWrites() throws {
        typealias LogRecord = Opentelemetry_Proto_Logs_V1_LogRecord
        let (dictionary, key) = try Self.dictionary(#function)
        let eventName = try dictionary.appendString("event.name")
        let cache = DictionaryCache(dictionary: dictionary)
        let values = try Self.recordValues(dictionary, key: key)
        var records: [TranscodedLogRecord] = [], expected: [LogRecord] = []
        for index in 0..<values.count + 3 {
            let body = values[index % values.count]
            let context: SpanContext? = switch index % 3 {
            case 0: SpanContext(spanId: [UInt8](repeating: 9, count: 8), traceId: [UInt8](repeating: UInt8(index + 1), count: 16), flags: 1)
            case 1: SpanContext(spanId: [UInt8](repeating: 0, count: 8), traceId: [UInt8](repeating: 0, count: 16), flags: 1)   // none
            default: nil
            }
            let attributes = values.prefix(index % 5).map { KeyValueRef(keyRef: key, value: $0) }
            let event = Event(scopeRef: 0, timeUnixNano: index == 0 ? 0 : UInt64(index) * 1_000_000,
                              severityNumber: SeverityNumber(rawValue: index == 3 ? -2 : Int32(index % 25)), severityText: index % 2 == 0 ? "" : "INFO",
                              body: body, eventNameRef: index % 5 == 0 ? eventName : 0, spanContext: context, attributes: attributes)
            records.append(try LogConversion.logRecord(event, observed: UInt64(index) * 7, cache: cache))
            var record = LogRecord()
            record.timeUnixNano = event.timeUnixNano
            record.observedTimeUnixNano = UInt64(index) * 7
            record.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: Int(event.severityNumber.rawValue))!
            record.severityText = event.severityText
            if let body { record.body = try cache.anyValue(body) }
            record.attributes = try cache.keyValues(attributes)
            if index % 5 == 0 { record.eventName = "event.name" }
            if index % 3 == 0 {
                record.traceID = Data(context!.traceId)
                record.spanID = Data(context!.spanId)
                record.flags = 1
            }
            expected.append(record)
        }
        let scope = Opentelemetry_Proto_Common_V1_InstrumentationScope.with { $0.name = "s" }
        let encoded = RequestEncoding.logs([(Opentelemetry_Proto_Resource_V1_Resource(), [(Opentelemetry_Proto_Common_V1_InstrumentationScope(), Array(records.prefix(4))),
                                                                                          (scope, Array(records.dropFirst(4)))])])
        var request = LogsRequest()
        request.resourceLogs = [Opentelemetry_Proto_Logs_V1_ResourceLogs.with {
            $0.resource = Opentelemetry_Proto_Resource_V1_Resource()   // requests name their resource and scope, even empty ones
            $0.scopeLogs = [Opentelemetry_Proto_Logs_V1_ScopeLogs.with { $0.scope = .init(); $0.logRecords = Array(expected.prefix(4)) },
                            Opentelemetry_Proto_Logs_V1_ScopeLogs.with { $0.scope = scope; $0.logRecords = Array(expected.dropFirst(4)) }]
        }]
        #expect(encoded.items == records.count)
        #expect(try LogsRequest(serializedBytes: encoded.bytes) == request)
        #expect(encoded.bytes == (try request.serializedBytes() as [UInt8]))
        for record in records { #expect(record.encodedSize == record.countedSize) }
    }

    /// A span keeps every OTLP field through the collector's own span value (checkpoints restore
    /// OTLP spans into it and write it back), and ids of the wrong size are refused.
    @Test func assembledSpansKeepEveryFieldOfAnOTLPSpan() throws {
        for index in 0..<12 {
            let span = Self.span(index)
            let assembled = try #require(AssembledSpan(span))
            #expect(assembled.otlp == span, "span \(index)")
            #expect(assembled.encodedSize == assembled.countedSize, "span \(index)")
        }
        var short = Self.span(0)
        short.spanID = Data([1, 2, 3])
        #expect(AssembledSpan(short) == nil)
    }

    /// Attributes set again replace the value of a key the span has, in place, and add the others.
    @Test func updatedAttributesReplaceByKeyInPlace() throws {
        var span = try #require(AssembledSpan(Self.span(2)))
        let before = span.otlp.attributes
        let update = [Self.keyValue("attribute.1", Self.values[4]), Self.keyValue("added", Self.values[0])]
        span.update(attributes: update.flatMap { AssembledSpan.framed(9, $0.encoded) })
        var expected = before
        expected[1] = update[0]
        expected.append(update[1])
        #expect(span.otlp.attributes == expected)
        span.mark("otlp_mmap.unfinished")
        #expect(span.otlp.attributes.last == SpanAssembler.marker("otlp_mmap.unfinished"))
    }

    /// Records' attributes written straight as OTLP bytes are the bytes of the OTLP values the
    /// resolver builds, for every value kind (lists and value_refs take the resolver's way).
    @Test func recordAttributesTranscodeToTheBytesOfTheirOTLPValues() throws {
        let (dictionary, key) = try Self.dictionary(#function)
        let values = try Self.recordValues(dictionary, key: key)
        let refs = values.map { KeyValueRef(keyRef: key, value: $0) }
        let cache = DictionaryCache(dictionary: dictionary)
        let expected = try cache.keyValues(refs).flatMap { AssembledSpan.framed(9, $0.encoded) }
        #expect(try cache.encodedKeyValues(refs, asField: 9) == expected)
        for ref in refs {
            let transcoded = TranscodedKeyValue(key: "key", value: try cache.transcoded(ref.value, nesting: 2))
            #expect(transcoded.encodedSize == transcoded.countedSize, "\(ref)")
        }
        // A reference that breaks a rule throws, whichever way the value goes.
        #expect(throws: FormatError.self) { try cache.encodedKeyValues([KeyValueRef(keyRef: key + 1, value: nil)], asField: 9) }
        #expect(throws: FormatError.self) { try cache.encodedKeyValues([KeyValueRef(keyRef: key, value: OTLPMmapLayout.AnyValue(value: .valueRef(key)))], asField: 9) }
    }

    /// A file's dictionary with one string entry ("key"), for records' references.
    static func dictionary(_ label: String) throws -> (DictionaryRegion, key: Int64) {
        let folder = try TestSupport.temporaryDirectory(label)
        let ring = FileConfiguration.RingSize(numBuffers: 16, bufferSize: 128)
        let file = try MmapFile.create(path: folder.appendingPathComponent("records.otlpmmap").path, configuration: FileConfiguration(
            events: ring, spans: ring, measurements: ring, dictionaryBytes: 4096, startTimeUnixNano: 1))
        return (file.dictionary, try file.dictionary.appendString("key"))
    }

    /// A record value of every kind (and none), defaults among them, a list, a map and a value_ref.
    static func recordValues(_ dictionary: DictionaryRegion, key: Int64) throws -> [OTLPMmapLayout.AnyValue?] {
        typealias Value = OTLPMmapLayout.AnyValue
        let target = try dictionary.append(Value(value: .stringValue("by reference")))
        return [
            nil, Value(), Value(value: .stringValue("")), Value(value: .stringValue("text ✓")),
            Value(value: .boolValue(false)), Value(value: .boolValue(true)),
            Value(value: .intValue(0)), Value(value: .intValue(-1)), Value(value: .intValue(.max)),
            Value(value: .doubleValue(-0.0)), Value(value: .bytesValue([])), Value(value: .bytesValue([0, 255])),
            Value(value: .arrayValue(ArrayValue(values: [Value(value: .intValue(3))]))),
            Value(value: .kvlistValue(KeyValueList(values: [KeyValueRef(keyRef: key, value: Value(value: .boolValue(true)))]))),
            Value(value: .valueRef(target)),
        ]
    }

    @Test func logsRequestsNestTheirFieldsAsTracesRequestsDo() {
        // One encoder serves both signals; spec/otlp's numbering must allow it.
        #expect(RequestEncoding.logsNestLikeTraces)
    }

    @Test func anEmptyRequestIsEmpty() {
        let encoded = RequestEncoding.traces([])
        #expect(encoded.bytes.isEmpty && encoded.items == 0)
    }
}
