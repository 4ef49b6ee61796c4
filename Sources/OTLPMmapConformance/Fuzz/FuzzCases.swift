import OTLPMmapLayout
import OTLPMmapTestee

/// Random testee scripts for `conform fuzz`. A case is a file geometry and a few segments, each
/// aimed at a way writers go wrong: strings from empty to just over a slot (multi-byte characters
/// across the limit, lengths across varint boundaries), values of every kind nested to the depth
/// limit, thousands of distinct keys that make the dictionary grow, groups of commands on several
/// threads, runs that wrap small rings many times, pauses of the consumer that fill a ring, and every
/// instrument kind. Every case is valid — spans are started before they are used, instruments and
/// scopes defined before records name them — so whatever fails is the writer's doing.
package enum FuzzCases {
    /// Case `index` of a run seeded `seed`; the same pair gives the same case everywhere.
    package static func generate(seed: UInt64, index: Int) -> TesteeScript {
        var builder = CaseBuilder(random: FuzzRandom(seed: FuzzRandom.caseSeed(seed, index)))
        builder.build()
        return TesteeScript(name: "seed \(seed) case \(index)", description: builder.segments.joined(separator: ", "),
                            timeoutSeconds: 120, file: builder.file, steps: builder.steps)
    }

    /// How deep a log body may nest: one message level for the body itself, two per array level and
    /// three per key-value list level, within the 64 levels of WIRE-DEPTH with room for the record.
    static let valueDepthBudget = 56
}

/// Builds one case, keeping track of what is defined so that every command it emits is valid.
struct CaseBuilder {
    struct SpanIDs: Equatable { var trace: [UInt8]; var span: [UInt8] }

    var random: FuzzRandom
    var file = TesteeScript.defaultFile
    var steps: [TesteeScript.Step] = []
    var segments: [String] = []
    var scopes: [Int64] = []
    var instruments: [Int64] = []
    var open: [SpanIDs] = []
    var started: [SpanIDs] = []
    var nextSpan: UInt64 = 0
    var nextKey = 0
    var clock: UInt64 = 1_700_000_000_000_000_000
    /// Keys that recur across records (most attributes in real programs do).
    let commonKeys = ["http.method", "http.route", "db.system", "peer.service", "user.id", "k", "", "ключ", "键.名", "emoji.🚀"]

    init(random: FuzzRandom) { self.random = random }

    mutating func build() {
        for ring in [\CreateFile.events, \.spans, \.measurements] {
            file[keyPath: ring] = RingGeometry(slots: Int64(random.pick([4, 8, 16, 32, 64])),
                                               slotSize: Int64(random.pick([128, 256, 512, 1024, 4096])))
        }
        file.dictionaryBytes = Int64(random.pick([256, 1024, 16_384]))
        file.resource = [KeyValue(key: "service.name", value: string(text(random.int(0...40)))),
                         KeyValue(key: "fuzz.resource", value: value(budget: 6))]
        for _ in 0..<random.int(0...2) { defineScope() }
        for _ in 0..<random.int(0...3) { defineInstrument() }
        for _ in 0..<random.int(1...4) {
            switch random.weighted([30, 14, 8, 8, 10, 12, 6]) {
            case 0: segment("mixed") { for _ in 0..<$0.random.int(1...60) { $0.anyCommand() } }
            case 1: segment("limits") { $0.limits() }
            case 2: segment("deep values") { $0.deepValues() }
            case 3: segment("many keys") { $0.manyKeys() }
            case 4: segment("parallel") { $0.parallel() }
            case 5: segment("backpressure") { $0.backpressure() }
            default: segment("long run") { for _ in 0..<$0.random.int(300...1_500) { $0.smallRecord() } }
            }
        }
        // Drawn after the others, so that the segments above are what earlier versions made from the same seed.
        if random.chance(0.3) { segment("concurrent interning") { $0.concurrentInterning() } }
    }

