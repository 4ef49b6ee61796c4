import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import OTLPProto

/// OTLP over gRPC (grpc-swift 2 on SwiftNIO's HTTP/2), the three Export services.
///
/// UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, OUT_OF_RANGE, DATA_LOSS and
/// RESOURCE_EXHAUSTED are retryable (OTLP/gRPC's list), and so is UNKNOWN: grpc-swift reports a
/// failure of its own transport (a connection that broke or was not up yet) with it, which says
/// nothing about the receiver's opinion of the data. Other codes are permanent refusals.
public final class GRPCExporter: Exporter, Sendable {
    let endpoint: OTLPEndpoint
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    public init(endpoint: OTLPEndpoint) throws {
        self.endpoint = endpoint
        let (host, port, secure) = try endpoint.hostAndPort()
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: host, port: port),
            transportSecurity: secure ? .tls : .plaintext)
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    public func export(_ request: TracesRequest) async throws(ExportError) {
        try await call { try await Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
            .export(request, metadata: metadata, options: options) }
    }

    public func export(_ request: LogsRequest) async throws(ExportError) {
        try await call { try await Opentelemetry_Proto_Collector_Logs_V1_LogsService.Client(wrapping: client)
            .export(request, metadata: metadata, options: options) }
    }

    public func export(_ request: MetricsRequest) async throws(ExportError) {
        try await call { try await Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.Client(wrapping: client)
            .export(request, metadata: metadata, options: options) }
    }

    public func shutdown() async {
        client.beginGracefulShutdown()
        await connections.value
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

    private func call<Response: Sendable>(_ body: () async throws -> Response) async throws(ExportError) {
        do {
            _ = try await body()
        } catch let error as RPCError {
            throw ExportError(retryable: Self.retryableCodes.contains(error.code), "gRPC \(error.code): \(error.message)")
        } catch {
            throw ExportError(retryable: true, "gRPC: \(error)")
        }
    }
}
