import App
import ArgumentParser
import Hummingbird
import Logging

/// The `cairn` command.
@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A self-hosted AWS endpoint that records every call as a CloudTrail event.",
        subcommands: [Serve.self]
    )
}

extension Cairn {
    /// `cairn serve`: runs the server until SIGINT or SIGTERM.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve CloudTrail, STS (and the other hosted APIs) on one port.",
            discussion: "Every flag can also be set with its environment variable; flags win."
        )

        @Option(help: "Address to listen on. [env: CAIRN_HOST] (default: 127.0.0.1)")
        var host: String?

        @Option(help: "Port to listen on. [env: CAIRN_PORT] (default: 4566)")
        var port: Int?

        @Option(help: "Where the database and data files are kept; created if missing. [env: CAIRN_DATA_DIR] (default: ./cairn-data)")
        var dataDir: String?

        @Option(
            help:
                "JSON or YAML file of accounts, users, roles and access keys. [env: CAIRN_IDENTITIES] (default: built-in account 000000000000, user 'test', key 'test'/'test')"
        )
        var identities: String?

        @Option(help: "Seconds between trail log-file deliveries. [env: CAIRN_DELIVERY_INTERVAL] (default: 60)")
        var deliveryInterval: Int?

        @Option(help: "Seconds between digest files of trails with log-file validation. [env: CAIRN_DIGEST_INTERVAL] (default: 3600)")
        var digestInterval: Int?

        @Option(
            help:
                "Seconds a digest-signing key stays current before a new one replaces it (old keys stay listed by ListPublicKeys). [env: CAIRN_SIGNING_KEY_ROTATION] (default: 2592000, 30 days)"
        )
        var signingKeyRotation: Int?

        @Option(help: "Seconds between AWS Config's configuration history files. [env: CAIRN_CONFIG_HISTORY_INTERVAL] (default: 21600, six hours)")
        var configHistoryInterval: Int?

        @Option(
            help:
                "'strict' evaluates bucket and topic policies as AWS does; 'off' only requires them to exist. [env: CAIRN_RESOURCE_POLICY_CHECKS] (default: strict)"
        )
        var resourcePolicyChecks: String?

        @Option(
            help:
                "Seconds a connection may go without a complete request head, body part or response before it is closed (idle keep-alive connections, headers sent too slowly). [env: CAIRN_IDLE_TIMEOUT] (default: 60)"
        )
        var idleTimeout: Int?

        func run() async throws {
            let env = ProcessEnvironment()
            let config = try resolve(env)
            var logger = Logger(label: "cairn", factory: LazyMetadataLogHandler.init)
            logger.logLevel = env["CAIRN_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
            do {
                let app = try await buildApplication(config, logger: logger)
                try await app.runService()
            } catch let error as StartupError {
                logger.critical("cairn cannot start: \(error.description)")
                throw ExitCode(2)
            }
        }

        private func resolve(_ env: ProcessEnvironment) throws -> AppConfiguration {
            func int(_ flag: Int?, _ name: String, _ fallback: Int, range: ClosedRange<Int>) throws -> Int {
                if let flag {
                    guard range.contains(flag) else { throw ValidationError("\(name) must be in \(range)") }
                    return flag
                }
                guard let text = env[name] else { return fallback }
                guard let value = Int(text), range.contains(value) else {
                    throw ValidationError("\(name)=\(text) must be a whole number in \(range)")
                }
                return value
            }
            let checksText = resourcePolicyChecks ?? env["CAIRN_RESOURCE_POLICY_CHECKS"] ?? "strict"
            guard let checks = AppConfiguration.ResourcePolicyChecks(rawValue: checksText) else {
                throw ValidationError("--resource-policy-checks must be 'strict' or 'off', not '\(checksText)'")
            }
            return AppConfiguration(
                host: host ?? env["CAIRN_HOST"] ?? "127.0.0.1",
                port: try int(port, "CAIRN_PORT", 4566, range: 0...65535),
                dataDirectory: dataDir ?? env["CAIRN_DATA_DIR"] ?? "./cairn-data",
                identitiesFile: identities ?? env["CAIRN_IDENTITIES"],
                deliveryInterval: try int(deliveryInterval, "CAIRN_DELIVERY_INTERVAL", 60, range: 1...86400),
                digestInterval: try int(digestInterval, "CAIRN_DIGEST_INTERVAL", 3600, range: 1...86400),
                signingKeyRotation: try int(signingKeyRotation, "CAIRN_SIGNING_KEY_ROTATION", 2_592_000, range: 1...315_360_000),
                resourcePolicyChecks: checks,
                configHistoryInterval: try int(configHistoryInterval, "CAIRN_CONFIG_HISTORY_INTERVAL", 21600, range: 1...604_800),
                idleTimeout: try int(idleTimeout, "CAIRN_IDLE_TIMEOUT", 60, range: 1...3600)
            )
        }
    }
}

/// Reads the process environment.
struct ProcessEnvironment {
    private let values = Environment()
    subscript(name: String) -> String? {
        guard let v = values.get(name), !v.isEmpty else { return nil }
        return v
    }
}
