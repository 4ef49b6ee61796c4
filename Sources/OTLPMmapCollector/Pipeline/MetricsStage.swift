import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Measurements aggregated per metric and attribute set, reported every metric interval. The
/// ring's slots go back to the writer after a checkpoint holds the series built from them.
struct MetricsStage: PipelineStage {
    static let signal = OTLPEndpoint.Signal.metrics
    static let ring = RingKind.measurements
    static let handsBackAfterExport = false

    private let context: PipelineContext
    private var cache: DictionaryCache?
    private var aggregator: MetricAggregator
    /// Batch id → its data point count, while in flight.
    private var sent: [Int: Int] = [:]
    private var nextBatch = 0
    /// When (monotonic) metrics were last collected.
    private var lastCollect: UInt64 = 0
    /// An export of collected points was cut short by the stop: the state after that collection
    /// must never be checkpointed (it no longer holds those points); the previous checkpoint and
    /// the measurements after it still do.
    private var abandoned = false
    private var reportedOverflow = 0
    var stateChanged = false

    init(_ context: PipelineContext) {
        self.context = context
        aggregator = MetricAggregator(start: 0, maxSeriesPerMetric: context.configuration.maxSeriesPerMetric)
    }

    mutating func begin(_ session: FileSession, now: UInt64) {
        let cache = DictionaryCache(dictionary: session.file.dictionary)
        self.cache = cache
        aggregator = MetricAggregator(start: context.warnings.time.wall(), maxSeriesPerMetric: context.configuration.maxSeriesPerMetric)
        sent = [:]
        abandoned = false
        reportedOverflow = 0
        lastCollect = now
        stateChanged = false
        if let checkpoint = session.restored {
            let malformed = aggregator.restore(checkpoint.metrics, cache: cache)
            if malformed > 0 {
                context.warnings.logger.error("left out \(malformed) metric series of the checkpoint that do not fit the file")
                context.statistics.add(.checkpointsIgnored, malformed, signal: Self.signal)
            }
        }
    }

    mutating func apply(_ record: RawRecord, now: UInt64, wall: UInt64) throws {
        guard let cache else { return }
        let measurement = try record.decode(Measurement.self)
        try aggregator.add(measurement, cache: cache)
        _ = try cache.scope(cache.metric(measurement.metricRef).instrumentationScopeRef)
        context.statistics.add(.overflowMeasurements, aggregator.overflowed - reportedOverflow, signal: Self.signal)
        reportedOverflow = aggregator.overflowed
        for name in aggregator.newlyOverflowed {
            context.warnings.logger.warning("metric \(name) has more than \(context.configuration.maxSeriesPerMetric) attribute sets: measurements with further ones are aggregated into one series marked otel.metric.overflow")
        }
        aggregator.newlyOverflowed = []
    }

    mutating func takeBatches(now: UInt64, wall: UInt64, force: Bool, room: Int) -> [StageBatch] {
        guard let cache, room > 0, force || now - lastCollect >= context.configuration.metricInterval.wholeNanoseconds else { return [] }
        lastCollect = now
        let metrics = aggregator.collect(now: wall, cache: cache)
        guard !metrics.isEmpty else { return [] }
        nextBatch += 1
        sent[nextBatch] = metrics.reduce(0) { $0 + $1.metric.pointCount }
        return [StageBatch(id: nextBatch, request: .metrics(RequestBuilder.metrics(metrics, cache: cache)))]
    }

    mutating func finished(batch: Int, _ outcome: SendOutcome) {
        guard let points = sent.removeValue(forKey: batch) else { return }
        switch outcome {
        case .sent:
            context.statistics.add(.exportedMetricPoints, points, signal: Self.signal)
            stateChanged = true
        case .refused: stateChanged = true
        case .stopped: abandoned = true
        }
    }

    func nextDeadline() -> UInt64? {
        cache == nil ? nil : lastCollect + context.configuration.metricInterval.wholeNanoseconds
    }

    mutating func finishForReset(now: UInt64, wall: UInt64) {}

    var inFlight: Int { sent.count }
    var oldestHeldSequence: Int64? { nil }

    func checkpointSection(now: UInt64) -> CheckpointSection? {
        guard sent.isEmpty, !abandoned else { return nil }
        return .metrics(aggregator.checkpointed())
    }
}

extension OTLPMetric {
    var pointCount: Int {
        switch data {
        case .gauge(let gauge): gauge.dataPoints.count
        case .sum(let sum): sum.dataPoints.count
        case .histogram(let histogram): histogram.dataPoints.count
        case .exponentialHistogram(let histogram): histogram.dataPoints.count
        case .summary(let summary): summary.dataPoints.count
        case nil: 0
        }
    }
}
