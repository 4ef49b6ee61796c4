import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Builds OTLP spans from the span ring's events: a start opens a span keyed by (trace id, span
/// id), renames, attribute updates and links change it, an end finishes it. Finished spans wait in
/// `finished` for export; spans left open longer than a timeout are finished by `expire`.
final class SpanAssembler {
    struct Key: Hashable {
        let trace: [UInt8]
        let span: [UInt8]

        /// The id bytes in one go rather than byte by byte (see MetricAggregator.SeriesKey).
        func hash(into hasher: inout Hasher) {
            trace.withUnsafeBytes { hasher.combine(bytes: $0) }
            span.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    struct OpenSpan {
        var span: OTLPSpan
        var scopeRef: Int64
        /// When this collector last saw an event of the span (monotonic nanoseconds), for `expire`.
        var lastSeen: UInt64
        /// No start was seen for this span.
        var startMissing = false
    }

    var open: [Key: OpenSpan] = [:]
    /// Spans ready to export, with their scope reference.
    var finished: [(scopeRef: Int64, span: OTLPSpan)] = []
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
    /// make room). The event has passed the record rules (`RawRecord.decode`: ids of the right size,
    /// one event set); a bad reference in it throws (the record is then skipped).
    func add(_ event: SpanEvent, cache: DictionaryCache, now: UInt64, wall: UInt64) throws {
        let key = Key(trace: event.traceId, span: event.spanId)
        // REC-SPAN-EVENT, checked by the validator: an event without one never gets here.
        guard let choice = event.event else { return }
        if case .start(let start) = choice {
            var span = OTLPSpan()
            span.traceID = Data(event.traceId)
            span.spanID = Data(event.spanId)
            if start.parentSpanId.contains(where: { $0 != 0 }) { span.parentSpanID = Data(start.parentSpanId) }
            span.name = start.name
            span.kind = OTLPSpan.SpanKind(rawValue: Int(start.kind.rawValue)) ?? .unspecified
            span.startTimeUnixNano = start.startTimeUnixNano
            span.attributes = try cache.keyValues(start.attributes)
            span.flags = start.flags
            open[key] = OpenSpan(span: span, scopeRef: event.scopeRef, lastSeen: now)
            if open.count > maxOpen { evictLeastRecentlySeen(wall: wall) }
            return
        }
        // What can fail is resolved first: a record that breaks a rule leaves its span as it was.
        var attributes: [OTLPKeyValue] = [], links: [OTLPSpan.Link] = []
        switch choice {
        case .attributes(let update):
            attributes = try cache.keyValues(update.attributes)
        case .link(let add):
            links = try add.links.map { link in
                var otlp = OTLPSpan.Link()
                otlp.traceID = Data(link.traceId)
                otlp.spanID = Data(link.spanId)
                otlp.traceState = link.traceState
                otlp.attributes = try cache.keyValues(link.attributes)
                otlp.droppedAttributesCount = link.droppedAttributesCount
                otlp.flags = link.flags
                return otlp
            }
        default:
            break
        }
        var entry: OpenSpan
        // Taken out of the dictionary, so that changing it does not copy the span's storage
        // (swift-protobuf copies on write while the dictionary still holds a reference).
        if let existing = open.removeValue(forKey: key) {
            entry = existing
        } else {
            var span = OTLPSpan()
            span.traceID = Data(event.traceId)
            span.spanID = Data(event.spanId)
            span.attributes.append(Self.marker("otlp_mmap.start_missing"))
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
            // A later value for a key replaces the earlier one, as OTLP's attribute semantics say.
            for keyValue in attributes {
                if let index = entry.span.attributes.firstIndex(where: { $0.key == keyValue.key }) {
                    entry.span.attributes[index] = keyValue
                } else {
                    entry.span.attributes.append(keyValue)
                }
            }
        case .link:
            entry.span.links += links
        case .end(let end):
            entry.span.endTimeUnixNano = end.endTimeUnixNano
            // Without its start, the span's start time is unknown; OTLP needs one, the end is the best bound.
            if entry.span.startTimeUnixNano == 0 { entry.span.startTimeUnixNano = end.endTimeUnixNano }
            if let status = end.status {
                var otlp = OTLPStatus()
                otlp.message = status.message
                otlp.code = OTLPStatus.StatusCode(rawValue: Int(status.code.rawValue)) ?? .unset
                entry.span.status = otlp
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
        span.attributes.append(Self.marker("otlp_mmap.unfinished"))
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
