import AWSCore
import Foundation
import Storage
import Synchronization

/// The trails of every account and region: in memory for reads, written through to the state store.
final class TrailRegistry: Sendable {
    private static let namespace = "cloudtrail.trails"
    private let trails: Mutex<[String: Trail]>
    private let writeLock = AsyncLock()
    private let store: any StateStore
    private let changes: ResourceChangeFeed

    /// Loads every stored trail; trail changes are published to `changes` once durable.
    init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        var loaded: [String: Trail] = [:]
        for (key, value) in try await store.all(Self.namespace) {
            loaded[key] = try JSONDecoder().decode(Trail.self, from: Data(value))
        }
        self.trails = Mutex(loaded)
        self.store = store
        self.changes = changes
    }

    /// The trail stored under a key (`account/homeRegion/name`), if it exists.
    func trail(key: String) -> Trail? {
        trails.withLock { $0[key] }
    }

    /// Every trail of an account, sorted by home region and name.
    func all(account: String) -> [Trail] {
        trails.withLock { $0.values.filter { $0.accountId == account } }
            .sorted { ($0.homeRegion, $0.name) < ($1.homeRegion, $1.name) }
    }

    /// The trails an account sees in a region: its own and the shadows of multi-region trails.
    func visible(account: String, region: String) -> [Trail] {
        all(account: account).filter { $0.isVisible(in: region) }
    }

    /// Runs a mutation: `body` gets the account's trails and returns the trails to write (`nil` value to
    /// delete) with its result. The change is persisted before it becomes visible; mutations are serialized.
    func mutate<T: Sendable>(
        _ body: @Sendable ([String: Trail]) async throws -> (result: T, changes: [String: Trail?])
    ) async throws -> T {
        try await writeLock.withLock {
            let current = trails.withLock { $0 }
            let (result, changes) = try await body(current)
            for (key, trail) in changes {
                if let trail {
                    try await store.put(Self.namespace, key, Array(try JSONEncoder().encode(trail)))
                } else {
                    try await store.delete(Self.namespace, key)
                }
            }
            trails.withLock { all in
                for (key, trail) in changes { all[key] = trail }
            }
            await self.changes.publish(
                changes.sorted { $0.key < $1.key }.compactMap { key, trail in
                    .between(current[key]?.resourceState(), trail?.resourceState())
                })
            return result
        }
    }
}

/// Checks that a trail's bucket and topic exist and let CloudTrail deliver to them.
///
/// This is the one seam through which CloudTrail reaches S3 and SNS state. Until S3 and SNS are hosted, Cairn
/// uses ``NoDeliveryTargetChecks``, which checks nothing: bucket and topic names are validated but their existence
/// and policies are not.
package protocol DeliveryTargetChecks: Sendable {
    /// Throws `S3BucketDoesNotExistException` or `InsufficientS3BucketPolicyException` as CloudTrail does.
    func checkBucket(_ bucket: String, prefix: String?, trailARN: String, account: String) async throws
    /// Throws `InsufficientSnsTopicPolicyException` as CloudTrail does.
    func checkTopic(_ topicARN: String, trailARN: String, account: String) async throws
}

/// The checks in force while S3 and SNS are not hosted: none.
package struct NoDeliveryTargetChecks: DeliveryTargetChecks {
    /// Creates the no-op checks.
    package init() {}
    package func checkBucket(_ bucket: String, prefix: String?, trailARN: String, account: String) async throws {}
    package func checkTopic(_ topicARN: String, trailARN: String, account: String) async throws {}
}
