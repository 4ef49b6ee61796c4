#!/usr/bin/env bash
# The main job: the reference writer records spans, logs and metrics from several threads into a
# new OTLP-mmap file while the reference collector reads it and prints what it exports (OTLP JSON
# lines, the debug exporter; no receiver needed). A summary goes to standard error.
# Usage: bash tools/demo.sh [otlp-mmap demo options, e.g. --spans 10 --threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product otlp-mmap
swift run --skip-build otlp-mmap demo "$@"
