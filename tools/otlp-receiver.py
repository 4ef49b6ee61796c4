#!/usr/bin/env python3
"""A real OTLP receiver for the collector's tests, built on the official packages.

It serves OTLP/gRPC (grpcio with the servicers of PyPI's opentelemetry-proto) and OTLP/HTTP with
protobuf bodies (the standard library's http.server, decoding with opentelemetry-proto's messages),
and appends every request it accepts to --out as one JSON line:
    {"transport": "grpc"|"http", "signal": "traces"|"logs"|"metrics", "request": <MessageToDict>}
Ids stay base64 in that JSON (protobuf's JSON mapping); tests decode them.

--fail-first N answers the first N requests with gRPC UNAVAILABLE / HTTP 503 (retryable), to test
retries. --reject-one answers every accepted request with a partial success that rejects one item
("rejected by --reject-one"), as a receiver that drops what it cannot take does. --tls-cert/--tls-key serve both over TLS; --client-ca also asks for client certificates. The ports it listens on (0 = any free one) are written to --ready as
"grpc=PORT http=PORT" once both servers accept connections. It runs until killed.

Needs: pip install opentelemetry-proto grpcio
"""
import argparse
import json
import ssl
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

REQUESTS = {
    "traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
    "metrics": (metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
}


class Recorder:
    """Appends accepted requests to the output file; refuses the first `fail_first`."""

    def __init__(self, path, fail_first, reject_one=False):
        self.path = path
        self.remaining_failures = fail_first
        self.reject_one = reject_one
        self.lock = threading.Lock()

    def admit(self):
        with self.lock:
            if self.remaining_failures > 0:
                self.remaining_failures -= 1
                return False
            return True

    def record(self, transport, signal, message):
        line = json.dumps({"transport": transport, "signal": signal, "request": MessageToDict(message)})
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()


REJECTED_FIELD = {"traces": "rejected_spans", "logs": "rejected_log_records", "metrics": "rejected_data_points"}


def response(signal, recorder):
    """The Export*ServiceResponse: empty (all accepted), or with one item rejected."""
    message = REQUESTS[signal][1]()
    if recorder.reject_one:
        setattr(message.partial_success, REJECTED_FIELD[signal], 1)
        message.partial_success.error_message = "rejected by --reject-one"
    return message


def grpc_servicer(base, signal, recorder):
    response_type = REQUESTS[signal][1]

    class Servicer(base):
        def Export(self, request, context):
            if not recorder.admit():
                context.abort(grpc.StatusCode.UNAVAILABLE, "refused by --fail-first")
            recorder.record("grpc", signal, request)
            return response(signal, recorder)

    return Servicer()


def http_handler(recorder):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            signal = self.path.rstrip("/").split("/")[-1]
            if signal not in REQUESTS or not self.path.startswith("/v1/"):
                self.send_error(404, "no such signal")
                return
            if self.headers.get("Content-Type") != "application/x-protobuf":
                self.send_error(415, "expected application/x-protobuf")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not recorder.admit():
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            request_type, response_type = REQUESTS[signal]
            request = request_type()
            request.ParseFromString(body)
            recorder.record("http", signal, request)
            payload = response(signal, recorder).SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--grpc-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--reject-one", action="store_true", help="answer with a partial success rejecting one item")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve gRPC and HTTP over TLS with it")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--client-ca", help="PEM CA: require client certificates signed by it (mutual TLS)")
    options = parser.parse_args()
    recorder = Recorder(options.out, options.fail_first, options.reject_one)

    # grpcio sets SO_REUSEPORT by default: a second receiver restarted on a port another test's
    # receiver got from the kernel would then share it silently, and requests would land in the
    # wrong receiver's log. Without it, taking a port in use fails loudly.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        grpc_servicer(trace_service_pb2_grpc.TraceServiceServicer, "traces", recorder), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
        grpc_servicer(logs_service_pb2_grpc.LogsServiceServicer, "logs", recorder), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
        grpc_servicer(metrics_service_pb2_grpc.MetricsServiceServicer, "metrics", recorder), server)
    address = f"127.0.0.1:{options.grpc_port}"
    if options.tls_cert:
        with open(options.tls_cert, "rb") as cert, open(options.tls_key, "rb") as key:
            chain = [(key.read(), cert.read())]
        client_ca = open(options.client_ca, "rb").read() if options.client_ca else None
        credentials = grpc.ssl_server_credentials(chain, root_certificates=client_ca,
                                                  require_client_auth=client_ca is not None)
        grpc_port = server.add_secure_port(address, credentials)
    else:
        grpc_port = server.add_insecure_port(address)
    if grpc_port == 0:
        sys.exit(f"cannot listen for gRPC on {address}")
    server.start()

    http = ThreadingHTTPServer(("127.0.0.1", options.http_port), http_handler(recorder))
    if options.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.tls_cert, options.tls_key)
        if options.client_ca:
            context.load_verify_locations(options.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        http.socket = context.wrap_socket(http.socket, server_side=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()

    with open(options.ready, "w", encoding="utf-8") as ready:
        ready.write(f"grpc={grpc_port} http={http.server_address[1]}\n")
    server.wait_for_termination()


if __name__ == "__main__":
    main()
