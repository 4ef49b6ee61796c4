import Foundation

/// Where and how an OTLP exporter sends: endpoint, headers, timeout. Filled from the standard
/// `OTEL_EXPORTER_OTLP_*` variables, then from flags.
public struct OTLPEndpoint: Sendable, Equatable {
    public enum Transport: String, Sendable {
        case grpc
        case httpProtobuf = "http/protobuf"
    }

    public var transport: Transport
    /// For HTTP the base URL (`/v1/traces` and so on are appended); for gRPC `http://host:port`.
    public var endpoint: String
    /// Full URLs for one signal each (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT…), used as given.
    public var signalURLs: [Signal: String] = [:]
    public var headers: [Header] = []
    public var timeout: Duration = .seconds(10)
    /// PEM certificates to trust instead of the system's (OTEL_EXPORTER_OTLP_CERTIFICATE): a
    /// receiver with a certificate from a private CA.
    public var certificateFile: String?
    /// PEM certificate chain and private key this exporter presents for mutual TLS
    /// (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_KEY).
    public var clientCertificateFile: String?
    public var clientKeyFile: String?

    public enum Signal: String, Sendable, CaseIterable {
        case traces, logs, metrics
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(transport: Transport) {
        self.transport = transport
        endpoint = transport == .grpc ? "http://localhost:4317" : "http://localhost:4318"
    }

    /// An exporter to this endpoint over its transport: gRPC (grpc-swift 2) or HTTP/protobuf
    /// (async-http-client). Throws `EndpointError` for an endpoint or TLS file it cannot use.
    public func makeExporter() throws -> any Exporter {
        switch transport {
        case .grpc: try GRPCExporter(endpoint: self)
        case .httpProtobuf: try HTTPExporter(endpoint: self)
        }
    }

    /// The protocol OTEL_EXPORTER_OTLP_PROTOCOL names (`grpc` or `http/protobuf`), or nil when it is
    /// not set; any other value is an error naming the variable and the value.
    package static func transportFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Transport? {
        guard let value = environment["OTEL_EXPORTER_OTLP_PROTOCOL"], !value.isEmpty else { return nil }
        guard let transport = Transport(rawValue: value) else {
            throw EndpointError("OTEL_EXPORTER_OTLP_PROTOCOL is '\(value)'; this collector exports grpc or http/protobuf\(value == "http/json" ? " (not http/json)" : "")")
        }
        return transport
    }

    /// The defaults overridden by the environment's OTEL_EXPORTER_OTLP_* variables.
    public static func fromEnvironment(_ transport: Transport, _ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> OTLPEndpoint {
        var warnings: [ConfigurationWarning] = []
        return try fromEnvironment(transport, environment, warnings: &warnings)
    }

    /// As `fromEnvironment(_:_:)`, adding to `warnings` each variable whose value was not used.
    public static func fromEnvironment(_ transport: Transport, _ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       warnings: inout [ConfigurationWarning]) throws -> OTLPEndpoint {
        var result = OTLPEndpoint(transport: transport)
        if let value = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !value.isEmpty { result.endpoint = value }
        for signal in Signal.allCases {
            if let value = environment["OTEL_EXPORTER_OTLP_\(signal.rawValue.uppercased())_ENDPOINT"], !value.isEmpty {
                result.signalURLs[signal] = value
            }
        }
        if let value = environment["OTEL_EXPORTER_OTLP_HEADERS"], !value.isEmpty {
            result.headers = try parseHeaders(value)
        }
        if let value = environment["OTEL_EXPORTER_OTLP_TIMEOUT"], !value.isEmpty {
            if let milliseconds = Int(value.trimmingCharacters(in: .whitespaces)), milliseconds > 0 {
                result.timeout = .milliseconds(milliseconds)
            } else {
                warnings.append(ConfigurationWarning(name: "OTEL_EXPORTER_OTLP_TIMEOUT", value: value, problem: "not a positive whole number of milliseconds", used: "\(result.timeout)"))
            }
        }
        func file(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        result.certificateFile = file("OTEL_EXPORTER_OTLP_CERTIFICATE")
        result.clientCertificateFile = file("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
        result.clientKeyFile = file("OTEL_EXPORTER_OTLP_CLIENT_KEY")
        return result
    }

    /// The TLS files, checked now so that a wrong path is an error at start and not a failed
    /// handshake on every export: (trusted certificates, (client chain, client key)).
    package func tlsFiles() throws -> (trust: String?, client: (certificate: String, key: String)?) {
        for path in [certificateFile, clientCertificateFile, clientKeyFile].compactMap({ $0 }) {
            guard FileManager.default.isReadableFile(atPath: path) else { throw EndpointError("TLS file '\(path)' cannot be read") }
        }
        switch (clientCertificateFile, clientKeyFile) {
        case (nil, nil): return (certificateFile, nil)
        case let (certificate?, key?): return (certificateFile, (certificate, key))
        default: throw EndpointError("a client certificate needs its key and a key its certificate")
        }
    }

    /// `name=value,name=value` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS writes them.
    package static func parseHeaders(_ text: String) throws -> [Header] {
        try text.split(separator: ",").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw EndpointError("header '\(pair)' is not name=value")
            }
            return Header(parts[0], parts[1].removingPercentEncoding ?? parts[1])
        }
    }

    /// The URL an HTTP exporter posts `signal` to.
    package func url(for signal: Signal) -> String {
        if let url = signalURLs[signal] { return url }
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return base + "/v1/" + signal.rawValue
    }

    /// Host, port and whether TLS is asked for (gRPC), from the signal's own endpoint when it has
    /// one (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT…, which OTel's specification applies to gRPC too;
    /// any path in it is ignored), else from the common endpoint.
    package func hostAndPort(for signal: Signal? = nil) throws -> (host: String, port: Int, secure: Bool) {
        let given = signal.flatMap { signalURLs[$0] } ?? endpoint
        let text = given.contains("://") ? given : "http://" + given
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw EndpointError("endpoint '\(given)' has no host")
        }
        let secure = components.scheme == "https"
        return (host, components.port ?? (secure ? 443 : 4317), secure)
    }
}

public struct EndpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
