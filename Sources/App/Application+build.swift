package import AWSCore
import CloudTrailService
import Foundation
import Gateway
public import Hummingbird
public import Logging
import S3Service
import STSService
import Storage

/// Builds Cairn's application: storage, credentials, the hosted services and the gateway, wired together.
///
/// This is the composition root: the only place that knows every module.
/// - Throws: ``StartupError`` for a bad identities file or an unusable data directory.
public func buildApplication(_ config: AppConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await buildApplication(config, logger: logger, runtime: .live)
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
    let s3: S3Service
    do {
        s3 = try await S3Service(state: storage, index: storage, dataDirectory: config.dataDirectory, runtime: runtime, logger: logger)
    } catch {
        throw StartupError("data directory \(config.dataDirectory): \(error)")
    }
    let targets = DeliveryTargets(s3: s3, checkPolicies: config.resourcePolicyChecks == .strict)
    let cloudTrail = try await CloudTrailService(state: storage, events: storage, targets: targets, clock: clock)
    let gateway = Gateway(
        services: [cloudTrail, STSService(vault: vault)], s3: s3, vault: vault, events: storage, runtime: runtime,
        flush: {}
    )
    var app = Application(
        responder: gateway,
        server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()], idleTimeout: .seconds(120))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
        onServerRunning: { channel in
            let address = channel.localAddress
            logger.info(
                "Cairn is listening",
                metadata: [
                    "endpoint": "http://\(config.host):\(address?.port ?? config.port)",
                    "data-dir": "\(config.dataDirectory)",
                ])
        },
        logger: logger
    )
    app.addServices(
        PeriodicService.retention(events: storage, clock: clock, logger: logger),
        PeriodicService.checkpoints(events: storage, logger: logger))
    return app
}
