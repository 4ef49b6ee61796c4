import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapTestee
import OTLPMmapWire

/// The result of one script (a scenario or a fuzz case) against one testee.
package struct ScenarioResult: Sendable {
    package var scenario: String
    package var failures: [CheckFailure]
    package var recordsRead: Int
    /// Commands the testee answered UNSUPPORTED.
    package var unsupported: Int
    /// Record commands the testee answered DROPPED or TOO_LARGE.
    package var notWritten: Int
    package var seconds: Double
    /// The testee's program could not be started at all (so no case can tell anything).
    package var testeeDidNotStart = false
    /// The last lines the testee wrote to its standard error (and, on `--channel fds`, its standard
    /// output), kept when the script failed: what it said is often why.
    package var testeeStderrTail = ""
    package var passed: Bool { failures.isEmpty }

    package init(scenario: String, failures: [CheckFailure] = [], recordsRead: Int = 0, unsupported: Int = 0, notWritten: Int = 0, seconds: Double = 0) {
        self.scenario = scenario
        self.failures = failures
        self.recordsRead = recordsRead
        self.unsupported = unsupported
        self.notWritten = notWritten
        self.seconds = seconds
    }
    /// Nothing failed, but the testee lacks a feature the script uses.
    package var skipped: Bool { passed && unsupported > 0 }
    /// The checks that failed, each once, in the order they first failed.
    package var failedChecks: [String] {
        var seen: Set<String> = []
        return failures.map(\.check).filter { seen.insert($0).inserted }
    }

    /// The failed checks that are rules of the format (the rest are the runner's own).
    package var brokenRules: [RuleID] {
        failedChecks.filter { RunnerCheck.named($0) == nil }.map(RuleID.init)
    }

    func finished(since start: ContinuousClock.Instant) -> ScenarioResult {
        var result = self
        result.seconds = (ContinuousClock.now - start).seconds
        return result
    }
}

