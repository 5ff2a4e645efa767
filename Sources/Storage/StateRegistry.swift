package import AWSCore
import Foundation
import Synchronization

/// Serializes the writes of one or more ``StateRegistry``s and commits each write as one ``StateStore/apply(_:)``
/// transaction.
///
/// Registries that are written together share a writer (SNS's topics and subscriptions; a trail, whose writes also
/// carry its delivery cursor); a registry made on its own gets a writer of its own. One write, ``transaction(_:)``:
///
/// 1. runs under the writer's lock (FIFO, held across suspension points), so checking the current values and
///    changing them is one step, and writes reach the store in the order they are made;
/// 2. stages values of the writer's registries in a ``StateTransaction`` (reading them back as staged), and raw
///    ``StateChange``s of namespaces that no registry keeps in memory;
/// 3. commits everything staged in one `StateStore.apply`: all of it is durable, or none of it. Values equal to the
///    current ones are left out; a write that changes nothing commits nothing and publishes nothing;
/// 4. only then updates the registries' memory, so a change is durable before it is visible. When the body or the
///    store throws, memory is unchanged and the error reaches the caller;
/// 5. publishes the change records of the registries that describe their values (``ResourceChange/Kind/between(_:_:)``
///    of each changed key, registries in the order they were first written, keys in order) to the feed, still
///    under the lock, so listeners see changes in commit order. The change is committed by then, so a failing
///    listener does not fail the write: ``ResourceChangeFeed/publish(_:)`` logs it and does not throw.
///
/// Memory is updated registry by registry: a reader that reads two registries of one write outside a write may see
/// the first updated before the second. Inside a write (under the lock) memory does not change.
///
/// The lock is not reentrant: a transaction body must not start another write of the same writer.
package final class StateWriter: Sendable {
    /// The store the registries load from and write through to.
    package let store: any StateStore
    private let changes: ResourceChangeFeed?
    private let lock = AsyncLock()
    /// The namespaces the writer's registries hold, which raw changes must not touch.
    private let held = Mutex<Set<String>>([])

    /// Creates a writer over a store; change records go to `changes` (none when `nil`).
    package init(store: any StateStore, changes: ResourceChangeFeed? = nil) {
        self.store = store
        self.changes = changes
    }

    /// Runs one write: `body` stages changes in the transaction and returns the result; the changes are committed
    /// in one store transaction, then made visible, then published (see the type's documentation).
    package func transaction<T: Sendable>(_ body: (inout StateTransaction) async throws -> T) async throws -> T {
        try await lock.withLock {
            var transaction = StateTransaction(writer: self)
            let result = try await body(&transaction)
            try await commit(transaction)
            return result
        }
    }

    /// Writes the staged changes through, then makes them visible, then publishes their change records.
    private func commit(_ transaction: StateTransaction) async throws {
        var writes: [StateChange] = []
        var records: [ResourceChange.Kind] = []
        var changed: [any StagedValues] = []
        for staged in transaction.staged {
            let prepared = try staged.prepare()
            guard !prepared.writes.isEmpty else { continue }
            writes += prepared.writes
            records += prepared.records
            changed.append(prepared.values)
        }
        writes += transaction.raw
        guard !writes.isEmpty else { return }
        try await store.apply(writes)
        for values in changed { values.install() }
        await changes?.publish(records)
    }

    /// Notes that a registry holds `namespace`; one namespace has at most one registry per writer.
    fileprivate func hold(_ namespace: String) {
        let added = held.withLock { $0.insert(namespace).inserted }
        precondition(added, "two registries of one writer hold the namespace \(namespace)")
    }

    /// Whether a registry of this writer holds `namespace`.
    fileprivate func holds(_ namespace: String) -> Bool {
        held.withLock { $0.contains(namespace) }
    }
}

/// The changes of one write of a ``StateWriter``, committed together when the write's body returns.
///
/// `transaction[registry, key]` reads a value as the write leaves it so far (staged, else current) and stages a
/// new one (`nil` removes the key); ``write(_:)`` adds a change of a namespace no registry keeps in memory (a
/// delivery cursor, a delivered-file record).
package struct StateTransaction {
    private let writer: StateWriter
    /// The staged values of each registry written, in the order they were first written.
    fileprivate private(set) var staged: [any StagedValues] = []
    /// The raw changes, in the order they were added.
    fileprivate private(set) var raw: [StateChange] = []

    fileprivate init(writer: StateWriter) {
        self.writer = writer
    }

    /// The value of `key` in `registry` as this write leaves it so far; setting it stages a change (`nil`: remove).
    ///
    /// The registry must belong to the transaction's writer.
    package subscript<Value>(registry: StateRegistry<Value>, key: String) -> Value? {
        get {
            precondition(registry.writer === writer, "registry \(registry.namespace) belongs to another writer")
            if let table = staged.first(where: { $0.registry === registry }) as? Staged<Value>, let value = table.values[key] {
                return value
            }
            return registry[key]
        }
        set {
            precondition(registry.writer === writer, "registry \(registry.namespace) belongs to another writer")
            if let index = staged.firstIndex(where: { $0.registry === registry }), var table = staged[index] as? Staged<Value> {
                table.values.updateValue(newValue, forKey: key)
                staged[index] = table
            } else {
                staged.append(Staged(registry: registry, values: [key: newValue]))
            }
        }
    }

    /// Adds a change of a namespace that no registry of the writer holds, committed in the same transaction.
    package mutating func write(_ change: StateChange) {
        precondition(!writer.holds(change.namespace), "\(change.namespace) is held by a registry: stage its values instead")
        raw.append(change)
    }
}

