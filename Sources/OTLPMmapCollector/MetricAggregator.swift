import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Aggregates measurements per metric and attribute set into OTLP points, as each metric's
/// MetricRef says: sums (monotonic or not), gauges (last value), explicit-bucket histograms and
/// exponential histograms, delta or cumulative. `collect` reports every series and starts the next
/// delta interval.
final class MetricAggregator {
    struct SeriesKey: Hashable {
        let metricRef: Int64
        /// The measurement's attributes as encoded KeyValueRefs: equal bytes, equal attribute set.
        let attributes: [UInt8]

        /// The bytes in one go: the synthesized hash feeds the hasher byte by byte, which showed
        /// up first in the collector's profile (one lookup per measurement).
        func hash(into hasher: inout Hasher) {
            hasher.combine(metricRef)
            attributes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    struct Series {
        var attributes: [OTLPKeyValue]
        var start: UInt64
        var state: State
    }

    enum State {
        case sum(SumState)
        case gauge(value: MeasurementValueKind, time: UInt64)
        case histogram(HistogramState)
        case exponential(ExponentialHistogramState)
    }

    var series: [SeriesKey: Series] = [:]
    /// Metric definitions by reference, resolved once per metric.
    var definitions: [Int64: MetricRef] = [:]
    /// Where each delta interval started.
    var intervalStart: UInt64
    /// The most attribute sets kept per metric. Measurements with further ones go into one series
    /// per metric with the attribute `otel.metric.overflow` (as OpenTelemetry SDKs do at their
    /// cardinality limit): a writer that makes up new attribute sets must not grow the collector's
    /// memory without bound.
    let maxSeriesPerMetric: Int
    /// Series per metric, the overflow series not counted.
    private var seriesCount: [Int64: Int] = [:]
    /// Measurements that went into an overflow series.
    private(set) var overflowed = 0
    /// Names of metrics that reached the limit since the collector last looked (it reports them).
    var newlyOverflowed: [String] = []

    /// The series key of a metric's overflow series: a lone 0xFF is an unfinished varint, so no
    /// measurement's encoded attributes can equal it.
    static let overflowAttributes: [UInt8] = [0xFF]

    init(start: UInt64, maxSeriesPerMetric: Int = 2_000) {
        intervalStart = start
        self.maxSeriesPerMetric = max(1, maxSeriesPerMetric)
    }

    func add(_ measurement: OTLPMmapLayout.Measurement, cache: DictionaryCache) throws {
        let definition = try definitions[measurement.metricRef] ?? cache.metric(measurement.metricRef)
        definitions[measurement.metricRef] = definition
        guard let value = measurement.value.map(MeasurementValueKind.init) else {
            throw FormatError(.recMeasurementValue, at: 0, "measurement of \(definition.name) without a value")
        }
        guard let aggregation = definition.aggregation else {
            throw FormatError(.recMetricAggregation, at: 0, "metric \(definition.name) names no aggregation")
        }
        var key = SeriesKey(metricRef: measurement.metricRef, attributes: encoded(measurement.attributes))
        var entry: Series
        if let existing = series[key] {
            entry = existing
        } else {
            let start = Self.isCumulative(aggregation) ? measurement.timeUnixNano : intervalStart
            if seriesCount[key.metricRef, default: 0] >= maxSeriesPerMetric {
                key = SeriesKey(metricRef: key.metricRef, attributes: Self.overflowAttributes)
                overflowed += 1
                if let existing = series[key] {
                    entry = existing
                } else {
                    newlyOverflowed.append(definition.name)
                    entry = Series(attributes: [SpanAssembler.marker("otel.metric.overflow")], start: start, state: Self.emptyState(aggregation))
                }
            } else {
                entry = Series(attributes: try cache.keyValues(measurement.attributes), start: start, state: Self.emptyState(aggregation))
                seriesCount[key.metricRef, default: 0] += 1
            }
        }
        entry.state.record(value, at: measurement.timeUnixNano)
        series[key] = entry
    }

    /// Counts the series per metric again, after some were removed or restored.
    func recountSeries() {
        seriesCount = [:]
        for key in series.keys where key.attributes != Self.overflowAttributes {
            seriesCount[key.metricRef, default: 0] += 1
        }
    }

    /// Every series as OTLP metrics at `now`, with each metric's scope reference; delta series
    /// start over.
    func collect(now: UInt64, cache: DictionaryCache) -> [(scopeRef: Int64, metric: OTLPMetric)] {
        var byMetric: [Int64: OTLPMetric] = [:]
        for (key, entry) in series.sorted(by: { $0.key.metricRef < $1.key.metricRef }) {
            guard let definition = definitions[key.metricRef], let aggregation = definition.aggregation else { continue }
            var metric = byMetric[key.metricRef] ?? Self.emptyMetric(definition, aggregation)
            entry.state.appendPoint(to: &metric, attributes: entry.attributes, start: entry.start, time: now)
            byMetric[key.metricRef] = metric
            if !Self.isCumulative(aggregation) { series[key] = nil }
        }
        recountSeries()
        intervalStart = now
        return byMetric.sorted { $0.key < $1.key }.map { (definitions[$0.key]!.instrumentationScopeRef, $0.value) }
    }

    private func encoded(_ attributes: [KeyValueRef]) -> [UInt8] {
        let size = attributes.reduce(0) { $0 + lengthDelimitedSize($1.encodedSize) }
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(raw)
            for attribute in attributes {
                writer.writeVarint(UInt64(attribute.encodedSize))
                attribute.encode(to: &writer)
            }
        }
        return bytes
    }

