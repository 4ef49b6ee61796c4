import OTLPMmapLayout

/// A metric instrument: its definition is a MetricRef entry written once; each recording is one
/// Measurement record referring to it. The collector aggregates as the definition says.
public struct Instrument: Sendable {
    public let metricRef: Int64
    let writer: TelemetryWriter

    /// Records a value (an increment for counters, the value for gauges and histograms).
    @discardableResult
    public func record(_ value: Int64, attributes: Attributes = .none, spanContext: SpanContext? = nil, time: UInt64? = nil) -> RecordOutcome {
        writer.record(metricRef: metricRef, .long(value), attributes: attributes, spanContext: spanContext, time: time)
    }

    /// Records an integer value; plain integer literals land here.
    @discardableResult
    public func record(_ value: Int, attributes: Attributes = .none, spanContext: SpanContext? = nil, time: UInt64? = nil) -> RecordOutcome {
        record(Int64(value), attributes: attributes, spanContext: spanContext, time: time)
    }

    @discardableResult
    public func record(_ value: Double, attributes: Attributes = .none, spanContext: SpanContext? = nil, time: UInt64? = nil) -> RecordOutcome {
        writer.record(metricRef: metricRef, .double(value), attributes: attributes, spanContext: spanContext, time: time)
    }
}

extension TelemetryWriter {
    private func instrument(_ name: String, description: String, unit: String, scope: Scope?, _ aggregation: MetricRef.AggregationChoice) throws -> Instrument {
        Instrument(metricRef: try metric(MetricRef(name: name, description: description, unit: unit,
                                                   instrumentationScopeRef: (scope ?? defaultScope).ref, aggregation: aggregation)),
                   writer: self)
    }

    /// A monotonic sum: recordings are non-negative increments.
    public func counter(_ name: String, description: String = "", unit: String = "", temporality: AggregationTemporality = .cumulative, scope: Scope? = nil) throws -> Instrument {
        try instrument(name, description: description, unit: unit, scope: scope, .sum(Sum(aggregationTemporality: temporality, isMonotonic: true)))
    }

    /// A non-monotonic sum: recordings are increments or decrements.
    public func upDownCounter(_ name: String, description: String = "", unit: String = "", temporality: AggregationTemporality = .cumulative, scope: Scope? = nil) throws -> Instrument {
        try instrument(name, description: description, unit: unit, scope: scope, .sum(Sum(aggregationTemporality: temporality, isMonotonic: false)))
    }

    /// The last recorded value wins.
    public func gauge(_ name: String, description: String = "", unit: String = "", scope: Scope? = nil) throws -> Instrument {
        try instrument(name, description: description, unit: unit, scope: scope, .gauge(Gauge()))
    }

    /// Recordings counted into explicit buckets.
    public func histogram(_ name: String, description: String = "", unit: String = "", boundaries: [Double], temporality: AggregationTemporality = .delta, scope: Scope? = nil) throws -> Instrument {
        try instrument(name, description: description, unit: unit, scope: scope, .histogram(Histogram(aggregationTemporality: temporality, bucketBoundaries: boundaries)))
    }

    /// Recordings counted into exponential buckets.
    public func exponentialHistogram(_ name: String, description: String = "", unit: String = "", maxBuckets: Int64 = 160, maxScale: Int64 = 20, temporality: AggregationTemporality = .delta, scope: Scope? = nil) throws -> Instrument {
        try instrument(name, description: description, unit: unit, scope: scope, .expHist(ExponentialHistogram(aggregationTemporality: temporality, maxBuckets: maxBuckets, maxScale: maxScale)))
    }
}
