import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapWire
import Testing
import TestSupport

/// The SDK's `SpanContext` is the one these tests mean; the generated message is `OTLPMmapLayout.SpanContext`.
typealias SpanContext = OTLPMmapSDK.SpanContext
typealias Measurement = OTLPMmapLayout.Measurement
typealias SpanKind = OTLPMmapSDK.SpanKind

func makeWriter(numBuffers: Int64 = 1024, bufferSize: Int64 = 512, fullRingWait: Duration = .zero, label: String = #function) throws -> TelemetryWriter {
    let path = try TestSupport.temporaryDirectory(label).appendingPathComponent("sdk.otlpmmap").path
    let ring = FileConfiguration.RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
    return try TelemetryWriter(configuration: WriterConfiguration(
        path: path, events: ring, spans: ring, measurements: ring, fullRingWait: fullRingWait,
        resource: [Attribute("service.name", "sdk-tests")]))
}

/// Reads every readable record of `kind` from reader_index + 1 on, marking each read.
func drain<M: WireMessage>(_ type: M.Type, _ file: MmapFile, _ kind: RingKind) throws -> [M] {
    let ring = file.ring(kind)
    var records: [M] = []
    while let (sequence, state) = try ring.next(), case .readable = state {
        let (payload, offset) = try ring.copyRecord(sequence)
        records.append(try decodeMessage(M.self, payload, baseOffset: offset))
        ring.markRead(sequence)
    }
    return records
}

/// Resolves every reference in a decoded record, for comparing with what was recorded.
func resolved(_ file: MmapFile, _ value: RecordValue) -> JSONValue {
    ReferenceResolver(dictionary: file.dictionary).render(value)
}
