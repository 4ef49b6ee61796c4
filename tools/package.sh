#!/usr/bin/env bash
# Builds a self-contained release of otlp-mmap for Linux: the binary with the Swift runtime and
# Foundation linked in statically (--static-swift-stdlib), so it runs on a machine without Swift,
# packed in a tarball with what a writer's authors need to implement the testee protocol.
# Usage: bash tools/package.sh [OUT-FOLDER]     (default: dist; prints the tarball's path)
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
version="$(git describe --tags --always --dirty 2>/dev/null || echo unversioned)"
name="otlp-mmap-$version-linux-$(uname -m)"
flags=(-c release --product otlp-mmap --static-swift-stdlib --scratch-path .build-release)

swift build "${flags[@]}" >&2
binary="$(swift build "${flags[@]}" --show-bin-path)/otlp-mmap"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/proto"
cp "$binary" "$stage/$name/otlp-mmap"
# Debug symbols are nine tenths of the binary; a release needs none.
if command -v strip >/dev/null; then strip "$stage/$name/otlp-mmap"; fi
cp docs/testee.md "$stage/$name/"
cp proto/otlp_mmap/testee/v1/testee.proto proto/opentelemetry/proto/mmap/v1/mmap.proto "$stage/$name/proto/"
cp tools/c-writer/writer.c "$stage/$name/example-testee.c"
cp generated/c/otlp_mmap_layout.h "$stage/$name/"
cat > "$stage/$name/README.txt" <<TEXT
otlp-mmap $version — the OTLP-mmap reference toolkit, one self-contained binary (no Swift needed).

Check a writer against the conformance scenarios and fuzz it; it speaks the testee protocol
described in testee.md (messages in proto/testee.proto; the file format in proto/mmap.proto):

  ./otlp-mmap conform run -- ./your-testee
  ./otlp-mmap conform fuzz --seed 1 --cases 300 -- ./your-testee
  ./otlp-mmap conform check FILE        # a file any writer wrote

example-testee.c is a testee in C (protobuf-c); otlp_mmap_layout.h, which it includes, is the file
layout for C (offsets, struct views, ring formulas, rule IDs). ./otlp-mmap --help lists every command.
TEXT
tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
