import Foundation
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// A span as the collector assembles it, held close to the OTLP bytes it is sent as: ids as words,
/// the record's own arrays and strings kept (not copied), attributes and links already encoded.
/// Building swift-protobuf `Span` values per span and walking them again to encode each request was
/// a third of the collector's CPU in the profile of a gRPC export (copy-on-write storage, a `Data`
/// per id, a value per attribute, reference counting on all of it).
///
/// The fields are OTLP's `Span`, all of them, so that a span restored from a checkpoint (which holds
/// OTLP spans) loses nothing; `encode(to:)` writes them in field-number order, as swift-protobuf
/// does, and a test holds the two to the same bytes.
struct AssembledSpan {
    /// The span's trace and span id as the words their bytes load into. Memory order both ways, so
    /// storing them back gives the bytes they came from on any machine.
    struct Identity: Hashable {
        let trace0: UInt64
        let trace1: UInt64
        let span: UInt64

        /// Nil unless the ids are 16 and 8 bytes (REC-SPAN-ID).
        init?(trace: [UInt8], span: [UInt8]) {
            guard trace.count == 16, span.count == 8 else { return nil }
            (trace0, trace1) = trace.withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
            self.span = span.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }

        init?(trace: Data, span: Data) {
            self.init(trace: [UInt8](trace), span: [UInt8](span))
        }

        var traceBytes: [UInt8] { withUnsafeBytes(of: (trace0, trace1)) { Array($0) } }
        var spanBytes: [UInt8] { withUnsafeBytes(of: span) { Array($0) } }
    }

    struct Status: Equatable {
        var message: String
        var code: Int32
    }

    var identity: Identity
    var traceState = ""
    /// Empty for a root span.
    var parentSpanID: [UInt8] = []
    var name = ""
    var kind: Int32 = 0
    var startTimeUnixNano: UInt64 = 0
    var endTimeUnixNano: UInt64 = 0
    /// OTLP `KeyValue` messages, each framed as Span field 9 (key, length, message), in order.
    var attributes: [UInt8] = []
    var droppedAttributesCount: UInt32 = 0
    /// OTLP `Span.Event` messages framed as field 11 (only spans restored from a checkpoint have any:
    /// the format has no span events).
    var events: [UInt8] = []
    var droppedEventsCount: UInt32 = 0
    /// OTLP `Span.Link` messages framed as field 13.
    var links: [UInt8] = []
    var droppedLinksCount: UInt32 = 0
    var status: Status?
    var flags: UInt32 = 0

    init(identity: Identity) {
        self.identity = identity
    }

    // MARK: attributes

    /// Adds attributes (encoded KeyValue messages framed as field 9); a key the span already has
    /// gets the new value in its place, as OTLP's attribute semantics say.
    mutating func update(attributes added: [UInt8]) {
        guard !attributes.isEmpty else {
            attributes = added
            return
        }
        var entries = Self.framedEntries(attributes)
        for entry in Self.framedEntries(added) {
            if let index = entries.firstIndex(where: { $0.key == entry.key }) {
                entries[index] = entry
            } else {
                entries.append(entry)
            }
        }
        attributes = entries.flatMap(\.framed)
    }

    /// Appends a true boolean attribute: a marker for a span the collector had to complete itself.
    mutating func mark(_ key: String) {
        attributes += Self.framed(OTLPFields.Span.attributes, SpanAssembler.marker(key).encoded)
    }

    /// The framed entries of an attribute block this type wrote, each with its key. Every block
    /// comes from our own encoders, so a field that is not a KeyValue cannot occur; it would be kept
    /// as an entry of its own rather than dropped.
    private static func framedEntries(_ block: [UInt8]) -> [(key: String, framed: [UInt8])] {
        var entries: [(key: String, framed: [UInt8])] = []
        block.withUnsafeBytes { bytes in
            var reader = ProtoReader(bytes, baseOffset: 0)
            while !reader.isAtEnd {
                let start = reader.fileOffset
                guard (try? reader.readTag()) != nil, var fields = try? reader.readMessage() else {
                    entries.append(("", Array(bytes[start...])))
                    return
                }
                var key = ""
                while !fields.isAtEnd, let (number, wireType) = try? fields.readTag() {
                    if number == 1, wireType == 2, let text = try? fields.readString() { key = text; break }
                    guard (try? fields.skip(wireType: wireType)) != nil else { break }
                }
                entries.append((key, Array(bytes[start..<reader.fileOffset])))
            }
        }
        return entries
    }

    /// `message` framed as field `number`: key, length, bytes.
    static func framed<Message: StreamedMessage>(_ number: Int, _ message: Message) -> [UInt8] {
        let size = message.encodedSize
        return [UInt8].encoded(size: WireSize.message(number, size: size)) { $0.writeMessageField(number, message, size: size) }
    }