/// A registry's staged values, whatever their type.
private protocol StagedValues: Sendable {
    /// The registry the values are staged for.
    var registry: AnyObject { get }
    /// The store writes and change records of the staged values that differ from the current ones, and those values.
    func prepare() throws -> (writes: [StateChange], records: [ResourceChange.Kind], values: any StagedValues)
    /// Makes the values visible in the registry.
    func install()
}

/// The values staged for one registry, by key (`nil`: remove).
private struct Staged<Value: Codable & Sendable & Equatable>: StagedValues {
    let typedRegistry: StateRegistry<Value>
    var values: [String: Value?]

    init(registry: StateRegistry<Value>, values: [String: Value?]) {
        self.typedRegistry = registry
        self.values = values
    }

    var registry: AnyObject { typedRegistry }

    func prepare() throws -> (writes: [StateChange], records: [ResourceChange.Kind], values: any StagedValues) {
        let encoder = JSONEncoder()
        var writes: [StateChange] = []
        var records: [ResourceChange.Kind] = []
        var changed: [String: Value?] = [:]
        for key in values.keys.sorted() {
            let value = values[key] ?? nil
            let current = typedRegistry[key]
            guard value != current else { continue }
            writes.append(StateChange(typedRegistry.namespace, key, try value.map { Array(try encoder.encode($0)) }))
            changed.updateValue(value, forKey: key)
            if let describe = typedRegistry.describe, let record = ResourceChange.Kind.between(current.map(describe), value.map(describe)) {
                records.append(record)
            }
        }
        return (writes, records, Staged(registry: typedRegistry, values: changed))
    }

    func install() {
        typedRegistry.install(values)
    }
}

/// One namespace of the state store, kept in memory for reads and written through before a change is visible.
///
/// Values are JSON (`JSONEncoder`'s default form) under string keys. The registry loads its namespace when it is
/// made; reads (``subscript(_:)``, ``snapshot``) come from memory and never wait for a write. Writes go through the
/// registry's ``StateWriter`` (``mutate(_:)``, ``update(_:_:)``, or ``StateWriter/transaction(_:)`` for a write
/// that also touches other registries or namespaces). When `describe` is given, each committed change is published
/// as a change record describing the value before and after (deletions as such).
package final class StateRegistry<Value: Codable & Sendable & Equatable>: Sendable {
    /// The state-store namespace.
    package let namespace: String
    /// The writer that serializes and commits this registry's writes.
    package let writer: StateWriter
    /// How a value looks to AWS Config, for change records.
    fileprivate let describe: (@Sendable (Value) -> ResourceState)?
    private let table: Mutex<[String: Value]>

    /// Loads every value of `namespace` from the writer's store.
    ///
    /// - Parameters:
    ///   - namespace: the state-store namespace; no other registry of the writer may hold it.
    ///   - writer: the writer shared with the registries this one is written together with.
    ///   - describe: the resource a value describes, when changes are published as change records.
    package init(_ namespace: String, writer: StateWriter, describe: (@Sendable (Value) -> ResourceState)? = nil) async throws {
        var loaded: [String: Value] = [:]
        let decoder = JSONDecoder()
        for (key, value) in try await writer.store.all(namespace) {
            loaded[key] = try decoder.decode(Value.self, from: Data(value))
        }
        self.namespace = namespace
        self.writer = writer
        self.describe = describe
        self.table = Mutex(loaded)
        writer.hold(namespace)
    }

    /// Loads every value of `namespace`, with a writer of its own over `store` that publishes to `changes`.
    package convenience init(
        _ namespace: String, store: any StateStore, changes: ResourceChangeFeed? = nil, describe: (@Sendable (Value) -> ResourceState)? = nil
    ) async throws {
        try await self.init(namespace, writer: StateWriter(store: store, changes: changes), describe: describe)
    }

    /// The value stored under `key`, if any.
    package subscript(key: String) -> Value? {
        table.withLock { $0[key] }
    }

    /// Every value, by key, as of now.
    package var snapshot: [String: Value] {
        table.withLock { $0 }
    }

    /// A write of this registry alone: `body` sees every current value and returns its result and the values to
    /// write by key (`nil` removes a key).
    package func mutate<T: Sendable>(_ body: ([String: Value]) async throws -> (result: T, changes: [String: Value?])) async throws -> T {
        try await writer.transaction { transaction in
            let (result, changes) = try await body(snapshot)
            for (key, value) in changes { transaction[self, key] = value }
            return result
        }
    }

    /// A write of one key: `body` sees its current value and returns the new one (`nil` removes it) and a result.
    package func update<T: Sendable>(_ key: String, _ body: (Value?) async throws -> (value: Value?, result: T)) async throws -> T {
        try await writer.transaction { transaction in
            let (value, result) = try await body(self[key])
            transaction[self, key] = value
            return result
        }
    }

    /// Makes committed values visible (`nil` removes a key).
    fileprivate func install(_ changes: [String: Value?]) {
        table.withLock { table in
            for (key, value) in changes { table[key] = value }
        }
    }
}
