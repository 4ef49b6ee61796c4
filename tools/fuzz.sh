#!/usr/bin/env bash
# Runs the coverage-guided fuzzers (libFuzzer, with AddressSanitizer) over the decoders, the
# checker, the testee-frame reader, the spec loader and the dictionary walk with its resolver,
# seeded with the golden files and spec/. Crashes land in Fuzz/artifacts/.
# Usage: bash tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
seconds="${1:-60}"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p corpus/checker corpus/decoders corpus/frames corpus/spec corpus/dictionary artifacts
cp ../golden/valid/*.otlpmmap ../golden/invalid/*.otlpmmap corpus/checker/
# The spec loader's input is layout.yaml, a NUL, messages.yaml.
{ cat ../spec/layout.yaml; printf '\0'; cat ../spec/messages.yaml; } > corpus/spec/spec
# The dictionary's input is entries back to back; the seed is an AnyValue whose value_ref is itself.
printf '\002\100\100' > corpus/dictionary/self-referring
for target in FuzzDecoders FuzzChecker FuzzTesteeFrames FuzzSpecLoader FuzzDictionary; do
  case "$target" in
    FuzzChecker) corpus=corpus/checker ;;
    FuzzTesteeFrames) corpus=corpus/frames ;;
    FuzzSpecLoader) corpus=corpus/spec ;;
    FuzzDictionary) corpus=corpus/dictionary ;;
    *) corpus=corpus/decoders ;;
  esac
  echo "== $target for ${seconds}s"
  ".build/release/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=artifacts/ "$corpus"
done
