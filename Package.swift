// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "bo-batch",
    // Linux only (Debian 12 tested): sources import Glibc, and the C libraries come from Debian packages.
    // No `platforms:` entry, since no Apple platform is built or tested (see README, "Platforms").
    products: [
        .executable(name: "bo-batch", targets: ["bo-batch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The sandbox's HTTPS: NIOSSL (through HummingbirdTLS) serves it, swift-certificates makes its throwaway
        // self-signed certificate at start, so no private key is ever committed.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // report.html: logic-less templates that HTML-escape every {{value}} by default (see README, "Report").
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The config file (see README, "Config file"): TOML through toml++, which reports the line of a syntax error.
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C interop: module maps plus tiny static-inline shims, nothing else.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CIDN2", pkgConfig: "libidn2", providers: [.apt(["libidn2-dev"])]),
        // Compressed lists (.gz, .zip members) are inflated while they are read, by the system zlib.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // renameat2(RENAME_EXCHANGE): a result file rewritten by refresh replaces the old one without the forced
        // writeback ext4 gives a rename over an existing file (glibc's own header; no library to link).
        .systemLibrary(name: "CRenameExchange"),
        // sqlite3_config (variadic): SQLite's memory statistics off before the ledger's first connection.
        .systemLibrary(name: "CSQLiteConfig"),

        .target(name: "BoBatchHTTP", dependencies: ["CCurl"], swiftSettings: strict),
        .target(name: "BoBatchXML", dependencies: ["CLibXML2"], swiftSettings: strict),
        .target(
            name: "BoBatch",
            dependencies: [
                "BoBatchHTTP", "BoBatchXML", "CIDN2", "CZlib", "CRenameExchange", "CSQLiteConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the ingest's per-line INSERT (Ledger.swift's LineInsert).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BoBatchSandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BoBatchCLI",
            dependencies: [
                "BoBatch", "BoBatchHTTP", "BoBatchSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "bo-batch", dependencies: ["BoBatchCLI"], swiftSettings: strict),

        // Tests: one target per library module (its name plus "Tests"), so `--filter BoBatchXMLTests` runs exactly
        // the libxml2 wrapper's tests. TestSupport holds what two of them share (a library, not a test target).
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "BoBatchHTTPTests",
            // BoBatchSandbox: its HTTPS mode is the TLS server the transport's trust and resumption tests talk to.
            dependencies: ["BoBatchHTTP", "BoBatchSandbox", "TestSupport", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(name: "BoBatchXMLTests", dependencies: ["BoBatchXML", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "BoBatchSandboxTests", dependencies: ["BoBatchSandbox"], swiftSettings: strict),
        .testTarget(
            name: "BoBatchTests",
            // BoBatchSandbox: the provider conformance suite runs every provider against the sandbox.
            dependencies: ["BoBatch", "BoBatchHTTP", "BoBatchSandbox"],
            swiftSettings: strict
        ),
        .testTarget(name: "BoBatchCLITests", dependencies: ["BoBatchCLI", "BoBatch", "BoBatchSandbox"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["BoBatch", "BoBatchSandbox", "BoBatchHTTP"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
