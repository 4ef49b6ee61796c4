import Foundation
import OTLPMmapLayout

/// What the collector has done so far; readable from any thread while it runs.
public final class CollectorStatistics: @unchecked Sendable {
    public enum Counter: String, CaseIterable, Sendable {
        /// Records read, of every ring.
        case records
        /// Records or references that broke a rule, reported and skipped.
        case invalidRecords = "invalid_records"
        /// Claimed slots never published within the hole timeout, skipped (RING-HOLE).
        case holesSkipped = "holes_skipped"
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
    }

    private let lock = NSLock()
    private var values: [Counter: Int] = [:]

    public init() {}

    public subscript(_ counter: Counter) -> Int { lock.withLock { values[counter, default: 0] } }

    func add(_ counter: Counter, _ amount: Int = 1) {
        guard amount != 0 else { return }
        lock.withLock { values[counter, default: 0] += amount }
    }

    /// Every counter, for a summary line or JSON.
    public var snapshot: [String: Int] {
        lock.withLock { Dictionary(uniqueKeysWithValues: Counter.allCases.map { ($0.rawValue, values[$0, default: 0]) }) }
    }
}