    static func isCumulative(_ aggregation: MetricRef.AggregationChoice) -> Bool {
        switch aggregation {
        case .gauge: false
        case .sum(let sum): sum.aggregationTemporality == .cumulative
        case .histogram(let histogram): histogram.aggregationTemporality == .cumulative
        case .expHist(let histogram): histogram.aggregationTemporality == .cumulative
        }
    }

    static func emptyState(_ aggregation: MetricRef.AggregationChoice) -> State {
        switch aggregation {
        case .gauge: .gauge(value: .long(0), time: 0)
        case .sum: .sum(SumState())
        case .histogram(let histogram): .histogram(HistogramState(bounds: histogram.bucketBoundaries))
        case .expHist(let histogram): .exponential(ExponentialHistogramState(maxBuckets: Int(histogram.maxBuckets), maxScale: Int(histogram.maxScale)))
        }
    }

    static func emptyMetric(_ definition: MetricRef, _ aggregation: MetricRef.AggregationChoice) -> OTLPMetric {
        var metric = OTLPMetric()
        metric.name = definition.name
        metric.description_p = definition.description
        metric.unit = definition.unit
        switch aggregation {
        case .gauge:
            metric.gauge = .init()
        case .sum(let sum):
            metric.sum.aggregationTemporality = temporality(sum.aggregationTemporality)
            metric.sum.isMonotonic = sum.isMonotonic
        case .histogram(let histogram):
            metric.histogram.aggregationTemporality = temporality(histogram.aggregationTemporality)
        case .expHist(let histogram):
            metric.exponentialHistogram.aggregationTemporality = temporality(histogram.aggregationTemporality)
        }
        return metric
    }

    static func temporality(_ value: AggregationTemporality) -> Opentelemetry_Proto_Metrics_V1_AggregationTemporality {
        Opentelemetry_Proto_Metrics_V1_AggregationTemporality(rawValue: Int(value.rawValue)) ?? .unspecified
    }
}

/// A measured value: integers stay integers until a double arrives.
enum MeasurementValueKind {
    case long(Int64)
    case double(Double)

    init(_ choice: OTLPMmapLayout.Measurement.ValueChoice) {
        switch choice {
        case .asLong(let value): self = .long(value)
        case .asDouble(let value): self = .double(value)
        }
    }

    var asDouble: Double {
        switch self {
        case .long(let value): Double(value)
        case .double(let value): value
        }
    }
}

struct SumState {
    var integer: Int64 = 0
    var floating: Double = 0
    var isInteger = true

    mutating func add(_ value: MeasurementValueKind) {
        switch value {
        case .long(let number) where isInteger:
            integer &+= number
        case .long(let number):
            floating += Double(number)
        case .double(let number):
            if isInteger {
                floating = Double(integer)
                isInteger = false
            }
            floating += number
        }
    }
}

/// Count, sum, minimum and maximum of the values a histogram saw: what both kinds report besides
/// their buckets.
struct ValueSummary {
    var count: UInt64 = 0
    var sum: Double = 0
    var min = Double.infinity
    var max = -Double.infinity

    mutating func add(_ value: Double) {
        count += 1
        sum += value
        min = Swift.min(min, value)
        max = Swift.max(max, value)
    }
}

struct HistogramState {
    let bounds: [Double]
    var counts: [UInt64]
    var summary = ValueSummary()

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = [UInt64](repeating: 0, count: bounds.count + 1)
    }

    /// Bucket i holds values in (bounds[i-1], bounds[i]]; the last one everything above.
    mutating func add(_ value: Double) {
        let index = bounds.firstIndex { value <= $0 } ?? bounds.count
        counts[index] += 1
        summary.add(value)
    }
}

