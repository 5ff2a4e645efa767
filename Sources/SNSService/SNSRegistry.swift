import AWSCore
import Storage

/// Every account's topics and subscriptions: two ``StateRegistry``s (`sns.topics` and `sns.subscriptions`, keyed
/// by ARN) that share one ``StateWriter``, so a change of both (DeleteTopic and its subscriptions, Unsubscribe and
/// its topic's count) is one transaction. Topic changes are published as `AWS::SNS::Topic` change records.
struct SNSRegistry: Sendable {
    static let topicsNamespace = "sns.topics"
    static let subscriptionsNamespace = "sns.subscriptions"

    /// A view of all topics and subscriptions.
    struct Snapshot: Sendable {
        var topics: [String: Topic] = [:]
        var subscriptions: [String: Subscription] = [:]

        /// The subscriptions of a topic, ordered by ARN.
        func subscriptions(ofTopic arn: String) -> [Subscription] {
            subscriptions.values.filter { $0.topicArn == arn }.sorted { $0.arn < $1.arn }
        }
    }

    /// What a mutation writes: a value to store, or `nil` to delete, by ARN.
    struct Changes: Sendable {
        var topics: [String: Topic?] = [:]
        var subscriptions: [String: Subscription?] = [:]
    }

    /// The topics, by ARN.
    let topics: StateRegistry<Topic>
    /// The subscriptions, by ARN.
    let subscriptions: StateRegistry<Subscription>

    /// Loads every stored topic and subscription; topic changes are published to `changes` once durable.
    init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        let writer = StateWriter(store: store, changes: changes)
        topics = try await StateRegistry(Self.topicsNamespace, writer: writer, describe: { $0.resourceState() })
        subscriptions = try await StateRegistry(Self.subscriptionsNamespace, writer: writer)
    }

    /// The current state. Inside ``mutate(_:)`` it is consistent; outside, a concurrent change of both registries may
    /// show in one before the other.
    var snapshot: Snapshot { Snapshot(topics: topics.snapshot, subscriptions: subscriptions.snapshot) }

    /// The topic with this ARN.
    func topic(_ arn: String) -> Topic? { topics[arn] }

    /// The subscription with this ARN.
    func subscription(_ arn: String) -> Subscription? { subscriptions[arn] }

    /// Runs a mutation: `body` sees the current state and returns its result and the changes to write, which are
    /// committed in one transaction before they become visible; mutations are serialized.
    func mutate<T: Sendable>(_ body: (Snapshot) throws -> (result: T, changes: Changes)) async throws -> T {
        try await topics.writer.transaction { transaction in
            let (result, changes) = try body(snapshot)
            for (arn, topic) in changes.topics { transaction[topics, arn] = topic }
            for (arn, subscription) in changes.subscriptions { transaction[subscriptions, arn] = subscription }
            return result
        }
    }
}
