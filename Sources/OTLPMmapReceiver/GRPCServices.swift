import GRPCCore
import GRPCProtobuf
import OTLPProto

// The three OTLP/gRPC export services, each handing its request to the receiver's policy.

extension ReceiverAnswer {
    /// A refusal as OTLP/gRPC says it: UNAVAILABLE (retryable), with RetryInfo when a delay is given.
    func grpcRefusal(_ signal: OTLPSignal) -> any Error {
        guard case .refused(let retryAfter) = self else { return RPCError(code: .internalError, message: "not a refusal") }
        let message = "the receiver refuses \(signal.rawValue) for now"
        guard let retryAfter else { return RPCError(code: .unavailable, message: message) }
        return GoogleRPCStatus(code: .unavailable, message: message, details: [.retryInfo(delay: retryAfter)])
    }
}

struct TraceService: Opentelemetry_Proto_Collector_Trace_V1_TraceService.SimpleServiceProtocol {
    let receiver: OTLPReceiver

    func export(request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
                context: ServerContext) async throws -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        let answer = await receiver.answer(.traces(request), via: .grpc)
        guard case .accepted(let rejected) = answer else { throw answer.grpcRefusal(.traces) }
        var response = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        if rejected > 0 {
            response.partialSuccess.rejectedSpans = rejected
            response.partialSuccess.errorMessage = "the receiver rejected \(rejected) spans"
        }
        return response
    }
}

struct LogsService: Opentelemetry_Proto_Collector_Logs_V1_LogsService.SimpleServiceProtocol {
    let receiver: OTLPReceiver

    func export(request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest,
                context: ServerContext) async throws -> Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse {
        let answer = await receiver.answer(.logs(request), via: .grpc)
        guard case .accepted(let rejected) = answer else { throw answer.grpcRefusal(.logs) }
        var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
        if rejected > 0 {
            response.partialSuccess.rejectedLogRecords = rejected
            response.partialSuccess.errorMessage = "the receiver rejected \(rejected) log records"
        }
        return response
    }
}

struct MetricsService: Opentelemetry_Proto_Collector_Metrics_V1_MetricsService.SimpleServiceProtocol {
    let receiver: OTLPReceiver

    func export(request: Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest,
                context: ServerContext) async throws -> Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse {
        let answer = await receiver.answer(.metrics(request), via: .grpc)
        guard case .accepted(let rejected) = answer else { throw answer.grpcRefusal(.metrics) }
        var response = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceResponse()
        if rejected > 0 {
            response.partialSuccess.rejectedDataPoints = rejected
            response.partialSuccess.errorMessage = "the receiver rejected \(rejected) data points"
        }
        return response
    }
}