/// Base-2 exponential buckets: at scale s, bucket i holds (2^(i/2^s), 2^((i+1)/2^s)]. The scale
/// starts at `maxScale` and drops by one (merging neighbour buckets) whenever the values would need
/// more than `maxBuckets` buckets on one side.
struct ExponentialHistogramState {
    let maxBuckets: Int
    var scale: Int
    var positive: [Int: UInt64] = [:]
    var negative: [Int: UInt64] = [:]
    var zeroCount: UInt64 = 0
    var summary = ValueSummary()

    init(maxBuckets: Int, maxScale: Int) {
        self.maxBuckets = Swift.max(2, maxBuckets == 0 ? 160 : maxBuckets)
        scale = Swift.min(20, Swift.max(-10, maxScale == 0 ? 20 : maxScale))
    }

    static func index(of magnitude: Double, scale: Int) -> Int {
        Int((log2(magnitude) * pow(2, Double(scale))).rounded(.up)) - 1
    }

    mutating func add(_ value: Double) {
        summary.add(value)
        guard value != 0, value.isFinite else {
            zeroCount += 1
            return
        }
        let magnitude = abs(value)
        while true {
            let index = Self.index(of: magnitude, scale: scale)
            let side = value > 0 ? positive : negative
            let low = Swift.min(side.keys.min() ?? index, index), high = Swift.max(side.keys.max() ?? index, index)
            if high - low + 1 <= maxBuckets || scale <= -10 {
                if value > 0 { positive[index, default: 0] += 1 } else { negative[index, default: 0] += 1 }
                return
            }
            downscale()
        }
    }

    /// Halves the resolution: bucket i becomes bucket i >> 1 (floor division).
    mutating func downscale() {
        scale -= 1
        positive = Dictionary(positive.map { ($0.key >> 1, $0.value) }, uniquingKeysWith: +)
        negative = Dictionary(negative.map { ($0.key >> 1, $0.value) }, uniquingKeysWith: +)
    }

    static func buckets(_ counts: [Int: UInt64]) -> OTLPExponentialHistogramDataPoint.Buckets {
        var buckets = OTLPExponentialHistogramDataPoint.Buckets()
        guard let low = counts.keys.min(), let high = counts.keys.max() else { return buckets }
        buckets.offset = Int32(clamping: low)
        buckets.bucketCounts = (low...high).map { counts[$0] ?? 0 }
        return buckets
    }
}

extension MetricAggregator.State {
    mutating func record(_ value: MeasurementValueKind, at time: UInt64) {
        switch self {
        case .sum(var state):
            state.add(value)
            self = .sum(state)
        case .gauge(_, let last):
            if time >= last { self = .gauge(value: value, time: time) }
        case .histogram(var state):
            state.add(value.asDouble)
            self = .histogram(state)
        case .exponential(var state):
            state.add(value.asDouble)
            self = .exponential(state)
        }
    }

    func appendPoint(to metric: inout OTLPMetric, attributes: [OTLPKeyValue], start: UInt64, time: UInt64) {
        switch self {
        case .sum(let state):
            var point = OTLPNumberDataPoint()
            point.attributes = attributes
            point.startTimeUnixNano = start
            point.timeUnixNano = time
            if state.isInteger { point.asInt = state.integer } else { point.asDouble = state.floating }
            metric.sum.dataPoints.append(point)
        case .gauge(let value, let measured):
            var point = OTLPNumberDataPoint()
            point.attributes = attributes
            point.timeUnixNano = measured
            switch value {
            case .long(let number): point.asInt = number
            case .double(let number): point.asDouble = number
            }
            metric.gauge.dataPoints.append(point)
        case .histogram(let state):
            var point = OTLPHistogramDataPoint()
            point.attributes = attributes
            point.startTimeUnixNano = start
            point.timeUnixNano = time
            point.count = state.summary.count
            point.sum = state.summary.sum
            point.bucketCounts = state.counts
            point.explicitBounds = state.bounds
            if state.summary.count > 0 {
                point.min = state.summary.min
                point.max = state.summary.max
            }
            metric.histogram.dataPoints.append(point)
        case .exponential(let state):
            var point = OTLPExponentialHistogramDataPoint()
            point.attributes = attributes
            point.startTimeUnixNano = start
            point.timeUnixNano = time
            point.count = state.summary.count
            point.sum = state.summary.sum
            point.scale = Int32(state.scale)
            point.zeroCount = state.zeroCount
            point.positive = ExponentialHistogramState.buckets(state.positive)
            point.negative = ExponentialHistogramState.buckets(state.negative)
            if state.summary.count > 0 {
                point.min = state.summary.min
                point.max = state.summary.max
            }
            metric.exponentialHistogram.dataPoints.append(point)
        }
    }
}
