// swift-tools-version: 6.1
//
// Coverage-guided fuzzers (libFuzzer) for the code that reads untrusted bytes. A separate package,
// built only by tools/fuzz.sh with -sanitize=fuzzer,address; the main build never compiles it.
import PackageDescription

let package = Package(
    name: "otlp-mmap-fuzz",
    dependencies: [.package(name: "otlp-mmap", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "FuzzDecoders",
            dependencies: [
                "FuzzSupport",
                .product(name: "OTLPMmapFuzzTargets", package: "otlp-mmap"),
            ]
        ),
        .executableTarget(
            name: "FuzzChecker",
            dependencies: [
                "FuzzSupport",
                .product(name: "OTLPMmapFuzzTargets", package: "otlp-mmap"),
            ]
        ),
        .executableTarget(
            name: "FuzzTesteeFrames",
            dependencies: [
                "FuzzSupport",
                .product(name: "OTLPMmapFuzzTargets", package: "otlp-mmap"),
            ]
        ),
        .executableTarget(
            name: "FuzzSpecLoader",
            dependencies: [
                "FuzzSupport",
                .product(name: "OTLPMmapFuzzTargets", package: "otlp-mmap"),
            ]
        ),
        .executableTarget(
            name: "FuzzDictionary",
            dependencies: [
                "FuzzSupport",
                .product(name: "OTLPMmapFuzzTargets", package: "otlp-mmap"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
