import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire

/// Consumes a writer's file while it writes, as a collector would: opens it once it is
/// initialised, reads every published record of every ring, checks it against the record rules,
/// resolves its references, hands the slot back, and fails a slot left claimed but unpublished
/// longer than the hole timeout (RING-HOLE). Small rings thus make the writer wait for the runner.
final class LiveConsumer {
    struct Consumed {
        var sequence: Int64
        var content: RecordContent
        var detached: RecordContent.Detached
    }

    let path: String
    let holeTimeout: Duration
    private(set) var file: MmapFile?
    private(set) var openError: String?
    private(set) var records: [RingKind: [Consumed]] = [:]
    private(set) var failures: [(message: String, rule: RuleID?)] = []
    private var blocked: [RingKind: (sequence: Int64, since: ContinuousClock.Instant)] = [:]
    /// Rings the consumer stopped reading (a hole, a broken header): their content is not compared.
    private(set) var deadRings: Set<RingKind> = []
    /// While true the consumer reads nothing: the runner is letting the rings fill up.
    var paused = false

    init(path: String, holeTimeout: Duration) {
        self.path = path
        self.holeTimeout = holeTimeout
    }

    var recordsRead: Int { records.values.reduce(0) { $0 + $1.count } }
    /// Whether some ring waits on a claimed slot that is not yet a hole.
    var isWaitingOnASlot: Bool { blocked.keys.contains { !deadRings.contains($0) } }

    func fail(_ message: String, rule: RuleID?) { failures.append((message, rule)) }

    /// Reads what is readable now. Returns whether anything was read.
    @discardableResult
    func poll() -> Bool {
        guard !paused else { return false }
        if file == nil {
            do {
                let opened = try MmapFile.open(path: path, writable: true)
                guard opened.startTimeUnixNano != 0 else { return false }
                file = opened
            } catch {
                openError = "\(error)"
                return false
            }
        }
        guard let file else { return false }
        let resolver = ReferenceResolver(dictionary: file.dictionary)
        var progressed = false
        for ring in file.rings where !deadRings.contains(ring.kind) {
            var batch = 0
            while batch < 4_096, read(ring, resolver) {
                batch += 1
                progressed = true
            }
        }
        return progressed
    }

    /// Reads until nothing more arrives and no ring waits on a slot, or `deadline`.
    func drain(until deadline: ContinuousClock.Instant) {
        while ContinuousClock.now < deadline {
            if !poll() {
                if !isWaitingOnASlot { return }
                usleep(500)
            }
        }
    }

    /// Reads one record of `ring`; false when there is none to read.
    private func read(_ ring: Ring, _ resolver: ReferenceResolver) -> Bool {
        let next: (sequence: Int64, state: SlotState)?
        do throws(FormatError) {
            next = try ring.next()
        } catch {
            fail("\(ring.kind.name) ring at byte \(error.offset): \(error.message)", rule: error.rule)
            deadRings.insert(ring.kind)
            return false
        }
        guard let (sequence, state) = next else { blocked[ring.kind] = nil; return false }
        guard case .readable = state else {
            let now = ContinuousClock.now
            if let waiting = blocked[ring.kind], waiting.sequence == sequence {
                if now - waiting.since > holeTimeout {
                    fail("\(ring.kind.name) sequence \(sequence) was claimed but not published for \(holeTimeout)", rule: .ringHole)
                    deadRings.insert(ring.kind)
                }
            } else {
                blocked[ring.kind] = (sequence, now)
            }
            return false
        }
        blocked[ring.kind] = nil
        do throws(FormatError) {
            let value = try ring.decodeRecord(sequence)
            let offset = ring.slotFileOffset(sequence)
            for finding in FileChecker.recordFindings(value, at: offset) where finding.severity == .error {
                fail("\(ring.kind.name) sequence \(sequence) at byte \(finding.offset): \(finding.message)", rule: finding.rule)
            }
            let rendered = resolver.render(value)
            for problem in Self.referenceErrors(rendered) {
                fail("\(ring.kind.name) sequence \(sequence): \(problem)", rule: RuleID(String(problem.prefix { $0 != " " })))
            }
            var detached = RecordContent.Detached()
            let content = RecordContent.canonical(rendered, detached: &detached)
            records[ring.kind, default: []].append(Consumed(sequence: sequence, content: content, detached: detached))
        } catch {
            fail("\(ring.kind.name) sequence \(sequence) at byte \(error.offset): \(error.message)", rule: error.rule)
        }
        ring.markRead(sequence)
        return true
    }

    /// References the resolver could not resolve show an "error" member that starts with the rule ID.
    static func referenceErrors(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let pairs):
            return pairs.flatMap { key, member -> [String] in
                if key == "error", case .string(let text) = member { return [text] }
                return referenceErrors(member)
            }
        case .array(let items):
            return items.flatMap(referenceErrors)
        default:
            return []
        }
    }
}
