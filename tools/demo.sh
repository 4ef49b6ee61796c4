#!/usr/bin/env bash
# The main job for now: write sample telemetry into a new OTLP-mmap file and inspect it.
# Usage: bash tools/demo.sh [FILE]   (default: a file in a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:-$(mktemp -d)/demo.otlpmmap}"
swift build --product otlp-mmap
swift run --skip-build otlp-mmap write-sample "$file" --count 5
swift run --skip-build otlp-mmap inspect "$file"
