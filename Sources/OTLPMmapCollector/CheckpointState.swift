import Foundation
import OTLPMmapLayout
import OTLPProto

// The collector's state to and from checkpoint messages. Restoring treats the checkpoint as
// untrusted like any other input: an entry that does not fit (wrong id sizes, a metric reference
// the file's dictionary does not resolve, state of another aggregation than the metric's) is left
// out and counted, never trusted into a crash later.

typealias CheckpointOpenSpan = OtlpMmap_Collector_V1_OpenSpan
typealias CheckpointPendingSpan = OtlpMmap_Collector_V1_PendingSpan
typealias CheckpointMetricState = OtlpMmap_Collector_V1_MetricState
typealias CheckpointSeries = OtlpMmap_Collector_V1_MetricSeries

extension CheckpointOpenSpan {
    /// How long the span had been idle when `checkpoint` was written. Version 1 kept wall-clock
    /// instants; their difference is the age they meant.
    func idleAge(in checkpoint: Checkpoint) -> UInt64 {
        guard checkpoint.version == 1 else { return idleNanos }
        return checkpoint.writtenUnixNano >= lastSeenUnixNano ? checkpoint.writtenUnixNano - lastSeenUnixNano : 0
    }
}

extension SpanAssembler {
    /// Open spans (oldest event first, so that checkpoints of the same state are equal), each with
    /// its idle age at `now` (monotonic), and finished ones not yet exported (`extra`: those
    /// whose export is still in flight).
    func checkpointed(now: UInt64, extra: [(scopeRef: Int64, span: AssembledSpan)] = []) -> (open: [CheckpointOpenSpan], finished: [CheckpointPendingSpan]) {
        let open = open.values
            .sorted { $0.lastSeen != $1.lastSeen ? $0.lastSeen < $1.lastSeen : $0.span.identity.spanBytes.lexicographicallyPrecedes($1.span.identity.spanBytes) }
            .map { entry in
                CheckpointOpenSpan.with {
                    $0.span = entry.span.otlp
                    $0.scopeRef = entry.scopeRef
                    $0.idleNanos = now >= entry.lastSeen ? now - entry.lastSeen : 0
                    $0.startMissing = entry.startMissing
                }
            }
        let finished = (extra + finished).map { entry in
            CheckpointPendingSpan.with {
                $0.span = entry.span.otlp
                $0.scopeRef = entry.scopeRef
            }
        }
        return (open, finished)
    }

    /// Takes over the spans of a checkpoint, their last event `idle` before `now` (monotonic);
    /// returns how many were left out as malformed.
    func restore(open restored: [CheckpointOpenSpan], finished restoredFinished: [CheckpointPendingSpan], now: UInt64,
                 idle: (CheckpointOpenSpan) -> UInt64) -> Int {
        var malformed = 0
        for entry in restored {
            guard let span = AssembledSpan(entry.span) else {
                malformed += 1
                continue
            }
            let age = idle(entry)
            open[span.identity] = OpenSpan(span: span, scopeRef: entry.scopeRef, lastSeen: now >= age ? now - age : 0, startMissing: entry.startMissing)
        }
        for entry in restoredFinished {
            guard let span = AssembledSpan(entry.span) else {
                malformed += 1
                continue
            }
            finished.append((entry.scopeRef, span))
        }
        return malformed
    }
}

extension MetricAggregator {
    func checkpointed() -> CheckpointMetricState {
        CheckpointMetricState.with { state in
            state.intervalStartUnixNano = intervalStart
            state.series = series
                .sorted { $0.key.metricRef != $1.key.metricRef ? $0.key.metricRef < $1.key.metricRef : $0.key.attributes.lexicographicallyPrecedes($1.key.attributes) }
                .map { key, entry in
                    CheckpointSeries.with {
                        $0.metricRef = key.metricRef
                        $0.attributeRefs = Data(key.attributes)
                        $0.attributes = entry.attributes
                        $0.startTimeUnixNano = entry.start
                        $0.state = entry.state.checkpointed
                    }
                }
        }
    }

