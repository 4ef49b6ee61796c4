import Foundation
import OTLPMmapConformance
import OTLPMmapReceiver

/// Compares what arrived with what the file holds. A record that never arrived fails `missing`
/// (the check the scenario is about, READ-CONTENT by default); one that arrived altered fails
/// READ-CONTENT; one the file does not hold, or one that arrived twice when the collector was never
/// restarted, fails READ-NOTHING-ELSE.
struct ExportComparison {
    var missing: ReaderCheck = .readContent
    /// The attribute a collector that follows the reference one puts on a span it exports from its
    /// end alone, its start never read.
    static let startMissingMarker = "otlp_mmap.start_missing"
    /// Whether the scenario restarted the collector: then duplicates are at least once, not a failure.
    var restarted = false

    /// Whether everything `expected` holds for `signals` has arrived (what a wait step waits for).
    static func complete(_ expected: ExpectedExport, _ arrived: ArrivedExport, signals: Set<OTLPSignal>) -> Bool {
        if signals.contains(.traces) {
            let spans = Set(arrived.spans.map { $0.traceID + $0.spanID })
            guard expected.spans.allSatisfy({ spans.contains($0.traceID + $0.spanID) }) else { return false }
        }
        if signals.contains(.logs) {
            let records = Set(arrived.logRecords.map { "\($0.time)/\($0.body)" })
            guard expected.logRecords.allSatisfy({ records.contains("\($0.time)/\($0.body)") }) else { return false }
        }
        if signals.contains(.metrics) {
            for (key, series) in expected.series {
                guard let metric = expected.metrics[key.metric], let points = arrived.points[key],
                      let got = combined(points, metric), got.count == series.count || metric.kind == .sum || metric.kind == .gauge,
                      metric.kind == .histogram || metric.kind == .exponentialHistogram || got.value == series.value
                else { return false }
            }
        }
        return true
    }

    func failures(_ expected: ExpectedExport, _ arrived: ArrivedExport) -> [CheckFailure] {
        var failures: [CheckFailure] = []
        func fail(_ check: ReaderCheck, _ message: String) { failures.append(CheckFailure(check, message)) }

        for (resource, _) in arrived.resources.sorted(by: { $0.key < $1.key }) where resource != expected.resource {
            fail(.readContent, "a request names the resource {\(resource)}, but the file's resource is {\(expected.resource)}")
        }

        for span in expected.spans {
            let matching = arrived.spans.filter { $0.spanID == span.spanID && $0.traceID == span.traceID }
            guard let got = matching.first else {
                fail(missing, "span '\(span.name)' (span_id \(span.spanID)) never arrived")
                continue
            }
            if matching.count > 1, !restarted { fail(.readNothingElse, "span '\(span.name)' (span_id \(span.spanID)) arrived \(matching.count) times") }
            // After a restart a copy may be whole and another not: one whole copy is enough.
            if restarted, matching.contains(where: { Self.differences(span, $0).isEmpty }) { continue }
            // A span exported from its end alone (the collector marks it) lost its start record:
            // that part never arrived, which is what the scenario is about, not an altered field.
            if matching.allSatisfy({ $0.attributes.contains(Self.startMissingMarker) }), !span.attributes.contains(Self.startMissingMarker) {
                fail(missing, "span '\(span.name)' (span_id \(span.spanID)): its start never arrived (exported from its end alone, \(Self.startMissingMarker))")
                continue
            }
            for difference in Self.differences(span, got) {
                fail(.readContent, "span '\(span.name)' (span_id \(span.spanID)) arrived altered: \(difference)")
            }
        }
        let known = Set((expected.spans + expected.openSpans).map { $0.traceID + $0.spanID })
        for extra in arrived.spans where !known.contains(extra.traceID + extra.spanID) {
            fail(.readNothingElse, "span '\(extra.name)' (span_id \(extra.spanID)) arrived, but the file holds no such span")
        }

        for record in expected.logRecords {
            let matching = arrived.logRecords.filter { $0.time == record.time && $0.body == record.body }
            guard let got = matching.first else {
                fail(missing, "the log record \(record.body) at \(record.time) never arrived")
                continue
            }
            if matching.count > 1, !restarted { fail(.readNothingElse, "the log record \(record.body) at \(record.time) arrived \(matching.count) times") }
            for difference in Self.differences(record, got) {
                fail(.readContent, "the log record \(record.body) at \(record.time) arrived altered: \(difference)")
            }
        }
        for extra in arrived.logRecords where !expected.logRecords.contains(where: { $0.time == extra.time && $0.body == extra.body }) {
            fail(.readNothingElse, "a log record \(extra.body) at \(extra.time) arrived, but the file holds no such record")
        }

        for (name, metric) in expected.metrics.sorted(by: { $0.key < $1.key }) where expected.series.keys.contains(where: { $0.metric == name }) {
            guard let got = arrived.metrics[name] else {
                fail(missing, "the metric '\(name)' never arrived")
                continue
            }
            for difference in Self.differences(metric, got) { fail(.readContent, "the metric '\(name)' arrived altered: \(difference)") }
        }
        for (key, series) in expected.series.sorted(by: { $0.key < $1.key }) {
            guard let metric = expected.metrics[key.metric], arrived.metrics[key.metric] != nil else { continue }
            guard let points = arrived.points[key], let got = Self.combined(points, metric) else {
                fail(missing, "the series \(key) never arrived")
                continue
            }
            for difference in Self.differences(series, got, metric, points) {
                fail(.readContent, "the series \(key) arrived as \(difference)")
            }
        }
        for key in arrived.points.keys.sorted() where expected.series[key] == nil {
            fail(.readNothingElse, "the series \(key) arrived, but the file holds no measurement of it")
        }
        return failures
    }