/// Runs testee scripts: starts the writer under test, sends it the commands one by one while
/// consuming its file live, then checks the rules and that exactly what was commanded arrived —
/// nothing lost but what the testee said it did not write, nothing duplicated, nothing altered,
/// each thread's records in command order.
package struct TesteeRunner: Sendable {
    package var command: [String]
    /// How long a claimed slot may stay unpublished before it counts as a hole (RING-HOLE).
    package var holeTimeout: Duration = .seconds(2)
    /// What `create_file` tells the testee to wait for room in a full ring before it answers DROPPED.
    /// A few milliseconds: the runner reads every millisecond while it reads, and while it has
    /// paused no wait brings room — every record sent then waits all of it (at 100 ms, most of a
    /// fuzz run went into such waits).
    package var fullRingWait: Duration = .milliseconds(10)
    /// How long one command may take to be answered.
    package var replyTimeout: Duration = .seconds(10)
    /// Replaces every script's own timeout (tests make hanging writers fail fast).
    package var timeoutOverride: Double?
    /// Whether the protocol uses the testee's standard input and output, or descriptors 3 and 4.
    package var useDescriptors = false

    package init(command: [String]) { self.command = command }

    package func run(_ script: TesteeScript) -> ScenarioResult {
        let started = ContinuousClock.now
        var result = ScenarioResult(scenario: script.name, failures: [], recordsRead: 0, unsupported: 0, notWritten: 0, seconds: 0)
        func fail(_ check: RunnerCheck, _ message: String) { result.failures.append(CheckFailure(check, message)) }
        func fail(_ rule: RuleID, _ message: String) {
            if !result.failures.contains(where: { $0.check == rule.rawValue }) { result.failures.append(CheckFailure(rule, message)) }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-mmap-conform-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("testee.otlpmmap").path
        let timeout = Duration.milliseconds(Int64((timeoutOverride ?? script.timeoutSeconds) * 1000))
        let deadline = started.advanced(by: timeout)

        let testee: TesteeProcess
        do {
            testee = try TesteeProcess(command: command, environment: [FileEnvironment.variable: path],
                                       errorLog: folder.appendingPathComponent("stderr"), channel: useDescriptors ? .fds : .stdio)
        } catch {
            fail(.testeeProtocol, "\(error)")
            result.testeeDidNotStart = true
            return result.finished(since: started)
        }
        let consumer = LiveConsumer(path: path, holeTimeout: holeTimeout)
        let truncationsBefore = TruncationGuard.eventsOnThisThread
        var expected = ExpectedContent()
        var file = script.file
        file.path = path
        if file.fullRingWaitMicros <= 0 { file.fullRingWaitMicros = Int64(clamping: max(1, fullRingWait.wholeNanoseconds / 1_000)) }
        var numbered = Numbering()
        var completed = true
        var errorReplies = 0, droppedWithRoom = 0, tooLargeThatFits = 0
        var answeredOKWhilePaused: [RingKind: Int] = [:]

        /// Sends one command and books its reply; false when the session cannot go on.
        func send(_ original: Command) -> Bool {
            let command = numbered.assign(original)
            let what = "command \(command.id) (\(Self.name(of: command)))"
            // The ring a lone record command writes, and its writer_index before: a TOO_LARGE that
            // moved it claimed a slot before checking the size (nothing else writes meanwhile).
            let ring = RecordSize.ring(of: command)
            let claimedBefore = ring.flatMap { consumer.file?.ring($0).header.writerIndex }
            consumer.forgetFullRings()
            // Paused, the runner watches the published unread slots between waits of 100 µs (a
            // shorter wait spins a core that the machine's other work needs; this catches 0.5 ms).
            testee.pollInterval = consumer.paused ? .microseconds(100) : .milliseconds(1)
            let reply: Reply
            do throws(TesteeFailure) {
                let limit = min(deadline, ContinuousClock.now.advanced(by: replyTimeout))
                reply = try testee.exchange(command, what: what, deadline: limit) { _ = consumer.poll() }
            } catch {
                var message = ContinuousClock.now >= deadline && error.kind == .hang
                    ? "the testee did not finish within \(timeout) and was killed (\(what) was waiting)" : "\(error)"
                if error.kind == .hang && consumer.paused {
                    message += ", while the runner had stopped reading: a writer whose ring stays full answers DROPPED rather than wait"
                }
                fail(.testeeProtocol, message)
                return false
            }
            for (part, partReply, stream) in Self.flatten(command, reply, stream: 0, failing: { fail(.replyValid, $0) }) {
                let partWhat = part.id == command.id ? what : "command \(part.id) (\(Self.name(of: part))) of \(what)"
                switch partReply.status {
                case .ok:
                    if consumer.paused, let ring = RecordSize.ring(of: part) { answeredOKWhilePaused[ring, default: 0] += 1 }
                case .dropped:
                    result.notWritten += 1
                    if !consumer.paused, let ring = RecordSize.ring(of: part), consumer.file != nil, !consumer.wasFull(ring) {
                        droppedWithRoom += 1
                        if droppedWithRoom <= 5 {
                            fail(.replyDropped, "the testee answered DROPPED to \(partWhat), but the runner was reading and the \(ring.name) ring was never full while it ran: the record was lost, not dropped for want of room")
                        }
                    }
                case .tooLarge:
                    result.notWritten += 1
                    if let ring = RecordSize.ring(of: part), let geometry = file.geometry(of: ring),
                       let bound = RecordSize.upperBound(part), bound + 10 <= geometry.slotSize {
                        tooLargeThatFits += 1
                        if tooLargeThatFits <= 5 {
                            fail(.replyTooLarge, "the testee answered TOO_LARGE to \(partWhat), but any encoding of that record takes at most \(bound) bytes and the \(ring.name) slots hold \(geometry.slotSize)")
                        }
                    }
                    if part.id == command.id, let ring, let before = claimedBefore,
                       let after = consumer.file?.ring(ring).header.writerIndex, after != before {
                        fail(.ringSizeBeforeClaim, "\(partWhat) was answered TOO_LARGE, yet the \(ring.name) ring's writer_index moved from \(before) to \(after) while it ran: the writer claimed a slot before checking the record's size, and left it a hole that stalls every reader of the ring")
                    }
                case .unsupported: result.unsupported += 1
                case .error:
                    errorReplies += 1
                    if errorReplies <= 5 { fail(.replyError, "the testee answered ERROR to \(partWhat): \(partReply.message)") }
                default: fail(.replyValid, "the testee answered \(partWhat) with status \(partReply.status.rawValue), which is not a valid answer (1 to 5)")
                }
                expected.add(part, partReply, stream: stream, origin: partWhat)
            }
            if case .createFile? = command.command, reply.status != .ok {
                fail(.fileCreated, "the testee could not create the file: \(reply.status.name ?? "\(reply.status.rawValue)") \(reply.message)")
                return false
            }
            return true
        }

        let steps: [TesteeScript.Step] = [.command(Command(command: .createFile(file)))] + script.steps + [.command(Command(command: .exit(Exit())))]
        for step in steps {
            switch step {
            case .command(let command):
                completed = send(command)
            case .consumer(paused: true):
                consumer.pause()
                answeredOKWhilePaused = [:]
            case .consumer(paused: false):
                guard consumer.paused else { continue }
                completed = send(Command(command: .sync(Sync())))
                if completed { consumer.resume(answeredOK: answeredOKWhilePaused) }
            }
            if !completed { break }
        }
        if consumer.paused { consumer.resume(answeredOK: answeredOKWhilePaused) }
        if errorReplies > 5 { fail(.replyError, "the testee answered ERROR to \(errorReplies - 5) more commands") }
        if droppedWithRoom > 5 { fail(.replyDropped, "the testee answered DROPPED with room in the ring to \(droppedWithRoom - 5) more records") }
        if tooLargeThatFits > 5 { fail(.replyTooLarge, "the testee answered TOO_LARGE to \(tooLargeThatFits - 5) more records that fit") }
        if completed {
            if !testee.waitForExit(deadline: min(deadline, ContinuousClock.now.advanced(by: .seconds(10))), idle: { _ = consumer.poll() }) {
                fail(.testeeProtocol, "the testee did not exit within 10 s of answering exit, and was killed")
            } else if let ending = testee.ending, ending != "exited with status 0" {
                let tail = testee.errorTail
                fail(.testeeProtocol, "the testee \(ending) after exit\(tail.isEmpty ? "" : "; its standard error ended: \(tail)")")
            }
            if testee.unansweredBytes > 0 { fail(.testeeProtocol, "the testee wrote \(testee.unansweredBytes) bytes after its last reply, which are no frame") }
        } else {
            testee.terminate()
        }
        consumer.drain(until: ContinuousClock.now.advanced(by: holeTimeout + .milliseconds(500)))
        result.failures += consumer.failures
        result.recordsRead = consumer.recordsRead
        if TruncationGuard.eventsOnThisThread > truncationsBefore {
            fail(.hdrSectionBounds, "the file shrank while the runner read it (reads past its new end were caught and read as zeros)")
        }
        if consumer.file == nil && completed {
            if !FileManager.default.fileExists(atPath: path) {
                fail(.fileCreated, "the testee never created the file create_file named")
            } else {
                fail(.fileCreated, "the testee's file never became readable: \(consumer.openError ?? "its start time stayed 0")")
            }
        }
        if FileManager.default.fileExists(atPath: path), let report = try? FileChecker.check(path: path, final: completed) {
            for finding in report.errors { fail(finding.rule, "at byte \(finding.offset): \(finding.message)") }
        }
        if completed && consumer.file != nil {
            result.failures += ContentComparison.compare(expected: expected, actual: consumer.records, skipping: consumer.deadRings,
                                                         unreadable: consumer.unreadable)
        }
        if !result.failures.isEmpty { result.testeeStderrTail = testee.errorTail }
        return result.finished(since: started)
    }

    /// The command and, for run_parallel, each member with its reply and stream.
    static func flatten(_ command: Command, _ reply: Reply, stream: Int,
                        failing: (String) -> Void) -> [(Command, Reply, Int)] {
        guard case .runParallel(let parallel)? = command.command else { return [(command, reply, stream)] }
        let members = parallel.groups.enumerated().flatMap { group, commands in commands.commands.map { ($0, group + 1) } }
        guard reply.status == .ok || !reply.parts.isEmpty else { return [(command, reply, stream)] }
        guard reply.parts.count == members.count else {
            failing("the testee answered run_parallel command \(command.id) with \(reply.parts.count) parts for its \(members.count) commands")
            return []
        }
        return zip(members, reply.parts).map { member, part in
            let (memberCommand, group) = member
            if part.id != memberCommand.id {
                failing("the testee's part for command \(memberCommand.id) of run_parallel command \(command.id) carries the id \(part.id)")
            }
            // One stream per group of this run_parallel: its records keep their order among themselves.
            return (memberCommand, part, Int(command.id) * 1_000 + group)
        }
    }

    static func name(of command: Command) -> String {
        switch command.command {
        case .createFile?: "create_file"
        case .defineScope?: "define_scope"
        case .startSpan?: "start_span"
        case .setSpanAttributes?: "set_span_attributes"
        case .renameSpan?: "rename_span"
        case .addSpanLinks?: "add_span_links"
        case .endSpan?: "end_span"
        case .log?: "log"
        case .defineInstrument?: "define_instrument"
        case .record?: "record"
        case .runParallel?: "run_parallel"
        case .sync?: "sync"
        case .exit?: "exit"
        case nil: "empty"
        }
    }
}

/// Command ids in the order commands are sent, members of run_parallel included.
struct Numbering {
    private var next: Int64 = 1

    mutating func assign(_ command: Command) -> Command {
        var command = command
        command.id = next
        next += 1
        if case .runParallel(var parallel)? = command.command {
            for group in parallel.groups.indices {
                for index in parallel.groups[group].commands.indices {
                    parallel.groups[group].commands[index].id = next
                    next += 1
                }
            }
            command.command = .runParallel(parallel)
        }
        return command
    }
}

/// Compares what the consumer read with what was commanded.
enum ContentComparison {
    /// Rings in `skipping` stopped early; what they lack is already explained by the rule they broke.
    /// `unreadable` counts, per ring, records whose rule failure was reported already and that
    /// could not be read: one root cause is reported once, so as many missing records are not also
    /// CONTENT-LOST, and a record read broken is not also CONTENT-UNEXPECTED.
    static func compare(expected: ExpectedContent, actual: [RingKind: [LiveConsumer.Consumed]], skipping: Set<RingKind> = [],
                        unreadable: [RingKind: Int] = [:]) -> [CheckFailure] {
        var problems: [CheckFailure] = []
        var resourceReported = false
        for kind in RingKind.allCases where !skipping.contains(kind) {
            let wanted = expected.records[kind] ?? []
            let read = actual[kind] ?? []
            var pending: [RecordContent: [Int]] = [:]
            for (index, record) in wanted.enumerated() { pending[record.content, default: []].append(index) }
            var matchedAt: [Int: Int64] = [:]
            var unexpected: [CheckFailure] = []
            var explained = unreadable[kind] ?? 0
            for record in read {
                if var queue = pending[record.content], !queue.isEmpty {
                    let index = queue.removeFirst()
                    pending[record.content] = queue
                    matchedAt[index] = record.sequence
                    if let scope = wanted[index].scope {
                        let actualScope = record.detached.scope.map { RecordContent($0) }
                        if actualScope != scope {
                            problems.append(CheckFailure(.contentScope, "\(kind.name) sequence \(record.sequence) (\(wanted[index].origin)) has the scope \(actualScope?.text ?? "none"), expected \(scope.text)"))
                        }
                    }
                } else if record.broken {
                    explained += 1   // its rule failure is reported; the commanded record it was is missing below
                } else if let reason = expected.notWritten[kind]?[record.content] {
                    unexpected.append(CheckFailure(.contentUnexpected, "\(kind.name) sequence \(record.sequence) holds a record the testee said it did not write (\(reason))"))
                } else {
                    unexpected.append(CheckFailure(.contentUnexpected, "\(kind.name) sequence \(record.sequence) holds a record no command asked for (duplicated or altered): \(record.content.text.prefix(400))"))
                }
                if !resourceReported, let wantedResource = expected.resource, case .array(let attributes)? = wantedResource["attributes"] {
                    for resource in record.detached.resources {
                        guard case .array(let have)? = resource["attributes"] ?? .array([]) else { continue }
                        let missing = attributes.filter { !have.contains($0) }
                        if !missing.isEmpty {
                            problems.append(CheckFailure(.contentResource, "\(kind.name) sequence \(record.sequence): the resource lacks the attributes \(JSONValue.array(missing).compactText) create_file gave"))
                            resourceReported = true
                            break
                        }
                    }
                }
            }
            let unmatched = wanted.indices.filter { matchedAt[$0] == nil }
            // Which commanded records the broken ones were cannot be told; as many as there were are not lost again.
            let missing = unmatched.count > explained ? unmatched : []
            for index in missing.prefix(5) {
                problems.append(CheckFailure(.contentLost, "\(kind.name): \(wanted[index].origin) was answered OK but its record never arrived: \(wanted[index].content.text.prefix(400))"))
            }
            if missing.count > 5 { problems.append(CheckFailure(.contentLost, "\(kind.name): \(missing.count - 5) more commanded records never arrived")) }
            problems += unexpected.prefix(5)
            if unexpected.count > 5 { problems.append(CheckFailure(.contentUnexpected, "\(kind.name): \(unexpected.count - 5) more records no command asked for")) }
            // Records of one thread of commands arrive in the order the commands were given.
            var lastByStream: [Int: (sequence: Int64, origin: String)] = [:]
            var disorder = 0
            for (index, record) in wanted.enumerated() {
                guard let sequence = matchedAt[index] else { continue }
                if let last = lastByStream[record.stream], last.sequence > sequence {
                    disorder += 1
                    if disorder <= 3 {
                        problems.append(CheckFailure(.contentOrder, "\(kind.name): the record of \(record.origin) (sequence \(sequence)) arrived before that of \(last.origin) (sequence \(last.sequence)), which was commanded first"))
                    }
                }
                lastByStream[record.stream] = (sequence, record.origin)
            }
        }
        return problems
    }
}

/// Durations as the reports print them.
extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
