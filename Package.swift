// swift-tools-version:6.2
import PackageDescription

/// Settings applied to every Cairn target (see docs/ARCHITECTURE.md for why
/// `NonisolatedNonsendingByDefault` is left off: Hummingbird middleware would stop conforming).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("InferIsolatedConformances"),
    .treatAllWarnings(as: .error),
]

let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let serviceDependencies: [Target.Dependency] = ["AWSCore", "Audit", "Storage", "Gateway", hummingbird, nioCore, logging]

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cairn", targets: ["CLI"]),
        .executable(name: "cairn-bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        .target(
            name: "AWSCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), nioCore, logging],
            swiftSettings: swiftSettings
        ),
        .target(name: "Audit", dependencies: ["AWSCore"], swiftSettings: swiftSettings),
        .target(
            name: "Storage",
            dependencies: [
                "AWSCore", "Audit", .product(name: "GRDB", package: "GRDB.swift"), serviceLifecycle, logging,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "AWSCore", "Audit", "Storage", hummingbird, nioCore, logging,
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CloudTrailService",
            dependencies: serviceDependencies + [
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "STSService", dependencies: serviceDependencies, swiftSettings: swiftSettings),
        .target(
            name: "ConfigService", dependencies: serviceDependencies + [.product(name: "CompressNIO", package: "compress-nio")],
            swiftSettings: swiftSettings),
        .target(
            name: "S3Service",
            dependencies: serviceDependencies + [
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SNSService",
            dependencies: serviceDependencies + [
                serviceLifecycle, .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CloudFormationService",
            dependencies: serviceDependencies + [
                serviceLifecycle, .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "App",
            dependencies: [
                "AWSCore", "Audit", "Storage", "Gateway", "CloudTrailService", "STSService", "S3Service", "SNSService",
                "ConfigService", "CloudFormationService", "CMallocTuning", hummingbird, logging,
                serviceLifecycle, .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // glibc's allocator settings (mallopt), which Swift's Glibc module does not expose.
        .target(name: "CMallocTuning"),
        .executableTarget(
            name: "CLI",
            dependencies: ["App", .product(name: "ArgumentParser", package: "swift-argument-parser"), logging],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "AWSCore", "Audit", "Storage", .product(name: "AsyncHTTPClient", package: "async-http-client"), nioCore,
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSCoreTests",
            dependencies: ["AWSCore", "TestSupport", nioCore, .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["vectors/generate_sigv4_vectors.py", "vectors/generate_payload_vectors.py"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConfigServiceTests", dependencies: ["ConfigService", "AWSCore", "Gateway", "Storage", "TestSupport", nioCore],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CloudFormationTests",
            dependencies: [
                "CloudFormationService", "AWSCore", .product(name: "OrderedCollections", package: "swift-collections"),
            ], swiftSettings: swiftSettings),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "AWSCore", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StorageTests", dependencies: ["Storage", "Audit", "AWSCore", "TestSupport", logging], swiftSettings: swiftSettings),
        .testTarget(
            name: "S3ServiceTests",
            dependencies: [
                "S3Service", "AWSCore", "Audit", "Gateway", "Storage", hummingbird, nioCore, logging,
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CloudTrailServiceTests",
            dependencies: [
                "CloudTrailService", "AWSCore", "Audit", "Gateway", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SNSServiceTests",
            dependencies: [
                "SNSService", "AWSCore", "Gateway", "Storage", logging, .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "App", "AWSCore", "Audit", "Storage", "Gateway", "S3Service", "SNSService", "TestSupport", hummingbird, nioCore,
                logging, serviceLifecycle,
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
