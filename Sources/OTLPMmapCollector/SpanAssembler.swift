import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Builds OTLP spans from the span ring's events: a start opens a span keyed by (trace id, span
/// id), renames, attribute updates and links change it, an end finishes it. Finished spans wait in
/// `finished` for export; spans left open longer than a timeout are finished by `expire`.
final class SpanAssembler {
    typealias Key = AssembledSpan.Identity

    struct OpenSpan {
        var span: AssembledSpan
        var scopeRef: Int64
        /// When this collector last saw an event of the span (monotonic nanoseconds), for `expire`.
        var lastSeen: UInt64
        /// No start was seen for this span.
        var startMissing = false
    }

    var open: [Key: OpenSpan] = [:]
    /// Spans ready to export, with their scope reference.
    var finished: [(scopeRef: Int64, span: AssembledSpan)] = []
    /// Events for a span this collector never saw start (its start was dropped by the writer, or
    /// read by a collector that was killed): counted, and kept in a span marked
    /// `otlp_mmap.start_missing`, so that what did arrive is not lost.
    private(set) var orphanEvents = 0
    /// Spans finished by `expire` because no end came.
    private(set) var expired = 0
    /// Spans finished early because more than `maxOpen` were open.
    private(set) var evicted = 0
    /// The most spans kept open: a writer that starts spans and never ends them must not grow the
    /// collector's memory (and its checkpoints) without bound.
    let maxOpen: Int

    init(maxOpen: Int = 65_536) {
        self.maxOpen = max(1, maxOpen)
    }

    /// Applies one SpanEvent read at `now` (monotonic; `wall` for the end time of spans evicted to
    /// make room), its payload at file `offset`. The event has passed the record rules
    /// (`RawRecord.decode`: ids of the right size, one event set); a bad reference in it throws
    /// (the record is then skipped).
    func add(_ event: SpanEvent, at offset: Int, cache: DictionaryCache, now: UInt64, wall: UInt64) throws {
        guard let key = Key(trace: event.traceId, span: event.spanId) else {
            throw FormatError(.recSpanId, at: offset, "a span event's ids must be 16 and 8 bytes")
        }
        // REC-SPAN-EVENT, checked by the validator: an event without one never gets here.
        guard let choice = event.event else { return }
        if case .start(let start) = choice {
            var span = AssembledSpan(identity: key)
            if start.parentSpanId.contains(where: { $0 != 0 }) { span.parentSpanID = start.parentSpanId }
            span.name = start.name
            span.kind = start.kind.rawValue
            span.startTimeUnixNano = start.startTimeUnixNano
            span.attributes = try cache.encodedKeyValues(start.attributes, asField: OTLPFields.Span.attributes)
            span.flags = start.flags
            open[key] = OpenSpan(span: span, scopeRef: event.scopeRef, lastSeen: now)
            if open.count > maxOpen { evictLeastRecentlySeen(wall: wall) }
            return
        }
        // What can fail is resolved first: a record that breaks a rule leaves its span as it was.
        var attributes: [UInt8] = [], links: [UInt8] = []
        switch choice {
        case .attributes(let update):
            attributes = try cache.encodedKeyValues(update.attributes, asField: OTLPFields.Span.attributes)
        case .link(let add):
            for link in add.links {
                var otlp = OTLPSpan.Link()
                otlp.traceID = Data(link.traceId)
                otlp.spanID = Data(link.spanId)
                otlp.traceState = link.traceState
                otlp.attributes = try cache.keyValues(link.attributes)
                otlp.droppedAttributesCount = link.droppedAttributesCount
                otlp.flags = link.flags
                links += AssembledSpan.framed(OTLPFields.Span.links, EncodedLink(link: otlp))
            }
        default:
            break
        }
        var entry: OpenSpan
        // Taken out of the dictionary, so that changing it does not copy the span's arrays.
        if let existing = open.removeValue(forKey: key) {
            entry = existing
        } else {
            var span = AssembledSpan(identity: key)
            span.mark("otlp_mmap.start_missing")
            entry = OpenSpan(span: span, scopeRef: event.scopeRef, lastSeen: now, startMissing: true)
        }
        if entry.startMissing { orphanEvents += 1 }
        entry.lastSeen = now
        switch choice {
        case .start:
            break
        case .name(let change):
            entry.span.name = change.name
        case .attributes:
            entry.span.update(attributes: attributes)
        case .link:
            entry.span.links += links
        case .end(let end):
            entry.span.endTimeUnixNano = end.endTimeUnixNano
            // Without its start, the span's start time is unknown; OTLP needs one, the end is the best bound.
            if entry.span.startTimeUnixNano == 0 { entry.span.startTimeUnixNano = end.endTimeUnixNano }
            if let status = end.status {
                entry.span.status = AssembledSpan.Status(message: status.message, code: status.code.rawValue)
            }
            finished.append((entry.scopeRef, entry.span))
            return
        }
        open[key] = entry
        if open.count > maxOpen { evictLeastRecentlySeen(wall: wall) }
    }

    /// Finishes spans with no event for `timeout` nanoseconds of the monotonic clock at `now`:
    /// ended at `wall`, marked with the attribute `otlp_mmap.unfinished` so that nobody mistakes
    /// them for complete ones. A `timeout` of 0 finishes every open span.
    func expire(now: UInt64, wall: UInt64, timeout: UInt64) {
        for (key, entry) in open where timeout == 0 || (now >= entry.lastSeen && now - entry.lastSeen >= timeout) {
            finishUnfinished(key, entry, wall: wall)
            expired += 1
        }
    }

    /// Finishes the least recently seen eighth of the open spans, as `expire` would. One sort frees
    /// room for an eighth of `maxOpen` new spans, so a writer that keeps this up pays O(log n) per
    /// span start, not a scan of every open span.
    private func evictLeastRecentlySeen(wall: UInt64) {
        let victims = open.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(max(1, open.count / 8))
        for (key, entry) in victims {
            finishUnfinished(key, entry, wall: wall)
            evicted += 1
        }
    }

    private func finishUnfinished(_ key: Key, _ entry: OpenSpan, wall: UInt64) {
        var span = entry.span
        span.endTimeUnixNano = max(span.startTimeUnixNano, wall)
        if span.startTimeUnixNano == 0 { span.startTimeUnixNano = span.endTimeUnixNano }
        span.mark("otlp_mmap.unfinished")
        open[key] = nil
        finished.append((entry.scopeRef, span))
    }

    /// A true boolean attribute that flags a span the collector had to complete itself.
    static func marker(_ key: String) -> OTLPKeyValue {
        var marker = OTLPKeyValue()
        marker.key = key
        marker.value.boolValue = true
        return marker
    }
}
