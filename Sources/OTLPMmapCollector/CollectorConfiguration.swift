import Foundation

/// How the collector reads a file and batches what it exports.
public struct CollectorConfiguration: Sendable {
    public var path: String
    /// Records per export request (logs, finished spans).
    public var batchSize: Int = 512
    /// The longest a read record waits for its batch to fill.
    public var batchTimeout: Duration = .milliseconds(200)
    /// How often metrics are reported (OTEL_METRIC_EXPORT_INTERVAL).
    public var metricInterval: Duration = .seconds(60)
    /// How long a claimed but unpublished slot may block its ring before it is skipped: the writer
    /// that claimed it has most likely died (RING-HOLE).
    public var holeTimeout: Duration = .seconds(1)
    /// How long a span may stay open without any event before it is exported unfinished.
    public var spanTimeout: Duration = .seconds(300)
    /// The most spans kept open; beyond it the least recently seen are exported unfinished.
    public var maxOpenSpans: Int = 65_536
    /// The most attribute sets per metric; measurements with further ones are aggregated into one
    /// series marked `otel.metric.overflow`.
    public var maxSeriesPerMetric: Int = 2_000
    /// The longest sleep when there is nothing to read; the wait doubles up to it from 50 µs, so it
    /// is reached after about 0.4 s without a record. Each wake-up costs the scheduler more than the
    /// poll itself: measured from /proc on this 2-core VM (release), an idle `collect` used 0.47 % of
    /// a core at 50 ms, 0.27 % at 100 ms and 0.13 % at 200 ms. The price: the first records after
    /// a long pause wait up to this long, so a ring must hold what a writer bursts in that time.
    public var maxIdleWait: Duration = .milliseconds(200)
    /// First and longest wait between attempts of a failed export that may succeed later.
    public var retryInitialWait: Duration = .milliseconds(100)
    public var retryMaxWait: Duration = .seconds(5)
    /// Export requests of one signal in flight at once (each retried on its own).
    public var maxInFlight: Int = 4
    /// Chunks of read records (each up to `batchSize`) waiting for their signal's pipeline; when
    /// that many wait, the reader leaves the signal's ring alone until the pipeline catches up.
    package var queueCapacity: Int = 8
    /// The most records of one signal the collector holds read but not exported while its receiver
    /// refuses (memory stays bounded; the writer finds the ring full instead): `queueCapacity`
    /// chunks waiting, `maxInFlight` requests being retried, and at most two batches filling.
    /// Open spans and metric series are bounded apart (`maxOpenSpans`, `maxSeriesPerMetric`).
    package var heldRecordsPerSignal: Int { (queueCapacity + maxInFlight + 2) * batchSize }
    /// How long a stopping collector keeps trying to export what it holds.
    public var shutdownTimeout: Duration = .seconds(5)
    /// Where the collector keeps what it read from the span and measurement rings but has not
    /// exported (open spans, metric state), so that a restarted collector resumes from it. Nil keeps
    /// that state in memory only: a killed collector then loses open spans and the current metric
    /// interval. Default: the file's path with `.checkpoint` appended.
    public var checkpointPath: String?
    /// A defect planted on purpose, for the collector testbed's own tests (`collect --bug`).
    package var bug: CollectorBug?
    /// The longest a read span or measurement waits for a checkpoint (and its ring slot for
    /// release) while records arrive; a half-full ring or an export checkpoints at once.
    public var checkpointInterval: Duration = .seconds(1)

    public init(path: String) {
        self.path = path
        checkpointPath = path + ".checkpoint"
    }

    /// Applies OTEL_METRIC_EXPORT_INTERVAL (milliseconds) and OTEL_BSP_SCHEDULE_DELAY /
    /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, the standard variables for the same settings. A value that
    /// is not a positive whole number is not used; each one is returned, with what was used instead.
    @discardableResult
    public mutating func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [ConfigurationWarning] {
        var warnings: [ConfigurationWarning] = []
        func positive(_ name: String, current: String) -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                warnings.append(ConfigurationWarning(name: name, value: text, problem: "not a positive whole number", used: current))
                return nil
            }
            return value
        }
        if let value = positive("OTEL_METRIC_EXPORT_INTERVAL", current: "\(metricInterval)") { metricInterval = .milliseconds(value) }
        if let value = positive("OTEL_BSP_SCHEDULE_DELAY", current: "\(batchTimeout)") { batchTimeout = .milliseconds(value) }
        if let value = positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", current: "\(batchSize)") { batchSize = value }
        return warnings
    }

    /// Settings given one by one (command-line flags), each nil when not given: applied over the
    /// defaults and the environment. A value out of range is raised to the least the collector
    /// takes, and returned as a warning.
    package struct Overrides: Sendable {
        package var batchSize: Int?
        package var batchTimeoutMilliseconds: Int?
        package var metricIntervalMilliseconds: Int?
        package var holeTimeoutMilliseconds: Int?
        package var spanTimeoutSeconds: Int?
        package var maxOpenSpans: Int?
        package var maxSeriesPerMetric: Int?
        package var checkpointIntervalMilliseconds: Int?
        package var shutdownTimeoutMilliseconds: Int?
        package var maxIdleWaitMilliseconds: Int?
        package init() {}
    }

    @discardableResult
    package mutating func apply(_ overrides: Overrides) -> [ConfigurationWarning] {
        var warnings: [ConfigurationWarning] = []
        func atLeast(_ least: Int, _ value: Int?, _ name: String, unit: String = "") -> Int? {
            guard let value else { return nil }
            guard value >= least else {
                warnings.append(ConfigurationWarning(name: name, value: "\(value)", problem: "less than \(least)", used: "\(least)\(unit)"))
                return least
            }
            return value
        }
        if let value = atLeast(1, overrides.batchSize, "--batch-size") { batchSize = value }
        if let value = atLeast(1, overrides.batchTimeoutMilliseconds, "--batch-timeout-ms", unit: " ms") { batchTimeout = .milliseconds(value) }
        if let value = atLeast(1, overrides.metricIntervalMilliseconds, "--metric-interval-ms", unit: " ms") { metricInterval = .milliseconds(value) }
        if let value = atLeast(1, overrides.holeTimeoutMilliseconds, "--hole-timeout-ms", unit: " ms") { holeTimeout = .milliseconds(value) }
        if let value = atLeast(1, overrides.spanTimeoutSeconds, "--span-timeout-s", unit: " s") { spanTimeout = .seconds(value) }
        if let value = atLeast(1, overrides.maxOpenSpans, "--max-open-spans") { maxOpenSpans = value }
        if let value = atLeast(1, overrides.maxSeriesPerMetric, "--max-series-per-metric") { maxSeriesPerMetric = value }
        if let value = atLeast(1, overrides.checkpointIntervalMilliseconds, "--checkpoint-interval-ms", unit: " ms") { checkpointInterval = .milliseconds(value) }
        if let value = atLeast(0, overrides.shutdownTimeoutMilliseconds, "--shutdown-timeout-ms", unit: " ms") { shutdownTimeout = .milliseconds(value) }
        if let value = atLeast(1, overrides.maxIdleWaitMilliseconds, "--max-idle-wait-ms", unit: " ms") { maxIdleWait = .milliseconds(value) }
        return warnings
    }
}

/// A setting from the environment or a flag that was not used as given: its name, the value, why,
/// and what was used instead.
public struct ConfigurationWarning: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var value: String
    package var problem: String
    package var used: String

    public var description: String { "\(name)=\(value) is \(problem); using \(used)" }
}
