import Foundation
import Synchronization
import OTLPMmapConformance
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire

// What the repository's benchmark package (Benchmarks/, a package of its own so that the main build
// never compiles ordo-one/benchmark) needs from inside the toolkit: the baselines and the consumer
// the benchmarks measure against. Not part of the toolkit's API; the library product exists because
// `package` access does not reach another package.

/// Ring-level access to a writer's file, for the writer benchmarks' baseline and consumer.
public struct BenchmarkRings: Sendable {
    let file: MmapFile

    public init(_ writer: TelemetryWriter) {
        file = writer.file
    }

    /// Hands every slot back (reader_index = writer_index): what a consumer that keeps up does.
    public func releaseAll() {
        for ring in file.rings { ring.header.readerIndex = ring.header.writerIndex }
    }

    /// The bytes of the newest record in the spans ring.
    public func newestSpanRecord() throws -> [UInt8] {
        let spans = file.ring(.spans)
        return try spans.copyRecord(spans.header.writerIndex).payload
    }

    /// Copies `bytes` into the spans ring through the format's claim/publish protocol, as a writer
    /// with a ready-made record would: the floor for any writer of this format.
    public func copyIntoSpans(_ bytes: UnsafeRawBufferPointer) {
        _ = try? file.ring(.spans).write(size: bytes.count) { $0.writeRaw(bytes) }
    }

    /// The file's size in bytes.

    /// Starts a thread that reads and releases every record as a collector does (`RingCursor`:
    /// readiness from the flags, reader_index stored once per batch, a short sleep when idle).
    public func startDraining() -> Drainer {
        let drainer = Drainer()
        let rings = file.rings
        let thread = Thread {
            // Copies each record into one reused buffer: the consumer allocates nothing, so malloc
            // counts are the writer's. Only the record's bytes, as a collector copies them.
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
            defer { scratch.deallocate() }
            var cursors = rings.compactMap { try? RingCursor(ring: $0) }
            while !drainer.isStopping {
                var idle = true
                for index in cursors.indices {
                    while cursors[index].isNextPublished {
                        let slot = UnsafeRawBufferPointer(cursors[index].ring.slot(cursors[index].next))
                        let length = min(Self.recordLength(slot), scratch.count)
                        scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: slot[0..<length]))
                        cursors[index].advance()
                        idle = false
                    }
                    cursors[index].release()
                }
                if idle { usleep(20) }
            }
        }
        thread.start()
        return drainer
    }

    /// Length prefix plus payload of the record in `slot` (at most the slot; the slot when the
    /// prefix does not decode).
    static func recordLength(_ slot: UnsafeRawBufferPointer) -> Int {
        var reader = ProtoReader(slot, baseOffset: 0)
        guard let payload = try? reader.readVarint() else { return slot.count }
        return min(slot.count, reader.fileOffset + min(Int(clamping: payload), slot.count))
    }
}

/// The consumer thread `BenchmarkRings.startDraining` runs; `stop()` ends it.
public final class Drainer: Sendable {
    private let stopped = Atomic<Bool>(false)

    var isStopping: Bool { stopped.load(ordering: .relaxed) }
    public func stop() { stopped.store(true, ordering: .relaxed) }
}

/// The collector benchmarks' baseline and the counting receiver's walk.
public enum BenchmarkReading {
    /// Copies and decodes every record of every ring of `path`, the least any consumer must do;
    /// returns how many records it read.
    public static func bareRead(path: String) throws -> Int {
        let file = try MmapFile.open(path: path, writable: true)
        var count = 0
        for kind in RingKind.allCases {
            let ring = file.ring(kind)
            var cursor = try RingCursor(ring: ring, releaseEvery: 512)
            while cursor.isNextPublished {
                let (payload, offset) = try ring.copyRecord(cursor.next)
                try payload.withDecodableBytes { bytes throws(FormatError) in
                    switch kind {
                    case .spans: keep(try SpanEvent.decode(bytes, baseOffset: offset))
                    case .events: keep(try Event.decode(bytes, baseOffset: offset))
                    case .measurements: keep(try OTLPMmapLayout.Measurement.decode(bytes, baseOffset: offset))
                    }
                }
                cursor.advance()
                count += 1
            }
            cursor.release()
        }
        return count
    }

