// The allocation probe: writes records of every kind through the reference writer after a
// warm-up and prints, per kind, the heap allocations the writing thread made and the records it
// wrote. Linked with MallocCounter, whose allocator entry points count every call; SDKTests runs
// it and fails on any allocation (as swift-nio's allocation tests do in CI). A control line, an
// operation that must allocate, shows the counting works.
import Foundation
import MallocCounter
import OTLPMmapCore
import OTLPMmapSDK

guard CommandLine.arguments.count == 3, let count = Int(CommandLine.arguments[2]), count > 0 else {
    FileHandle.standardError.write(Data("usage: allocation-probe FILE RECORDS\n".utf8))
    exit(64)
}
let ring = FileConfiguration.RingSize(numBuffers: 1 << 17, bufferSize: 256)
let writer = try TelemetryWriter(configuration: WriterConfiguration(path: CommandLine.arguments[1], events: ring, spans: ring, measurements: ring, resource: []))
let attributes = try writer.attributes(["http.request.method": "GET", "http.response.status_code": 200, "ratio": 0.5])
let spanTemplate = writer.spanTemplate("GET /cart/{id}", kind: .server, attributes: attributes)
let logTemplate = writer.logTemplate(.info, .text("checked out"), attributes: attributes)
let counter = try writer.counter("probe.orders")
let histogram = try writer.histogram("probe.latency", boundaries: [1, 5, 10, 50])
let warmUp = 200

/// Runs `body` (which returns whether its record was written) after a warm-up and prints the
/// allocations of `count` runs and how many wrote.
func measure(_ name: String, _ body: () -> Bool) {
    for _ in 0..<warmUp { _ = body() }
    var written = 0
    let before = otlp_mmap_thread_allocations()
    for _ in 0..<count where body() { written += 1 }
    let after = otlp_mmap_thread_allocations()
    print("\(name)\t\(after - before)\t\(written)\t\(count)")
}

var open: [Span] = []
open.reserveCapacity(count + warmUp)
measure("span start") {
    let span = writer.startSpan("GET /cart/{id}", kind: .server, attributes: attributes)
    open.append(span)
    return true
}
var next = 0
measure("span end") {
    defer { next += 1 }
    return open[next].end(status: .ok).isWritten
}
measure("span from a template, start and end") {
    writer.startSpan(spanTemplate).end().isWritten
}
measure("log record") { writer.log(.info, .text("checked out"), attributes: attributes).isWritten }
measure("log record from a template") { writer.log(logTemplate).isWritten }
measure("measurement") { counter.record(1, attributes: attributes).isWritten }
measure("measurement, time given") { histogram.record(7.5, time: 1_700_000_000_000_000_000).isWritten }
var kept: [[Int]] = []
measure("control: a new array each time") {
    kept.append(Array(repeating: 1, count: 16))
    return true
}
