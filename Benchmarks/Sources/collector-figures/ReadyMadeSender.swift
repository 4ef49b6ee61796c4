import CollectorWorkload
import Foundation
import OTLPMmapCollector
import SwiftProtobuf

/// The export baseline: the collector's own exporter sending `spans` spans in ready-made requests
/// of 512, four in flight as the collector's pipeline sends them — as request values (serialized by
/// swift-protobuf while sending) or as bytes encoded beforehand (what the collector hands its
/// exporter for traces: the transport's cost alone). Prints "SPANS_PER_SECOND CPU_SECONDS" for the
/// sending only (building the requests is not counted).
enum ReadyMadeSender {
    static func run(transport: String, port: Int, spans: Int, encoded: Bool) async throws {
        var endpoint = OTLPEndpoint(transport: transport == "grpc" ? .grpc : .httpProtobuf)
        endpoint.endpoint = "http://127.0.0.1:\(port)"
        let exporter = try endpoint.makeExporter()
        let requests = readyMadeRequests(count: spans)
        let bytes = try requests.map { EncodedRequest(bytes: try $0.serializedBytes(), items: 512) }
        try await withThrowingTaskGroup(of: Void.self) { connections in
            connections.addTask { try await exporter.run() }
            _ = try await exporter.export(TracesRequest())   // connected before the clock starts
            let cpuBefore = processCPUMicroseconds(), start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, request) in requests.enumerated() {
                    if index >= 4 { try await group.next() }
                    if encoded {
                        let request = bytes[index]
                        group.addTask { _ = try await exporter.export(encodedTraces: request) }
                    } else {
                        group.addTask { _ = try await exporter.export(request) }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start, cpu = Double(processCPUMicroseconds() - cpuBefore) / 1e6
            print("\(Double(spans) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)) \(cpu)")
            await exporter.shutdown()
            connections.cancelAll()
        }
    }
}
