import Foundation
import OTLPMmapCore
import OTLPMmapLayout

/// The generated enums the SDK's API uses, so that SDK users need only `import OTLPMmapSDK`.
public typealias SpanKind = OTLPMmapLayout.SpanKind
public typealias StatusCode = OTLPMmapLayout.StatusCode
public typealias SeverityNumber = OTLPMmapLayout.SeverityNumber
public typealias AggregationTemporality = OTLPMmapLayout.AggregationTemporality
/// A ring's size (slots and bytes per slot) in a file the writer creates.
public typealias RingSize = OTLPMmapCore.RingSize

/// How the reference writer creates its file and behaves when a ring is full.
public struct WriterConfiguration: Sendable {
    /// The environment variable that names the file, shared with the other implementations.
    public static let fileEnvironmentVariable = FileEnvironment.variable
    /// The format's default initial dictionary size, header included.
    public static let defaultDictionaryBytes: Int64 = FileLayout.defaultDictionaryBytes

    public var path: String
    public var events: RingSize
    public var spans: RingSize
    public var measurements: RingSize
    public var dictionaryBytes: Int64
    /// How long a record may wait for a free slot before it is dropped and counted. Zero: never wait.
    public var fullRingWait: Duration
    /// Resource attributes written once; `service.name` defaults to `$OTEL_SERVICE_NAME` or the
    /// process name, and `$OTEL_RESOURCE_ATTRIBUTES` (k=v,k=v) is added.
    public var resource: [Attribute]
    /// Where times come from when a call gives none (and the file's start time): nil for the wall
    /// clock (`recordTimeUnixNano`), or a clock of the caller's, such as a fixed one for
    /// reproducible files (golden files, tests).
    public var clock: (@Sendable () -> UInt64)? = nil
    /// Seeds trace and span ids; nil seeds from the system's random source. A fixed seed gives the
    /// same ids in the same order, for reproducible files.
    public var idSeed: UInt64?
    /// Write into a file that exists (another writer's, or one a collector waits on) instead of
    /// creating the file: its header, rings and dictionary are kept, and the ring and dictionary sizes
    /// above are not used. Several processes may write one file this way; each adds its own resource
    /// and scope entries to the dictionary.
    public var attach = false

    public init(
        path: String,
        events: RingSize = .default,
        spans: RingSize = .default,
        measurements: RingSize = .default,
        dictionaryBytes: Int64 = WriterConfiguration.defaultDictionaryBytes,
        fullRingWait: Duration = .zero,
        resource: [Attribute] = WriterConfiguration.resourceFromEnvironment()
    ) {
        self.path = path
        self.events = events
        self.spans = spans
        self.measurements = measurements
        self.dictionaryBytes = dictionaryBytes
        self.fullRingWait = fullRingWait
        self.resource = resource
    }

    /// The configuration for the file `$SDK_MMAP_EXPORTER_FILE` names, or nil when it is not set.
    public static func fromEnvironment() -> WriterConfiguration? {
        guard let path = FileEnvironment.path() else { return nil }
        return WriterConfiguration(path: path)
    }

    /// The resource `$OTEL_SERVICE_NAME` and `$OTEL_RESOURCE_ATTRIBUTES` describe (the init's default).
    /// Pairs that cannot be used are left out; `environmentWarnings` names them.
    public static func resourceFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [Attribute] {
        resource(fromEnvironment: environment).attributes
    }

    /// What `resourceFromEnvironment` could not use in `$OTEL_RESOURCE_ATTRIBUTES`, each saying what
    /// was done instead; empty when all of it was used. A library does not print: a program shows
    /// these where it reports its own configuration problems (`otlp-mmap write` and `demo` print them
    /// on standard error).
    public static func environmentWarnings(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        resource(fromEnvironment: environment).warnings
    }

    static func resource(fromEnvironment environment: [String: String]) -> (attributes: [Attribute], warnings: [String]) {
        var attributes: [Attribute] = []
        var warnings: [String] = []
        let variable = "OTEL_RESOURCE_ATTRIBUTES"
        for pair in (environment[variable] ?? "").split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 1 && parts[0].isEmpty { continue }   // an empty list, or a stray comma
            guard parts.count == 2 else {
                warnings.append("\(variable): '\(pair)' is not key=value; left out")
                continue
            }
            guard !parts[0].isEmpty else {
                warnings.append("\(variable): '\(pair)' has an empty key; left out")
                continue
            }
            let value: String
            if let decoded = parts[1].removingPercentEncoding {
                value = decoded
            } else {
                warnings.append("\(variable): the value of '\(parts[0])' is not valid percent-encoding; used as written")
                value = parts[1]
            }
            attributes.removeAll { $0.key == parts[0] }
            attributes.append(Attribute(parts[0], .string(value)))
        }
        let serviceName = environment["OTEL_SERVICE_NAME"] ?? attributes.first { $0.key == "service.name" }.flatMap {
            if case .string(let name) = $0.value { name } else { nil }
        } ?? ProcessInfo.processInfo.processName
        attributes.removeAll { $0.key == "service.name" }
        return ([Attribute("service.name", .string(serviceName))] + attributes, warnings)
    }
}
