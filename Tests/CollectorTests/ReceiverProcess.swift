import Foundation
import Testing
import CollectorTestSupport
import TestSupport

/// tools/otlp-receiver.py in a process of its own: a real OTLP receiver built from the official
/// `opentelemetry-proto` and `grpcio` packages (tools/test.sh installs them).
final class ReceiverProcess: @unchecked Sendable {
    let process = Process()
    let output: URL
    let grpcPort: Int
    let httpPort: Int

    /// Starts the receiver on the given ports (0: any free one) and waits until it listens.
    init(grpcPort: Int = 0, httpPort: Int = 0, failFirst: Int = 0, output: URL? = nil, extraArguments: [String] = []) async throws {
        let folder = try TestSupport.temporaryDirectory("receiver")
        self.output = output ?? folder.appendingPathComponent("requests.jsonl")
        let ready = folder.appendingPathComponent("ready")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.repositoryRoot.appendingPathComponent("tools/otlp-receiver.py").path,
                             "--out", self.output.path, "--ready", ready.path,
                             "--grpc-port", "\(grpcPort)", "--http-port", "\(httpPort)", "--fail-first", "\(failFirst)"] + extraArguments
        let errors = Pipe()
        process.standardError = errors
        // Never the test runner's own output: a receiver left behind would hold swift-test's pipe
        // open, and swift-test waits for it to close after every test has finished.
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Generous: Python importing grpc on a machine the whole suite loads takes seconds.
        let deadline = ContinuousClock.now + .seconds(60)
        var ports: [String: Int] = [:]
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: ready, encoding: .utf8), text.hasSuffix("\n") {
                for pair in text.split(whereSeparator: \.isWhitespace) {
                    let parts = pair.split(separator: "=")
                    if parts.count == 2, let port = Int(parts[1]) { ports[String(parts[0])] = port }
                }
                break
            }
            if !process.isRunning {
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw ReceiverError("the receiver exited (\(process.terminationStatus)); is `pip install opentelemetry-proto grpcio` done? \(message)")
            }
            try await Task.sleep(for: .milliseconds(20))  // suspends: a blocked cooperative thread would stall the collectors under test
        }
        guard let grpc = ports["grpc"], let http = ports["http"] else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ReceiverError("the receiver did not start within 60 s")
        }
        self.grpcPort = grpc
        self.httpPort = http
    }

    deinit { stop() }

    /// Kills the receiver (SIGKILL: no goodbye to open connections).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Every request received so far: (transport, signal, request as protobuf's JSON mapping).
    func requests() -> [(transport: String, signal: String, request: [String: Any])] {
        guard let text = try? String(contentsOf: output, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let transport = object["transport"] as? String, let signal = object["signal"] as? String,
                  let request = object["request"] as? [String: Any] else { return nil }
            return (transport, signal, request)
        }
    }

    /// Items of one signal, each with its resource and scope: spans, log records or metrics.
    func items(_ signal: String) -> [(resource: [String: Any], scope: [String: Any], item: [String: Any])] {
        let (resourceKey, scopeKey, itemKey) = switch signal {
        case "traces": ("resourceSpans", "scopeSpans", "spans")
        case "logs": ("resourceLogs", "scopeLogs", "logRecords")
        default: ("resourceMetrics", "scopeMetrics", "metrics")
        }
        var result: [(resource: [String: Any], scope: [String: Any], item: [String: Any])] = []
        for request in requests() where request.signal == signal {
            for resource in request.request[resourceKey] as? [[String: Any]] ?? [] {
                for scope in resource[scopeKey] as? [[String: Any]] ?? [] {
                    for item in scope[itemKey] as? [[String: Any]] ?? [] {
                        result.append((resource["resource"] as? [String: Any] ?? [:], scope["scope"] as? [String: Any] ?? [:], item))
                    }
                }
            }
        }
        return result
    }
}

struct ReceiverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Protobuf's JSON mapping as plain values for assertions.
enum ReceivedJSON {
    /// A base64 id as hex.
    static func hex(_ value: Any?) -> String {
        guard let text = value as? String, let data = Data(base64Encoded: text) else { return "" }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    /// 64-bit integers arrive as strings.
    static func int(_ value: Any?) -> Int64? {
        if let text = value as? String { return Int64(text) }
        if let number = value as? NSNumber { return number.int64Value }
        return nil
    }

    /// attributes → [key: "type:value"], like the in-process tests' summaries.
    static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in value as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String else { continue }
            result[key] = anyValue(attribute["value"])
        }
        return result
    }

    static func anyValue(_ value: Any?) -> String {
        guard let value = value as? [String: Any] else { return "none" }
        if let text = value["stringValue"] as? String { return "s:\(text)" }
        if let flag = value["boolValue"] as? Bool { return "b:\(flag)" }
        if let number = int(value["intValue"]) { return "i:\(number)" }
        if let number = value["doubleValue"] as? Double { return "d:\(number)" }
        if let array = value["arrayValue"] as? [String: Any] {
            return "[" + (array["values"] as? [Any] ?? []).map(anyValue).joined(separator: ",") + "]"
        }
        return "other"
    }
}
