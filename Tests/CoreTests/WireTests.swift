import OTLPMmapLayout
import OTLPMmapWire
import Testing

/// Encoding and decoding of the record messages, and every way untrusted bytes can be wrong.
@Suite struct WireTests {
    static let everyAnyValue: [AnyValue] = [
        AnyValue(value: .stringValue("text ✓")),
        AnyValue(value: .boolValue(true)),
        AnyValue(value: .boolValue(false)),
        AnyValue(value: .intValue(-42)),
        AnyValue(value: .intValue(Int64.min)),
        AnyValue(value: .doubleValue(-0.0)),
        AnyValue(value: .doubleValue(3.25)),
        AnyValue(value: .arrayValue(ArrayValue(values: [AnyValue(value: .intValue(1)), AnyValue(value: .stringValue("two"))]))),
        AnyValue(value: .kvlistValue(KeyValueList(values: [KeyValueRef(keyRef: 100, value: AnyValue(value: .boolValue(true)))]))),
        AnyValue(value: .bytesValue([0, 1, 2, 255])),
        AnyValue(value: .valueRef(1_234_567)),
        AnyValue(value: .intValue(0)),
        AnyValue(value: .stringValue("")),
    ]

    @Test(arguments: everyAnyValue)
    func everyAnyValueKindRoundTrips(value: AnyValue) throws {
        let bytes = encode(value)
        #expect(try decode(AnyValue.self, bytes) == value)
        // Oneof members are written even at their default, so the kind survives.
        #expect(!bytes.isEmpty)
    }

    @Test func spanEventsOfEveryKindRoundTrip() throws {
        let trace = Array(1...16).map(UInt8.init)
        let span = Array(1...8).map(UInt8.init)
        let attributes = [KeyValueRef(keyRef: 200, value: AnyValue(value: .intValue(7)))]
        let events: [SpanEvent.EventChoice] = [
            .start(StartSpan(parentSpanId: span, name: "GET /", kind: .server, startTimeUnixNano: .max, attributes: attributes, flags: 257)),
            .end(EndSpan(endTimeUnixNano: 99, status: Status(message: "boom", code: .error))),
            .name(ChangeSpanName(name: "renamed")),
            .attributes(UpdateAttributes(attributes: attributes)),
            .link(AddLink(links: [Link(traceId: trace, spanId: span, traceState: "k=v", attributes: attributes, droppedAttributesCount: 3, flags: 1)])),
        ]
        for event in events {
            let record = SpanEvent(traceId: trace, spanId: span, scopeRef: 300, event: event)
            #expect(try decode(SpanEvent.self, encode(record)) == record)
        }
    }