    /// Whether `conform check` passes `path` (the checker benchmark's work).
    public static func checkPasses(path: String) throws -> Bool {
        try FileChecker.check(path: path).passed
    }

    /// Items in an OTLP export request, counted by walking its protobuf without decoding it into
    /// objects: traces and logs are request → resource group → scope group → item; metrics go one
    /// level further, to each metric's data (gauge, sum, histogram, exponential histogram, summary)
    /// and its data points.
    public static func countItems(_ bytes: UnsafeRawBufferPointer, metrics: Bool) throws -> Int {
        var request = ProtoReader(bytes, baseOffset: 0)
        let path = metrics
            ? [OTLPFields.ExportMetricsServiceRequest.resourceMetrics, OTLPFields.ResourceMetrics.scopeMetrics, OTLPFields.ScopeMetrics.metrics]
            : [OTLPFields.ExportTraceServiceRequest.resourceSpans, OTLPFields.ResourceSpans.scopeSpans, OTLPFields.ScopeSpans.spans]
        // Logs nest as traces do, at the same field numbers (a collector test checks it).
        return try count(&request, path: path[...], metrics: metrics)
    }

    /// Metric's data fields, each a message whose `data_points` are the items.
    private static let metricData: [Int: Int] = [
        OTLPFields.Metric.gauge: OTLPFields.Gauge.dataPoints, OTLPFields.Metric.sum: OTLPFields.Sum.dataPoints,
        OTLPFields.Metric.histogram: OTLPFields.Histogram.dataPoints,
        OTLPFields.Metric.exponentialHistogram: OTLPFields.ExponentialHistogram.dataPoints,
        OTLPFields.Metric.summary: OTLPFields.Summary.dataPoints,
    ]

    private static func count(_ reader: inout ProtoReader, path: ArraySlice<Int>, metrics: Bool) throws(FormatError) -> Int {
        var total = 0
        while !reader.isAtEnd {
            let (number, wireType) = try reader.readTag()
            guard wireType == WireType.lengthDelimited, number == path.first || (path.isEmpty && metrics && metricData[number] != nil) else {
                try reader.skip(wireType: wireType)
                continue
            }
            if path.count == 1 && !metrics {
                _ = try reader.readLengthDelimited()
                total += 1
            } else if path.isEmpty {
                let points = metricData[number]!
                var data = try reader.readMessage()
                while !data.isAtEnd {
                    let (field, type) = try data.readTag()
                    if field == points && type == WireType.lengthDelimited { total += 1 }
                    try data.skip(wireType: type)
                }
            } else {
                var nested = try reader.readMessage()
                total += try count(&nested, path: path.dropFirst(), metrics: metrics)
            }
        }
        return total
    }

    /// Keeps the optimiser from dropping a decoded value.
    @inline(never)
    static func keep<T>(_ value: T) {
        withExtendedLifetime(value) {}
    }
}

/// Files the collector benchmarks read.
public enum BenchmarkFiles {
    /// A new file whose events ring holds `records` log records, each with a body of arrays nested
    /// `levels` deep (an int and a string beside each inner array, so every level has content), written
    /// inline in the record. The record's deepest message sits at depth 2 × `levels` + 1; 31 levels
    /// (depth 63) is as deep as WIRE-DEPTH lets a log body go.
    public static func writeNestedLogFile(levels: Int, records: Int) throws -> (path: String, records: Int, recordBytes: Int) {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("otlp-mmap-bench-nested-\(getpid())-\(UUID().uuidString).otlpmmap").path
        let slots = Int64(records + 1)
        let ring = RingSize(numBuffers: slots <= 1 ? 1 : 1 << (64 - (slots - 1).leadingZeroBitCount), bufferSize: 2048)
        let writer = try TelemetryWriter(configuration: WriterConfiguration(
            path: path, events: ring, spans: ring, measurements: ring, resource: [Attribute("service.name", "bench")]))
        var body = AnyValue(value: .stringValue("leaf"))
        for level in 0..<levels {
            body = AnyValue(value: .arrayValue(ArrayValue(values: [AnyValue(value: .intValue(Int64(level))), body, AnyValue(value: .stringValue("x"))])))
        }
        let record = Event(timeUnixNano: 1, severityNumber: .info, body: body)
        for _ in 0..<records { try writer.file.ring(.events).write(record) }
        return (path, records, record.encodedSize)
    }
}
