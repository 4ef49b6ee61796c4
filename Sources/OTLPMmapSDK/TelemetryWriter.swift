import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
#if canImport(Glibc)
import Glibc
#endif

/// The reference writer: creates an OTLP-mmap file and records spans, logs and measurements into it.
///
/// Safe to use from many threads at once. Recording never blocks indefinitely: when a ring stays full
/// for `fullRingWait` the record is dropped and counted in `statistics`. Recording with prepared
/// `Attributes`, a `Scope` and a metric instrument performs no heap allocation.
public final class TelemetryWriter: @unchecked Sendable {  // immutable after init; `rings` is written only there
    package let file: MmapFile
    public let configuration: WriterConfiguration
    public let statistics: WriterStatistics
    /// The scope used when a call names none.
    public let defaultScope: Scope
    package let resourceRef: Int64
    let interner: Interner
    /// Each thread's counters and id state.
    let threads: ThreadSlots
    /// The caller's clock, if the configuration named one.
    private let customClock: (@Sendable () -> UInt64)?
    /// The cycle-counter clock's reader, looked up once: reading a global costs a call on every
    /// access, and holding the clock object would cost a retain and a release per record.
    /// `CycleClock.shared`, which owns the reader's memory, lives as long as the process.
    private let cycleClock: CycleClock.Reader?
    /// The rings by kind, copied out of `file` so that recording touches no reference counts.
    /// The rings by `RingKind.rawValue`, in memory of their own: recording reads the few fields it
    /// needs through the pointer instead of copying a whole `Ring` out of this object.
    private let rings: UnsafeMutablePointer<Ring>
    private let waitNanoseconds: UInt64

    /// Creates (or replaces) the file, or opens it with `attach`, and writes the resource and the
    /// default scope into its dictionary.
    public init(configuration: WriterConfiguration) throws {
        self.configuration = configuration
        threads = try ThreadSlots(idSeed: configuration.idSeed)
        statistics = WriterStatistics(slots: threads)
        customClock = configuration.clock
        cycleClock = configuration.clock == nil ? CycleClock.shared?.reader : nil
        if configuration.attach {
            file = try MmapFile.open(path: configuration.path, writable: true)
        } else {
            file = try MmapFile.create(path: configuration.path, configuration: FileConfiguration(
                events: configuration.events, spans: configuration.spans, measurements: configuration.measurements,
                dictionaryBytes: configuration.dictionaryBytes, startTimeUnixNano: configuration.clock?() ?? nowUnixNano()))
        }
        interner = Interner(dictionary: file.dictionary)
        rings = .allocate(capacity: RingKind.allCases.count)
        for kind in RingKind.allCases { (rings + kind.rawValue).initialize(to: file.ring(kind)) }
        let (seconds, attoseconds) = configuration.fullRingWait.components
        waitNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
        resourceRef = try interner.message(Resource(attributes: try interner.keyValues(configuration.resource)))
        let scopeName = try interner.string(Self.defaultScopeName)
        defaultScope = Scope(ref: try interner.message(InstrumentationScope(nameRef: scopeName, resourceRef: resourceRef)))
    }

    deinit {
        rings.deinitialize(count: RingKind.allCases.count)
        rings.deallocate()
    }

    /// A writer for the file `$SDK_MMAP_EXPORTER_FILE` names.
    public convenience init() throws {
        guard let configuration = WriterConfiguration.fromEnvironment() else {
            throw ConfigurationError(rule: "SDK", message: "\(WriterConfiguration.fileEnvironmentVariable) is not set")
        }
        try self.init(configuration: configuration)
    }

    // MARK: preparing (interning)

    /// The instrumentation scope `name` (and `version`), written once into the dictionary.
    public func scope(_ name: String, version: String = "", attributes: [Attribute] = []) throws -> Scope {
        Scope(ref: try interner.message(InstrumentationScope(
            nameRef: try interner.string(name), versionRef: version.isEmpty ? 0 : try interner.string(version),
            attributes: try interner.keyValues(attributes), resourceRef: resourceRef)))
    }

    /// Attributes with their keys interned and their values encoded, ready for recording.
    public func attributes(_ attributes: [Attribute]) throws -> Attributes {
        attributes.isEmpty ? .none : Attributes(try interner.keyValues(attributes))
    }

    public func attributes(_ pairs: KeyValuePairs<String, AttributeValue>) throws -> Attributes {
        try attributes(pairs.map { Attribute($0.key, $0.value) })
    }

