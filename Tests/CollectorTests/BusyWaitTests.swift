import Foundation
import CollectorTestSupport
import OTLPMmapSDK
import OTLPMmapTestbed
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A collector whose exports are all in flight, waiting for a receiver that does not answer, sleeps
/// until one returns. It used to find a report (or batch) due with no export slot free and loop on
/// its past deadline: a core busy for as long as the receiver kept it waiting (found when gRPC
/// exports timing out in the full suite starved the test process's cooperative pool; 1.98 s of CPU
/// in this test's 2 s window before the fix).
@Suite struct BusyWaitTests {
    /// A TCP listener on loopback that accepts connections and never answers on them.
    final class SilentListener: Sendable {
        let port: Int
        private let socketDescriptor: Int32
        private let connections = Mutex<[Int32]>([])

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(descriptor, 16) == 0 else {
                close(descriptor)
                throw TestFailure("bind/listen: errno \(errno)")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            port = Int(UInt16(bigEndian: address.sin_port))
            socketDescriptor = descriptor
            // Accepting on a thread of its own: a blocking call has no place on the cooperative pool.
            Thread { [weak self] in
                while true {
                    let connection = accept(descriptor, nil, nil)
                    guard connection >= 0, let self else { return }
                    self.connections.withLock { $0.append(connection) }
                }
            }.start()
        }

        var accepted: Int { connections.withLock { $0.count } }

        deinit {
            shutdown(socketDescriptor, Int32(SHUT_RDWR))
            close(socketDescriptor)
            for connection in connections.withLock({ $0 }) { close(connection) }
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func aCollectorWithEveryExportInFlightSleeps() async throws {
        let listener = try SilentListener()
        let writer = try makeWriter()
        let counter = try writer.counter("waiting")
        for index in 0..<12 { counter.record(Int64(index), time: UInt64(index + 1)) }
        // A metric report every 10 ms: four go out (the most in flight) and hang, and the next is
        // due with no slot free.
        let collector = try TestSupport.start([
            "collect", "--file", writer.file.path, "--exporter", "otlp-http", "--endpoint", "http://127.0.0.1:\(listener.port)",
            "--metric-interval-ms", "10", "--timeout-ms", "120000",
        ])
        let pid = collector.process.processIdentifier
        let deadline = ContinuousClock.now + .seconds(60)
        while listener.accepted == 0 && collector.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard listener.accepted > 0 else {
            Issue.record("the collector never connected: \(await collector.wait(timeout: 1).stderr)")
            return
        }
        // A rate needs a window: CPU time over two seconds of waiting. Spinning costs about a core
        // (2 s); sleeping costs next to nothing. The bound sits far from both.
        let before = try #require(ProcessUsage.of(pid))
        try await Task.sleep(for: .seconds(2))
        let after = try #require(ProcessUsage.of(pid))
        _ = await collector.wait(timeout: 0)   // kills it
        let used = after.cpuSeconds - before.cpuSeconds
        #expect(used < 0.5, "the collector used \(used) s of CPU in 2 s while its exports waited")
    }
}
