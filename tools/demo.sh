#!/usr/bin/env bash
# The main job for now: the reference writer records spans, logs and metrics from two threads into a
# new OTLP-mmap file, then `inspect` shows what a collector will read.
# Usage: bash tools/demo.sh [FILE]   (default: a file in a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:-$(mktemp -d)/demo.otlpmmap}"
swift build --product otlp-mmap
swift run --skip-build otlp-mmap write "$file" --spans 3 --threads 2
swift run --skip-build otlp-mmap inspect "$file"