    mutating func segment(_ name: String, _ body: (inout CaseBuilder) -> Void) {
        segments.append(name)
        body(&self)
    }

    mutating func emit(_ choice: Command.CommandChoice) { steps.append(.command(Command(command: choice))) }

    // MARK: segments

    mutating func anyCommand() {
        switch random.weighted([25, 25, 25, 20, 3, 2]) {
        case 0: startSpan()
        case 1: if open.isEmpty { startSpan() } else { spanEvent(random.pick(open)) }
        case 2: log()
        case 3: if instruments.isEmpty { defineInstrument() } else { record() }
        case 4: defineScope()
        default: defineInstrument()
        }
    }

    /// Records whose strings straddle the slot size of their ring, in bytes and in characters.
    mutating func limits() {
        for _ in 0..<random.int(2...12) {
            switch random.int(0...3) {
            case 0:
                let slot = Int(file.events!.slotSize)
                emit(.log(EmitLog(timeUnixNano: tick(), severityNumber: 9, body: string(text(random.int(max(0, slot - 96)...slot + 16))))))
            case 1:
                let slot = Int(file.spans!.slotSize)
                startSpan(name: text(random.int(max(0, slot - 120)...slot + 16)))
            case 2:
                let slot = Int(file.events!.slotSize)
                emit(.log(EmitLog(timeUnixNano: tick(), attributes: [KeyValue(key: text(random.int(100...300)), value: string(text(random.int(max(0, slot - 400)...slot))))])))
            default:
                // Lengths across the one- and two-byte varint boundaries.
                let length = random.pick([126, 127, 128, 129, 255, 256, 16_383, 16_384])
                emit(.log(EmitLog(timeUnixNano: tick(), body: string(text(min(length, Int(file.events!.slotSize) + 8))),
                                  attributes: [KeyValue(key: text(min(length, 300)), value: Value(value: .boolValue(true)))])))
            }
        }
    }

    mutating func deepValues() {
        for _ in 0..<random.int(1...6) {
            let depth = random.int(10...FuzzCases.valueDepthBudget)
            emit(.log(EmitLog(timeUnixNano: tick(), body: nested(budget: depth), attributes: [KeyValue(key: "deep", value: nested(budget: random.int(4...40)))])))
        }
    }

    /// Hundreds to thousands of distinct keys, so that the dictionary must grow many times.
    mutating func manyKeys() {
        let total = random.int(300...3_000)
        var made = 0
        while made < total {
            let perRecord = random.int(5...30)
            let attributes = (0..<perRecord).map { _ in KeyValue(key: freshKey(), value: Value(value: .intValue(Int64(random.int(0...1_000))))) }
            made += perRecord
            switch random.int(0...2) {
            case 0: emit(.log(EmitLog(timeUnixNano: tick(), attributes: attributes)))
            case 1: startSpan(attributes: attributes)
            default:
                if instruments.isEmpty { defineInstrument() }
                emit(.record(RecordMeasurement(instrumentId: random.pick(instruments), attributes: attributes, timeUnixNano: tick(), value: .asLong(1))))
            }
        }
    }

    /// Groups of record commands on 2 to 4 threads; each group uses only spans it starts itself.
    mutating func parallel() {
        if instruments.isEmpty { defineInstrument() }
        let outside = open
        var groups: [CommandGroup] = []
        for _ in 0..<random.int(2...4) {
            let before = steps.count
            open = []
            for _ in 0..<random.int(5...40) {
                switch random.int(0...3) {
                case 0: startSpan()
                case 1: if let span = open.last { spanEvent(span) } else { log() }
                case 2: log()
                default: record()
                }
            }
            groups.append(CommandGroup(commands: steps[before...].compactMap { if case .command(let command) = $0 { command } else { nil } }))
            steps.removeSubrange(before...)
        }
        open = outside
        emit(.runParallel(RunParallel(groups: groups)))
    }

