import Foundation
@testable import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapTestee
import Testing
import TestSupport

/// The fuzzer's parts without a testee: the generator makes valid cases that cover what writers get
/// wrong, a seed makes the same cases, the shrinker's repair keeps cases valid, and replay files
/// round-trip and are rejected with the offset when broken.
@Suite struct FuzzCaseTests {
    /// 300 cases, made once, off the cooperative pool: generating them takes the debug build
    /// seconds, and tests blocked on a lazy static while one of them builds it held every pool thread,
    /// starving the in-process collectors of other suites.
    static let generated = Task { try await TestSupport.offThePool { (0..<300).map { FuzzCases.generate(seed: 7, index: $0) } } }
    static func cases() async throws -> [TesteeScript] { try await generated.value }

    @Test func aSeedGivesTheSameCasesAndAnotherSeedOthers() async throws {
        let cases = try await Self.cases()
        #expect(FuzzCases.generate(seed: 7, index: 12) == cases[12])
        #expect(FuzzCases.generate(seed: 8, index: 12) != cases[12])
        #expect(FuzzCases.generate(seed: 7, index: 13) != cases[12])
    }

    @Test func generatedCasesAreValidAsTheyStand() async throws {
        let cases = try await Self.cases()
        for script in cases {
            #expect(Shrinker.repair(script.steps) == script.steps, "\(script.name): \(script.description)")
        }
    }

