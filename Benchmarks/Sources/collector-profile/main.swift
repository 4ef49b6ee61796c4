import CollectorWorkload
import Foundation

// Drains full files (three rings of 16383 records) into a discarding exporter, to be run under
// `perf record -e cpu-clock -g` or `valgrind --tool=callgrind`: the collector's hot path without
// the benchmark harness around it. `collector-profile [ROUNDS] [--bare]`; --bare runs the baseline
// (copy and decode only) instead.
let arguments = CommandLine.arguments.dropFirst()
let rounds = arguments.compactMap { Int($0) }.first ?? 3
let bare = arguments.contains("--bare")
for _ in 0..<rounds {
    let (path, records) = try writeFullFile(spans: recordsPerRing / 2 - 1, logsAndMeasurements: recordsPerRing - 1)
    defer { remove(path) }
    let start = ContinuousClock.now
    let seconds: Double
    if bare {
        precondition(try bareRead(path: path) == records)
        let elapsed = ContinuousClock.now - start
        seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    } else {
        seconds = await drain(path: path, records: records, checkpoint: false)
    }
    print("\(bare ? "bare read" : "collector drain"): \(records) records in \(String(format: "%.3f", seconds)) s = \(Int(Double(records) / seconds)) records/s")
}
