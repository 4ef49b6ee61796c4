import Foundation
import Logging
import Synchronization
import OTLPMmapLayout

/// What the collector has done so far; readable from any thread while it runs.
public final class CollectorStatistics: Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        /// Records read, of every ring.
        case records
        /// Records or references that broke a rule, reported and skipped.
        case invalidRecords = "invalid_records"
        /// Claimed slots never published within the hole timeout, skipped (RING-HOLE).
        case holesSkipped = "holes_skipped"
        /// Rings left unread in a file (a bad ring header, place or indices) while its other rings were read.
        case ringsUnread = "rings_unread"
        /// Span events of spans whose start this collector never saw (exported marked `otlp_mmap.start_missing`).
        case orphanSpanEvents = "orphan_span_events"
        /// Spans exported unfinished after the span timeout.
        case expiredSpans = "expired_spans"
        /// Spans exported unfinished early because more than the most open spans were open.
        case evictedSpans = "evicted_spans"
        /// Measurements aggregated into a metric's `otel.metric.overflow` series (too many attribute sets).
        case overflowMeasurements = "overflow_measurements"
        case exportedSpans = "exported_spans"
        case exportedLogs = "exported_logs"
        case exportedMetricPoints = "exported_metric_points"
        /// Export attempts that failed (each retry counts).
        case failedExports = "failed_exports"
        /// Requests given up on because the receiver refused them for good.
        case droppedRequests = "dropped_requests"
        /// Items a receiver rejected in an otherwise accepted request (OTLP partial success).
        case rejectedItems = "rejected_items"
        /// Times the file was re-created or re-initialised under the collector.
        case fileResets = "file_resets"
        /// Checkpoints written (each one hands the span and measurement rings' slots back).
        case checkpointsWritten = "checkpoints_written"
        /// Checkpoints that could not be written (the slots stay with the collector until one is).
        case checkpointFailures = "checkpoint_failures"
        /// Sessions that resumed from a checkpoint of their file.
        case checkpointsRestored = "checkpoints_restored"
        /// Checkpoints, or entries in one, that were unreadable or did not fit the file, and ignored.
        case checkpointsIgnored = "checkpoints_ignored"
        /// Times the reader found a signal's pipeline holding all it may (its receiver behind) and
        /// left that signal's ring alone.
        case readerHeldBack = "reader_held_back"
    }

    private let values = Mutex<[Key: Int]>([:])
    private let loggedRejections = Mutex<Set<String>>([])

    private struct Key: Hashable {
        let counter: Counter
        let signal: OTLPEndpoint.Signal?
    }

    package init() {}

    /// The counter's total over every signal (and the reader's own counts).
    public subscript(_ counter: Counter) -> Int {
        values.withLock { $0.reduce(0) { $1.key.counter == counter ? $0 + $1.value : $0 } }
    }

    /// The counter's count for one signal's pipeline (records, exports, rejections of that signal).
    public subscript(_ counter: Counter, signal signal: OTLPEndpoint.Signal) -> Int {
        values.withLock { $0[Key(counter: counter, signal: signal), default: 0] }
    }

    func add(_ counter: Counter, _ amount: Int = 1, signal: OTLPEndpoint.Signal? = nil) {
        guard amount != 0 else { return }
        values.withLock { $0[Key(counter: counter, signal: signal), default: 0] += amount }
    }

    /// Counts what a receiver's partial success rejected; logs each distinct reason once per signal,
    /// since a receiver that rejects some items usually rejects them in every request.
    func record(_ rejection: PartialSuccess, signal: OTLPEndpoint.Signal, logger: Logger) {
        add(.rejectedItems, Int(clamping: rejection.rejected), signal: signal)
        let first = loggedRejections.withLock { $0.insert("\(signal.rawValue) \(rejection.message)").inserted }
        if first {
            logger.warning("the receiver accepted a \(signal.rawValue) request only in part: \(rejection.rejected) \(signal.noun) rejected: \(rejection.message.isEmpty ? "(no reason given)" : rejection.message) (reported once per reason)")
        }
    }

    /// Every counter's total, and per signal, for a summary line or JSON.
    package var snapshot: [String: Any] {
        var result: [String: Any] = Dictionary(uniqueKeysWithValues: Counter.allCases.map { ($0.rawValue, self[$0]) })
        result["per_signal"] = Dictionary(uniqueKeysWithValues: OTLPEndpoint.Signal.allCases.map { signal in
            (signal.rawValue, Dictionary(uniqueKeysWithValues: Counter.allCases.compactMap { counter -> (String, Int)? in
                let value = self[counter, signal: signal]
                return value == 0 ? nil : (counter.rawValue, value)
            }))
        })
        return result
    }
}
