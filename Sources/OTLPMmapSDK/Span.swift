import OTLPMmapLayout

/// A started span. Each call writes one SpanEvent record; the collector assembles them by
/// (trace id, span id). Copyable and usable from any thread.
public struct Span: Sendable {
    public let context: SpanContext
    let scopeRef: Int64
    let writer: TelemetryWriter

    /// Writes the StartSpan record of a span whose handle came from `TelemetryWriter.span(_:scope:)`.
    @discardableResult
    public func start(
        _ name: String, kind: SpanKind = .internal, parent: SpanID? = nil, attributes: Attributes = .none, startTime: UInt64? = nil
    ) -> RecordOutcome {
        let time = startTime ?? writer.clock()
        return withExtendedLifetime(attributes) {
            withUTF8Text(name) { name in
                writer.emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.start, body: StartSpanBody(
                    parent: parent, name: name, kind: kind, startTime: time, attributes: attributes.block, flags: context.flags)), into: .spans)
            }
        }
    }

    /// Renames the span (a ChangeSpanName record).
    @discardableResult
    public func rename(_ name: String) -> RecordOutcome {
        withUTF8Text(name) { name in
            writer.emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.name, body: ChangeSpanNameBody(name: name)), into: .spans)
        }
    }

    /// Adds or replaces attributes (an UpdateAttributes record).
    @discardableResult
    public func setAttributes(_ attributes: Attributes) -> RecordOutcome {
        withExtendedLifetime(attributes) {
            writer.emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.attributes, body: UpdateAttributesBody(attributes: attributes.block)), into: .spans)
        }
    }

    /// Adds links to other spans (an AddLink record).
    @discardableResult
    public func addLinks(_ links: [SpanLink]) -> RecordOutcome {
        writer.emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.link, body: AddLinkBody(links: links)), into: .spans)
    }

    /// Ends the span with a status (an EndSpan record).
    @discardableResult
    public func end(status: StatusCode = .unset, message: String = "", at time: UInt64? = nil) -> RecordOutcome {
        let endTime = time ?? writer.clock()
        return withUTF8Text(message) { message in
            writer.emit(SpanEventRecord(context: context, scopeRef: scopeRef, eventField: SpanEvent.Field.end, body: EndSpanBody(
                endTime: endTime, status: StatusBody(message: message, code: status))), into: .spans)
        }
    }
}