    /// Takes over the series of a checkpoint, each checked against its metric's definition in the
    /// file's dictionary; returns how many were left out because they do not fit it.
    func restore(_ state: CheckpointMetricState, cache: DictionaryCache) -> Int {
        intervalStart = state.intervalStartUnixNano
        var malformed = 0
        for entry in state.series {
            guard let definition = try? definitions[entry.metricRef] ?? cache.metric(entry.metricRef),
                  let aggregation = definition.aggregation,
                  let restored = State(checkpointed: entry.state, aggregation: aggregation) else {
                malformed += 1
                continue
            }
            definitions[entry.metricRef] = definition
            let key = SeriesKey(metricRef: entry.metricRef, attributes: [UInt8](entry.attributeRefs))
            series[key] = Series(attributes: entry.attributes, start: entry.startTimeUnixNano, state: restored)
        }
        recountSeries()
        return malformed
    }
}

extension MetricAggregator.State {
    var checkpointed: CheckpointSeries.OneOf_State {
        switch self {
        case .sum(let state):
            .sum(.with { $0.value = state.isInteger ? .asInt(state.integer) : .asDouble(state.floating) })
        case .gauge(let value, let time):
            .gauge(.with {
                switch value {
                case .long(let number): $0.asInt = number
                case .double(let number): $0.asDouble = number
                }
                $0.timeUnixNano = time
            })
        case .histogram(let state):
            .histogram(.with {
                $0.explicitBounds = state.bounds
                $0.bucketCounts = state.counts
                $0.count = state.summary.count
                $0.sum = state.summary.sum
                $0.min = state.summary.min
                $0.max = state.summary.max
            })
        case .exponential(let state):
            .exponentialHistogram(.with {
                $0.maxBuckets = Int32(clamping: state.maxBuckets)
                $0.scale = Int32(state.scale)
                $0.positive = Dictionary(uniqueKeysWithValues: state.positive.map { (Int32(clamping: $0.key), $0.value) })
                $0.negative = Dictionary(uniqueKeysWithValues: state.negative.map { (Int32(clamping: $0.key), $0.value) })
                $0.zeroCount = state.zeroCount
                $0.count = state.summary.count
                $0.sum = state.summary.sum
                $0.min = state.summary.min
                $0.max = state.summary.max
            })
        }
    }

    /// The state a checkpoint holds, if it is of the kind `aggregation` needs and consistent with
    /// it (the same bucket bounds, a scale and bucket span the aggregation allows).
    init?(checkpointed: CheckpointSeries.OneOf_State?, aggregation: MetricRef.AggregationChoice) {
        let empty = MetricAggregator.emptyState(aggregation)
        switch (empty, checkpointed) {
        case (.sum, .sum(let stored)):
            var state = SumState()
            switch stored.value {
            case .asInt(let number): state.integer = number
            case .asDouble(let number): state.floating = number; state.isInteger = false
            case nil: break
            }
            self = .sum(state)
        case (.gauge, .gauge(let stored)):
            let value: MeasurementValueKind = switch stored.value {
            case .asDouble(let number): .double(number)
            case .asInt(let number): .long(number)
            case nil: .long(0)
            }
            self = .gauge(value: value, time: stored.timeUnixNano)
        case (.histogram(var state), .histogram(let stored)):
            guard stored.explicitBounds == state.bounds, stored.bucketCounts.count == state.counts.count else { return nil }
            state.counts = stored.bucketCounts
            state.summary = ValueSummary(count: stored.count, sum: stored.sum, min: stored.min, max: stored.max)
            self = .histogram(state)
        case (.exponential(var state), .exponentialHistogram(let stored)):
            let scale = Int(stored.scale)
            guard scale <= state.scale, scale >= -10,
                  Self.spanFits(stored.positive, state.maxBuckets), Self.spanFits(stored.negative, state.maxBuckets) else { return nil }
            state.scale = scale
            state.positive = Dictionary(uniqueKeysWithValues: stored.positive.map { (Int($0.key), $0.value) })
            state.negative = Dictionary(uniqueKeysWithValues: stored.negative.map { (Int($0.key), $0.value) })
            state.zeroCount = stored.zeroCount
            state.summary = ValueSummary(count: stored.count, sum: stored.sum, min: stored.min, max: stored.max)
            self = .exponential(state)
        default:
            return nil
        }
    }

    /// Whether the buckets span no more than `maxBuckets` indices (what `add` keeps them to; a
    /// wider span would make the exported bucket array as large as a hostile checkpoint likes).
    private static func spanFits(_ buckets: [Int32: UInt64], _ maxBuckets: Int) -> Bool {
        guard let low = buckets.keys.min(), let high = buckets.keys.max() else { return true }
        return Int(high) - Int(low) + 1 <= maxBuckets
    }
}
