import AWSCore
import Storage

/// Every bucket, by name (`s3.buckets`): a ``StateRegistry`` whose changes are published as `AWS::S3::Bucket`
/// change records.
typealias BucketRegistry = StateRegistry<Bucket>

extension StateRegistry where Value == Bucket {
    /// Loads every stored bucket; changes are published to `changes` once durable.
    convenience init(store: any StateStore, changes: ResourceChangeFeed) async throws {
        try await self.init("s3.buckets", store: store, changes: changes, describe: { $0.resourceState() })
    }

    /// The bucket of that name, if it exists.
    func bucket(_ name: String) -> Bucket? {
        self[name]
    }

    /// The buckets an account owns, by name.
    func owned(by account: String) -> [Bucket] {
        snapshot.values.filter { $0.owner == account }.sorted { $0.name < $1.name }
    }
}
