import OTLPMmapLayout
import OTLPMmapWire

#if canImport(Glibc)
import Glibc
#endif

/// Writes a small, deterministic set of telemetry into a file: a resource, a scope, a counter, and
/// for each index a span (start and end), a log event and a measurement. Used by `write-sample` (the
/// demo until the SDK exists) and by tests, which can recompute what record `index` must contain.
package struct SampleWriter {
    package static let baseTime: UInt64 = 1_700_000_000_000_000_000

    package let file: MmapFile
    package let scopeRef: Int64
    package let metricRef: Int64
    package let indexKeyRef: Int64
    package let eventNameRef: Int64

    /// Writes the dictionary entries the records refer to.
    package init(file: MmapFile, serviceName: String = "otlp-mmap-sample") throws {
        self.file = file
        let dictionary = file.dictionary
        let serviceKey = try dictionary.appendString("service.name")
        let resource = try dictionary.append(Resource(attributes: [
            KeyValueRef(keyRef: serviceKey, value: AnyValue(value: .stringValue(serviceName))),
        ]))
        scopeRef = try dictionary.append(InstrumentationScope(
            nameRef: try dictionary.appendString("otlp-mmap.sample"),
            versionRef: try dictionary.appendString("1.0.0"),
            resourceRef: resource))
        metricRef = try dictionary.append(MetricRef(
            name: "sample.requests", description: "requests handled", unit: "{request}", instrumentationScopeRef: scopeRef,
            aggregation: .sum(Sum(aggregationTemporality: .cumulative, isMonotonic: true))))
        indexKeyRef = try dictionary.appendString("sample.index")
        eventNameRef = try dictionary.appendString("sample.event")
    }

    package static func traceId(_ index: Int) -> [UInt8] {
        [0x5a, 0, 0, 0, 0, 0, 0, 0] + withUnsafeBytes(of: UInt64(index).bigEndian, Array.init)
    }

    package static func spanId(_ index: Int) -> [UInt8] {
        var id = withUnsafeBytes(of: UInt64(index).bigEndian, Array.init)
        id[0] = 0xa5
        return id
    }

    package func attributes(_ index: Int) -> [KeyValueRef] {
        [KeyValueRef(keyRef: indexKeyRef, value: AnyValue(value: .intValue(Int64(index))))]
    }

    /// The four records of sample `index`, in the order they are written.
    package func records(_ index: Int) -> (start: SpanEvent, end: SpanEvent, event: Event, measurement: Measurement) {
        let time = SampleWriter.baseTime + UInt64(index) * 1_000
        let trace = SampleWriter.traceId(index)
        let span = SampleWriter.spanId(index)
        let start = SpanEvent(traceId: trace, spanId: span, scopeRef: scopeRef, event: .start(StartSpan(
            name: "sample-span-\(index)", kind: .server, startTimeUnixNano: time, attributes: attributes(index), flags: 1)))
        let end = SpanEvent(traceId: trace, spanId: span, scopeRef: scopeRef, event: .end(EndSpan(
            endTimeUnixNano: time + 500, status: Status(message: "", code: .ok))))
        let event = Event(scopeRef: scopeRef, timeUnixNano: time + 250, severityNumber: .info, severityText: "INFO",
                          body: AnyValue(value: .stringValue("sample event \(index)")), eventNameRef: eventNameRef,
                          spanContext: SpanContext(spanId: span, traceId: trace, flags: 1), attributes: attributes(index))
        let measurement = Measurement(metricRef: metricRef, attributes: attributes(index), timeUnixNano: time + 500,
                                      spanContext: SpanContext(spanId: span, traceId: trace, flags: 1), value: .asLong(1))
        return (start, end, event, measurement)
    }

    /// Writes samples `indices`. When a ring is full it waits for a consumer for up to `patience`
    /// seconds, then gives up with the ring's error.
    package func write(_ indices: Range<Int>, patience: Double = 10) throws {
        for index in indices {
            let (start, end, event, measurement) = records(index)
            try write(start, to: .spans, patience: patience)
            try write(event, to: .events, patience: patience)
            try write(measurement, to: .measurements, patience: patience)
            try write(end, to: .spans, patience: patience)
        }
    }

    private func write<Record: WireMessage>(_ record: Record, to kind: RingKind, patience: Double) throws {
        let ring = file.ring(kind)
        var waited = 0.0
        while true {
            do {
                try ring.write(record)
                return
            } catch .full(let name) {
                guard waited < patience else { throw ProduceError.full(ring: name) }
                usleep(200)
                waited += 0.0002
            }
        }
    }
}
