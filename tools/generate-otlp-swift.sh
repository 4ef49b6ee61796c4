#!/usr/bin/env bash
# Regenerates Sources/OTLPProto/Generated from spec/otlp/**/*.proto (OTLP) and
# spec/collector/**/*.proto (the collector's checkpoint, which embeds OTLP messages): message types
# with swift-protobuf's protoc-gen-swift, gRPC clients and services with grpc-swift-protobuf's
# protoc-gen-grpc-swift-2. The generated files are committed (building the plugins takes minutes),
# so this runs only after a change to spec/otlp. `--check` regenerates into a temporary folder and
# fails if the committed files differ.
#
# The plugins are built from the same package versions Package.swift uses, in .build-protoc-plugins
# (ignored by git). protoc comes from Debian's protobuf-compiler, installed here when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/Sources/OTLPProto/Generated"
check=false
[[ "${1:-}" == "--check" ]] && check=true

if ! command -v protoc >/dev/null; then
    apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
fi

plugins="$root/.build-protoc-plugins"
mkdir -p "$plugins/Sources/placeholder"
protobuf_version=$(sed -n 's|.*apple/swift-protobuf", from: "\([0-9.]*\)".*|\1|p' "$root/Package.swift")
grpc_protobuf_version=$(sed -n 's|.*grpc/grpc-swift-protobuf", from: "\([0-9.]*\)".*|\1|p' "$root/Package.swift")
cat > "$plugins/Package.swift" <<EOF
// swift-tools-version: 6.1
// Written by tools/generate-otlp-swift.sh to build the protoc plugins; not part of the project.
import PackageDescription
let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "$protobuf_version"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "$grpc_protobuf_version"),
    ],
    targets: [.executableTarget(name: "placeholder")]
)
EOF
echo 'print("only here to make this a package")' > "$plugins/Sources/placeholder/main.swift"
(cd "$plugins" && swift build --product protoc-gen-swift >&2 && swift build --product protoc-gen-grpc-swift-2 >&2)
bin="$(cd "$plugins" && swift build --show-bin-path)"

target="$out"
if $check; then target="$(mktemp -d)"; fi
rm -rf "$target" && mkdir -p "$target"
cd "$root/spec"
otlp=$(cd otlp && find . -name '*.proto' | sed 's|^\./||' | sort)
collector=$(cd collector && find . -name '*.proto' | sed 's|^\./||' | sort)
protoc -I otlp -I collector \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out=Visibility=Public,FileNaming=PathToUnderscores:"$target" \
    $otlp $collector
# Services only where there are some (the export services), so that no empty files appear.
protoc -I otlp \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_out=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores:"$target" \
    $(echo "$otlp" | grep '_service\.proto$')

if $check; then
    if diff -r "$out" "$target" >/dev/null; then
        echo "Sources/OTLPProto/Generated is up to date"
    else
        diff -r "$out" "$target" | head -20
        echo "Sources/OTLPProto/Generated is stale: run tools/generate-otlp-swift.sh" >&2
        exit 1
    fi
else
    echo "wrote $(ls "$target" | wc -l) files to Sources/OTLPProto/Generated"
fi
