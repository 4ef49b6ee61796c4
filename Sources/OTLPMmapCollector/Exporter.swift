import Foundation
import OTLPProto
import SwiftProtobuf
import Synchronization

/// Where the collector sends what it read: an OTLP receiver over gRPC or HTTP, or standard output.
///
/// An export returns what the receiver rejected of an accepted request (OTLP's `partial_success`),
/// nil when it took everything; it throws when it took nothing.
public protocol Exporter: Sendable {
    func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess?
    func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess?
    func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess?
    /// A trace request the collector encoded itself (`EncodedRequest`). The default decodes it and
    /// calls `export(_: TracesRequest)`; the gRPC and HTTP exporters send the bytes as they are.
    func export(encodedTraces request: EncodedRequest) async throws(ExportError) -> PartialSuccess?
    /// A log request the collector encoded itself; the default decodes it, as for traces.
    func export(encodedLogs request: EncodedRequest) async throws(ExportError) -> PartialSuccess?
    /// Runs what the exporter needs while it is used (connections); returns after `shutdown`.
    func run() async throws
    /// Finishes in-flight work and releases connections.
    func shutdown() async
}

extension Exporter {
    public func run() async throws {}

    public func export(encodedTraces request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        try await export(decoding(TracesRequest.self, request))
    }

    public func export(encodedLogs request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        try await export(decoding(LogsRequest.self, request))
    }

    /// The request value of bytes the collector encoded; failing means a bug in the encoder.
    private func decoding<Request: SwiftProtobuf.Message>(_: Request.Type, _ request: EncodedRequest) throws(ExportError) -> Request {
        do {
            return try Request(serializedBytes: request.bytes)
        } catch {
            throw ExportError(retryable: false, "the collector's \(Request.self) does not decode: \(error)", cause: error)
        }
    }
}

/// The part of an accepted request the receiver rejected, and its reason.
public struct PartialSuccess: Sendable, Equatable {
    public var rejected: Int64
    public var message: String

    public init(rejected: Int64, message: String) {
        self.rejected = rejected
        self.message = message
    }

    /// Nil unless the response says something was rejected (or carries a warning message).
    init?(rejected: Int64, message: String, present: Bool) {
        guard present, rejected != 0 || !message.isEmpty else { return nil }
        self.init(rejected: rejected, message: message)
    }
}

/// Why an export failed, and whether trying again can help.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    /// The receiver may accept the same request later (gRPC UNAVAILABLE, HTTP 429 or 503,
    /// connection refused): the collector keeps the data and retries with backoff.
    public var retryable: Bool
    public var message: String
    /// How long the receiver asked us to wait (HTTP Retry-After, gRPC RetryInfo), if it did.
    public var retryAfter: Duration?
    /// The error underneath (a gRPC `RPCError`, an HTTP client's error, an encoding error), kept
    /// whole as `RPCError` keeps its cause, for whoever wants more than the message.
    public var cause: (any Error & Sendable)?

    public init(retryable: Bool, _ message: String, retryAfter: Duration? = nil, cause: (any Error & Sendable)? = nil) {
        self.retryable = retryable
        self.message = message
        self.retryAfter = retryAfter
        self.cause = cause
    }

    public var description: String { (retryable ? "retryable: " : "") + message }
}

/// Prints every request on standard output (or any sink), needing no receiver, as much of it as
/// `verbosity` says (`DebugVerbosity`). `json` writes each request as one line of OTLP/JSON, with
/// OTLP/JSON's deviations from the plain proto3 JSON mapping: trace and span ids in hex, enums as
/// integers.
package final class DebugExporter: Exporter, Sendable {
    private let write: @Sendable (String) -> Void
    package let verbosity: DebugVerbosity
    /// One request's text at a time, whichever pipeline writes.
    private let lock = Mutex(())

    package init(verbosity: DebugVerbosity = .json, write: @escaping @Sendable (String) -> Void = { text in
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }) {
        self.verbosity = verbosity
        self.write = write
    }

    package func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess? {
        try emit(request, basic: DebugText.summary, normal: DebugText.lines, detailed: DebugText.dump)
        return nil
    }

    package func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess? {
        try emit(request, basic: DebugText.summary, normal: DebugText.lines, detailed: DebugText.dump)
        return nil
    }

    package func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess? {
        try emit(request, basic: DebugText.summary, normal: DebugText.lines, detailed: DebugText.dump)
        return nil
    }

    package func shutdown() async {}

    private func emit<Request: SwiftProtobuf.Message>(
        _ request: Request, basic: (Request) -> String, normal: (Request) -> [String], detailed: (Request) -> String
    ) throws(ExportError) {
        let text: String
        switch verbosity {
        case .json: return try emit(request)
        case .basic: text = basic(request)
        case .normal: text = normal(request).joined(separator: "\n")
        case .detailed: text = String(detailed(request).dropLast())
        }
        guard !text.isEmpty else { return }
        lock.withLock { _ in write(text) }
    }

    private func emit<Request: SwiftProtobuf.Message>(_ request: Request) throws(ExportError) {
        let line: String
        do {
            line = try Self.otlpJSON(request)
        } catch {
            throw ExportError(retryable: false, "cannot encode \(Request.self) as JSON: \(error)", cause: error)
        }
        lock.withLock { _ in write(line) }
    }

    /// OTLP JSON of `message`: proto3 JSON with enums as numbers and the ids re-encoded in hex.
    /// The ids are rewritten in one pass over swift-protobuf's output text: going through
    /// JSONSerialization instead bridged every nested dictionary again at each level above it, so a
    /// request holding values nested 30 deep took longer than any stop allows (issue 19).
    package static func otlpJSON<Request: SwiftProtobuf.Message>(_ message: Request) throws -> String {
        var options = JSONEncodingOptions()
        options.alwaysPrintEnumsAsInts = true
        let json = try [UInt8](message.jsonUTF8Data(options: options))
        return String(decoding: hexIDs(json), as: UTF8.self)
    }

    /// The keys whose values OTLP/JSON writes as hex instead of base64.
    static let idKeys: Set<String> = ["traceId", "spanId", "parentSpanId"]

    /// `json` with the base64 string value of every `idKeys` key replaced by the same bytes in hex.
    /// Strings are scanned whole (escapes included), so a key name inside a string value is text.
    static func hexIDs(_ json: [UInt8]) -> [UInt8] {
        let quote = UInt8(ascii: "\""), colon = UInt8(ascii: ":"), backslash = UInt8(ascii: "\\")
        var out: [UInt8] = []
        out.reserveCapacity(json.count + json.count / 8)
        var index = 0
        var idValueNext = false
        while index < json.count {
            guard json[index] == quote else {
                idValueNext = false
                out.append(json[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < json.count, json[end] != quote { end += json[end] == backslash ? 2 : 1 }
            guard end < json.count else {    // an unterminated string: not what swift-protobuf writes; left as it is
                out += json[index...]
                break
            }
            let content = json[(index + 1)..<end]
            if idValueNext, let bytes = Data(base64Encoded: String(decoding: content, as: UTF8.self)) {
                out.append(quote)
                for byte in bytes { out += Array(String(format: "%02x", byte).utf8) }
                out.append(quote)
                idValueNext = false
                index = end + 1
                continue
            }
            out += json[index...end]
            index = end + 1
            if index < json.count, json[index] == colon, idKeys.contains(String(decoding: content, as: UTF8.self)) {
                out.append(colon)
                index += 1
                idValueNext = true
            } else {
                idValueNext = false
            }
        }
        return out
    }
}
