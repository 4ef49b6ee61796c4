import ArgumentParser
import Foundation
import OTLPMmapCore
import Logging
import OTLPMmapCollector
import OTLPMmapSDK

/// The exporters `collect` can use.
enum ExporterChoice: String, ExpressibleByArgument, CaseIterable {
    case debug
    case otlpGRPC = "otlp-grpc"
    case otlpHTTP = "otlp-http"
}

extension DebugVerbosity: ExpressibleByArgument {}

/// Options shared by `collect` and `demo`.
struct CollectorOptions: ParsableArguments {
    @Option(help: "How much the debug exporter prints: basic (a line per request), normal (a line per record), detailed (every field), json (a request per OTLP/JSON line). Default: json for collect, normal for demo.")
    var verbosity: DebugVerbosity?

    @Option(help: "Where to send: \(ExporterChoice.allCases.map(\.rawValue).joined(separator: ", ")). debug prints OTLP JSON lines on standard output. Default: otlp-grpc or otlp-http when $OTEL_EXPORTER_OTLP_PROTOCOL is grpc or http/protobuf, else debug.")
    var exporter: ExporterChoice?

    @Option(help: "The receiver: for otlp-grpc http://HOST:PORT (default http://localhost:4317), for otlp-http the base URL (default http://localhost:4318). Default: $OTEL_EXPORTER_OTLP_ENDPOINT.")
    var endpoint: String?

    @Option(name: .customLong("header"), help: "A header (gRPC metadata) NAME=VALUE sent with every export; repeatable. Added to $OTEL_EXPORTER_OTLP_HEADERS.")
    var headers: [String] = []

    @Option(help: "Milliseconds an export may take (default 10000, or $OTEL_EXPORTER_OTLP_TIMEOUT).")
    var timeoutMs: Int?

    @Option(help: "PEM certificates to trust for an https:// endpoint instead of the system's (default: $OTEL_EXPORTER_OTLP_CERTIFICATE).")
    var certificate: String?

    @Option(help: "PEM certificate chain to present for mutual TLS (default: $OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE).")
    var clientCertificate: String?

    @Option(help: "PEM private key of --client-certificate (default: $OTEL_EXPORTER_OTLP_CLIENT_KEY).")
    var clientKey: String?

    @Option(help: "Records per export request (default \(Self.defaults.batchSize), or $OTEL_BSP_MAX_EXPORT_BATCH_SIZE).")
    var batchSize: Int?

    @Option(help: "Milliseconds a read record waits for its batch to fill (default \(Self.defaults.batchTimeout.milliseconds), or $OTEL_BSP_SCHEDULE_DELAY).")
    var batchTimeoutMs: Int?

    @Option(help: "Milliseconds between metric reports (default \(Self.defaults.metricInterval.milliseconds), or $OTEL_METRIC_EXPORT_INTERVAL).")
    var metricIntervalMs: Int?

    @Option(help: "Milliseconds a claimed but unpublished slot may block its ring before it is skipped (default \(Self.defaults.holeTimeout.milliseconds)).")
    var holeTimeoutMs: Int?

    @Option(help: "Seconds a span may stay open without events before it is exported unfinished (default \(Self.defaults.spanTimeout.components.seconds)).")
    var spanTimeoutS: Int?

    @Option(help: "The most spans kept open; beyond it the least recently seen are exported unfinished (default \(Self.defaults.maxOpenSpans)).")
    var maxOpenSpans: Int?

    @Option(help: "The most attribute sets per metric; measurements with further ones go into one series marked otel.metric.overflow (default \(Self.defaults.maxSeriesPerMetric)).")
    var maxSeriesPerMetric: Int?

    @Option(help: "Where to keep open spans and metric state so that a restarted collector resumes from them (default: the file's path + .checkpoint).")
    var checkpoint: String?

    @Flag(help: "Keep open spans and metric state in memory only: a killed collector loses them.")
    var noCheckpoint = false

    @Option(help: "Milliseconds a read span or measurement may wait for the next checkpoint (default \(Self.defaults.checkpointInterval.milliseconds)).")
    var checkpointIntervalMs: Int?

    @Option(help: "The longest sleep, in milliseconds, between polls of an idle file (the wait doubles up to it from 50 µs): longer costs less CPU while idle and lets a burst after a pause wait longer (default \(Self.defaults.maxIdleWait.milliseconds)).")
    var maxIdleWaitMs: Int?

    @Option(help: "Milliseconds a stopping collector (SIGINT, SIGTERM) keeps exporting what it holds (default \(Self.defaults.shutdownTimeout.milliseconds)).")
    var shutdownTimeoutMs: Int?

