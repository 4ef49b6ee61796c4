#!/usr/bin/env bash
# Runs the coverage-guided fuzzers (libFuzzer, with AddressSanitizer) over the decoders and the
# checker, seeded with the golden files. Crashes land in Fuzz/artifacts/.
# Usage: bash tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-60}"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p corpus/checker corpus/decoders artifacts
cp ../golden/valid/*.otlpmmap ../golden/invalid/*.otlpmmap corpus/checker/
for target in FuzzDecoders FuzzChecker; do
  corpus=corpus/decoders; [ "$target" = FuzzChecker ] && corpus=corpus/checker
  echo "== $target for ${seconds}s"
  ".build/release/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=artifacts/ "$corpus"
done
