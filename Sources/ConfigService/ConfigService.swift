package import AWSCore
import Audit
import Foundation
package import Gateway
package import NIOCore
package import Storage

/// What AWS Config needs to know about the bucket and topic of a delivery channel, and how it writes into the bucket;
/// the composition root answers it from the hosted S3 and SNS (services never import each other).
package protocol ConfigDeliveryTargets: Sendable {
    /// Throws `NoSuchBucketException` when the bucket does not exist, `InsufficientDeliveryPolicyException` when (with
    /// strict policy checks) its policy does not let `config.amazonaws.com` write under the prefix.
    func checkBucket(_ bucket: String, prefix: String?, account: String) async throws
    /// Whether the topic exists.
    func topicExists(_ arn: String) -> Bool
    /// Writes an object into the bucket as `config.amazonaws.com` (the channel's `ConfigWritabilityCheckFile`).
    func putProbe(bucket: String, key: String, account: String) async throws
    /// Writes a gzipped delivery file (snapshot or history) into the bucket as `config.amazonaws.com`.
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, account: String) async throws
    /// Publishes a Config notification to the channel's topic as `config.amazonaws.com`.
    func notify(topicARN: String, subject: String, message: String, account: String) async throws
}

/// AWS Config (JSON 1.1, `StarlingDoveService`): the configuration recorder and the delivery channel of each account
/// and region, with the rules and errors AWS applies to them.
package struct ConfigService: AWSService {
    package let model = ServiceModel.config
    package let eventSource = "config.amazonaws.com"
    package let operations: [String: AWSOperation]

    /// Delivers what is due (history files on the cadence, periodic snapshots); `force` delivers the pending
    /// history now (`/_cairn/flush`).
    package func deliverDue(historyInterval: Int, force: Bool = false) async throws {
        try await store.deliverDue(historyInterval: Double(historyInterval), force: force)
    }

    static let recorders = "config.recorders"
    static let channels = "config.channels"
    let store: ConfigStore

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - state: where recorders, channels, configuration items and rules are kept.
    ///   - targets: the hosted S3 and SNS as Config reaches them.
    ///   - inventories: the services whose resources Config discovers when a recorder starts.
    ///   - changes: the feed of resource changes Config records items from.
    ///   - runtime: clock and ids.
    package init(
        state: any StateStore, targets: any ConfigDeliveryTargets, inventories: [any ResourceInventory] = [],
        changes: ResourceChangeFeed = ResourceChangeFeed(), runtime: Runtime = .live
    ) {
        let store = ConfigStore(state: state, targets: targets, inventories: inventories, runtime: runtime)
        changes.subscribe(store)
        self.store = store
        func read(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: true), run: run)
        }
        func write(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: false), run: run)
        }
        operations = [
            "PutConfigurationRecorder": write { call in try await store.putRecorder(call) },
            "DescribeConfigurationRecorders": read { call in try await store.describeRecorders(call) },
            "DescribeConfigurationRecorderStatus": read { call in try await store.describeRecorderStatus(call) },
            "DeleteConfigurationRecorder": write { call in try await store.deleteRecorder(call) },
            "StartConfigurationRecorder": write { call in try await store.setRecording(call, on: true) },
            "StopConfigurationRecorder": write { call in try await store.setRecording(call, on: false) },
            "PutDeliveryChannel": write { call in try await store.putChannel(call) },
            "DescribeDeliveryChannels": read { call in try await store.describeChannels(call) },
            "DescribeDeliveryChannelStatus": read { call in try await store.describeChannelStatus(call) },
            "DeleteDeliveryChannel": write { call in try await store.deleteChannel(call) },
            "DeliverConfigSnapshot": write { call in try await store.deliverSnapshot(call) },
            "GetResourceConfigHistory": read { call in try await store.resourceHistory(call) },
            "ListDiscoveredResources": read { call in try await store.listDiscovered(call) },
            "GetDiscoveredResourceCounts": read { call in try await store.discoveredCounts(call) },
            "BatchGetResourceConfig": read { call in try await store.batchGet(call) },
            "SelectResourceConfig": read { call in try await store.select(call) },
            "PutConfigRule": write { call in try await store.putRule(call) },
            "DescribeConfigRules": read { call in try await store.describeRules(call) },
            "DeleteConfigRule": write { call in try await store.deleteRule(call) },
            "StartConfigRulesEvaluation": write { call in try await store.startEvaluation(call) },
            "DescribeConfigRuleEvaluationStatus": read { call in try await store.describeEvaluationStatus(call) },
            "DescribeComplianceByConfigRule": read { call in try await store.describeComplianceByRule(call) },
            "DescribeComplianceByResource": read { call in try await store.describeComplianceByResource(call) },
            "GetComplianceDetailsByConfigRule": read { call in try await store.complianceDetailsByRule(call) },
            "GetComplianceDetailsByResource": read { call in try await store.complianceDetailsByResource(call) },
        ]
    }
}