    /// The library's defaults, which the help shows.
    static let defaults = CollectorConfiguration(path: "")

    @Option(help: .hidden)
    var bug: CollectorBug?

    /// The collector's configuration: defaults, then the environment, then the flags given; with
    /// every value that was not used as given.
    func configuration(path: String) -> (CollectorConfiguration, [ConfigurationWarning]) {
        var configuration = CollectorConfiguration(path: path)
        var warnings = configuration.applyEnvironment()
        var overrides = CollectorConfiguration.Overrides()
        overrides.batchSize = batchSize
        overrides.batchTimeoutMilliseconds = batchTimeoutMs
        overrides.metricIntervalMilliseconds = metricIntervalMs
        overrides.holeTimeoutMilliseconds = holeTimeoutMs
        overrides.spanTimeoutSeconds = spanTimeoutS
        overrides.maxOpenSpans = maxOpenSpans
        overrides.maxSeriesPerMetric = maxSeriesPerMetric
        overrides.checkpointIntervalMilliseconds = checkpointIntervalMs
        overrides.shutdownTimeoutMilliseconds = shutdownTimeoutMs
        overrides.maxIdleWaitMilliseconds = maxIdleWaitMs
        warnings += configuration.apply(overrides)
        if let checkpoint { configuration.checkpointPath = checkpoint }
        if noCheckpoint { configuration.checkpointPath = nil }
        configuration.bug = bug
        return (configuration, warnings)
    }

    /// The flag, else the protocol the environment names, else debug.
    func exporterChoice() throws -> ExporterChoice {
        if let exporter { return exporter }
        switch try OTLPEndpoint.transportFromEnvironment() {
        case .grpc: return .otlpGRPC
        case .httpProtobuf: return .otlpHTTP
        case nil: return .debug
        }
    }

    func makeExporter(verbosity defaultVerbosity: DebugVerbosity = .json) throws -> any Exporter {
        switch try exporterChoice() {
        case .debug: return DebugExporter(verbosity: verbosity ?? defaultVerbosity)
        case .otlpGRPC: return try GRPCExporter(endpoint: endpointConfiguration(.grpc))
        case .otlpHTTP: return try HTTPExporter(endpoint: endpointConfiguration(.httpProtobuf))
        }
    }

    func endpointConfiguration(_ transport: OTLPEndpoint.Transport) throws -> OTLPEndpoint {
        var warnings: [ConfigurationWarning] = []
        var result = try OTLPEndpoint.fromEnvironment(transport, warnings: &warnings)
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        if let endpoint { result.endpoint = endpoint }
        result.headers += try headers.flatMap { try OTLPEndpoint.parseHeaders($0) }
        if let timeoutMs { result.timeout = .milliseconds(max(1, timeoutMs)) }
        if let certificate { result.certificateFile = certificate }
        if let clientCertificate { result.clientCertificateFile = clientCertificate }
        if let clientKey { result.clientKeyFile = clientKey }
        return result
    }
}

struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Read an OTLP-mmap file written by any writer and export it as OTLP.",
        discussion: """
            Waits for the file to appear, follows it as writers write (and as they re-create it), and exports \
            spans when they end, log records in batches and metrics every interval. Runs until SIGINT or \
            SIGTERM (or --duration-s), then exports what it holds. Invalid records are reported on standard \
            error with their rule and byte offset, counted and skipped.
            """
    )

    @Option(help: "The file to read. Defaults to $SDK_MMAP_EXPORTER_FILE.")
    var file: String?

    @OptionGroup var options: CollectorOptions

    @Option(help: "Stop after this many seconds (default: run until a signal).")
    var durationS: Double?

    @Flag(help: "Print the collector's counters as JSON on standard error when it stops.")
    var statistics = false

    @Option(help: "The least severe log messages shown on standard error (debug adds a line per batch of records read).")
    var logLevel = Logger.Level.info

    func run() async throws {
        guard let path = file ?? FileEnvironment.path() else {
            throw ValidationError("give --file or set \(FileEnvironment.variable)")
        }
        var logger = Logger(label: "otlp-mmap.collector")
        logger.logLevel = logLevel
        let (configuration, warnings) = options.configuration(path: path)
        for warning in warnings { logger.warning("\(warning)") }
        let collector = Collector(configuration: configuration, exporter: try options.makeExporter(), logger: logger)
        try await collector.runUntilSignalled(stopAfter: durationS.map { .milliseconds(Int($0 * 1000)) })
        if statistics { printStatistics(collector) }
    }
}

func printStatistics(_ collector: Collector) {
    if let data = try? JSONSerialization.data(withJSONObject: collector.statistics.snapshot, options: [.sortedKeys]) {
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
extension CollectorBug: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
