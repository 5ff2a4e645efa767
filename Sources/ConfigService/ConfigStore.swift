import AWSCore
import Foundation
import Gateway
import Storage

/// AWS Config's state for every account and region: recorders, channels, configuration items, rules, written
/// through to the state store (Config reads it from the store each time). Changes are serialized by one lock.
///
/// The store's concerns live in extensions: the recorder (`ConfigStore+Recorders.swift`), the delivery channel
/// (`ConfigStore+Channels.swift`), the stored configuration items (`ConfigStore+Items.swift`), recording them from
/// change records (`Recording.swift`), delivering them (`Delivery.swift`), reading them (`Queries.swift`) and the
/// managed rules (`Rules.swift`).
final class ConfigStore: Sendable {
    /// Where recorders, channels, items, rules and delivery state are kept.
    let state: any StateStore
    /// The hosted S3 and SNS as Config reaches them.
    let targets: any ConfigDeliveryTargets
    /// The services whose resources a starting recorder discovers.
    let inventories: [any ResourceInventory]
    /// Clock and ids.
    let runtime: Runtime
    /// Serializes every change of Config's state (recorder, channel, items, rules).
    let lock = AsyncLock()

    /// Creates the store over the state store.
    init(state: any StateStore, targets: any ConfigDeliveryTargets, inventories: [any ResourceInventory], runtime: Runtime) {
        self.state = state
        self.targets = targets
        self.inventories = inventories
        self.runtime = runtime
    }

    /// The state-store key of the call's account and region.
    func key(_ call: OperationCall) -> String { Self.scope(call.caller.accountId, call.region) }

    /// The state-store key of an account and region (`account/region`).
    static func scope(_ account: String, _ region: String) -> String { account + "/" + region }

    /// The recorder of the call's account and region.
    func recorder(_ call: OperationCall) async throws -> Recorder? {
        try await recorder(scope: key(call))
    }

    /// The recorder of an account and region.
    func recorder(scope: String) async throws -> Recorder? {
        try await state.entries(ConfigService.recorders, prefix: scope).first { $0.key == scope }.map {
            try JSONDecoder().decode(Recorder.self, from: Data($0.value))
        }
    }

    /// The delivery channel of the call's account and region.
    func channel(_ call: OperationCall) async throws -> JSONValue? {
        try await channel(scope: key(call))
    }

    /// The delivery channel of an account and region.
    func channel(scope: String) async throws -> JSONValue? {
        try await state.entries(ConfigService.channels, prefix: scope).first { $0.key == scope }.map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.value))
        }
    }
}
