import Benchmark
import Foundation
import OTLPMmapBenchmarkSupport
import OTLPMmapSDK

// `conform check` on a 64 MiB file whose three rings are full of unread records (about 98 000
// records, every one decoded and checked with its references). The baseline, measured in the same
// run, only reads the file into memory, which the checker does first.

final class LargeFile: @unchecked Sendable {
    let path: String
    let bytes: Int

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-check-\(getpid()).otlpmmap").path
        let ring = RingSize(numBuffers: 32_768, bufferSize: 680)
        let writer = try TelemetryWriter(configuration: WriterConfiguration(path: path, events: ring, spans: ring, measurements: ring,
                                                                            resource: [Attribute("service.name", "check-bench")]))
        let attributes = try writer.attributes(["http.method": "GET", "http.status_code": 200, "http.route": "/orders/{id}"])
        let counter = try writer.counter("requests")
        for index in 0..<32_767 {
            let span = writer.startSpan("GET /orders/\(index % 100)", kind: .server, attributes: attributes)
            writer.log(.info, "order \(index) loaded", attributes: attributes, spanContext: span.context)
            counter.record(index, attributes: attributes, spanContext: span.context)
        }
        bytes = (try FileManager.default.attributesOfItem(atPath: writer.configuration.path)[.size] as? Int) ?? 0
    }
}

nonisolated(unsafe) var largeFile: LargeFile!

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident],
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 20
    )
    let setup: Benchmark.BenchmarkSetupHook = {
        if largeFile == nil {
            largeFile = try LargeFile()
            print("checker benchmark file: \(largeFile.bytes / 1_048_576) MiB")
        }
    }

    Benchmark("baseline: read the 64 MiB file", configuration: .init(setup: setup)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? Data(contentsOf: URL(fileURLWithPath: largeFile.path)))
        }
    }

    Benchmark("conform check, 64 MiB file, rings full", configuration: .init(setup: setup)) { benchmark in
        for _ in benchmark.scaledIterations {
            let passed = try? BenchmarkReading.checkPasses(path: largeFile.path)
            precondition(passed == true, "the benchmark file should conform")
            blackHole(passed)
        }
    }
}
