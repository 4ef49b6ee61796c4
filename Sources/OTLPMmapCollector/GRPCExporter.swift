import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import OTLPProto
import SwiftProtobuf

/// OTLP over gRPC (grpc-swift 2 on SwiftNIO's HTTP/2), the three Export services.
///
/// UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, OUT_OF_RANGE, DATA_LOSS and
/// RESOURCE_EXHAUSTED are retryable (OTLP/gRPC's list), and so is UNKNOWN: grpc-swift reports a
/// failure of its own transport (a connection that broke or was not up yet) with it, which says
/// nothing about the receiver's opinion of the data. Other codes are permanent refusals.
///
/// Each signal goes to its own endpoint when it has one; signals with the same target share a
/// client (one HTTP/2 connection). The clients' connections run in `run()`, inside the collector's
/// task tree, so that a transport that fails is reported rather than lost in a detached task.
package final class GRPCExporter: Exporter, Sendable {
    let endpoint: OTLPEndpoint
    private let clients: [OTLPEndpoint.Signal: GRPCClient<HTTP2ClientTransport.Posix>]
    private let distinct: [GRPCClient<HTTP2ClientTransport.Posix>]

    package init(endpoint: OTLPEndpoint) throws {
        self.endpoint = endpoint
        let files = try endpoint.tlsFiles()
        var byTarget: [String: GRPCClient<HTTP2ClientTransport.Posix>] = [:]
        var clients: [OTLPEndpoint.Signal: GRPCClient<HTTP2ClientTransport.Posix>] = [:]
        var distinct: [GRPCClient<HTTP2ClientTransport.Posix>] = []
        for signal in OTLPEndpoint.Signal.allCases {
            let (host, port, secure) = try endpoint.hostAndPort(for: signal)
            let key = "\(secure ? "https" : "http")://\(host):\(port)"
            if let existing = byTarget[key] {
                clients[signal] = existing
                continue
            }
            let security: HTTP2ClientTransport.Posix.TransportSecurity = !secure ? .plaintext : .tls { tls in
                if let trust = files.trust { tls.trustRoots = .certificates([.file(path: trust, format: .pem)]) }
                if let client = files.client {
                    tls.certificateChain = [.file(path: client.certificate, format: .pem)]
                    tls.privateKey = .file(path: client.key, format: .pem)
                }
            }
            let transport = try HTTP2ClientTransport.Posix(target: Self.target(host: host, port: port), transportSecurity: security)
            let client = GRPCClient(transport: transport)
            byTarget[key] = client
            clients[signal] = client
            distinct.append(client)
        }
        self.clients = clients
        self.distinct = distinct
    }

    /// Runs the clients' connections until `shutdown`; throws what broke a transport for good.
    package func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for client in distinct { group.addTask { try await client.runConnections() } }
        }
    }

    /// An address literal is its own target: given as a DNS name it would become the TLS server
    /// name (SNI), which may not be an address, and the handshake would fail.
    static func target(host: String, port: Int) -> any ResolvableTarget {
        var ipv4 = in_addr(), ipv6 = in6_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 { return .ipv4(address: host, port: port) as ResolvableTargets.IPv4 }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if inet_pton(AF_INET6, bare, &ipv6) == 1 { return .ipv6(address: bare, port: port) as ResolvableTargets.IPv6 }
        return .dns(host: host, port: port) as ResolvableTargets.DNS
    }

    package func export(_ request: TracesRequest) async throws(ExportError) -> PartialSuccess? {
        let response = try await call(.traces) { client in
            try await Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client).export(request, metadata: metadata, options: options)
        }
        return PartialSuccess(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    /// The collector's own bytes, sent as they are (a serializer that copies them into the frame).
    package func export(encodedTraces request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        let response: TracesResponse = try await send(request, .traces, Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor)
        return PartialSuccess(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(encodedLogs request: EncodedRequest) async throws(ExportError) -> PartialSuccess? {
        let response: LogsResponse = try await send(request, .logs, Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor)
        return PartialSuccess(rejected: response.partialSuccess.rejectedLogRecords, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(_ request: LogsRequest) async throws(ExportError) -> PartialSuccess? {
        let response = try await call(.logs) { client in
            try await Opentelemetry_Proto_Collector_Logs_V1_LogsService.Client(wrapping: client).export(request, metadata: metadata, options: options)
        }
        return PartialSuccess(rejected: response.partialSuccess.rejectedLogRecords, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    package func export(_ request: MetricsRequest) async throws(ExportError) -> PartialSuccess? {
        let response = try await call(.metrics) { client in
            try await Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Client(wrapping: client).export(request, metadata: metadata, options: options)
        }
        return PartialSuccess(rejected: response.partialSuccess.rejectedDataPoints, message: response.partialSuccess.errorMessage, present: response.hasPartialSuccess)
    }

    /// One unary Export call with the request's bytes as they are.
    private func send<Response: SwiftProtobuf.Message & Sendable>(
        _ request: EncodedRequest, _ signal: OTLPEndpoint.Signal, _ descriptor: MethodDescriptor
    ) async throws(ExportError) -> Response {
        try await call(signal) { client in
            try await client.unary(
                request: ClientRequest(message: request.bytes, metadata: metadata), descriptor: descriptor,
                serializer: EncodedBytesSerializer(), deserializer: ProtobufDeserializer<Response>(), options: options
            ) { try $0.message }
        }
    }

    package func shutdown() async {
        for client in distinct { client.beginGracefulShutdown() }
    }

    private var metadata: Metadata {
        var metadata = Metadata()
        for header in endpoint.headers { metadata.addString(header.value, forKey: header.name.lowercased()) }
        return metadata
    }

    private var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = endpoint.timeout
        return options
    }

    static let retryableCodes: Set<RPCError.Code> = [.unavailable, .deadlineExceeded, .aborted, .cancelled, .outOfRange, .dataLoss, .resourceExhausted, .unknown]

    private func call<Response: Sendable>(
        _ signal: OTLPEndpoint.Signal, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Response
    ) async throws(ExportError) -> Response {
        do {
            return try await body(clients[signal]!)
        } catch let error as RPCError {
            // OTLP/gRPC: a throttling receiver says when to come back in a google.rpc.RetryInfo detail.
            let retryAfter = (try? error.unpackGoogleRPCStatus())?.details.lazy.compactMap(\.retryInfo).first?.delay
            throw ExportError(retryable: Self.retryableCodes.contains(error.code), "gRPC \(error.code): \(error.message)", retryAfter: retryAfter, cause: error)
        } catch {
            throw ExportError(retryable: true, "gRPC: \(error)", cause: error)
        }
    }
}

/// Hands bytes already encoded as the request message to gRPC.
struct EncodedBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}
