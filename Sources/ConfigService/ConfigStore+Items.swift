import AWSCore
import Foundation
import Storage

/// Configuration items in the state store.
///
/// - `config.items`: every item, keyed `account⇥region⇥type⇥id⇥stateId` (history, in order);
/// - `config.current`: the latest item of each resource, keyed `account⇥region⇥type⇥id`;
/// - `config.pending`: items not yet in a history file, keyed `account⇥region⇥stateId⇥type⇥id`.
extension ConfigStore {
    /// Every item (the resources' histories).
    static let items = "config.items"
    /// The latest item of each resource.
    static let current = "config.current"
    /// The items not yet delivered in a history file.
    static let pending = "config.pending"

    /// The key prefix of a resource (tab-separated: ids may contain `/` and `:`).
    static func resourcePrefix(_ key: ResourceKey) -> String {
        [key.accountId, key.region, key.resourceType, key.resourceId].joined(separator: "\t")
    }

    /// The key prefix of everything of an account and region.
    static func scopePrefix(_ account: String, _ region: String) -> String { account + "\t" + region + "\t" }

    /// A state id as a fixed-width key part, so that keys sort by it.
    static func padded(_ stateId: Int64) -> String {
        let digits = String(stateId)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// A stored item.
    static func decode(_ bytes: [UInt8]) throws -> ConfigurationItem {
        try JSONDecoder().decode(ConfigurationItem.self, from: Data(bytes))
    }

    /// The latest item of a resource.
    func currentItem(_ key: ResourceKey) async throws -> ConfigurationItem? {
        let prefix = Self.resourcePrefix(key)
        return try await state.entries(Self.current, prefix: prefix).first { $0.key == prefix }.map { try Self.decode($0.value) }
    }

    /// The latest item of every resource of an account and region (deleted ones included).
    func currentItems(account: String, region: String) async throws -> [ConfigurationItem] {
        try await state.entries(Self.current, prefix: Self.scopePrefix(account, region)).map { try Self.decode($0.value) }
    }

    /// Every item of a resource, oldest first.
    func history(_ key: ResourceKey) async throws -> [ConfigurationItem] {
        try await state.entries(Self.items, prefix: Self.resourcePrefix(key) + "\t").map { try Self.decode($0.value) }
    }
}
