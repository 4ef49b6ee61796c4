// swift-tools-version: 6.1
//
// Benchmarks live in their own package so that the main build and `swift test` never compile
// ordo-one/benchmark. Run from this folder: `swift package benchmark` (see README.md here).
import PackageDescription

let package = Package(
    name: "otlp-mmap-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "otlp-mmap", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "WriterBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPMmapCore", package: "otlp-mmap"),
            ],
            path: "Benchmarks/WriterBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CheckerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPMmapCore", package: "otlp-mmap"),
                .product(name: "OTLPMmapConformance", package: "otlp-mmap"),
            ],
            path: "Benchmarks/CheckerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
