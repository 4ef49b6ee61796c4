import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Consumes a writer's file while it writes, as a collector would: opens it once it is
/// initialised, reads every published record of every ring, checks it against the record rules,
/// resolves its references, hands the slot back, and fails a slot left claimed but unpublished
/// longer than the hole timeout (RING-HOLE). Small rings thus make the writer wait for the runner.
///
/// Paused, it reads nothing, so the rings fill up; meanwhile it watches every published unread slot
/// and fails one whose bytes change (published before its bytes were in place, or written over while
/// unread: RING-FLAG) and a ring holding more than it can (RING-CAPACITY). Resuming checks that every
/// claimed slot is published (RING-HOLE) and that the testee did not answer OK to more records than
/// the ring had room for.
final class LiveConsumer {
    struct Consumed {
        var sequence: Int64
        var content: RecordContent
        var detached: RecordContent.Detached
        /// The record broke a MUST rule (reported as such); its content is not compared again.
        var broken = false
    }

    let path: String
    let holeTimeout: Duration
    private(set) var file: MmapFile?
    private(set) var openError: String?
    private(set) var records: [RingKind: [Consumed]] = [:]
    private(set) var failures: [CheckFailure] = []
    /// Per ring, records that could not be read at all (SLOT-LENGTH, decoding): their rule failure
    /// explains a commanded record that is missing.
    private(set) var unreadable: [RingKind: Int] = [:]
    /// Per ring, the one consumer (Core's): position, readiness, holes on a monotonic clock.
    private var consumers: [RingKind: RingConsumer] = [:]
    private let time = TimeSource.system
    /// Rings the consumer stopped reading (a hole, a broken header): their content is not compared.
    private(set) var deadRings: Set<RingKind> = []
    /// While paused: per ring, the room it had when the pause began and the bytes of each published
    /// unread slot as first seen.
    private var frozen: [RingKind: (room: Int64, published: [Int64: [UInt8]])]?
    /// Whether the consumer reads nothing: the runner is letting the rings fill up.
    var paused: Bool { frozen != nil }
    /// Rings found full (unread records at the ring's capacity) since `forgetFullRings()`. The
    /// consumer is the only reader, so a ring that fills stays full until its next poll sees it.
    private var seenFull: Set<RingKind> = []

    init(path: String, holeTimeout: Duration) {
        self.path = path
        self.holeTimeout = holeTimeout
    }

    var recordsRead: Int { records.values.reduce(0) { $0 + $1.count } }
    /// Whether some ring waits on a claimed slot that is not yet a hole.
    var isWaitingOnASlot: Bool { consumers.contains { !deadRings.contains($0.key) && $0.value.isWaitingOnAClaimedSlot } }

    func fail(_ message: String, rule: RuleID) { failures.append(CheckFailure(rule, message)) }

    /// Reads what is readable now (paused: only watches). Returns whether anything was read.
    @discardableResult
    func poll() -> Bool {
        guard open() else { return false }
        if paused {
            watch()
            return false
        }
        guard let file else { return false }
        let resolver = ReferenceResolver(dictionary: file.dictionary)
        var progressed = false
        for ring in file.rings where !deadRings.contains(ring.kind) {
            var batch = 0
            while batch < 4_096, read(ring.kind, resolver) {
                batch += 1
                progressed = true
            }
        }
        return progressed
    }

    /// Opens the file once its writer has initialised it; whether it is open.
    private func open() -> Bool {
        if file == nil {
            do {
                let opened = try MmapFile.open(path: path, writable: true)
                guard opened.startTimeUnixNano != 0 else { return false }
                file = opened
                for ring in opened.rings {
                    do throws(FormatError) {
                        // Each slot goes back to the writer as soon as it is read: small rings make the writer wait for the runner.
                        // (Never by the cursor itself: `read` releases a slot once it has believed it.)
                        consumers[ring.kind] = RingConsumer(cursor: try RingCursor(ring: ring, releaseEvery: .max), holeTimeout: holeTimeout,
                                                         holePolicy: .stop, checksIndices: true)
                    } catch {
                        fail("\(ring.kind.name) ring at byte \(error.offset): \(error.message)", rule: error.rule)
                        deadRings.insert(ring.kind)
                    }
                }
            } catch {
                openError = "\(error)"
                return false
            }
        }
        return true
    }

