#!/usr/bin/env bash
# Runs every check CI runs: build, generated files up to date, all tests.
# Usage: bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The C writer under test (tools/c-writer) needs protobuf-c from Debian.
if ! command -v protoc-c >/dev/null || [ ! -f /usr/include/protobuf-c/protobuf-c.h ]; then
  echo "== installing protobuf-c (Debian packages)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq protobuf-c-compiler libprotobuf-c-dev >/dev/null
fi

echo "== build"
swift build --build-tests
make -s -C tools/c-writer

echo "== generated files match spec/"
swift run --skip-build otlp-mmap gen --check

echo "== tests"
swift test --skip-build --parallel
