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
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.86.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .executableTarget(
            name: "WriterBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPMmapBenchmarkSupport", package: "otlp-mmap"),
            ],
            path: "Benchmarks/WriterBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CheckerBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPMmapBenchmarkSupport", package: "otlp-mmap"),
            ],
            path: "Benchmarks/CheckerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .target(
            name: "CollectorWorkload",
            dependencies: [
                .product(name: "OTLPMmapBenchmarkSupport", package: "otlp-mmap"),
                .product(name: "OTLPMmapCollector", package: "otlp-mmap"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPProto", package: "otlp-mmap"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/CollectorWorkload"
        ),
        .executableTarget(
            name: "collector-figures",
            dependencies: [
                "CollectorWorkload",
                .product(name: "OTLPMmapCollector", package: "otlp-mmap"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/collector-figures"
        ),
        .executableTarget(
            name: "collector-profile",
            dependencies: ["CollectorWorkload"],
            path: "Sources/collector-profile"
        ),
        .executableTarget(
            name: "CollectorBenchmarks",
            dependencies: [
                "CollectorWorkload",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "OTLPMmapCollector", package: "otlp-mmap"),
                .product(name: "OTLPMmapSDK", package: "otlp-mmap"),
                .product(name: "OTLPProto", package: "otlp-mmap"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/CollectorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
