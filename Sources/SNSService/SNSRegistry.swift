import AWSCore
import Foundation
import Storage
import Synchronization

/// Every account's topics and subscriptions: in memory for reads, written through to the state store before a
/// mutating call answers (namespaces `sns.topics` and `sns.subscriptions`, keyed by ARN).
final class SNSRegistry: Sendable {
    static let topicsNamespace = "sns.topics"
    static let subscriptionsNamespace = "sns.subscriptions"

    /// A consistent view of all topics and subscriptions.
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

    private let state: Mutex<Snapshot>
    private let writeLock = AsyncLock()
    private let store: any StateStore
    private let changes: ResourceChangeFeed

    /// Loads every stored topic and subscription; topic changes are published to `changes` once durable.
    init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        var loaded = Snapshot()
        let decoder = JSONDecoder()
        for (key, value) in try await store.all(Self.topicsNamespace) {
            loaded.topics[key] = try decoder.decode(Topic.self, from: Data(value))
        }
        for (key, value) in try await store.all(Self.subscriptionsNamespace) {
            loaded.subscriptions[key] = try decoder.decode(Subscription.self, from: Data(value))
        }
        state = Mutex(loaded)
        self.store = store
        self.changes = changes
    }

    /// The current state.
    var snapshot: Snapshot { state.withLock { $0 } }

    /// The topic with this ARN.
    func topic(_ arn: String) -> Topic? { state.withLock { $0.topics[arn] } }

    /// The subscription with this ARN.
    func subscription(_ arn: String) -> Subscription? { state.withLock { $0.subscriptions[arn] } }

    /// Runs a mutation: `body` sees the current state and returns its result and the changes to write. The
    /// changes are persisted before they become visible; mutations are serialized.
    func mutate<T: Sendable>(_ body: @Sendable (Snapshot) throws -> (result: T, changes: Changes)) async throws -> T {
        try await writeLock.withLock {
            let before = snapshot
            let (result, changes) = try body(before)
            let encoder = JSONEncoder()
            var topicPuts: [(key: String, value: [UInt8])] = []
            for (arn, topic) in changes.topics {
                if let topic { topicPuts.append((arn, Array(try encoder.encode(topic)))) } else { try await store.delete(Self.topicsNamespace, arn) }
            }
            try await store.put(Self.topicsNamespace, entries: topicPuts)
            var subscriptionPuts: [(key: String, value: [UInt8])] = []
            for (arn, subscription) in changes.subscriptions {
                if let subscription {
                    subscriptionPuts.append((arn, Array(try encoder.encode(subscription))))
                } else {
                    try await store.delete(Self.subscriptionsNamespace, arn)
                }
            }
            try await store.put(Self.subscriptionsNamespace, entries: subscriptionPuts)
            state.withLock { s in
                for (arn, topic) in changes.topics { s.topics[arn] = topic }
                for (arn, subscription) in changes.subscriptions { s.subscriptions[arn] = subscription }
            }
            // Compared as Config sees topics: publishing to a FIFO topic moves its sequence number, no configuration.
            await self.changes.publish(
                changes.topics.compactMap { arn, topic in .between(before.topics[arn]?.resourceState(), topic?.resourceState()) })
            return result
        }
    }
}
