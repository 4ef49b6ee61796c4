import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OTLPMmapCore
import OTLPProto
import SwiftProtobuf

/// OTLP over HTTP with protobuf bodies: POST to /v1/traces, /v1/logs and /v1/metrics.
///
/// 429, 502, 503 and 504 and connection failures are retryable (OTLP/HTTP's rules), with the
/// server's Retry-After when it gives one; any other non-2xx answer is a permanent refusal.
package final class HTTPExporter: Exporter, Sendable {
    let endpoint: OTLPEndpoint
    let client: HTTPClient

    /// Throws when a TLS file named by the endpoint cannot be read or parsed.
    package init(endpoint: OTLPEndpoint) throws {
        self.endpoint = endpoint
        let files = try endpoint.tlsFiles()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trust = files.trust { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(trust)) }
        if let client = files.client {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(client.certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: client.key, format: .pem))
        }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }

    package func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess? {
        let response: TracesResponse = try await post(request, to: .traces)
        return PartialSuccess(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(encodedTraces request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        let response: TracesResponse = try await post(bytes: request.bytes, to: .traces)
        return PartialSuccess(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(encodedLogs request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        let response: LogsResponse = try await post(bytes: request.bytes, to: .logs)
        return PartialSuccess(rejected: response.partialSuccess.rejectedLogRecords, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess? {
        let response: LogsResponse = try await post(request, to: .logs)
        return PartialSuccess(rejected: response.partialSuccess.rejectedLogRecords, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess? {
        let response: MetricsResponse = try await post(request, to: .metrics)
        return PartialSuccess(rejected: response.partialSuccess.rejectedDataPoints, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func shutdown() async {
        try? await client.shutdown()
    }

    /// Posts `message`; the decoded response of a 2xx answer (an empty one when the body is not a
    /// protobuf response: a receiver that answers nothing accepted everything).
    private func post<Message: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ message: Message, to signal: OTLPEndpoint.Signal
    ) async throws(ExportError) -> Response {
        let body: [UInt8]
        do {
            body = try message.serializedBytes()
        } catch {
            throw ExportError(retryable: false, "cannot encode the \(signal.rawValue) request: \(error)", cause: error)
        }
        return try await post(bytes: body, to: signal)
    }

    private func post<Response: SwiftProtobuf.Message>(bytes body: [UInt8], to signal: OTLPEndpoint.Signal) async throws(ExportError) -> Response {
        let url = endpoint.url(for: signal)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        for header in endpoint.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(clamping: endpoint.timeout.wholeNanoseconds)))
        } catch {
            throw ExportError(retryable: true, "POST \(url): \(error)", cause: error)
        }
        let status = response.status.code
        // The body is small (an Export*ServiceResponse or a Status); read it for the message.
        let buffer = try? await response.body.collect(upTo: 64 * 1024)
        if (200..<300).contains(status) {
            guard let buffer, buffer.readableBytes > 0 else { return Response() }
            return (try? Response(serializedBytes: Array(buffer.readableBytesView))) ?? Response()
        }
        let answer = buffer.map { String(buffer: $0) } ?? ""
        let retryable = [429, 502, 503, 504].contains(status)
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
        throw ExportError(retryable: retryable, "POST \(url): HTTP \(status) \(answer.prefix(200))", retryAfter: retryAfter)
    }
}
