// swift-tools-version:6.0
import PackageDescription

// Layers: Engine (numerics, no files), Data (loaders), Store (the SQLite log, the checkpoint codec)
// → Study (training loop, runs, resume: the only place the three meet) → OptilogCLI (one file per
// command) → optilog (the executable's entry point).
let package = Package(
    name: "optilog",
    products: [
        .executable(name: "optilog", targets: ["optilog"]),
        .executable(name: "optilog-bench", targets: ["optilog-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The project's JSON value (Keras configurations) and SHA-256 hex: shared by every layer.
        .target(name: "Basics", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // SIMD kernels for products too small for OpenBLAS (the LSTM's recurrence), chosen by CPU at run time.
        .target(name: "CKernels"),
        .target(name: "Engine", dependencies: ["Basics", "COpenBLAS", "CKernels", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Data", dependencies: ["Basics", "Engine", "CZlib", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Store", dependencies: [
            "Basics", "CZstd", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Study", dependencies: ["Basics", "Engine", "Data", "Store"]),
        .target(name: "OptilogCLI", dependencies: [
            "Basics", "Engine", "Data", "Store", "Study",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "optilog", dependencies: ["OptilogCLI"]),
        .executableTarget(name: "optilog-bench", dependencies: ["Engine", "Data", "Study", "Store", "COpenBLAS", "CKernels",
                                                               .product(name: "GRDB", package: "GRDB.swift")],
                          path: "tools/bench/engine"),
        // A writer process for the store's multi-process tests.
        .executableTarget(name: "optilog-store-writer", dependencies: ["Engine", "Store"], path: "tools/store-writer"),
        .executableTarget(name: "optilog-fuzz", dependencies: ["Data", "Store"], path: "tools/fuzz", exclude: ["README.md", "run.sh", "corpus"]),
        // Helpers shared by the test targets.
        .target(name: "OptilogTestSupport", path: "Tests/Support"),
        .testTarget(name: "EngineTests", dependencies: ["Basics", "Engine", "CKernels"]),
        .testTarget(name: "StudyTests", dependencies: ["Basics", "Engine", "Data", "Store", "Study", "OptilogTestSupport",
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "DataTests", dependencies: ["Engine", "Data", "CZlib"]),
        .testTarget(name: "StoreTests", dependencies: ["Basics", "Engine", "Store", "CZstd", "OptilogTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "CLITests", dependencies: ["OptilogCLI", "OptilogTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
