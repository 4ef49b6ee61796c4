// swift-tools-version: 6.1
//
// Targets follow the data flow spec/ → generator → generated layout → tools:
//   OTLPMmapSpec       loads and validates spec/*.yaml (the schema model)
//   OTLPMmapGenerator  turns the model into Swift, .proto and docs (depends only on the model)
//   OTLPMmapWire       the small hand-written runtime the generated code calls (bounds-checked bytes,
//                      varints, protobuf wire primitives, atomic raw-memory access)
//   OTLPMmapLayout     GENERATED typed views, record messages and the rule catalogue
//   OTLPMmapCore       mapping files, the ring and dictionary algorithms, decoding a whole file
//   OTLPMmapSDK        the reference writer: spans, logs and metrics into a file
//   CPlatform      the cycle counter and a thread-local cache (C), for the writer
//   OTLPMmapBridges    the writer behind swift-distributed-tracing, swift-log and swift-metrics
//   OTLPMmapConformance  checks any writer's file against every rule of the spec
//   OTLPMmapGolden     the golden files: valid ones from the reference writer, invalid ones per rule
//   otlp-mmap          the command-line tool (gen, inspect, write-sample)
//   otlp-mmap-gen      the generator alone, which builds even when generated code does not
import PackageDescription

let package = Package(
    name: "otlp-mmap",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "otlp-mmap", targets: ["otlp-mmap"]),
        .executable(name: "otlp-mmap-gen", targets: ["otlp-mmap-gen"]),
        .library(name: "OTLPMmapSDK", targets: ["OTLPMmapSDK"]),
        .library(name: "OTLPMmapBridges", targets: ["OTLPMmapBridges"]),
        .library(name: "OTLPMmapConformance", targets: ["OTLPMmapConformance"]),
        .library(name: "OTLPMmapCore", targets: ["OTLPMmapCore"]),
        .library(name: "OTLPMmapLayout", targets: ["OTLPMmapLayout"]),
        .library(name: "OTLPMmapSpec", targets: ["OTLPMmapSpec"]),
        .library(name: "OTLPMmapGenerator", targets: ["OTLPMmapGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        .target(
            name: "OTLPMmapSpec",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "OTLPMmapGenerator",
            dependencies: ["OTLPMmapSpec"]
        ),
        .target(
            name: "OTLPMmapGenCommand",
            dependencies: [
                "OTLPMmapGenerator", "OTLPMmapSpec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "otlp-mmap-gen",
            dependencies: ["OTLPMmapGenCommand"]
        ),
        .target(
            name: "OTLPMmapWire",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(
            name: "OTLPMmapLayout",
            dependencies: ["OTLPMmapWire", .product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(
            name: "OTLPMmapCore",
            dependencies: ["OTLPMmapLayout", "OTLPMmapWire", .product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(name: "CPlatform"),
        .target(
            name: "OTLPMmapSDK",
            dependencies: ["OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire", "CPlatform", .product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(
            name: "OTLPMmapBridges",
            dependencies: [
                "OTLPMmapSDK",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "OTLPMmapConformance",
            dependencies: ["OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "OTLPMmapGolden",
            dependencies: ["OTLPMmapSDK", "OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire"]
        ),
        .executableTarget(
            name: "otlp-mmap",
            dependencies: [
                "OTLPMmapCore", "OTLPMmapSDK", "OTLPMmapConformance", "OTLPMmapGolden", "OTLPMmapGenCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["OTLPMmapWire"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "SpecTests",
            dependencies: ["OTLPMmapSpec", "OTLPMmapGenerator", "OTLPMmapLayout", "TestSupport", "otlp-mmap"],
            path: "Tests/SpecTests"
        ),
        .testTarget(
            name: "CoreTests",
            dependencies: ["OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire", "TestSupport", "otlp-mmap"],
            path: "Tests/CoreTests"
        ),
        .testTarget(
            name: "SDKTests",
            dependencies: [
                "OTLPMmapSDK", "OTLPMmapBridges", "OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire", "TestSupport", "otlp-mmap",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Tests/SDKTests"
        ),
        .testTarget(
            name: "ConformanceTests",
            dependencies: ["OTLPMmapCore", "OTLPMmapLayout", "OTLPMmapWire", "OTLPMmapConformance", "OTLPMmapGolden", "TestSupport", "otlp-mmap"],
            path: "ConformanceTests",
            exclude: ["fixtures", "scenarios"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