    /// A log body or other value encoded once.
    public func value(_ value: AttributeValue) throws -> PreparedValue {
        let anyValue = try interner.anyValue(value)
        var bytes = [UInt8](repeating: 0, count: anyValue.encodedSize)
        bytes.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(raw)
            anyValue.encode(to: &writer)
        }
        return PreparedValue(encoded: bytes)
    }

    /// An event name (a dictionary string) for log records.
    public func eventName(_ name: String) throws -> EventName { EventName(ref: try interner.string(name)) }

    /// The name of the scope of records that name none.
    package static let defaultScopeName = "otlp-mmap-swift"

    /// Writes the metric's definition once (the same definition twice gives the same reference).
    package func metric(_ definition: MetricRef) throws -> Int64 { try interner.message(definition) }

    /// Distinct dictionary entries this writer interned (strings, scopes, metrics, the resource).
    package var internedEntries: Int { interner.count }

    // MARK: recording

    /// The time for a record that gives none.
    @inline(__always)
    func clock() -> UInt64 {
        if let cycleClock { return cycleClock.now() }
        if let customClock { return customClock() }
        return nowUnixNano()
    }

    /// Writes `record` into `ring`, waiting at most `fullRingWait` for room.
    @discardableResult @inline(__always)
    func emit<Record: StreamedMessage>(_ record: Record, into kind: RingKind, slot: ThreadSlot? = nil) -> RecordOutcome {
        let ring = rings + kind.rawValue
        let size = record.encodedSize
        let slot = slot ?? threads.current()
        var deadline: UInt64 = 0
        var spins = 0
        while true {
            switch ring.pointee.tryClaim(payloadSize: size) {
            case .claimed(let sequence, let payload):
                var writer = ProtoWriter(payload)
                record.encode(to: &writer)
                precondition(writer.count == size, "\(Record.self) wrote \(writer.count) bytes, not the \(size) it announced")
                ring.pointee.publish(sequence)
                statistics.count(.written, kind, in: slot)
                return .written
            case .full:
                if waitNanoseconds == 0 { break }
                // The first 64 looks yield (a consumer that is reading frees a slot within them);
                // after that the writer sleeps 50 µs between looks, so a ring that stays full for
                // the whole wait costs a few hundred wake-ups, not a core yielding for all of it.
                let now = spins < 64 && spins & 15 != 0 ? deadline - 1 : nowUnixNano()
                if deadline == 0 { deadline = now + waitNanoseconds }
                if now >= deadline { break }
                spins += 1
                if spins <= 64 { sched_yield() } else { usleep(50) }
                continue
            case .tooLarge:
                statistics.count(.tooLarge, kind, in: slot)
                return .tooLarge
            case .notWritable:
                break
            }
            break
        }
        statistics.count(.dropped, kind, in: slot)
        return .dropped
    }

    // MARK: tracing

    /// Starts a span: writes its StartSpan record and returns its handle. A new trace when `parent`
    /// is nil, a child of `parent` otherwise.
    public func startSpan(
        _ name: String, kind: SpanKind = .internal, parent: SpanContext? = nil, attributes: Attributes = .none,
        scope: Scope? = nil, startTime: UInt64? = nil, flags: UInt32 = 1
    ) -> Span {
        let slot = threads.current()
        let context = newContext(parent: parent, flags: flags, slot: slot)
        let scopeRef = (scope ?? defaultScope).ref
        let time = startTime ?? clock()
        _ = withExtendedLifetime(attributes) {
            withUTF8Text(name) { name in
                emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.start, body: StartSpanBody(
                    parent: parent?.spanID, name: name, kind: kind, startTime: time, attributes: attributes.block, flags: context.flags)),
                     into: .spans, slot: slot)
            }
        }
        return Span(context: context, scopeRef: scopeRef, writer: self)
    }

    /// A handle for the span with these ids, chosen by the caller (propagated from elsewhere, or a
    /// conformance runner's): nothing is written until `Span.start` or another call on it.
    public func span(_ context: SpanContext, scope: Scope? = nil) -> Span {
        Span(context: context, scopeRef: (scope ?? defaultScope).ref, writer: self)
    }

    /// A span start prepared once: starting a span from it copies the encoded name, kind,
    /// attributes and scope instead of encoding them (see `startSpan(_:parent:startTime:flags:)`).
    public func spanTemplate(_ name: String, kind: SpanKind = .internal, attributes: Attributes = .none, scope: Scope? = nil) -> SpanTemplate {
        SpanTemplate(name: name, kind: kind, attributes: attributes, scopeRef: (scope ?? defaultScope).ref)
    }

    /// Starts a span from a template: the same record `startSpan(_:kind:parent:attributes:scope:startTime:flags:)`
    /// writes for the template's name, kind, attributes and scope.
    public func startSpan(_ template: SpanTemplate, parent: SpanContext? = nil, startTime: UInt64? = nil, flags: UInt32 = 1) -> Span {
        let time = startTime ?? clock()
        let slot = threads.current()
        let context = newContext(parent: parent, flags: flags, slot: slot)
        _ = withExtendedLifetime(template.bytes) {
            emit(TemplateSpanStartRecord(template: template.bytes, context: context, parent: parent?.spanID, startTime: time),
                 into: .spans, slot: slot)
        }
        return Span(context: context, scopeRef: template.scopeRef, writer: self)
    }

    /// A new trace's ids, or a child's of `parent`.
    @inline(__always)
    private func newContext(parent: SpanContext?, flags: UInt32, slot: ThreadSlot) -> SpanContext {
        if let parent {
            return SpanContext(traceID: parent.traceID, spanID: IDGenerator.spanID(threads, slot), flags: parent.flags)
        }
        let (trace, span) = IDGenerator.rootIDs(threads, slot)
        return SpanContext(traceID: trace, spanID: span, flags: flags)
    }

    // MARK: logging

    /// A log record prepared once: logging from it copies the encoded severity, body, event name,
    /// attributes and scope (see `log(_:spanContext:time:)`).
    public func logTemplate(
        _ severity: SeverityNumber, _ body: LogBody, severityText: String = "", eventName: EventName? = nil,
        attributes: Attributes = .none, scope: Scope? = nil
    ) -> LogTemplate {
        LogTemplate(scopeRef: (scope ?? defaultScope).ref, severity: severity, severityText: severityText, body: body,
                    eventNameRef: eventName?.ref ?? 0, attributes: attributes)
    }

    /// Writes a log record from a template: the same record `log(_:_:severityText:eventName:attributes:spanContext:scope:time:)`
    /// writes for the template's values.
    @discardableResult
    public func log(_ template: LogTemplate, spanContext: SpanContext? = nil, time: UInt64? = nil) -> RecordOutcome {
        let time = time ?? clock()
        return withExtendedLifetime(template.bytes) {
            emit(TemplateEventRecord(template: template.bytes, time: time, context: spanContext), into: .events)
        }
    }

    /// Writes a log record (an Event).
    @discardableResult
    public func log(
        _ severity: SeverityNumber, _ body: LogBody, severityText: String = "", eventName: EventName? = nil,
        attributes: Attributes = .none, spanContext: SpanContext? = nil, scope: Scope? = nil, time: UInt64? = nil
    ) -> RecordOutcome {
        let scopeRef = (scope ?? defaultScope).ref
        let time = time ?? clock()
        return withExtendedLifetime(attributes) {
            withUTF8Text(severityText) { severityText in
                withBodyBytes(body) { body in
                    emit(EventRecord(scopeRef: scopeRef, time: time, severity: severity, severityText: severityText, body: body,
                                     eventNameRef: eventName?.ref ?? 0, context: spanContext, attributes: attributes.block), into: .events)
                }
            }
        }
    }

    /// Writes a log record whose body is text.
    @discardableResult
    public func log(_ severity: SeverityNumber, _ text: String, attributes: Attributes = .none, spanContext: SpanContext? = nil) -> RecordOutcome {
        log(severity, .text(text), attributes: attributes, spanContext: spanContext)
    }

    // MARK: metrics

    func record(metricRef: Int64, _ value: MeasurementValue, attributes: Attributes, spanContext: SpanContext?, time: UInt64?) -> RecordOutcome {
        let time = time ?? clock()
        return withExtendedLifetime(attributes) {
            emit(MeasurementRecord(metricRef: metricRef, attributes: attributes.block, time: time, value: value, context: spanContext),
                 into: .measurements)
        }
    }
}

/// An instrumentation scope written into the dictionary.
public struct Scope: Sendable, Hashable {
    package let ref: Int64
}

/// An event name written into the dictionary.
public struct EventName: Sendable, Hashable {
    package let ref: Int64
}
