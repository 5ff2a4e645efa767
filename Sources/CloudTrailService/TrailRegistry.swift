import AWSCore
import Storage

/// The trails of every account and region (`cloudtrail.trails`, keyed `account/homeRegion/name`): a
/// ``StateRegistry`` whose changes are published as `AWS::CloudTrail::Trail` change records.
///
/// StartLogging, StopLogging and DeleteTrail write through ``TrailDelivery/changeLogging(of:_:at:)``, which adds
/// the trail's delivery cursor to the same transaction.
typealias TrailRegistry = StateRegistry<Trail>

extension StateRegistry where Value == Trail {
    /// Loads every stored trail; trail changes are published to `changes` once durable.
    convenience init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        try await self.init("cloudtrail.trails", store: store, changes: changes, describe: { $0.resourceState() })
    }

    /// The trail stored under a key (`account/homeRegion/name`), if it exists.
    func trail(key: String) -> Trail? {
        self[key]
    }

    /// Every trail of an account, sorted by home region and name.
    func all(account: String) -> [Trail] {
        snapshot.values.filter { $0.accountId == account }
            .sorted { ($0.homeRegion, $0.name) < ($1.homeRegion, $1.name) }
    }

    /// The trails an account sees in a region: its own and the shadows of multi-region trails.
    func visible(account: String, region: String) -> [Trail] {
        all(account: account).filter { $0.isVisible(in: region) }
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
