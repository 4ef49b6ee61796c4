import CollectorWorkload
import Foundation

// The collector's hot path without the benchmark harness, for `perf record -e cpu-clock -g` or
// `valgrind --tool=callgrind`. Writing the files is a step of its own, so that a profile of the
// drain holds nothing of the writer:
//   collector-profile write FOLDER [FILES]     full files (three rings of 16383 records) into FOLDER
//   collector-profile write-spans FOLDER [N]   one file of N spans only, FOLDER/spans.otlpmmap, to
//                                              profile `otlp-mmap collect` exporting it
//   collector-profile drain FOLDER [--bare]    drains each into a discarding exporter (--bare: the
//                                              baseline, copy and decode only) and deletes it
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: collector-profile write FOLDER [FILES] | write-spans FOLDER [N] | drain FOLDER [--bare]\n".utf8))
    exit(64)
}
let folder = URL(fileURLWithPath: arguments[1])
switch arguments[0] {
case "write":
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for index in 0..<(arguments.dropFirst(2).compactMap { Int($0) }.first ?? 5) {
        let (path, _) = try writeFullFile(spans: recordsPerRing / 2 - 1, logsAndMeasurements: recordsPerRing - 1)
        let target = folder.appendingPathComponent("full-\(index).otlpmmap").path
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.moveItem(atPath: path, toPath: target)
    }
case "write-spans":
    // One file of N spans only (a spans ring large enough), for profiling `otlp-mmap collect`'s export.
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let spans = arguments.dropFirst(2).compactMap { Int($0) }.first ?? 200_000
    let (path, _) = try writeFullFile(spans: spans, logsAndMeasurements: 0, slots: 1 << (Int.bitWidth - (2 * spans).leadingZeroBitCount))
    let target = folder.appendingPathComponent("spans.otlpmmap").path
    try? FileManager.default.removeItem(atPath: target)
    try FileManager.default.moveItem(atPath: path, toPath: target)
case "drain":
    let bare = arguments.contains("--bare")
    let records = (recordsPerRing / 2 - 1) * 2 + (recordsPerRing - 1) * 2
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".otlpmmap") }.sorted()
    for name in files {
        let path = folder.appendingPathComponent(name).path
        let start = ContinuousClock.now, cpuBefore = cpuSeconds()
        if bare {
            let read = try bareRead(path: path)
            precondition(read == records, "read \(read) of \(records) records")
        } else {
            _ = await drain(path: path, records: records, checkpoint: false)
        }
        let elapsed = ContinuousClock.now - start, cpu = cpuSeconds() - cpuBefore
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("\(bare ? "bare read" : "collector drain"): \(records) records in \(String(format: "%.3f", seconds)) s = \(Int(Double(records) / seconds)) records/s; CPU \(String(format: "%.3f", cpu)) s = \(Int(Double(records) / cpu)) records per CPU-second")
        remove(path)
    }
default:
    FileHandle.standardError.write(Data("collector-profile: unknown step \(arguments[0])\n".utf8))
    exit(64)
}

/// User + system CPU seconds of this process so far (every thread).
func cpuSeconds() -> Double { Double(processCPUMicroseconds()) / 1e6 }