    /// Everything the issue lists shows up within 300 cases of one seed.
    @Test func generatedCasesCoverWhatWritersGetWrong() async throws {
        let cases = try await Self.cases()
        var kinds: Set<InstrumentKind> = []
        var valueKinds: Set<String> = []
        var deepest = 0, mostKeys = 0, longestRun = 0, parallel = 0, pauses = 0
        var overSlot = 0, underSlot = 0, multiByteNearSlot = 0, varintBoundary = 0
        var concurrentInterning = 0
        for script in cases {
            var keys: Set<String> = []
            // Keys new to the file, added by several threads at once; some by all of them.
            var seen: Set<String> = []
            for command in script.commands {
                let groups = if case .runParallel(let run)? = command.command { run.groups.map(\.commands) } else { [[command]] }
                let groupKeys = groups.map { Set($0.flatMap(Self.attributeKeys)) }
                let fresh = groupKeys.map { $0.subtracting(seen) }
                let sharedFresh = fresh.count >= 2 ? fresh.dropFirst().reduce(fresh[0]) { $0.intersection($1) } : []
                if fresh.count >= 2 && fresh.allSatisfy({ $0.count >= 50 }) && !sharedFresh.isEmpty && script.file.dictionaryBytes <= 16_384 {
                    concurrentInterning += 1
                }
                seen.formUnion(groupKeys.flatMap { $0 })
            }
            let commands = script.commands.flatMap { command -> [Command] in
                if case .runParallel(let run)? = command.command { parallel += 1; return run.groups.flatMap(\.commands) }
                return [command]
            }
            longestRun = max(longestRun, commands.count)
            pauses += script.steps.filter { $0 == .consumer(paused: true) }.count
            for command in commands {
                switch command.command {
                case .defineInstrument(let define)?: kinds.insert(define.kind)
                case .log(let log)?:
                    let slot = Int(script.file.events!.slotSize)
                    if let body = log.body {
                        deepest = max(deepest, Self.depth(body, &valueKinds))
                        if case .stringValue(let text)? = body.value {
                            let bytes = text.utf8.count
                            if bytes > slot { overSlot += 1 }
                            if bytes <= slot && bytes > slot - 96 { underSlot += 1 }
                            if abs(bytes - slot) < 96 && text.unicodeScalars.contains(where: { $0.value > 0xFFFF }) { multiByteNearSlot += 1 }
                            if [127, 128, 16_383, 16_384].contains(bytes) { varintBoundary += 1 }
                        }
                    }
                    for attribute in log.attributes {
                        keys.insert(attribute.key)
                        if let value = attribute.value { _ = Self.depth(value, &valueKinds) }
                    }
                case .startSpan(let start)?: keys.formUnion(start.attributes.map(\.key))
                case .record(let record)?: keys.formUnion(record.attributes.map(\.key))
                default: break
                }
            }
            mostKeys = max(mostKeys, keys.count)
        }
        #expect(kinds == [.counter, .upDownCounter, .gauge, .histogram, .exponentialHistogram])
        #expect(valueKinds == ["string", "bool", "int", "double", "bytes", "array", "kvlist"])
        #expect(deepest >= 20, "a body nested \(deepest) containers deep")
        #expect(mostKeys >= 1_000, "at most \(mostKeys) distinct keys in a case")
        #expect(longestRun >= 1_000)
        #expect(parallel >= 10 && pauses >= 10)
        #expect(concurrentInterning >= 10, "\(concurrentInterning) run_parallel commands intern fresh keys on several threads at once")
        #expect(overSlot > 0 && underSlot > 0 && multiByteNearSlot > 0 && varintBoundary > 0,
                "over \(overSlot), under \(underSlot), multi-byte \(multiByteNearSlot), varint boundary \(varintBoundary)")
    }

    static func attributeKeys(_ command: Command) -> [String] {
        switch command.command {
        case .log(let log)?: log.attributes.map(\.key)
        case .record(let record)?: record.attributes.map(\.key)
        case .startSpan(let start)?: start.attributes.map(\.key)
        default: []
        }
    }

    /// Containers nested in `value`; collects the kinds seen.
    static func depth(_ value: Value, _ kinds: inout Set<String>) -> Int {
        switch value.value {
        case .stringValue?: kinds.insert("string"); return 0
        case .boolValue?: kinds.insert("bool"); return 0
        case .intValue?: kinds.insert("int"); return 0
        case .doubleValue?: kinds.insert("double"); return 0
        case .bytesValue?: kinds.insert("bytes"); return 0
        case .arrayValue(let array)?:
            kinds.insert("array")
            return 1 + (array.values.map { depth($0, &kinds) }.max() ?? 0)
        case .kvlistValue(let map)?:
            kinds.insert("kvlist")
            return 1 + (map.values.compactMap(\.value).map { depth($0, &kinds) }.max() ?? 0)
        case nil: return 0
        }
    }

    @Test func repairDropsWhatRefersToRemovedDefinitions() {
        let trace = [UInt8](repeating: 1, count: 16), span = [UInt8](repeating: 2, count: 8)
        let steps: [TesteeScript.Step] = [
            .consumer(paused: false),
            .command(Command(command: .endSpan(FinishSpan(traceId: trace, spanId: span)))),
            .command(Command(command: .record(RecordMeasurement(instrumentId: 3, value: .asLong(1))))),
            .command(Command(command: .log(EmitLog(scopeId: 9, severityNumber: 9)))),
            .consumer(paused: true),
            .consumer(paused: true),
        ]
        #expect(Shrinker.repair(steps) == [
            .command(Command(command: .log(EmitLog(scopeId: 0, severityNumber: 9)))),
            .consumer(paused: true),
        ])
    }

    @Test func theShrinkerFindsTheCommandsThatMatter() async throws {
        let cases = try await Self.cases()
        // A "failure" that needs two particular commands out of sixty.
        let script = cases.first { $0.commands.count >= 60 && !$0.commands.contains { if case .runParallel? = $0.command { true } else { false } } }!
        let needles = [script.commands[10], script.commands[50]]
        var shrinker = Shrinker(budget: 1_000) { candidate in needles.allSatisfy(candidate.commands.contains) }
        let shrunk = shrinker.shrink(script)
        // What the needles depend on (their span's start, their instrument) may stay; little else.
        #expect(needles.allSatisfy(shrunk.commands.contains))
        #expect(shrunk.steps.count <= 6, "\(shrunk.steps.count) steps left: \(shrunk.commands.map(TesteeRunner.name))")
        #expect(shrinker.trials < 300)
    }

    @Test func replayFilesRoundTrip() async throws {
        let cases = try await Self.cases()
        for script in cases.prefix(40) {
            let decoded = try ReplayFile.decode(ReplayFile.encode(script), name: "x", source: "x")
            var file = script.file
            file.path = ""
            #expect(decoded.file == file)
            #expect(decoded.steps == script.steps)
        }
    }

    @Test func brokenReplayFilesAreRejectedWithTheOffset() async throws {
        let cases = try await Self.cases()
        let bytes = ReplayFile.encode(cases[3])
        #expect(throws: ScenarioError.self) { try ReplayFile.decode(Array(bytes.dropLast(3)), name: "x", source: "cut.replay") }
        do {
            _ = try ReplayFile.decode(Array(bytes.dropLast(3)), name: "x", source: "cut.replay")
        } catch let error as ScenarioError {
            #expect(error.description.hasPrefix("cut.replay: not a replay file: at byte \(Self.lastFrameStart(bytes)) of the stream"), "\(error)")
            #expect(error.description.contains("ends inside a frame"), "\(error)")
        }
        // A file that starts with anything but create_file.
        let log = Frame.encode(ReplayStep(step: .command(Command(command: .log(EmitLog())))))
        #expect(throws: ScenarioError.self) { try ReplayFile.decode(log, name: "x", source: "x") }
        // Garbage: a frame announcing more than the protocol allows.
        #expect(throws: ScenarioError.self) { try ReplayFile.decode([0xFF, 0xFF, 0xFF, 0xFF, 1, 2], name: "x", source: "x") }
    }

    /// Where the last frame of a framed stream starts.
    static func lastFrameStart(_ bytes: [UInt8]) -> Int {
        var at = 0, last = 0
        while at + 4 <= bytes.count {
            last = at
            at += 4 + Int(UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
        }
        return last
    }
}
