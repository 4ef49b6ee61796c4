import OTLPMmapTestee

/// Makes a failing case small: delta debugging over its steps (Zeller's ddmin, removing ever smaller
/// chunks while the failure persists), then inside each run_parallel, then the parallel groups run
/// one after the other. After every removal the case is repaired — commands about spans never
/// started or instruments never defined are dropped, scopes never defined become the default scope,
/// unmatched consumer pauses go — so a candidate is always a valid case, and a failure it shows is
/// the writer's, not the shrinker's.
struct Shrinker {
    /// Runs a candidate; true when it fails as the original did.
    var reproduces: (TesteeScript) -> Bool
    /// At most this many candidates are run.
    var budget: Int
    private(set) var trials = 0

    init(budget: Int, reproduces: @escaping (TesteeScript) -> Bool) {
        self.budget = budget
        self.reproduces = reproduces
    }

    mutating func shrink(_ script: TesteeScript) -> TesteeScript {
        var best = script
        best.steps = Self.repair(best.steps)
        best = minimise(best, parts: \.steps)
        // Inside each run_parallel: fewer members, then fewer groups, then no threads at all.
        var index = 0
        while index < best.steps.count, trials < budget {
            if case .command(let command) = best.steps[index], case .runParallel(let parallel)? = command.command {
                var members = TesteeScript(name: best.name, file: best.file, steps: parallel.groups.flatMap { group in
                    group.commands.map { TesteeScript.Step.command($0) } + [.consumer(paused: false)]
                })
                // The consumer steps stand for group boundaries while the members are minimised.
                let prefix = Array(best.steps[..<index]), suffix = Array(best.steps[(index + 1)...])
                let rebuild = { (steps: [TesteeScript.Step]) -> [TesteeScript.Step] in
                    var groups: [CommandGroup] = [CommandGroup()]
                    for step in steps {
                        switch step {
                        case .command(let member): groups[groups.count - 1].commands.append(member)
                        case .consumer: groups.append(CommandGroup())
                        }
                    }
                    let parallel = Command(command: .runParallel(RunParallel(groups: groups.filter { !$0.commands.isEmpty })))
                    return prefix + [.command(parallel)] + suffix
                }
                members = minimise(members, parts: \.steps) { candidate in
                    var whole = best
                    whole.steps = Self.repair(rebuild(candidate.steps))
                    return whole
                }
                best.steps = Self.repair(rebuild(members.steps))
                if case .command(let shrunk) = best.steps[index], case .runParallel(let left)? = shrunk.command {
                    var sequential = best
                    sequential.steps = prefix + left.groups.flatMap { $0.commands.map { .command($0) } } + suffix
                    sequential.steps = Self.repair(sequential.steps)
                    if fails(sequential) { best = sequential }
                }
            }
            index += 1
        }
        return best
    }

    /// ddmin over `parts` of `script`; `assemble` turns a candidate into the case to run.
    private mutating func minimise(_ script: TesteeScript, parts: WritableKeyPath<TesteeScript, [TesteeScript.Step]>,
                                   assemble: ((TesteeScript) -> TesteeScript)? = nil) -> TesteeScript {
        var current = script
        var granularity = 2
        while current[keyPath: parts].count >= 2, trials < budget {
            let items = current[keyPath: parts]
            let chunk = (items.count + granularity - 1) / granularity
            var reduced = false
            for start in stride(from: 0, to: items.count, by: chunk) where trials < budget {
                var candidate = current
                candidate[keyPath: parts] = Array(items[..<start]) + Array(items[min(items.count, start + chunk)...])
                if assemble == nil { candidate[keyPath: parts] = Self.repair(candidate[keyPath: parts]) }
                guard candidate[keyPath: parts].count < items.count else { continue }
                if fails(assemble?(candidate) ?? candidate) {
                    current = candidate
                    granularity = max(granularity - 1, 2)
                    reduced = true
                    break
                }
            }
            if !reduced {
                guard granularity < items.count else { break }
                granularity = min(granularity * 2, items.count)
            }
        }
        return current
    }

    private mutating func fails(_ candidate: TesteeScript) -> Bool {
        trials += 1
        return reproduces(candidate)
    }

    /// Drops what refers to something the steps no longer define, and unmatched consumer changes.
    static func repair(_ steps: [TesteeScript.Step]) -> [TesteeScript.Step] {
        var state = Defined()
        var paused = false
        var repaired: [TesteeScript.Step] = []
        for step in steps {
            switch step {
            case .consumer(let pause):
                guard pause != paused else { continue }
                paused = pause
                repaired.append(step)
            case .command(let command):
                if case .runParallel(var parallel)? = command.command {
                    var added = Defined()
                    parallel.groups = parallel.groups.compactMap { group in
                        var local = state
                        let commands = group.commands.compactMap { local.repair($0) }
                        added.merge(local)
                        return commands.isEmpty ? nil : CommandGroup(commands: commands)
                    }
                    state.merge(added)
                    guard !parallel.groups.isEmpty else { continue }
                    repaired.append(.command(Command(id: command.id, command: .runParallel(parallel))))
                } else if let kept = state.repair(command) {
                    repaired.append(.command(kept))
                }
            }
        }
        return repaired
    }

    /// What earlier steps defined.
    struct Defined {
        var scopes: Set<Int64> = []
        var instruments: Set<Int64> = []
        var spans: Set<[UInt8]> = []

        mutating func merge(_ other: Defined) {
            scopes.formUnion(other.scopes)
            instruments.formUnion(other.instruments)
            spans.formUnion(other.spans)
        }

        /// The command, made valid against what is defined, or nil when it cannot be.
        mutating func repair(_ command: Command) -> Command? {
            var command = command
            func scope(_ id: Int64) -> Int64 { scopes.contains(id) ? id : 0 }
            switch command.command {
            case .defineScope(let define)?:
                scopes.insert(define.scopeId)
            case .defineInstrument(var define)?:
                define.scopeId = scope(define.scopeId)
                instruments.insert(define.instrumentId)
                command.command = .defineInstrument(define)
            case .startSpan(var start)?:
                start.scopeId = scope(start.scopeId)
                spans.insert(start.traceId + start.spanId)
                command.command = .startSpan(start)
            case .setSpanAttributes(let update)?:
                guard spans.contains(update.traceId + update.spanId) else { return nil }
            case .renameSpan(let rename)?:
                guard spans.contains(rename.traceId + rename.spanId) else { return nil }
            case .addSpanLinks(let add)?:
                guard spans.contains(add.traceId + add.spanId) else { return nil }
            case .endSpan(let end)?:
                guard spans.contains(end.traceId + end.spanId) else { return nil }
            case .log(var log)?:
                log.scopeId = scope(log.scopeId)
                command.command = .log(log)
            case .record(let measurement)?:
                guard instruments.contains(measurement.instrumentId) else { return nil }
            case .runParallel?, .createFile?, .exit?, nil:
                return nil
            case .sync?:
                break
            }
            return command
        }
    }
}
