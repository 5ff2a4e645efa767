/// Everything `cairn serve` is configured with (see docs in the README and `cairn serve --help`).
public struct AppConfiguration: Sendable {
    /// Address to listen on (default `127.0.0.1`).
    public var host: String
    /// Port to listen on (default `4566`).
    public var port: Int
    /// Where the database and data files are kept (default `./cairn-data`).
    public var dataDirectory: String
    /// Path of the identities file; `nil` for the built-in `test`/`test` identity.
    public var identitiesFile: String?
    /// Seconds between trail log-file deliveries (default 60).
    public var deliveryInterval: Int
    /// Seconds between digest files (default 3600).
    public var digestInterval: Int
    /// Seconds a region's digest-signing key stays current (default 30 days).
    public var signingKeyRotation: Int
    /// Seconds between AWS Config's configuration history files (default 21600, AWS's six hours).
    public var configHistoryInterval: Int
    /// Seconds a connection may go without a complete request head, body part or response before it is closed
    /// (default 60): idle keep-alive connections, and clients that send their headers too slowly.
    public var idleTimeout: Int
    /// Whether CreateTrail and friends evaluate bucket and topic policies (`strict`) or only existence (`off`).
    public var resourcePolicyChecks: ResourcePolicyChecks

    /// The two modes of `--resource-policy-checks`.
    public enum ResourcePolicyChecks: String, Sendable, CaseIterable {
        case strict
        case off
    }

    /// Creates a configuration; every parameter has the documented default.
    public init(
        host: String = "127.0.0.1", port: Int = 4566, dataDirectory: String = "./cairn-data",
        identitiesFile: String? = nil, deliveryInterval: Int = 60, digestInterval: Int = 3600,
        signingKeyRotation: Int = 2_592_000, resourcePolicyChecks: ResourcePolicyChecks = .strict,
        configHistoryInterval: Int = 21600, idleTimeout: Int = 60
    ) {
        self.idleTimeout = idleTimeout
        self.configHistoryInterval = configHistoryInterval
        self.signingKeyRotation = signingKeyRotation
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.identitiesFile = identitiesFile
        self.deliveryInterval = deliveryInterval
        self.digestInterval = digestInterval
        self.resourcePolicyChecks = resourcePolicyChecks
    }
}
