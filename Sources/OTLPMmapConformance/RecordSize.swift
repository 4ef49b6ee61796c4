import OTLPMmapLayout
import OTLPMmapTestee

/// How large the record a command asks for can be, whatever encoding a writer picks: strings and
/// values inline or interned in the dictionary, ids and times at their widest. An answer TOO_LARGE
/// to a record whose bound fits a slot is then certainly wrong — the writer refused what it could write.
enum RecordSize {
    /// Tag (≤ 2 bytes) and length prefix (≤ 5) of a length-delimited field.
    static let framing = 7
    /// A field holding a reference or any varint: tag and a 10-byte varint.
    static let reference = 12
    /// Ids, times, flags, enums, and the scope, resource and metric references a record carries
    /// beside what the command spells out; generous on purpose.
    static let fixedPart = 160

    /// The ring a record command writes into; nil for commands that write no record.
    static func ring(of command: Command) -> RingKind? {
        switch command.command {
        case .startSpan?, .setSpanAttributes?, .renameSpan?, .addSpanLinks?, .endSpan?: .spans
        case .log?: .events
        case .record?: .measurements
        default: nil
        }
    }

    /// The largest payload the command's record can take; nil for commands that write no record.
    static func upperBound(_ command: Command) -> Int? {
        switch command.command {
        case .startSpan(let start)?: fixedPart + string(start.name) + attributes(start.attributes)
        case .setSpanAttributes(let update)?: fixedPart + attributes(update.attributes)
        case .renameSpan(let rename)?: fixedPart + string(rename.name)
        case .addSpanLinks(let add)?:
            fixedPart + add.links.reduce(0) { $0 + framing + 60 + string($1.traceState) + attributes($1.attributes) }
        case .endSpan(let end)?: fixedPart + string(end.statusMessage)
        case .log(let log)?:
            fixedPart + string(log.severityText) + string(log.eventName) + (log.body.map(value) ?? 0) + attributes(log.attributes)
        case .record(let measurement)?: fixedPart + attributes(measurement.attributes)
        default: nil
        }
    }

    static func string(_ text: String) -> Int { max(framing + text.utf8.count, reference) }

    static func attributes(_ list: [KeyValue]) -> Int {
        list.reduce(0) { $0 + framing + string($1.key) + framing + ($1.value.map(value) ?? 0) }
    }

    static func value(_ value: Value) -> Int {
        let inline: Int = switch value.value {
        case .stringValue(let text)?: string(text)
        case .bytesValue(let bytes)?: framing + bytes.count
        case .boolValue?, .intValue?, .doubleValue?: reference
        case .arrayValue(let array)?: framing + array.values.reduce(0) { $0 + framing + self.value($1) }
        case .kvlistValue(let map)?: framing + attributes(map.values)
        case nil: 0
        }
        return max(inline, reference) + framing
    }
}

extension CreateFile {
    /// The geometry create_file asked for the ring `kind`.
    func geometry(of kind: RingKind) -> RingGeometry? {
        switch kind {
        case .events: events
        case .spans: spans
        case .measurements: measurements
        }
    }
}
