import Instrumentation
import Logging
import OTLPMmapSDK

/// A swift-log `LogHandler` that records each log as an OTLP-mmap Event: the message is the body,
/// metadata become attributes, and the active span (from the task-local `InstrumentationContext`)
/// becomes the span context. Bootstrap with
/// `LoggingSystem.bootstrap { MmapLogHandler(label: $0, writer: writer) }`.
public struct MmapLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    let writer: TelemetryWriter
    let scope: Scope

    /// `scope` defaults to an instrumentation scope named after the logger's label.
    public init(label: String, writer: TelemetryWriter, scope: Scope? = nil, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.writer = writer
        self.scope = scope ?? (try? writer.scope(label)) ?? writer.defaultScope
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(metadata) { $1 }
        merged.merge(event.metadata ?? [:]) { $1 }
        var attributes = merged.sorted { $0.key < $1.key }.map { Attribute($0.key, Self.value($0.value)) }
        if let error = event.error {
            attributes.append(Attribute("exception.type", .string(String(reflecting: type(of: error)))))
            attributes.append(Attribute("exception.message", .string("\(error)")))
        }
        attributes.append(Attribute("code.file.path", .string(event.file)))
        attributes.append(Attribute("code.line.number", .int(Int64(event.line))))
        let severity = Self.severity(event.level)
        writer.log(severity, .text(event.message.description), severityText: event.level.rawValue.uppercased(),
                   attributes: (try? writer.attributes(attributes)) ?? .none,
                   spanContext: InstrumentationContext.current?.otlpMmapSpanContext, scope: scope)
    }

    static func severity(_ level: Logger.Level) -> SeverityNumber {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .info2
        case .warning: .warn
        case .error: .error
        case .critical: .fatal
        }
    }

    static func value(_ value: Logger.Metadata.Value) -> AttributeValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(Self.value))
        case .dictionary(let dictionary): .keyValues(dictionary.sorted { $0.key < $1.key }.map { Attribute($0.key, Self.value($0.value)) })
        }
    }
}