    /// Two to four threads at once record logs and measurements whose attributes are keys the file
    /// has never seen — some fresh to each thread, some the same fresh keys on every thread — in a
    /// dictionary small enough to grow many times meanwhile: the interning races (two threads
    /// growing the dictionary, or adding the same new string, at once) that crashed an existing
    /// writer in a fraction of runs, made likely rather than lucky.
    mutating func concurrentInterning() {
        if instruments.isEmpty { defineInstrument() }
        let shared = (0..<random.int(4...24)).map { _ in freshKey() }
        var groups: [CommandGroup] = []
        for _ in 0..<random.int(2...4) {
            var commands: [Command] = []
            for _ in 0..<random.int(4...16) {
                var keys = (0..<random.int(6...30)).map { _ in freshKey() }
                keys += shared.filter { _ in random.chance(0.5) }
                let attributes = keys.map { KeyValue(key: $0, value: string(text(random.int(0...24)))) }
                if random.chance(0.5) {
                    commands.append(Command(command: .log(EmitLog(timeUnixNano: tick(), attributes: attributes))))
                } else {
                    commands.append(Command(command: .record(RecordMeasurement(instrumentId: random.pick(instruments), attributes: attributes,
                                                                               timeUnixNano: tick(), value: .asLong(1)))))
                }
            }
            groups.append(CommandGroup(commands: commands))
        }
        emit(.runParallel(RunParallel(groups: groups)))
    }

    /// Stops the consumer, writes more small records into one ring than it holds, and resumes.
    mutating func backpressure() {
        let ring = random.pick([RingKind.events, .spans, .measurements])
        if ring == .measurements && instruments.isEmpty { defineInstrument() }
        steps.append(.consumer(paused: true))
        let slots = Int(file.geometry(of: ring)!.slots)
        for _ in 0..<slots + random.int(1...3) {
            switch ring {
            case .events: emit(.log(EmitLog(timeUnixNano: tick(), severityNumber: UInt32(random.int(0...24)), body: string(text(random.int(0...8))))))
            case .spans: startSpan(name: text(random.int(0...8)))
            case .measurements: emit(.record(RecordMeasurement(instrumentId: random.pick(instruments), timeUnixNano: tick(), value: .asLong(Int64(random.int(-5...5))))))
            }
        }
        steps.append(.consumer(paused: false))
    }

    /// A record small enough for any slot.
    mutating func smallRecord() {
        switch random.int(0...3) {
        case 0: emit(.log(EmitLog(timeUnixNano: tick(), severityNumber: 9, body: Value(value: .intValue(Int64(random.int(0...1 << 40)))))))
        case 1: startSpan(name: "s")
        case 2: if let span = open.popLast() { emit(.endSpan(FinishSpan(traceId: span.trace, spanId: span.span, endTimeUnixNano: tick()))) } else { startSpan(name: "s") }
        default:
            if instruments.isEmpty { defineInstrument() }
            emit(.record(RecordMeasurement(instrumentId: random.pick(instruments), timeUnixNano: tick(), value: .asDouble(Double(random.int(0...1_000)) / 8))))
        }
    }

    // MARK: commands

    mutating func defineScope() {
        let id = Int64(scopes.count + 1)
        scopes.append(id)
        emit(.defineScope(DefineScope(scopeId: id, name: "scope.\(id).\(text(random.int(0...20)))", version: random.chance(0.5) ? "1.\(id)" : "",
                                      attributes: attributes())))
    }