    // MARK: fields

    static func differences(_ expected: ExpectedExport.Span, _ got: ExpectedExport.Span) -> [String] {
        var out: [String] = []
        func check<Value: Equatable>(_ field: String, _ want: Value, _ have: Value) {
            if want != have { out.append("\(field) expected \(want), got \(have)") }
        }
        check("name", expected.name, got.name)
        check("parent_span_id", expected.parentSpanID, got.parentSpanID)
        check("kind", expected.kind, got.kind)
        check("start_time_unix_nano", expected.start, got.start)
        check("end_time_unix_nano", expected.end, got.end)
        check("status.code", expected.statusCode, got.statusCode)
        check("status.message", expected.statusMessage, got.statusMessage)
        check("attributes", expected.attributes, got.attributes)
        check("links", expected.links, got.links)
        check("scope", expected.scope, got.scope)
        return out
    }

    static func differences(_ expected: ExpectedExport.LogRecord, _ got: ExpectedExport.LogRecord) -> [String] {
        var out: [String] = []
        func check<Value: Equatable>(_ field: String, _ want: Value, _ have: Value) {
            if want != have { out.append("\(field) expected \(want), got \(have)") }
        }
        check("severity_number", expected.severity, got.severity)
        check("severity_text", expected.severityText, got.severityText)
        check("attributes", expected.attributes, got.attributes)
        check("event_name", expected.eventName, got.eventName)
        check("trace_id", expected.traceID, got.traceID)
        check("span_id", expected.spanID, got.spanID)
        check("scope", expected.scope, got.scope)
        return out
    }

    static func differences(_ expected: ExpectedExport.Metric, _ got: ExpectedExport.Metric) -> [String] {
        var out: [String] = []
        func check<Value: Equatable>(_ field: String, _ want: Value, _ have: Value) {
            if want != have { out.append("\(field) expected \(want), got \(have)") }
        }
        check("type", expected.kind.rawValue, got.kind.rawValue)
        check("description", expected.description, got.description)
        check("unit", expected.unit, got.unit)
        check("aggregation_temporality", expected.temporality, got.temporality)
        if expected.kind == .sum { check("is_monotonic", expected.monotonic, got.monotonic) }
        if expected.kind == .histogram { check("explicit_bounds", expected.boundaries, got.boundaries) }
        check("scope", expected.scope, got.scope)
        return out
    }

