// swift-tools-version:6.0
import PackageDescription

// Layers: Engine (numerics, no files) → Data (loaders) → Study (training loop, the only place they meet)
// → OptilogCLI (one file per command) → optilog (the executable's entry point).
let package = Package(
    name: "optilog",
    products: [
        .executable(name: "optilog", targets: ["optilog"]),
        .executable(name: "optilog-bench", targets: ["optilog-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Engine", dependencies: ["COpenBLAS", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Data", dependencies: ["Engine", "CZlib", "CZstd"]),
        .target(name: "Study", dependencies: ["Engine", "Data"]),
        .target(name: "OptilogCLI", dependencies: [
            "Engine", "Data", "Study",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "optilog", dependencies: ["OptilogCLI"]),
        .executableTarget(name: "optilog-bench", dependencies: ["Engine", "Data", "Study", "COpenBLAS"],
                          path: "tools/bench/engine"),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "StudyTests", dependencies: ["Engine", "Data", "Study", "CZlib", "CZstd"]),
        .testTarget(name: "CLITests", dependencies: ["OptilogCLI"]),
    ]
)
