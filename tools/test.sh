#!/usr/bin/env bash
# Runs every check CI runs: build, generated files up to date, OTLP protos checked, all tests.
# Usage: bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
# The C writer under test (tools/c-writer) needs protobuf-c; checking spec/otlp and the generated
# .proto needs protoc; the TLS tests make their certificates with openssl; the HTML spec is checked
# in headless Chromium.
if ! command -v protoc-c >/dev/null || [ ! -f /usr/include/protobuf-c/protobuf-c.h ] || ! command -v protoc >/dev/null \
    || ! command -v openssl >/dev/null || ! command -v chromium >/dev/null; then
  echo "== installing protobuf-c, protoc, openssl and chromium (Debian packages)"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq protobuf-c-compiler libprotobuf-c-dev protobuf-compiler openssl chromium fonts-dejavu-core >/dev/null
fi
# The collector's tests run a real OTLP receiver built from the official Python packages.
if ! python3 -c "import grpc, opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc" 2>/dev/null; then
  echo "== installing opentelemetry-proto and grpcio (PyPI)"
  python3 -m pip install -q --disable-pip-version-check opentelemetry-proto grpcio
fi

echo "== build"
swift build --build-tests
make -s -C tools/c-writer

echo "== generated files match spec/"
swift run --skip-build otlp-mmap gen --check
bash tools/generate-otlp-swift.sh --check
python3 tools/check-otlp-protos.py

echo "== release package (tools/package.sh; PackageTests unpacks it and runs it without Swift)"
OTLP_MMAP_RELEASE_TARBALL="$(bash tools/package.sh .build-release/dist)"
export OTLP_MMAP_RELEASE_TARBALL

echo "== allocation probe (release, as the writer runs; SDKTests fails on any heap allocation per record)"
probe=(-c release --product allocation-probe --static-swift-stdlib --scratch-path .build-release)
swift build "${probe[@]}" >&2
OTLP_MMAP_ALLOCATION_PROBE="$(swift build "${probe[@]}" --show-bin-path)/allocation-probe"
export OTLP_MMAP_ALLOCATION_PROBE

# One run of everything. Every test that drives a process waits for it by suspending (see
# TestSupport.Child.wait), so the conformance tests no longer starve the collector's async tests
# of the cooperative pool's two threads here.
echo "== tests"
swift test --skip-build --parallel
