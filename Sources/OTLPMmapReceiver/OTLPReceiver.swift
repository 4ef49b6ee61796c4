import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import OTLPProto
import Synchronization

/// A real OTLP receiver, embedded: the three gRPC export services and OTLP/HTTP with protobuf
/// bodies (`/v1/traces`, `/v1/logs`, `/v1/metrics`), on loopback with ports the kernel picks. It is
/// the backend a collector under test exports to: it keeps every request, decoded, with the answer
/// it gave, and answers as each signal's `ReceiverPolicy` says (refuse, partial success, slow).
///
/// `run()` serves until its task is cancelled; `ports` waits until both listeners are bound.
package final class OTLPReceiver: Sendable {
    package struct Ports: Sendable, Equatable {
        package var grpc: Int
        package var http: Int
    }

    private struct State {
        var policies: [OTLPSignal: ReceiverPolicy] = [:]
        var received: [ReceivedExport] = []
        var malformed: [MalformedExport] = []
        var ports: Ports?
        var failure: String?
        var waiters: [CheckedContinuation<Ports, any Error>] = []
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()
    /// The largest HTTP body taken (a larger one is answered 413 and counted as malformed).
    package let maximumBodyBytes: Int

    /// Whether every request is kept (`received`); a load run only counts, through `observer`.
    package let keepsRequests: Bool
    /// Sees every request as it is answered (off the lock), with the wall time it arrived.
    private let observer: (@Sendable (ReceivedExport.Request, _ arrivedUnixNano: UInt64) -> Void)?

    package init(maximumBodyBytes: Int = 64 << 20, keepsRequests: Bool = true,
                 observer: (@Sendable (ReceivedExport.Request, _ arrivedUnixNano: UInt64) -> Void)? = nil) {
        self.maximumBodyBytes = maximumBodyBytes
        self.keepsRequests = keepsRequests
        self.observer = observer
    }

    /// Serves gRPC and HTTP until the calling task is cancelled; throws when a listener cannot be
    /// bound or fails.
    package func run() async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [TraceService(receiver: self), LogsService(receiver: self), MetricsService(receiver: self)])
        do {
            let http = try await HTTPReceiver.bind(receiver: self)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                group.addTask { try await http.serve() }
                guard let grpcPort = try await transport.listeningAddress.ipv4?.port else {
                    throw ReceiverError("the gRPC listener has no IPv4 address")
                }
                listening(Ports(grpc: grpcPort, http: http.port))
            }
        } catch {
            failed("\(error)")
            throw error
        }
    }

    /// The ports, once both listeners are bound (at once when they are).
    package var ports: Ports {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<Ports, any Error>? = state.withLock { state in
                    if let ports = state.ports { return .success(ports) }
                    if let failure = state.failure { return .failure(ReceiverError(failure)) }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }

    private func listening(_ ports: Ports) {
        let waiters = state.withLock { state in
            state.ports = ports
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: ports) }
    }

    private func failed(_ failure: String) {
        let waiters = state.withLock { state in
            state.failure = failure
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: ReceiverError(failure)) }
    }

    // MARK: policy and what was received

    /// Sets how exports of `signal` are answered from now on.
    package func setPolicy(_ policy: ReceiverPolicy, for signal: OTLPSignal) {
        state.withLock { $0.policies[signal] = policy }
    }

    package func policy(for signal: OTLPSignal) -> ReceiverPolicy {
        state.withLock { $0.policies[signal] ?? .accept }
    }

    /// Every request received so far, in order of arrival.
    package var received: [ReceivedExport] { state.withLock { $0.received } }

    /// Requests that were not OTLP at all.
    package var malformed: [MalformedExport] { state.withLock { $0.malformed } }

    /// Decides the answer to one request by its signal's policy, and keeps the request; waits the
    /// policy's delay before returning.
    package func answer(_ request: ReceivedExport.Request, via transport: ReceivedExport.Transport) async -> ReceiverAnswer {
        let now = clock.now
        if let observer {
            var time = timespec()
            clock_gettime(CLOCK_REALTIME, &time)
            observer(request, UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
        }
        let (answer, delay) = state.withLock { state -> (ReceiverAnswer, Duration) in
            var policy = state.policies[request.signal] ?? .accept
            let answer: ReceiverAnswer
            if let until = policy.refuseUntil, now < until {
                answer = .refused(retryAfter: policy.retryAfter)
            } else if policy.refuseNext > 0 {
                policy.refuseNext -= 1
                answer = .refused(retryAfter: policy.retryAfter)
            } else {
                answer = .accepted(rejected: min(policy.rejectItems, request.itemCount))
            }
            state.policies[request.signal] = policy
            if keepsRequests { state.received.append(ReceivedExport(transport: transport, request: request, answer: answer, arrived: now)) }
            return (answer, policy.delay)
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return answer
    }

    func noteMalformed(_ what: String, via transport: ReceivedExport.Transport) {
        state.withLock { $0.malformed.append(MalformedExport(transport: transport, what: what)) }
    }
}

package struct ReceiverError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
