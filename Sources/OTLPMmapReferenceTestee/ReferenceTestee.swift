import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import OTLPMmapTestee
import OTLPMmapWire
import Synchronization

/// The reference writer (OTLPMmapSDK) as a testee: it carries out each command of the testee
/// protocol through the SDK's package API, the way an application would, and answers with what the
/// SDK reports. `conform run` and `conform fuzz` check the SDK through it.
package final class ReferenceTestee: Sendable {
    /// Rules this testee can break on purpose, so that tests show the runner reports exactly them.
    package enum Defect: String, CaseIterable, Sendable {
        /// A record cut to fit its slot, its length prefix still saying the whole length (written at exit).
        case slotLength = "SLOT-LENGTH"
        /// A spans slot claimed right after the file is created and never published.
        case ringHole = "RING-HOLE"
        /// A span record with ids of the wrong length (written at exit).
        case spanID = "REC-SPAN-ID"
        /// The process kills itself at its first record command.
        case crash = "CRASH"
    }

    /// Bugs that break no rule a file shows by itself: only comparing content with commands finds them.
    package enum Bug: String, CaseIterable, Sendable {
        /// Every fifth record is answered OK but never written.
        case loseRecords = "lose-records"
        /// The reply to the first record command carries the next command's id.
        case wrongReplyID = "wrong-reply-id"
        /// Every log record is answered TOO_LARGE and not written, however small.
        case refuseLogs = "refuse-logs"
        /// Every tenth record is answered DROPPED and not written, whatever room its ring has.
        case dropSome = "drop-some"
        /// Every record is answered DROPPED and none is written.
        case dropAll = "drop-all"
        /// Every command after create_file is answered UNSUPPORTED.
        case unsupportedAll = "unsupported-all"
        /// In about half of its runs (a coin tossed when it starts), the logs and measurements of
        /// every run_parallel are answered OK and not written: how a race that only some
        /// interleavings show looks from outside, with a known rate, for the fuzzer's flaky-failure
        /// handling.
        case raceSometimes = "race-sometimes"
    }

    let defect: Defect?
    let bug: Bug?
    /// The race-sometimes bug's coin: whether this run loses its parallel logs and measurements.
    private let unlucky = Bool.random()
    private let recordCount = Atomic<Int>(0)
    /// How long a record waits for room in a full ring before it is reported dropped, when
    /// `create_file` leaves it to the testee (`full_ring_wait_micros` 0).
    let fullRingWait: Duration
    private let state = Mutex(State())

    struct State: ~Copyable {
        var writer: TelemetryWriter?
        var scopes: [Int64: Scope] = [:]
        var spans: [SpanKey: Span] = [:]
        var instruments: [Int64: Instrument] = [:]
    }

    struct SpanKey: Hashable { var trace: [UInt8]; var span: [UInt8] }

    package init(defect: Defect? = nil, bug: Bug? = nil, fullRingWait: Duration = .milliseconds(100)) {
        self.defect = defect
        self.bug = bug
        self.fullRingWait = fullRingWait
    }

    /// Serves commands from `input` until `exit` or the end of input; replies go to `output`.
    /// Returns normally after `exit`; throws when the stream is broken.
    package func serve(input: FileHandle, output: FileHandle) throws {
        var splitter = FrameSplitter()
        while true {
            while let frame = try splitter.next() {
                let command = try Frame.decode(Command.self, frame.payload, streamOffset: frame.offset)
                var reply = perform(command)
                if bug == .wrongReplyID, case .startSpan? = command.command { reply.id += 1 }
                output.write(Data(Frame.encode(reply)))
                if case .exit? = command.command {
                    try finish()
                    return
                }
            }
            let chunk = input.availableData
            if chunk.isEmpty { throw FrameError(offset: splitter.consumed, "standard input ended before the exit command") }
            chunk.withUnsafeBytes { splitter.append($0) }
        }
    }

    /// Carries out one command (the collector testbed writes its files through this, in process).
    package func perform(_ command: Command) -> Reply {
        do {
            let (status, message, parts) = try execute(command)
            return Reply(id: command.id, status: status, message: message, parts: parts)
        } catch {
            return Reply(id: command.id, status: .error, message: "\(error)")
        }
    }

    /// The writer `create_file` made (nil before it).
    package var writer: TelemetryWriter? { state.withLock { $0.writer } }

    /// The MetricRef entry of an instrument `define_instrument` made.
    package func metricRef(ofInstrument id: Int64) -> Int64? { state.withLock { $0.instruments[id]?.metricRef } }

    struct CommandError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private func execute(_ command: Command) throws -> (ReplyStatus, String, [Reply]) {
        guard let choice = command.command else { throw CommandError("a command with no member of `command` set") }
        if case .createFile(let create) = choice { return (try createFile(create), "", []) }
        if case .runParallel(let parallel) = choice { return try runParallel(parallel) }
        guard let writer = state.withLock({ $0.writer }) else { throw CommandError("create_file must come first") }
        if bug == .unsupportedAll, !(choice.isExit || choice.isSync) { return (.unsupported, "", []) }
        switch choice {
        case .createFile, .runParallel:
            fatalError("handled above")
        case .defineScope(let define):
            guard define.scopeId > 0 else { throw CommandError("scope_id must be > 0") }
            let scope = try writer.scope(define.name, version: define.version, attributes: try Self.attributes(define.attributes))
            state.withLock { $0.scopes[define.scopeId] = scope }
            return (.ok, "", [])
        case .defineInstrument(let define):
            let instrument = try defineInstrument(define, writer)
            state.withLock { $0.instruments[define.instrumentId] = instrument }
            return (.ok, "", [])
        case .sync:
            // The SDK publishes every record before the call that wrote it returns.
            return (.ok, "", [])
        case .exit:
            return (.ok, "", [])
        case .startSpan, .setSpanAttributes, .renameSpan, .addSpanLinks, .endSpan, .log, .record:
            if defect == .crash { kill(getpid(), SIGKILL) }
            if bug == .dropAll || (bug == .dropSome && recordCount.add(1, ordering: .relaxed).newValue % 10 == 0) {
                return (.dropped, "", [])
            }
            return (Self.status(try record(choice, writer)), "", [])
        }
    }

    private func createFile(_ create: CreateFile) throws -> ReplyStatus {
        func ring(_ geometry: RingGeometry?) -> FileConfiguration.RingSize {
            FileConfiguration.RingSize(numBuffers: geometry?.slots ?? 1024, bufferSize: geometry?.slotSize ?? 512)
        }
        let writer = try TelemetryWriter(configuration: WriterConfiguration(
            path: create.path, events: ring(create.events), spans: ring(create.spans), measurements: ring(create.measurements),
            dictionaryBytes: create.dictionaryBytes > 0 ? create.dictionaryBytes : 1 << 20,
            fullRingWait: create.fullRingWaitMicros > 0 ? .microseconds(create.fullRingWaitMicros) : fullRingWait,
            resource: try Self.attributes(create.resource)))
        if defect == .ringHole { _ = writer.file.ring(.spans).claim() }
        state.withLock { $0.writer = writer }
        return .ok
    }

    private func runParallel(_ parallel: RunParallel) throws -> (ReplyStatus, String, [Reply]) {
        for group in parallel.groups {
            for command in group.commands {
                switch command.command {
                case .runParallel?, .createFile?, .exit?: throw CommandError("run_parallel groups hold record and definition commands only")
                default: break
                }
            }
        }
        let results = Mutex([[Reply]](repeating: [], count: parallel.groups.count))
        // A thread per group, all started before any is waited for, so the groups really overlap.
        let done = DispatchGroup()
        for (index, group) in parallel.groups.enumerated() {
            done.enter()
            Thread.detachNewThread { [self] in
                let replies = group.commands.map { command in
                    guard bug == .raceSometimes && unlucky else { return perform(command) }
                    switch command.command {
                    case .log?, .record?: return Reply(id: command.id, status: .ok)
                    default: return perform(command)
                    }
                }
                results.withLock { $0[index] = replies }
                done.leave()
            }
        }
        done.wait()
        return (.ok, "", results.withLock { $0.flatMap { $0 } })
    }

    private func defineInstrument(_ define: DefineInstrument, _ writer: TelemetryWriter) throws -> Instrument {
        let scope = try scope(define.scopeId)
        let temporality = AggregationTemporality(rawValue: Int32(truncatingIfNeeded: define.temporality))
        switch define.kind {
        case .counter:
            return try writer.counter(define.name, description: define.description, unit: define.unit, temporality: temporality, scope: scope)
        case .upDownCounter:
            return try writer.upDownCounter(define.name, description: define.description, unit: define.unit, temporality: temporality, scope: scope)
        case .gauge:
            return try writer.gauge(define.name, description: define.description, unit: define.unit, scope: scope)
        case .histogram:
            return try writer.histogram(define.name, description: define.description, unit: define.unit, boundaries: define.boundaries,
                                        temporality: temporality, scope: scope)
        case .exponentialHistogram:
            return try writer.exponentialHistogram(define.name, description: define.description, unit: define.unit, maxBuckets: define.maxBuckets,
                                                   maxScale: define.maxScale, temporality: temporality, scope: scope)
        default:
            throw CommandError("unknown instrument kind \(define.kind.rawValue)")
        }
    }

    private func record(_ choice: Command.CommandChoice, _ writer: TelemetryWriter) throws -> RecordOutcome {
        switch choice {
        case .startSpan(let start):
            let context = try Self.context(start.traceId, start.spanId, flags: start.flags, what: "start_span")
            let span = writer.span(context, scope: try scope(start.scopeId))
            state.withLock { $0.spans[SpanKey(trace: start.traceId, span: start.spanId)] = span }
            if losesThisRecord() { return .written }
            let parent = start.parentSpanId.isEmpty ? nil : try SpanID(bytes: start.parentSpanId).orThrow("parent_span_id is not 8 bytes")
            return span.start(start.name, kind: SpanKind(rawValue: Int32(truncatingIfNeeded: start.kind)), parent: parent,
                              attributes: try writer.attributes(Self.attributes(start.attributes)), startTime: start.startTimeUnixNano)
        case _ where losesThisRecord():
            return .written
        case .setSpanAttributes(let update):
            return try span(update.traceId, update.spanId).setAttributes(try writer.attributes(Self.attributes(update.attributes)))
        case .renameSpan(let rename):
            return try span(rename.traceId, rename.spanId).rename(rename.name)
        case .addSpanLinks(let add):
            let links = try add.links.map { link in
                SpanLink(to: try Self.context(link.traceId, link.spanId, flags: link.flags, what: "a link"), traceState: link.traceState,
                         attributes: try writer.attributes(Self.attributes(link.attributes)))
            }
            return try span(add.traceId, add.spanId).addLinks(links)
        case .endSpan(let end):
            return try span(end.traceId, end.spanId).end(status: StatusCode(rawValue: Int32(truncatingIfNeeded: end.statusCode)),
                                                         message: end.statusMessage, at: end.endTimeUnixNano)
        case .log where bug == .refuseLogs:
            return .tooLarge
        case .log(let log):
            let body: LogBody = try log.body.map { .prepared(try writer.value(try Self.value($0))) } ?? .none
            return writer.log(SeverityNumber(rawValue: Int32(truncatingIfNeeded: log.severityNumber)), body, severityText: log.severityText,
                              eventName: log.eventName.isEmpty ? nil : try writer.eventName(log.eventName),
                              attributes: try writer.attributes(Self.attributes(log.attributes)),
                              spanContext: try Self.optionalContext(log.traceId, log.spanId, flags: log.flags), scope: try scope(log.scopeId),
                              time: log.timeUnixNano)
        case .record(let measurement):
            guard let instrument = state.withLock({ $0.instruments[measurement.instrumentId] }) else {
                throw CommandError("no instrument \(measurement.instrumentId) was defined")
            }
            let attributes = try writer.attributes(Self.attributes(measurement.attributes))
            let context = try Self.optionalContext(measurement.traceId, measurement.spanId, flags: measurement.flags)
            switch measurement.value {
            case .asLong(let value)?: return instrument.record(value, attributes: attributes, spanContext: context, time: measurement.timeUnixNano)
            case .asDouble(let value)?: return instrument.record(value, attributes: attributes, spanContext: context, time: measurement.timeUnixNano)
            case nil: throw CommandError("a measurement with no value")
            }
        default:
            throw CommandError("not a record command")
        }
    }

    /// With the lose-records bug: whether this record is to be answered OK without being written.
    private func losesThisRecord() -> Bool {
        bug == .loseRecords && recordCount.add(1, ordering: .relaxed).newValue % 5 == 0
    }

    private func scope(_ id: Int64) throws -> Scope? {
        guard id != 0 else { return nil }
        guard let scope = state.withLock({ $0.scopes[id] }) else { throw CommandError("no scope \(id) was defined") }
        return scope
    }

    private func span(_ trace: [UInt8], _ span: [UInt8]) throws -> Span {
        guard let found = state.withLock({ $0.spans[SpanKey(trace: trace, span: span)] }) else {
            throw CommandError("no span \(hexString(trace))/\(hexString(span)) was started")
        }
        return found
    }

    /// Breaks the rule the defect names, after everything the runner asked for is written.
    private func finish() throws {
        guard let writer = state.withLock({ $0.writer }) else { return }
        switch defect {
        case .slotLength?:
            let events = writer.file.ring(.events)
            guard let sequence = events.claim() else { throw CommandError("the events ring is full") }
            var slot = ProtoWriter(events.slot(sequence))
            slot.writeVarint(UInt64(events.bufferSize) + 100)
            let filler = [UInt8](repeating: 0x41, count: Int(events.bufferSize) - 2)
            filler.withUnsafeBytes { slot.writeRaw($0) }
            events.publish(sequence)
        case .spanID?:
            try writer.file.ring(.spans).write(OTLPMmapLayout.SpanEvent(traceId: [1, 2, 3], spanId: [4], scopeRef: writer.defaultScope.ref,
                                                                       event: .name(ChangeSpanName(name: "bad ids"))))
        default:
            break
        }
    }

    static func status(_ outcome: RecordOutcome) -> ReplyStatus {
        switch outcome {
        case .written: .ok
        case .dropped: .dropped
        case .tooLarge: .tooLarge
        }
    }

    static func context(_ trace: [UInt8], _ span: [UInt8], flags: UInt32, what: String) throws -> OTLPMmapSDK.SpanContext {
        guard let traceID = TraceID(bytes: trace), let spanID = SpanID(bytes: span) else {
            throw CommandError("\(what): trace_id must be 16 bytes and span_id 8 bytes")
        }
        return OTLPMmapSDK.SpanContext(traceID: traceID, spanID: spanID, flags: flags)
    }

    static func optionalContext(_ trace: [UInt8], _ span: [UInt8], flags: UInt32) throws -> OTLPMmapSDK.SpanContext? {
        trace.isEmpty && span.isEmpty ? nil : try context(trace, span, flags: flags, what: "a span context")
    }

    static func attributes(_ list: [KeyValue]) throws -> [OTLPMmapSDK.Attribute] {
        try list.map { OTLPMmapSDK.Attribute($0.key, try $0.value.map(value) ?? .string("")) }
    }

    static func value(_ value: Value) throws -> AttributeValue {
        switch value.value {
        case .stringValue(let text)?: .string(text)
        case .boolValue(let flag)?: .bool(flag)
        case .intValue(let number)?: .int(number)
        case .doubleValue(let number)?: .double(number)
        case .bytesValue(let bytes)?: .bytes(bytes)
        case .arrayValue(let array)?: .array(try array.values.map(Self.value))
        case .kvlistValue(let map)?: .keyValues(try attributes(map.values))
        case nil: throw CommandError("a value with no member set")
        }
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw ReferenceTestee.CommandError(message) }
        return self
    }
}

extension Command.CommandChoice {
    var isExit: Bool { if case .exit = self { true } else { false } }
    var isSync: Bool { if case .sync = self { true } else { false } }
}