    // MARK: backpressure

    /// Starts a new watch for full rings (before a command is sent).
    func forgetFullRings() { seenFull = [] }

    /// Whether `kind` was seen full since `forgetFullRings()`, or is full now.
    func wasFull(_ kind: RingKind) -> Bool {
        if !seenFull.contains(kind), let ring = file?.ring(kind), !deadRings.contains(kind) { noteIfFull(ring) }
        return seenFull.contains(kind)
    }

    private func noteIfFull(_ ring: Ring) {
        guard let (reader, writer) = try? ring.indices() else { return }
        if writer - reader >= ring.numBuffers - 1 { seenFull.insert(ring.kind) }
    }

    /// Stops reading, remembering how much room each ring has left.
    func pause() {
        guard !paused else { return }
        var rooms: [RingKind: (room: Int64, published: [Int64: [UInt8]])] = [:]
        if open(), let file {
            for ring in file.rings where !deadRings.contains(ring.kind) {
                guard let (reader, writer) = indices(ring) else { continue }
                rooms[ring.kind] = (ring.numBuffers - 1 - (writer - reader), [:])
            }
        }
        frozen = rooms
        watch()
    }

    /// Checks the rings the pause filled, then reads again. `answeredOK` counts, per ring, the
    /// records the testee answered OK while paused; the runner has just had its reply to sync.
    func resume(answeredOK: [RingKind: Int]) {
        guard let rooms = frozen else { return }
        watch()
        if let file {
            for ring in file.rings where !deadRings.contains(ring.kind) {
                guard let (reader, writer) = indices(ring) else { continue }
                if writer > reader, let unpublished = (reader + 1...writer).first(where: { ring.state(of: $0) == .unpublished }) {
                    fail("\(ring.kind.name) sequence \(unpublished) (slot at byte \(ring.slotFileOffset(unpublished))) was claimed but not published when the testee answered sync, with the ring full", rule: .ringHole)
                    deadRings.insert(ring.kind)
                }
                if let room = rooms[ring.kind]?.room, let count = answeredOK[ring.kind], Int64(count) > room {
                    fail("the testee answered OK to \(count) \(ring.kind.name) records while the runner read none and the ring had room for \(room): it wrote over unread slots or lost records", rule: .ringCapacity)
                }
            }
        }
        frozen = nil
    }

    /// While paused: fails a published unread slot whose bytes or flag changed since first seen.
    private func watch() {
        guard var rooms = frozen, let file else { return }
        for ring in file.rings where !deadRings.contains(ring.kind) {
            guard let (reader, writer) = indices(ring) else { continue }
            var published = rooms[ring.kind]?.published ?? [:]
            for (sequence, bytes) in published where sequence > reader {
                let slot = UnsafeRawBufferPointer(ring.slot(sequence))
                guard case .readable = ring.state(of: sequence) else {
                    fail("\(ring.kind.name) sequence \(sequence) was published and unread, and then its flag (byte \(ring.availability.fileOffset + 4 * Int(RingLayout.slotIndex(sequence: sequence, numBuffers: ring.numBuffers)))) changed: its slot was claimed again before the runner read it", rule: .ringCapacity)
                    deadRings.insert(ring.kind)
                    break
                }
                if !bytes.elementsEqual(slot) {
                    let first = bytes.indices.first { bytes[$0] != slot[$0] } ?? 0
                    fail("\(ring.kind.name) sequence \(sequence): the slot's bytes changed at byte \(ring.slotFileOffset(sequence) + first) after the slot was published and before it was read: a writer publishes only once the bytes are in place and never writes into an unread slot", rule: .ringFlag)
                    deadRings.insert(ring.kind)
                    break
                }
            }
            guard !deadRings.contains(ring.kind) else { continue }
            if writer > reader {
                for sequence in reader + 1...writer where published[sequence] == nil {
                    if case .readable = ring.state(of: sequence) { published[sequence] = Array(UnsafeRawBufferPointer(ring.slot(sequence))) }
                }
            }
            rooms[ring.kind, default: (0, [:])].published = published
        }
        frozen = rooms
    }

