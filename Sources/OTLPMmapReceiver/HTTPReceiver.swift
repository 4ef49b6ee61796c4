import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import OTLPProto
import SwiftProtobuf

/// OTLP/HTTP with protobuf bodies on SwiftNIO: one task per connection under `serve()`, requests
/// answered in order. 200 with the signal's response message (and `partial_success` when the policy
/// rejects items), 503 (with `Retry-After` when the policy says when) for a refusal, 400 for a body
/// that is not the signal's request, 404 for another path, 405 for a method other than POST, 413 for
/// a body over the limit, 415 for a content type other than protobuf.
struct HTTPReceiver: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let receiver: OTLPReceiver
    let listener: NIOAsyncChannel<Connection, Never>
    let port: Int

    static func bind(receiver: OTLPReceiver) async throws -> HTTPReceiver {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = listener.channel.localAddress?.port else { throw ReceiverError("the HTTP listener has no port") }
        return HTTPReceiver(receiver: receiver, listener: listener, port: port)
    }

    /// Accepts connections until cancelled.
    func serve() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { try? await handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: Connection) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let started):
                    head = started
                    body.clear()
                    tooLarge = false
                case .body(let chunk):
                    if body.readableBytes + chunk.readableBytes > receiver.maximumBodyBytes {
                        tooLarge = true
                    } else {
                        body.writeImmutableBuffer(chunk)
                    }
                case .end:
                    guard let request = head else { continue }
                    let (status, headers, payload) = await respond(to: request, body: body, tooLarge: tooLarge)
                    var responseHeaders = headers
                    responseHeaders.add(name: "Content-Length", value: String(payload.count))
                    if !request.isKeepAlive { responseHeaders.add(name: "Connection", value: "close") }
                    try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: responseHeaders)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: payload))))
                    try await outbound.write(.end(nil))
                    head = nil
                    if !request.isKeepAlive { return }
                }
            }
        }
    }

    /// Status, headers and body for one request.
    private func respond(to head: HTTPRequestHead, body: ByteBuffer, tooLarge: Bool) async -> (HTTPResponseStatus, HTTPHeaders, [UInt8]) {
        let path = String(head.uri.prefix { $0 != "?" })
        guard let signal = OTLPSignal.allCases.first(where: { $0.httpPath == path }) else {
            receiver.noteMalformed("\(head.method) \(head.uri): not an OTLP path", via: .http)
            return Self.text(.notFound, "OTLP/HTTP paths are /v1/traces, /v1/logs and /v1/metrics")
        }
        guard head.method == .POST else {
            receiver.noteMalformed("\(head.method) \(path): exports are POSTed", via: .http)
            return Self.text(.methodNotAllowed, "exports are POSTed")
        }
        guard !tooLarge else {
            receiver.noteMalformed("POST \(path): a body over \(receiver.maximumBodyBytes) bytes", via: .http)
            return Self.text(.payloadTooLarge, "bodies are at most \(receiver.maximumBodyBytes) bytes")
        }
        let type = head.headers.first(name: "Content-Type") ?? ""
        guard type.lowercased().hasPrefix("application/x-protobuf") else {
            receiver.noteMalformed("POST \(path): content type '\(type)', not application/x-protobuf", via: .http)
            return Self.text(.unsupportedMediaType, "this receiver takes application/x-protobuf")
        }
        let bytes = Array(body.readableBytesView)
        let request: ReceivedExport.Request
        do {
            switch signal {
            case .traces: request = .traces(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes))
            case .logs: request = .logs(try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: bytes))
            case .metrics: request = .metrics(try Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest(serializedBytes: bytes))
            }
        } catch {
            receiver.noteMalformed("POST \(path): a \(bytes.count)-byte body that is not an Export\(signal.rawValue.capitalized)ServiceRequest (\(error))", via: .http)
            return Self.text(.badRequest, "the body is not an OTLP \(signal.rawValue) export request")
        }
        switch await receiver.answer(request, via: .http) {
        case .refused(let retryAfter):
            var headers = HTTPHeaders([("Content-Type", "text/plain")])
            if let retryAfter {
                let seconds = Int((Double(retryAfter.components.seconds) + Double(retryAfter.components.attoseconds) / 1e18).rounded(.up))
                headers.add(name: "Retry-After", value: String(max(1, seconds)))
            }
            return (.serviceUnavailable, headers, Array("the receiver refuses \(signal.rawValue) for now".utf8))
        case .accepted(let rejected):
            let payload: [UInt8]
            switch signal {
            case .traces:
                var response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
                if rejected > 0 { response.partialSuccess.rejectedSpans = rejected; response.partialSuccess.errorMessage = "the receiver rejected \(rejected) spans" }
                payload = (try? response.serializedBytes()) ?? []
            case .logs:
                var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
                if rejected > 0 { response.partialSuccess.rejectedLogRecords = rejected; response.partialSuccess.errorMessage = "the receiver rejected \(rejected) log records" }
                payload = (try? response.serializedBytes()) ?? []
            case .metrics:
                var response = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse()
                if rejected > 0 { response.partialSuccess.rejectedDataPoints = rejected; response.partialSuccess.errorMessage = "the receiver rejected \(rejected) data points" }
                payload = (try? response.serializedBytes()) ?? []
            }
            return (.ok, HTTPHeaders([("Content-Type", "application/x-protobuf")]), payload)
        }
    }

    private static func text(_ status: HTTPResponseStatus, _ message: String) -> (HTTPResponseStatus, HTTPHeaders, [UInt8]) {
        (status, HTTPHeaders([("Content-Type", "text/plain")]), Array(message.utf8))
    }
}