    /// What a series' points come to: the last point when they are cumulative (or a gauge's), their
    /// total when they are deltas.
    static func combined(_ points: [ArrivedExport.Point], _ metric: ExpectedExport.Metric) -> ArrivedExport.Point? {
        guard var total = points.first else { return nil }
        if metric.kind == .gauge || metric.temporality != 1 {
            return points.enumerated().max { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }?.element
        }
        for point in points.dropFirst() {
            total.count += point.count
            total.value = total.value.adding(point.value)
            total.min = [total.min, point.min].compactMap { $0 }.min()
            total.max = [total.max, point.max].compactMap { $0 }.max()
            total.zeroCount += point.zeroCount
            if total.bucketCounts.count == point.bucketCounts.count {
                total.bucketCounts = zip(total.bucketCounts, point.bucketCounts).map { $0 + $1 }
            }
        }
        return total
    }

    static func differences(_ expected: ExpectedExport.Series, _ got: ArrivedExport.Point, _ metric: ExpectedExport.Metric,
                            _ points: [ArrivedExport.Point]) -> [String] {
        var out: [String] = []
        switch metric.kind {
        case .sum, .gauge:
            if got.value != expected.value {
                out.append("\(got.value), but the measurements \(metric.kind == .gauge ? "end with" : "add up to") \(expected.value)")
            }
        case .histogram, .exponentialHistogram:
            if got.count != expected.count { out.append("count \(got.count), but \(expected.count) values were recorded") }
            // The values were added in the order they were written, as a reader adds them.
            if got.value.asDouble != expected.value.asDouble { out.append("sum \(got.value), but the values add up to \(expected.value)") }
            if let min = got.min, min != expected.min { out.append("min \(min), but the least value is \(expected.min)") }
            if let max = got.max, max != expected.max { out.append("max \(max), but the greatest value is \(expected.max)") }
            if metric.kind == .histogram, got.bucketCounts != expected.bucketCounts {
                out.append("bucket_counts \(got.bucketCounts), but the values fall into \(expected.bucketCounts)")
            }
            if metric.kind == .exponentialHistogram, points.count == 1 {
                out += ExponentialBuckets.differences(expected.values, got)
            }
        }
        return out
    }
}

/// Where values land in an exponential histogram of a given scale (OTLP: bucket `index` of base
/// 2^(2^-scale) holds (base^index, base^(index+1)]), to check the buckets a reader exported.
enum ExponentialBuckets {
    static func index(_ magnitude: Double, scale: Int) -> Int {
        let (mantissa, exponent) = frexp(magnitude)  // magnitude = mantissa · 2^exponent, mantissa in [0.5, 1)
        let exactPower = mantissa == 0.5
        if scale <= 0 {
            // Powers of two are exact: 2^k lies in bucket ceil(k / 2^-scale) - 1.
            let log = exactPower ? exponent - 2 : exponent - 1
            return log >> -scale
        }
        if exactPower { return ((exponent - 1) << scale) - 1 }
        return Int((log2(magnitude) * Double(1 << scale)).rounded(.up)) - 1
    }

    static func differences(_ values: [Double], _ point: ArrivedExport.Point) -> [String] {
        var positive: [Int: UInt64] = [:], negative: [Int: UInt64] = [:], zero: UInt64 = 0
        for value in values {
            if value == 0 { zero += 1 } else if value > 0 { positive[index(value, scale: Int(point.scale)), default: 0] += 1 } else {
                negative[index(-value, scale: Int(point.scale)), default: 0] += 1
            }
        }
        func got(_ side: (offset: Int32, counts: [UInt64])) -> [Int: UInt64] {
            var out: [Int: UInt64] = [:]
            for (position, count) in side.counts.enumerated() where count > 0 { out[Int(side.offset) + position] = count }
            return out
        }
        var out: [String] = []
        if zero != point.zeroCount { out.append("zero_count \(point.zeroCount), but \(zero) values were 0") }
        if positive != got(point.positive) {
            out.append("positive buckets \(got(point.positive).sorted { $0.key < $1.key }) at scale \(point.scale), but the values fall into \(positive.sorted { $0.key < $1.key })")
        }
        if negative != got(point.negative) {
            out.append("negative buckets \(got(point.negative).sorted { $0.key < $1.key }) at scale \(point.scale), but the values fall into \(negative.sorted { $0.key < $1.key })")
        }
        return out
    }
}
