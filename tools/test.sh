#!/usr/bin/env bash
# Runs every check CI runs: build, generated files up to date, all tests.
# Usage: bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build"
swift build --build-tests

echo "== generated files match spec/"
swift run --skip-build otlp-mmap gen --check

echo "== tests"
swift test --skip-build --parallel
