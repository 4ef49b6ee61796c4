import Foundation
import OTLPMmapLayout
import OTLPMmapWire

/// Defects the reference collector can carry on purpose (`collect --bug NAME`, hidden), one per
/// defect class the collector testbed must find, so that tests show each is reported by exactly
/// the reader check that names it — as the reference testee carries writer defects.
package enum CollectorBug: String, CaseIterable, Sendable {
    /// Waits on a claimed, never published slot for good (READ-SKIP-HOLE).
    case stallAtHole = "stall-at-hole"
    /// Stops converting a signal's records at the first one that breaks a rule (READ-SKIP-BAD).
    case stopAtBadSlot = "stop-at-bad-slot"
    /// Dies on a SpanEvent with no event, a Measurement with no value or a MetricRef with no
    /// aggregation, as upstream's collector panics (READ-EMPTY-ONEOF).
    case crashOnEmptyOneof = "crash-on-empty-oneof"
    /// Hands every slot back as soon as it is read, before its record is exported, so that a
    /// collector killed meanwhile loses it (READ-AT-LEAST-ONCE).
    case releaseBeforeExport = "release-before-export"
    /// Ignores its checkpoint when restarted, losing the open spans it held (READ-AT-LEAST-ONCE).
    case ignoreCheckpoint = "ignore-checkpoint"
    /// While one signal's export is being retried, holds every other signal's exports back
    /// (READ-SIGNALS-APART).
    case oneQueue = "one-queue"
    /// Never notices that the file was re-created or reset (READ-FOLLOW-RESET).
    case ignoreReset = "ignore-reset"
    /// Retries a refused export after 10 ms, whatever the receiver asked (READ-RETRY).
    case retryAtOnce = "retry-at-once"
    /// Sends a request answered partial_success once more (READ-PARTIAL-SUCCESS).
    case resendPartial = "resend-partial"
    /// Never hands a slot back to writers (READ-KEEP-UP).
    case holdSlots = "hold-slots"
}

extension CollectorBug {
    /// The crash-on-empty-oneof bug: dies, as a panic would, on a record whose oneof is empty.
    static func crashIfEmptyOneof(_ error: FormatError) {
        guard [RuleID.recSpanEvent, .recMeasurementValue, .recMetricAggregation].contains(error.rule) else { return }
        FileHandle.standardError.write(Data("panic: called `Option::unwrap()` on a `None` value (\(error.rule) at byte \(error.offset))\n".utf8))
        exit(101)
    }
}
