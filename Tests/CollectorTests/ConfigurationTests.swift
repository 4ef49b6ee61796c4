import Foundation
import OTLPMmapCollector
import CollectorTestSupport
import Testing

/// The collector's configuration lives in the library: defaults, then the standard environment
/// variables, then single settings (flags); every value not used as given is reported with its
/// name, its value and what was used instead — never silently ignored.
@Suite struct ConfigurationTests {
    @Test func goodEnvironmentValuesApply() {
        var configuration = CollectorConfiguration(path: "f")
        let warnings = configuration.applyEnvironment(["OTEL_METRIC_EXPORT_INTERVAL": "750", "OTEL_BSP_SCHEDULE_DELAY": "40",
                                                       "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"])
        #expect(warnings.isEmpty)
        #expect(configuration.metricInterval == .milliseconds(750) && configuration.batchTimeout == .milliseconds(40) && configuration.batchSize == 64)
    }

    @Test func badEnvironmentValuesAreReportedAndTheDefaultsKept() {
        var configuration = CollectorConfiguration(path: "f")
        let defaults = configuration
        let warnings = configuration.applyEnvironment(["OTEL_METRIC_EXPORT_INTERVAL": "soon", "OTEL_BSP_SCHEDULE_DELAY": "-1",
                                                       "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"])
        #expect(warnings.map(\.description) == [
            "OTEL_METRIC_EXPORT_INTERVAL=soon is not a positive whole number; using 60.0 seconds",
            "OTEL_BSP_SCHEDULE_DELAY=-1 is not a positive whole number; using 0.2 seconds",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0 is not a positive whole number; using 512",
        ])
        #expect(configuration.metricInterval == defaults.metricInterval && configuration.batchTimeout == defaults.batchTimeout
                && configuration.batchSize == defaults.batchSize)
    }

    @Test func settingsOutOfRangeAreRaisedAndReported() {
        var configuration = CollectorConfiguration(path: "f")
        var overrides = CollectorConfiguration.Overrides()
        overrides.holeTimeoutMilliseconds = 0
        overrides.maxOpenSpans = -3
        overrides.shutdownTimeoutMilliseconds = 0
        overrides.spanTimeoutSeconds = 30
        let warnings = configuration.apply(overrides)
        #expect(warnings.map(\.description) == ["--hole-timeout-ms=0 is less than 1; using 1 ms", "--max-open-spans=-3 is less than 1; using 1"])
        #expect(configuration.holeTimeout == .milliseconds(1) && configuration.maxOpenSpans == 1)
        #expect(configuration.shutdownTimeout == .zero && configuration.spanTimeout == .seconds(30))
    }

    @Test func theExporterTimeoutIsCheckedToo() throws {
        var warnings: [ConfigurationWarning] = []
        let endpoint = try OTLPEndpoint.fromEnvironment(.grpc, ["OTEL_EXPORTER_OTLP_TIMEOUT": "ten"], warnings: &warnings)
        #expect(endpoint.timeout == .seconds(10))
        #expect(warnings.map(\.description) == ["OTEL_EXPORTER_OTLP_TIMEOUT=ten is not a positive whole number of milliseconds; using 10.0 seconds"])
        #expect(try OTLPEndpoint.transportFromEnvironment(["OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"]) == .httpProtobuf)
        #expect(throws: EndpointError.self) { try OTLPEndpoint.transportFromEnvironment(["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"]) }
    }
}