    // MARK: OTLP values (checkpoints)

    /// The span as an OTLP value, for checkpoints. The bytes are our own encoding, which decodes.
    var otlp: OTLPSpan {
        (try? OTLPSpan(serializedBytes: [UInt8].encoded(size: encodedSize) { encode(to: &$0) })) ?? OTLPSpan()
    }

    /// A span of a checkpoint; nil when its ids are not 16 and 8 bytes.
    init?(_ span: OTLPSpan) {
        guard let identity = Identity(trace: span.traceID, span: span.spanID) else { return nil }
        self.identity = identity
        traceState = span.traceState
        parentSpanID = [UInt8](span.parentSpanID)
        name = span.name
        kind = Int32(truncatingIfNeeded: span.kind.rawValue)
        startTimeUnixNano = span.startTimeUnixNano
        endTimeUnixNano = span.endTimeUnixNano
        attributes = span.attributes.flatMap { Self.framed(OTLPFields.Span.attributes, $0.encoded) }
        droppedAttributesCount = span.droppedAttributesCount
        events = span.events.flatMap { Self.framed(OTLPFields.Span.events, EncodedSpanEvent(event: $0)) }
        droppedEventsCount = span.droppedEventsCount
        links = span.links.flatMap { Self.framed(OTLPFields.Span.links, EncodedLink(link: $0)) }
        droppedLinksCount = span.droppedLinksCount
        if span.hasStatus { status = Status(message: span.status.message, code: Int32(truncatingIfNeeded: span.status.code.rawValue)) }
        flags = span.flags
    }
}

// MARK: encoding

extension AssembledSpan: StreamedMessage {
    /// Span's fields in number order, proto3 defaults left out. The ids are stored as the record
    /// held them (`Identity` keeps their bytes in memory order).
    func encode<Sink: WireSink>(to sink: inout Sink) {
        withUnsafeBytes(of: (identity.trace0, identity.trace1)) { sink.writeBytesField(Field.traceId, $0) }
        withUnsafeBytes(of: identity.span) { sink.writeBytesField(Field.spanId, $0) }
        sink.writeStringField(Field.traceState, traceState)
        sink.writeBytesField(Field.parentSpanId, parentSpanID)
        sink.writeStringField(Field.name, name)
        sink.writeEnumField(Field.kind, kind)
        sink.writeFixed64Field(Field.startTimeUnixNano, startTimeUnixNano)
        sink.writeFixed64Field(Field.endTimeUnixNano, endTimeUnixNano)
        attributes.withUnsafeBytes { sink.writeRaw($0) }
        sink.writeUInt64Field(Field.droppedAttributesCount, UInt64(droppedAttributesCount))
        events.withUnsafeBytes { sink.writeRaw($0) }
        sink.writeUInt64Field(Field.droppedEventsCount, UInt64(droppedEventsCount))
        links.withUnsafeBytes { sink.writeRaw($0) }
        sink.writeUInt64Field(Field.droppedLinksCount, UInt64(droppedLinksCount))
        if let status {
            sink.writeLengthDelimitedHeader(Field.status, length: Self.statusSize(status))
            sink.writeStringField(OTLPFields.Status.message, status.message)
            sink.writeEnumField(OTLPFields.Status.code, status.code)
        }
        sink.writeFixed32Field(Field.flags, flags)
    }

    private typealias Field = OTLPFields.Span

    /// Computed, not counted by running `encode`: every request sizes each of its spans.
    var encodedSize: Int {
        var size = WireSize.bytes(Field.traceId, count: 16) + WireSize.bytes(Field.spanId, count: 8)
        size += WireSize.string(Field.traceState, traceState) + WireSize.bytes(Field.parentSpanId, count: parentSpanID.count)
        size += WireSize.string(Field.name, name) + WireSize.enumeration(Field.kind, kind)
        size += WireSize.fixed64(Field.startTimeUnixNano, startTimeUnixNano) + WireSize.fixed64(Field.endTimeUnixNano, endTimeUnixNano)
        size += attributes.count + events.count + links.count
        size += WireSize.uint64(Field.droppedAttributesCount, UInt64(droppedAttributesCount))
        size += WireSize.uint64(Field.droppedEventsCount, UInt64(droppedEventsCount)) + WireSize.uint64(Field.droppedLinksCount, UInt64(droppedLinksCount))
        if let status { size += WireSize.message(Field.status, size: Self.statusSize(status)) }
        return size + WireSize.fixed32(Field.flags, flags)
    }

    private static func statusSize(_ status: Status) -> Int {
        WireSize.string(OTLPFields.Status.message, status.message) + WireSize.enumeration(OTLPFields.Status.code, status.code)
    }
}
