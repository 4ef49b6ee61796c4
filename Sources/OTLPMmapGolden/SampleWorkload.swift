import Foundation
import Synchronization
import OTLPMmapSDK

/// The one sample workload: what `otlp-mmap write` and `otlp-mmap demo` record, and what tests that
/// need "some telemetry from another process" read back. Deterministic per (thread, index), so that a
/// reader can tell which records are there: span `demo-T-I` with a child `demo-T-I.child`, a log
/// record with body `demo-T-I`, and measurements of `demo.requests` (value I) and `demo.latency`.
/// (The golden files are written by `ValidCases`, one case per feature, not by this.)
package struct SampleWorkload: Sendable {
    package let writer: TelemetryWriter
    let scope: Scope
    let requests: Instrument
    let latency: Instrument
    let eventName: EventName

    package static let scopeName = "otlp-mmap.demo"

    package init(writer: TelemetryWriter) throws {
        self.writer = writer
        scope = try writer.scope(Self.scopeName, version: "1.0.0")
        requests = try writer.counter("demo.requests", description: "requests handled", unit: "{request}", scope: scope)
        latency = try writer.histogram("demo.latency", unit: "ms", boundaries: [1, 5, 10, 50, 100], scope: scope)
        eventName = try writer.eventName("demo.event")
    }

    /// The name of span `index` of `thread` (its child adds `.child`), and the body of its log record.
    package static func name(thread: Int, index: Int) -> String { "demo-\(thread)-\(index)" }

    /// Records `spans` samples (numbered from `first`) on the calling thread. Blocks while a full ring
    /// makes the writer wait (its `fullRingWait`): call it on a thread of its own, not on a task.
    package func run(thread: Int, first: Int = 0, spans: Int) throws {
        let threadAttributes = try writer.attributes(["thread": .int(Int64(thread)), "demo": true])
        let childAttributes = try writer.attributes(["db.system": "sqlite", "db.rows": 3, "db.ratio": 0.5])
        var index = first
        while index - first < spans {
            let name = Self.name(thread: thread, index: index)
            let span = writer.startSpan(name, kind: .server, attributes: threadAttributes, scope: scope)
            let child = writer.startSpan(name + ".child", kind: .client, parent: span.context, attributes: childAttributes, scope: scope)
            child.end(status: .ok)
            writer.log(.info, .text(name), eventName: eventName, attributes: threadAttributes, spanContext: span.context, scope: scope)
            requests.record(Int64(index), attributes: threadAttributes, spanContext: span.context)
            latency.record(Double(index % 100) + 0.5, attributes: threadAttributes)
            span.end(status: index % 10 == 9 ? .error : .ok, message: index % 10 == 9 ? "every tenth fails" : "")
            index += 1
        }
    }

    /// Runs `threads` OS threads of `spans` samples each and returns when all have finished, with the
    /// first error any of them threw. The calling task suspends; no pool thread is held.
    package func run(threads: Int, first: Int = 0, spans: Int) async throws {
        let failure = FirstError()
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                        Thread {
                            do { try run(thread: thread, first: first, spans: spans) } catch { failure.set(error) }
                            finished.resume()
                        }.start()
                    }
                }
            }
        }
        if let error = failure.error { throw error }
    }
}

/// The first error several threads reported.
private final class FirstError: Sendable {
    private let stored = Mutex<(any Error)?>(nil)
    func set(_ error: any Error) { stored.withLock { $0 = $0 ?? error } }
    var error: (any Error)? { stored.withLock { $0 } }
}