    mutating func defineInstrument() {
        let id = Int64(instruments.count + 1)
        instruments.append(id)
        let kind = random.pick([InstrumentKind.counter, .upDownCounter, .gauge, .histogram, .exponentialHistogram])
        var boundaries: [Double] = []
        if kind == .histogram {
            var edge = Double(random.int(-100...100))
            for _ in 0..<random.int(0...12) {
                boundaries.append(edge)
                edge += Double(random.int(1...1_000)) / 4
            }
        }
        emit(.defineInstrument(DefineInstrument(
            instrumentId: id, scopeId: scopeHandle(), kind: kind, name: "instrument.\(id).\(text(random.int(0...24)))",
            description: text(random.int(0...60)), unit: random.pick(["", "ms", "By", "{request}", "°C"]),
            temporality: kind == .gauge ? 0 : UInt32(random.int(1...2)), boundaries: boundaries,
            maxBuckets: kind == .exponentialHistogram ? Int64(random.int(1...320)) : 0,
            maxScale: kind == .exponentialHistogram ? Int64(random.int(-10...20)) : 0)))
    }

    mutating func startSpan(name: String? = nil, attributes given: [KeyValue]? = nil) {
        nextSpan += 1
        var ids = SpanIDs(trace: [UInt8](id: 0xF022_0000_0000 + nextSpan, width: 16), span: [UInt8](id: nextSpan, width: 8))
        var parent: [UInt8] = []
        if !open.isEmpty && random.chance(0.5) {
            let parentIDs = random.pick(open)
            ids.trace = parentIDs.trace
            parent = parentIDs.span
        }
        open.append(ids)
        started.append(ids)
        emit(.startSpan(BeginSpan(scopeId: scopeHandle(), traceId: ids.trace, spanId: ids.span, parentSpanId: parent,
                                  name: name ?? text(length()), kind: UInt32(random.int(0...5)), startTimeUnixNano: tick(),
                                  flags: UInt32(random.int(0...1)), attributes: given ?? attributes())))
    }

    mutating func spanEvent(_ span: SpanIDs) {
        switch random.int(0...3) {
        case 0: emit(.setSpanAttributes(SetSpanAttributes(traceId: span.trace, spanId: span.span, attributes: attributes())))
        case 1: emit(.renameSpan(RenameSpan(traceId: span.trace, spanId: span.span, name: text(length()))))
        case 2:
            let links = (0..<random.int(1...3)).map { _ in
                let target = random.pick(started)
                return LinkTarget(traceId: target.trace, spanId: target.span, traceState: random.chance(0.3) ? "vendor=\(text(random.int(0...12)))" : "",
                                  attributes: attributes(), flags: UInt32(random.int(0...1)))
            }
            emit(.addSpanLinks(AddSpanLinks(traceId: span.trace, spanId: span.span, links: links)))
        default:
            open.removeAll { $0 == span }
            emit(.endSpan(FinishSpan(traceId: span.trace, spanId: span.span, endTimeUnixNano: tick(), statusCode: UInt32(random.int(0...2)),
                                     statusMessage: random.chance(0.3) ? text(length()) : "")))
        }
    }

    mutating func log() {
        var log = EmitLog(scopeId: scopeHandle(), timeUnixNano: tick(), severityNumber: UInt32(random.int(0...24)),
                          severityText: random.chance(0.4) ? random.pick(["INFO", "WARN", "error", "", "致命"]) : "",
                          body: random.chance(0.8) ? value(budget: 12) : nil, attributes: attributes(),
                          eventName: random.chance(0.3) ? "event.\(text(random.int(0...30)))" : "")
        if !open.isEmpty && random.chance(0.3) {
            let span = random.pick(open)
            (log.traceId, log.spanId, log.flags) = (span.trace, span.span, 1)
        }
        emit(.log(log))
    }

    mutating func record() {
        var measurement = RecordMeasurement(instrumentId: random.pick(instruments), attributes: attributes(), timeUnixNano: tick())
        measurement.value = random.chance(0.5) ? .asLong(integer()) : .asDouble(double())
        if !open.isEmpty && random.chance(0.2) {
            let span = random.pick(open)
            (measurement.traceId, measurement.spanId, measurement.flags) = (span.trace, span.span, 1)
        }
        emit(.record(measurement))
    }

    // MARK: values

    mutating func tick() -> UInt64 {
        clock += UInt64(random.int(1...1_000_000))
        return clock
    }

