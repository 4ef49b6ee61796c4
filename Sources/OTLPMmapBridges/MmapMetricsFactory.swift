import CoreMetrics
import Foundation
import OTLPMmapSDK

/// A swift-metrics `MetricsFactory` that records each measurement into an OTLP-mmap file.
/// Bootstrap with `MetricsSystem.bootstrap(MmapMetricsFactory(writer: writer))`.
///
/// Counters become monotonic cumulative sums, meters gauges, aggregating recorders explicit-bucket
/// histograms (the OpenTelemetry default boundaries), other recorders gauges, timers exponential
/// histograms in nanoseconds. Dimensions become attributes, prepared once per handler.
/// A handler whose definition cannot be written (the disk is full) drops its measurements.
public final class MmapMetricsFactory: MetricsFactory, Sendable {
    public static let defaultBoundaries: [Double] = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]
    package let writer: TelemetryWriter
    let scope: Scope?

    public init(writer: TelemetryWriter, scope: Scope? = nil) {
        self.writer = writer
        self.scope = scope
    }

    /// The instrument `make` defines and the dimensions as prepared attributes; nil instrument when
    /// its definition could not be written.
    private func prepare(_ make: () throws -> Instrument, _ dimensions: [(String, String)]) -> (Instrument?, Attributes) {
        (try? make(), (try? writer.attributes(dimensions.map { Attribute($0.0, .string($0.1)) })) ?? .none)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        MmapRecordingHandler(prepare({ try writer.counter(label, scope: scope) }, dimensions))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        MmapRecordingHandler(prepare({ try writer.counter(label, scope: scope) }, dimensions))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        MmapMeterHandler(prepare({ try writer.gauge(label, scope: scope) }, dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        MmapRecordingHandler(prepare({
            aggregate ? try writer.histogram(label, boundaries: Self.defaultBoundaries, scope: scope) : try writer.gauge(label, scope: scope)
        }, dimensions))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        MmapRecordingHandler(prepare({ try writer.exponentialHistogram(label, unit: "ns", scope: scope) }, dimensions))
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    public func destroyMeter(_ handler: MeterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}
}

/// Counters, recorders and timers: every call is one measurement of the given value (an increment
/// for counters, which the collector adds up).
final class MmapRecordingHandler: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, Sendable {
    let instrument: Instrument?
    let attributes: Attributes

    init(_ prepared: (Instrument?, Attributes)) {
        (instrument, attributes) = prepared
    }

    func increment(by amount: Int64) { instrument?.record(amount, attributes: attributes) }
    func increment(by amount: Double) { instrument?.record(amount, attributes: attributes) }
    /// Cumulative sums in the file only grow; a reset is not representable and is ignored.
    func reset() {}
    func record(_ value: Int64) { instrument?.record(value, attributes: attributes) }
    func record(_ value: Double) { instrument?.record(value, attributes: attributes) }
    func recordNanoseconds(_ duration: Int64) { instrument?.record(duration, attributes: attributes) }
}

/// A meter is a gauge: the file holds its values, so increments and decrements are applied to the
/// value kept here and the result is recorded.
final class MmapMeterHandler: MeterHandler, @unchecked Sendable {
    let instrument: Instrument?
    let attributes: Attributes
    private let lock = NSLock()
    private var value: Double = 0

    init(_ prepared: (Instrument?, Attributes)) {
        (instrument, attributes) = prepared
    }

    func set(_ value: Int64) {
        lock.withLock { self.value = Double(value) }
        instrument?.record(value, attributes: attributes)
    }

    func set(_ value: Double) {
        lock.withLock { self.value = value }
        instrument?.record(value, attributes: attributes)
    }

    func increment(by amount: Double) { move(by: amount) }
    func decrement(by amount: Double) { move(by: -amount) }

    private func move(by amount: Double) {
        let current: Double = lock.withLock {
            value += amount
            return value
        }
        instrument?.record(current, attributes: attributes)
    }
}