    /// reader_index and writer_index, or nil (and the ring dead) when they break a rule.
    private func indices(_ ring: Ring) -> (Int64, Int64)? {
        do throws(FormatError) {
            return try ring.indices()
        } catch {
            fail("\(ring.kind.name) ring at byte \(error.offset): \(error.message)", rule: error.rule)
            deadRings.insert(ring.kind)
            return nil
        }
    }

    /// Reads until nothing more arrives and no ring waits on a slot, or `deadline`.
    func drain(until deadline: ContinuousClock.Instant) {
        while ContinuousClock.now < deadline {
            if !poll() {
                if !isWaitingOnASlot && !isRecheckingASlot { return }
                usleep(500)
            }
        }
    }

    /// What reading one slot found: the failures to report and the record, if one could be read.
    private struct Outcome {
        var failures: [CheckFailure] = []
        var consumed: Consumed?
        /// Nothing could be read from the slot (SLOT-LENGTH, a record that does not decode).
        var unreadable = false
        /// Empty, invalid or broken: worth a second look before it is believed.
        var suspect: Bool { unreadable || !failures.isEmpty || consumed?.broken == true }
    }

    /// A published slot that read as empty or invalid, held (not handed back to the writer) until it
    /// is read again a moment later: a writer that raised the flag before its bytes were in place
    /// shows as a slot whose bytes change (RING-FLAG), not as a broken record.
    private struct Suspect {
        var sequence: Int64
        var bytes: [UInt8]
        var outcome: Outcome
        var since: UInt64
    }

    private var suspects: [RingKind: Suspect] = [:]
    /// How long a suspect slot is held before it is read again.
    static let recheckDelay: Duration = .milliseconds(2)

    /// Whether a slot is held for a second look.
    var isRecheckingASlot: Bool { !suspects.isEmpty }

    /// Reads one record of the `kind` ring; false when there is none to read (or a suspect slot of
    /// the ring waits for its second look).
    private func read(_ kind: RingKind, _ resolver: ReferenceResolver) -> Bool {
        guard var consumer = consumers[kind] else { return false }
        defer { consumers[kind] = consumer }
        let now = time.monotonic()
        if let suspect = suspects[kind] {
            guard now &- suspect.since >= Self.recheckDelay.wholeNanoseconds else { return false }
            suspects[kind] = nil
            let ring = consumer.ring
            let bytes = Array(UnsafeRawBufferPointer(ring.slot(suspect.sequence)))
            if bytes == suspect.bytes {
                commit(kind, suspect.outcome)
            } else {
                let first = bytes.indices.first { bytes[$0] != suspect.bytes[$0] } ?? 0
                let seen = suspect.outcome.failures.first.map { ", where it read as \($0.check)" } ?? " (empty)"
                fail("\(kind.name) sequence \(suspect.sequence): the slot was published before its bytes were in place — read at once\(seen), its bytes had changed at byte \(ring.slotFileOffset(suspect.sequence) + first) \(Self.recheckDelay) later; a writer raises the flag only once the record is written", rule: .ringFlag)
                // What the slot holds now is the record the writer meant: read it as such.
                let again: Outcome
                do throws(FormatError) {
                    let (payload, offset) = try ring.copyRecord(suspect.sequence)
                    again = evaluate(kind, suspect.sequence, payload, offset, at: ring.slotFileOffset(suspect.sequence), resolver)
                } catch {
                    again = Outcome(failures: [CheckFailure(error.rule, "\(kind.name) sequence \(suspect.sequence) at byte \(error.offset): \(error.message)")], unreadable: true)
                }
                commit(kind, again)
            }
            release(&consumer)
            return true
        }
        let sequence = consumer.next
        let outcome: Outcome
        switch consumer.poll(now: now) {
        case .nothing:
            release(&consumer)
            return false
        case .broken(let error):
            fail("\(kind.name) ring at byte \(error.offset): \(error.message)", rule: error.rule)
            deadRings.insert(kind)
            return false
        case .flagAhead(_, let error):
            fail("\(error.message) (flag at byte \(error.offset))", rule: error.rule)
            release(&consumer)
            return false
        case .hole(_, let error):
            fail(error.message, rule: error.rule)
            deadRings.insert(kind)
            return false
        case .invalid(let sequence, let error):
            outcome = Outcome(failures: [CheckFailure(error.rule, "\(kind.name) sequence \(sequence) at byte \(error.offset): \(error.message)")], unreadable: true)
        case .record(let sequence, let payload, let payloadOffset):
            outcome = evaluate(kind, sequence, payload, payloadOffset, at: consumer.ring.slotFileOffset(sequence), resolver)
            if payload.isEmpty || outcome.suspect {
                suspects[kind] = Suspect(sequence: sequence, bytes: Array(UnsafeRawBufferPointer(consumer.ring.slot(sequence))), outcome: outcome, since: now)
                return true
            }
            commit(kind, outcome)
            release(&consumer)
            return true
        }
        suspects[kind] = Suspect(sequence: sequence, bytes: Array(UnsafeRawBufferPointer(consumer.ring.slot(sequence))), outcome: outcome, since: now)
        return true
    }