    mutating func scopeHandle() -> Int64 { scopes.isEmpty || random.chance(0.3) ? 0 : random.pick(scopes) }

    mutating func freshKey() -> String {
        nextKey += 1
        return "key.\(nextKey).\(text(random.int(0...12)))"
    }

    /// 0 to 6 attributes with distinct keys, common or fresh.
    mutating func attributes() -> [KeyValue] {
        var keys: [String] = []
        for _ in 0..<random.weighted([30, 25, 20, 10, 8, 4, 3]) {
            let key = random.chance(0.6) ? random.pick(commonKeys) : freshKey()
            if !keys.contains(key) { keys.append(key) }
        }
        return keys.map { KeyValue(key: $0, value: value(budget: 6)) }
    }

    /// A string length: mostly short, sometimes around the one-byte varint limit, rarely long.
    mutating func length() -> Int {
        switch random.weighted([10, 60, 15, 10, 5]) {
        case 0: 0
        case 1: random.int(1...16)
        case 2: random.int(17...127)
        case 3: random.int(128...300)
        default: random.int(301...1_000)
        }
    }

    /// A string of exactly `bytes` UTF-8 bytes, mixing characters of one to four bytes.
    mutating func text(_ bytes: Int) -> String {
        let alphabet: [[Character]] = [Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:=\t\n\u{7F}"),
                                       Array("éßñжΩ"), Array("€中한ก\u{FFFD}"), Array("𝄞🚀😀𓂀")]
        var result = ""
        var left = bytes
        while left > 0 {
            let width = random.chance(0.7) ? 1 : random.int(1...min(4, left))
            result.append(random.pick(alphabet[width - 1]))
            left -= width
        }
        return result
    }

    func string(_ text: String) -> Value { Value(value: .stringValue(text)) }

    mutating func integer() -> Int64 {
        random.chance(0.2) ? random.pick([0, 1, -1, Int64.max, Int64.min, 127, 128, -128]) : Int64(random.int(-1_000_000...1_000_000))
    }

    mutating func double() -> Double {
        random.chance(0.2) ? random.pick([0, -1.5, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-300])
            : Double(random.int(-1_000_000...1_000_000)) / 64
    }

    /// A value of any kind; containers only while `budget` (message levels left) allows.
    mutating func value(budget: Int) -> Value {
        let kind = random.weighted([30, 10, 15, 10, 8, budget >= 4 ? 12 : 0, budget >= 5 ? 10 : 0])
        switch kind {
        case 0: return string(text(length()))
        case 1: return Value(value: .boolValue(random.chance(0.5)))
        case 2: return Value(value: .intValue(integer()))
        case 3: return Value(value: .doubleValue(double()))
        case 4: return Value(value: .bytesValue((0..<random.int(0...40)).map { _ in UInt8(random.int(0...255)) }))
        case 5: return Value(value: .arrayValue(ValueArray(values: (0..<random.int(0...4)).map { _ in value(budget: budget - 2) })))
        default:
            var keys: [String] = []
            for _ in 0..<random.int(0...4) {
                let key = random.chance(0.5) ? random.pick(commonKeys) : text(random.int(0...20))
                if !keys.contains(key) { keys.append(key) }
            }
            return Value(value: .kvlistValue(ValueMap(values: keys.map { KeyValue(key: $0, value: value(budget: budget - 3)) })))
        }
    }

    /// A chain of containers using up `budget` levels, with a scalar or two beside each level.
    mutating func nested(budget: Int) -> Value {
        if budget < 5 { return Value(value: .intValue(Int64(budget))) }
        if random.chance(0.5) {
            return Value(value: .arrayValue(ValueArray(values: [nested(budget: budget - 2), Value(value: .boolValue(true))])))
        }
        return Value(value: .kvlistValue(ValueMap(values: [KeyValue(key: "level", value: nested(budget: budget - 3)),
                                                           KeyValue(key: "n", value: Value(value: .intValue(Int64(budget))))])))
    }
}
