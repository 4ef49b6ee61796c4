import Foundation
import OTLPMmapCore
import OTLPMmapGolden
import OTLPMmapSDK
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// A new file with small rings, in a fresh temporary folder.
func makeFile(numBuffers: Int64 = 16, bufferSize: Int64 = 128, dictionaryBytes: Int64 = 1024, label: String = #function) throws -> MmapFile {
    let folder = try TestSupport.temporaryDirectory(label)
    let ring = FileConfiguration.RingSize(numBuffers: numBuffers, bufferSize: bufferSize)
    return try MmapFile.create(path: folder.appendingPathComponent("test.otlpmmap").path, configuration: FileConfiguration(
        events: ring, spans: ring, measurements: ring, dictionaryBytes: dictionaryBytes, startTimeUnixNano: 1_700_000_000_000_000_000))
}

/// Writes `spans` samples of the one sample workload into `file` through the SDK (attached to the
/// file, on this thread): per sample four span records, a log record and two measurements.
func writeSamples(into file: MmapFile, spans: Int) throws {
    var configuration = WriterConfiguration(path: file.path, resource: [Attribute("service.name", "core-tests")])
    configuration.attach = true
    try SampleWorkload(writer: TelemetryWriter(configuration: configuration)).run(thread: 0, spans: spans)
}

/// Expects `body` to throw a `FormatError` for `rule` and returns it for further checks.
@discardableResult
func expectFormatError(_ rule: RuleID, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> FormatError? {
    do {
        try body()
        Issue.record("expected \(rule), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as FormatError {
        #expect(error.rule == rule, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(rule), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

func decode<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8], baseOffset: Int = 0) throws -> M {
    try decodeMessage(type, bytes, baseOffset: baseOffset)
}

func encode<M: WireMessage>(_ message: M) -> [UInt8] { encodeMessage(message) }

/// Foundation also has a `Measurement`; in these tests the name means the record message.
typealias Measurement = OTLPMmapLayout.Measurement