    /// Decodes and checks one record's payload, and resolves its references.
    private func evaluate(_ kind: RingKind, _ sequence: Int64, _ payload: [UInt8], _ payloadOffset: Int, at offset: Int,
                          _ resolver: ReferenceResolver) -> Outcome {
        var outcome = Outcome()
        do throws(FormatError) {
            var broken: [FormatError] = []
            let value = try payload.withDecodableBytes { bytes throws(FormatError) in
                try kind.decodeRecord(bytes, baseOffset: payloadOffset, validatingAt: offset, into: &broken)
            }
            var isBroken = false
            for finding in broken where RuleCatalogue.level(of: finding.rule) == .must {
                outcome.failures.append(CheckFailure(finding.rule, "\(kind.name) sequence \(sequence) at byte \(finding.offset): \(finding.message)"))
                isBroken = true
            }
            let (rendered, referenceErrors) = resolver.renderChecking(value)
            for error in referenceErrors {
                outcome.failures.append(CheckFailure(error.rule, "\(kind.name) sequence \(sequence): \(error)"))
                isBroken = true
            }
            var detached = RecordContent.Detached()
            let content = RecordContent.canonical(rendered, detached: &detached)
            outcome.consumed = Consumed(sequence: sequence, content: content, detached: detached, broken: isBroken)
        } catch {
            outcome.failures.append(CheckFailure(error.rule, "\(kind.name) sequence \(sequence) at byte \(error.offset): \(error.message)"))
            outcome.unreadable = true
        }
        return outcome
    }

    /// Hands the slots read back to the writer, noting first whether the ring is full. Between two
    /// releases reader_index stands still and writer_index only grows, so a ring that filled at any
    /// moment since the last release (while a slow record was checked, longer than the testee's
    /// full-ring wait) is still full now; after the release it would not look it.
    private func release(_ consumer: inout RingConsumer) {
        if consumer.cursor.unreleased > 0 && !seenFull.contains(consumer.ring.kind) { noteIfFull(consumer.ring) }
        consumer.release()
    }

    private func commit(_ kind: RingKind, _ outcome: Outcome) {
        for failure in outcome.failures { failures.append(failure) }
        if let consumed = outcome.consumed { records[kind, default: []].append(consumed) }
        if outcome.unreadable { unreadable[kind, default: 0] += 1 }
    }
}
