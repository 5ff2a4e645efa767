import AWSCore
import Foundation
import Storage
import Synchronization

/// Every bucket, by name: in memory for reads, written through to the state store before a change is visible.
final class BucketRegistry: Sendable {
    private static let namespace = "s3.buckets"
    private let buckets: Mutex<[String: Bucket]>
    private let writeLock = AsyncLock()
    private let store: any StateStore
    private let changes: ResourceChangeFeed

    /// Loads every stored bucket; changes are published to `changes` once durable.
    init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        var loaded: [String: Bucket] = [:]
        for (key, value) in try await store.all(Self.namespace) {
            loaded[key] = try JSONDecoder().decode(Bucket.self, from: Data(value))
        }
        self.buckets = Mutex(loaded)
        self.store = store
        self.changes = changes
    }

    /// The bucket of that name, if it exists.
    func bucket(_ name: String) -> Bucket? {
        buckets.withLock { $0[name] }
    }

    /// The buckets an account owns, by name.
    func owned(by account: String) -> [Bucket] {
        buckets.withLock { $0.values.filter { $0.owner == account } }.sorted { $0.name < $1.name }
    }

    /// Runs a change of one bucket, serialized with every other change: `body` sees the current bucket (or `nil`)
    /// and returns the new one (`nil` deletes it) and a result. The change is durable before it becomes visible, and
    /// published as a change record before the call returns.
    func mutate<T: Sendable>(
        _ name: String, _ body: @Sendable (Bucket?) async throws -> (bucket: Bucket?, result: T)
    ) async throws -> T {
        try await writeLock.withLock {
            let current = buckets.withLock { $0[name] }
            let (updated, result) = try await body(current)
            guard updated != current else { return result }
            if let updated {
                try await store.put(Self.namespace, name, Array(try JSONEncoder().encode(updated)))
            } else {
                try await store.delete(Self.namespace, name)
            }
            buckets.withLock { $0[name] = updated }
            if let change = ResourceChange.Kind.between(current?.resourceState(), updated?.resourceState()) {
                await changes.publish([change])
            }
            return result
        }
    }
}
