import Foundation
import OTLPMmapSDK

/// The sustained benchmark's writer: one application thread ending `rate` spans a second (a start
/// and an end record each, three attributes), paced in steps of a millisecond, with the default
/// file configuration except for the spans ring: 16 384 slots, 80 ms of records at 100 K spans/s,
/// where the default 1 024 slots (5 ms) drop whenever two busy cores let the collector's reader
/// wait that long. A full ring drops at once (the default), so a rate not kept up with shows.
/// Prints "SPANS DROPPED_RECORDS ACHIEVED_RATE".
enum LoadWriter {
    static func run(path: String, rate: Int, seconds: Int) throws {
        let writer = try TelemetryWriter(configuration: WriterConfiguration(
            path: path, spans: RingSize(numBuffers: 16_384, bufferSize: 512), resource: [Attribute("service.name", "load")]))
        let attributes = try writer.attributes(["http.method": "GET", "http.status_code": 200, "http.route": "/orders/{id}"])
        let total = rate * seconds
        let start = ContinuousClock.now
        var written = 0
        while written < total {
            let elapsed = ContinuousClock.now - start
            let due = min(total, Int((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * Double(rate)))
            if written >= due {
                usleep(1_000)
                continue
            }
            while written < due {
                writer.startSpan("GET /orders/{id}", kind: .server, attributes: attributes).end(status: .ok)
                written += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        let achieved = Double(written) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print("\(written) \(writer.statistics.total(.dropped)) \(Int(achieved))")
    }
}
