import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OTLPProto
import SwiftProtobuf

/// OTLP over HTTP with protobuf bodies: POST to /v1/traces, /v1/logs and /v1/metrics.
///
/// 429, 502, 503 and 504 and connection failures are retryable (OTLP/HTTP's rules), with the
/// server's Retry-After when it gives one; any other non-2xx answer is a permanent refusal.
public final class HTTPExporter: Exporter, Sendable {
    let endpoint: OTLPEndpoint
    let client: HTTPClient

    /// Throws when a TLS file named by the endpoint cannot be read or parsed.
    public init(endpoint: OTLPEndpoint) throws {
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

    public func export(_ request: TracesRequest) async throws(ExportError) { try await post(request, to: .traces) }
    public func export(_ request: LogsRequest) async throws(ExportError) { try await post(request, to: .logs) }
    public func export(_ request: MetricsRequest) async throws(ExportError) { try await post(request, to: .metrics) }

    public func shutdown() async {
        try? await client.shutdown()
    }

    private func post<Message: SwiftProtobuf.Message>(_ message: Message, to signal: OTLPEndpoint.Signal) async throws(ExportError) {
        let url = endpoint.url(for: signal)
        let body: Data
        do {
            body = try message.serializedData()
        } catch {
            throw ExportError(retryable: false, "cannot encode the \(signal.rawValue) request: \(error)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        for header in endpoint.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(endpoint.timeout.nanoseconds)))
        } catch {
            throw ExportError(retryable: true, "POST \(url): \(error)")
        }
        let status = response.status.code
        // The body is small (an Export*ServiceResponse or a Status); read it for the message.
        let answer = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        if (200..<300).contains(status) { return }
        let retryable = [429, 502, 503, 504].contains(status)
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
        throw ExportError(retryable: retryable, "POST \(url): HTTP \(status) \(answer.prefix(200))", retryAfter: retryAfter)
    }
}
