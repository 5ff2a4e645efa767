package import AWSCore
import CloudFormationService
import CloudTrailService
import ConfigService
import Foundation
import Gateway
public import Hummingbird
public import Logging
import S3Service
import SNSService
import STSService
import Storage
import Synchronization

/// Builds Cairn's application: storage, credentials, the hosted services and the gateway, wired together.
///
/// This is the composition root: the only place that knows every module.
/// - Throws: ``StartupError`` for a bad identities file or an unusable data directory.
public func buildApplication(_ config: AppConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    MemoryTuning.apply()
    return try await buildApplication(config, logger: logger, runtime: .live)
}

/// Builds the application on an injected clock and id generator (tests use it to control time and ids).
package func buildApplication(
    _ config: AppConfiguration, logger: Logger, runtime: Runtime
) async throws -> some ApplicationProtocol {
    let clock = runtime.now
    let identities = try IdentitiesLoader.load(config.identitiesFile)
    let storage: SQLiteStorage
    do {
        storage = try SQLiteStorage(directory: config.dataDirectory)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): \(error)")
    }
    let vault = try await CredentialVault(directory: identities, store: storage, now: Int64(clock()))
    // Resource changes of S3, SNS and CloudTrail, published once for AWS Config to record.
    let changes = ResourceChangeFeed(logger: logger)
    let s3: S3Service
    do {
        s3 = try await S3Service(
            state: storage, index: storage, dataDirectory: config.dataDirectory, runtime: runtime, logger: logger, changes: changes,
            checksServicePrincipals: config.resourcePolicyChecks == .strict)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): \(error)")
    }
    // The URL subscribers reach Cairn at (SNS's SubscribeURL, UnsubscribeURL and SigningCertURL): the configured
    // address until the server listens, then the port it really got (port 0 picks a free one).
    let endpoint = EndpointURL(endpointURL(host: config.host, port: config.port))
    let sns: SNSService
    do {
        sns = try await SNSService(
            state: storage, dataDirectory: config.dataDirectory, endpoint: { endpoint.value }, runtime: runtime,
            logger: logger, changes: changes, checksServicePrincipals: config.resourcePolicyChecks == .strict)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): SNS state or signing key: \(error)")
    }
    // Every call, from a client or from one of Cairn's services, takes this pipeline; the services are installed
    // once they are all made, since CloudTrail and Config deliver through its client.
    let pipeline = CallPipeline(events: storage, runtime: runtime, logger: logger)
    let targets = DeliveryTargets(
        client: ServiceClient(pipeline: pipeline), buckets: s3, topics: sns.topics, policyChecks: config.resourcePolicyChecks)
    let signingKeys: SigningKeys
    do {
        signingKeys = try await SigningKeys(
            directory: config.dataDirectory + "/cloudtrail/keys", store: storage, rotationPeriod: Int64(config.signingKeyRotation),
            clock: clock)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): CloudTrail signing keys: \(error)")
    }
    let cloudTrail = try await CloudTrailService(
        state: storage, events: storage, targets: targets, signingKeys: signingKeys, destinations: targets,
        deliveryInterval: config.deliveryInterval, digestInterval: config.digestInterval, clock: clock, logger: logger,
        changes: changes)
    let configService = ConfigService(
        state: storage, targets: targets, inventories: [s3, sns, cloudTrail], changes: changes, runtime: runtime)
    let cloudFormation: CloudFormationService
    do {
        cloudFormation = try await CloudFormationService(
            state: storage, client: ServiceClient(pipeline: pipeline), runtime: runtime, logger: logger)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): CloudFormation stacks: \(error)")
    }
    pipeline.install(services: [cloudTrail, STSService(vault: vault), sns, configService, cloudFormation], s3: s3)
    let gateway = Gateway(
        pipeline: pipeline, vault: vault, runtime: runtime,
        flush: {
            try await storage.settle()
            try await cloudTrail.delivery.flush()
            try await configService.deliverDue(historyInterval: config.configHistoryInterval, force: true)
            await sns.flush()
            MemoryTuning.releaseFreeMemory()
        }, routes: sns.routes
    )
    var app = Application(
        responder: gateway,
        server: .eventLoopHTTP1(
            configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()], idleTimeout: .seconds(Int64(config.idleTimeout)))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            endpoint.value = endpointURL(host: config.host, port: address?.port ?? config.port)
            logger.info(
                "Cairn is listening",
                metadata: [
                    "endpoint": "http://\(config.host):\(address?.port ?? config.port)",
                    "data-dir": "\(config.dataDirectory)",
                ])
        },
        logger: logger
    )
    // Stopped in reverse order at a graceful shutdown: event indexing, which closes the event store, last.
    app.addServices(
        PeriodicService.eventIndexing(events: storage, clock: runtime.clock, logger: logger),
        PeriodicService.retention(events: storage, runtime: runtime, logger: logger),
        PeriodicService.memoryRelease(clock: runtime.clock, logger: logger),
        PeriodicService.checkpoints(events: storage, clock: runtime.clock, logger: logger),
        PeriodicService.trailDelivery(cloudTrail.delivery, clock: runtime.clock, logger: logger),
        PeriodicService.configDelivery(
            configService, historyInterval: config.configHistoryInterval, clock: runtime.clock, logger: logger),
        sns.deliveryService, cloudFormation.worker)
    return app
}

/// Cairn's base URL, set once the server listens and read whenever SNS writes a link into a message.
final class EndpointURL: Sendable {
    private let url: Mutex<String>

    /// Starts with the configured address.
    init(_ initial: String) { url = Mutex(initial) }

    /// The current URL.
    var value: String {
        get { url.withLock { $0 } }
        set { url.withLock { $0 = newValue } }
    }
}

/// `http://<host>:<port>` as a subscriber on this machine reaches Cairn: a wildcard listen address becomes the
/// loopback address, and an IPv6 address is bracketed.
func endpointURL(host: String, port: Int) -> String {
    let shown: String =
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "[::1]"
        default: host.contains(":") ? "[\(host)]" : host
        }
    return "http://\(shown):\(port)"
}