    @Test func metricDefinitionsOfEveryAggregationRoundTrip() throws {
        let aggregations: [MetricRef.AggregationChoice] = [
            .gauge(Gauge()),
            .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: true)),
            .histogram(Histogram(aggregationTemporality: .delta, bucketBoundaries: [0, 5, 10, 25.5])),
            .expHist(ExponentialHistogram(aggregationTemporality: .delta, maxBuckets: 160, maxScale: 20)),
        ]
        for aggregation in aggregations {
            let metric = MetricRef(name: "m", description: "d", unit: "ms", instrumentationScopeRef: 77, aggregation: aggregation)
            #expect(try decode(MetricRef.self, encode(metric)) == metric)
        }
    }

    @Test func bucketBoundariesAreWrittenPackedAndReadEitherWay() throws {
        let histogram = Histogram(aggregationTemporality: .delta, bucketBoundaries: [1.5, 2.5])
        let packed = encode(histogram)
        // field 1 varint 1, field 2 length-delimited 16 bytes
        #expect(Array(packed.prefix(4)) == [0x08, 0x01, 0x12, 0x10])
        var unpacked: [UInt8] = [0x08, 0x01]
        for value in [1.5, 2.5] {
            unpacked.append(0x11) // field 2, wire type 1
            unpacked += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
        }
        #expect(try decode(Histogram.self, unpacked) == histogram)
    }

    @Test func unknownFieldsAreSkipped() throws {
        // field 99 varint, field 98 fixed32, field 97 bytes, then severity_text "x"
        let bytes: [UInt8] = [0x98, 0x06, 0x05, 0x95, 0x06, 1, 2, 3, 4, 0x8A, 0x06, 0x01, 0xFF, 0x22, 0x01, 0x78]
        #expect(try decode(Event.self, bytes) == Event(severityText: "x"))
    }

    @Test func aTruncatedVarintNamesTheRuleAndOffset() throws {
        // time_unix_nano ok, then severity_number whose varint never ends.
        let error = expectFormatError(.wireFormat) { _ = try decode(Event.self, [0x18, 0x80, 0x80], baseOffset: 5000) }
        #expect(error?.offset == 5001)
        #expect(error?.message.contains("truncated") == true)
    }

    @Test func aVarintLongerThan64BitsIsRejected() throws {
        let bytes: [UInt8] = [0x18] + Array(repeating: 0xFF, count: 9) + [0x02]
        let error = expectFormatError(.wireFormat) { _ = try decode(Event.self, bytes, baseOffset: 100) }
        #expect(error?.offset == 101)
    }

    @Test func aLengthPastTheMessageEndIsRejected() throws {
        let error = expectFormatError(.wireFormat) { _ = try decode(Event.self, [0x22, 0x05, 0x41, 0x42], baseOffset: 10) }
        #expect(error?.offset == 11)
        #expect(error?.message.contains("runs past the end") == true)
    }

    @Test func invalidUTF8IsRejectedWhereItStarts() throws {
        let error = expectFormatError(.recUtf8) { _ = try decode(Event.self, [0x22, 0x02, 0xC3, 0x28], baseOffset: 40) }
        #expect(error?.offset == 42)
    }

    /// Every kind of ill-formed UTF-8 (the reader checks by decoding and comparing), and well-formed
    /// text of every length, including U+FFFD itself, which a repairing decoder would also produce.
    @Test(arguments: [[0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0x41, 0xFF, 0x42], [0xF4, 0x90, 0x80, 0x80]] as [[UInt8]])
    func illFormedUTF8IsRejected(_ text: [UInt8]) throws {
        expectFormatError(.recUtf8) { _ = try decode(Event.self, [0x22, UInt8(text.count)] + text) }
    }

    @Test func wellFormedUTF8IsKept() throws {
        let text = "a é € 𝄞 \u{FFFD} end"
        let bytes = Array(text.utf8)
        let event = try decode(Event.self, [0x22, UInt8(bytes.count)] + bytes)
        #expect(event.severityText == text)
    }

    @Test func aWrongWireTypeForAKnownFieldIsRejected() throws {
        // severity_text (4) sent as a varint
        let error = expectFormatError(.slotDecode) { _ = try decode(Event.self, [0x20, 0x01]) }
        #expect(error?.message.contains("Event.severity_text (field 4) has wire type 0, expected 2") == true)
    }

    @Test func groupsAndFieldZeroAreRejected() throws {
        expectFormatError(.wireFormat) { _ = try decode(Event.self, [0x0B]) } // field 1, start group
        expectFormatError(.wireFormat) { _ = try decode(Event.self, [0x00, 0x00]) } // field 0
    }

    @Test func hostileNestingIsCutOffAtTheDepthLimit() throws {
        // AnyValue → array_value → ArrayValue → values → AnyValue → … 100 levels.
        var bytes: [UInt8] = [0x18, 0x01] // innermost AnyValue: int_value 1
        for level in 0..<100 {
            let field: UInt8 = level % 2 == 0 ? 0x0A : 0x2A // ArrayValue.values = 1 / AnyValue.array_value = 5
            bytes = [field] + lengthPrefix(bytes.count) + bytes
        }
        let error = expectFormatError(.wireDepth) { _ = try decode(AnyValue.self, bytes) }
        #expect(error != nil)
    }

    @Test func encodedSizeIsExactAndEncodingNeedsNoMoreRoom() throws {
        // `encode` traps when it writes past encodedSize; this covers every field type at its extremes.
        let event = Event(scopeRef: Int64.max, timeUnixNano: .max, severityNumber: SeverityNumber(rawValue: -1),
                          severityText: String(repeating: "é", count: 200), body: Self.everyAnyValue[7],
                          eventNameRef: -1, spanContext: SpanContext(spanId: [1], traceId: [2], flags: .max),
                          attributes: [KeyValueRef(keyRef: 1, value: nil)])
        let bytes = encode(event)
        #expect(bytes.count == event.encodedSize)
        #expect(try decode(Event.self, bytes) == event)
    }

    func lengthPrefix(_ length: Int) -> [UInt8] {
        var value = UInt64(length)
        var out: [UInt8] = []
        while value >= 0x80 { out.append(UInt8(value & 0x7F) | 0x80); value >>= 7 }
        out.append(UInt8(value))
        return out
    }
}
