import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOHTTP1
import NIOPosix
import OTLPMmapBenchmarkSupport
import Synchronization

// An OTLP receiver for benchmarks that only counts what it is sent, over gRPC and HTTP, so that
// the receiver is never what limits the collector: requests are not decoded into objects, only
// walked (ProtoReader) far enough to count spans, log records and metric data points.

public enum OTLPSignal: String, CaseIterable, Sendable {
    case traces, logs, metrics
}

/// Items received per signal, and requests that could not be counted.
public final class ReceivedCounts: Sendable {
    private let counts = Mutex<[OTLPSignal: Int]>([:])
    private let failures = Atomic<Int>(0)
    public init() {}

    public subscript(signal: OTLPSignal) -> Int { counts.withLock { $0[signal] ?? 0 } }
    public var malformed: Int { failures.load(ordering: .relaxed) }
    public func reset() { counts.withLock { $0 = [:] } }

    func add(_ bytes: UnsafeRawBufferPointer, signal: OTLPSignal) {
        do {
            let items = try BenchmarkReading.countItems(bytes, metrics: signal == .metrics)
            counts.withLock { $0[signal, default: 0] += items }
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }
}

// MARK: gRPC

/// The three OTLP Export methods, with the request counted straight from its bytes and an empty
/// response (all fields at their default: zero bytes on the wire).
struct CountingService: RegistrableRPCService {
    let counts: ReceivedCounts

    struct Counting: MessageDeserializer {
        let signal: OTLPSignal
        let counts: ReceivedCounts
        func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Int {
            serializedMessageBytes.withUnsafeBytes { counts.add($0, signal: signal) }
            return 0
        }
    }

    struct Empty: MessageSerializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: Int) throws -> Bytes { Bytes(repeating: 0, count: 0) }
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let services: [(OTLPSignal, String)] = [
            (.traces, "opentelemetry.proto.collector.trace.v1.TraceService"),
            (.logs, "opentelemetry.proto.collector.logs.v1.LogsService"),
            (.metrics, "opentelemetry.proto.collector.metrics.v1.MetricsService"),
        ]
        for (signal, service) in services {
            router.registerHandler(
                forMethod: MethodDescriptor(fullyQualifiedService: service, method: "Export"),
                deserializer: Counting(signal: signal, counts: counts), serializer: Empty()
            ) { request, _ in
                for try await _ in request.messages {}
                return StreamingServerResponse(single: ServerResponse(message: 0))
            }
        }
    }
}

// MARK: HTTP

/// POST /v1/traces, /v1/logs, /v1/metrics with a protobuf body: counted, answered 200 with an
/// empty protobuf response.
final class CountingHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let counts: ReceivedCounts
    private var signal: OTLPSignal?
    private var body: ByteBuffer?
    private var keepAlive = true

    init(counts: ReceivedCounts) { self.counts = counts }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            signal = OTLPSignal.allCases.first { head.uri == "/v1/\($0.rawValue)" }
            keepAlive = head.isKeepAlive
            body = context.channel.allocator.buffer(capacity: 0)
        case .body(var part):
            body?.writeBuffer(&part)
        case .end:
            let status: HTTPResponseStatus
            if let signal, let body {
                body.withUnsafeReadableBytes { counts.add($0, signal: signal) }
                status = .ok
            } else {
                status = .notFound
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-protobuf")
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !keepAlive { context.close(promise: nil) }
            self.signal = nil
            self.body = nil
        }
    }
}

/// Both servers on 127.0.0.1, on ports the kernel chose.
public final class CountingReceiver: Sendable {
    public let counts = ReceivedCounts()
    public let grpcPort: Int
    public let httpPort: Int
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, Never>
    private let http: any Channel

    public init() async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [CountingService(counts: counts)])
        self.server = server
        serving = Task { try? await server.serve() }
        guard let address = try await transport.listeningAddress.ipv4 else { throw BenchmarkFailure("the gRPC receiver has no IPv4 address") }
        grpcPort = address.port
        let counts = self.counts
        http = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(CountingHTTPHandler(counts: counts))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        httpPort = http.localAddress?.port ?? 0
    }

    public func stop() async {
        server.beginGracefulShutdown()
        await serving.value
        try? await http.close()
    }
}
