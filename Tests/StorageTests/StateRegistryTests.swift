import AWSCore
import Foundation
import Logging
import Storage
import Synchronization
import Testing

/// A value as the registries under test store it.
private struct Item: Codable, Sendable, Equatable {
    var name: String
    var size: Int = 0
    var tag: String? = nil
}

/// A resource state describing an item, so registries publish change records for items.
private func describe(_ item: Item) -> ResourceState {
    ResourceState(
        accountId: "000000000000", region: "us-east-1", resourceType: "Test::Item", resourceId: item.name, resourceName: item.name,
        arn: "arn:test:::" + item.name, availabilityZone: nil, creationTime: nil, tags: item.tag.map { ["tag": $0] } ?? [:],
        configuration: .object(["size": .number(Double(item.size))]))
}

/// A state store in memory that records each write call, can fail its writes, and can hold a write until released.
private final class MemoryStateStore: StateStore {
    private struct State {
        var data: [String: [String: [UInt8]]] = [:]
        /// Every write call, as the changes it made.
        var writes: [[StateChange]] = []
        var failing = false
    }

    private let state = Mutex(State())
    /// Runs at the start of every `apply`, before anything is written (tests hold writes with it).
    let beforeApply = Mutex<(@Sendable () async -> Void)?>(nil)

    struct Failure: Error {}

    /// Whether writes throw (and write nothing).
    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    /// The write calls made so far.
    var writes: [[StateChange]] { state.withLock { $0.writes } }

    /// The stored bytes of a key.
    func bytes(_ namespace: String, _ key: String) -> [UInt8]? {
        state.withLock { $0.data[namespace]?[key] }
    }

    /// The stored value of a key, decoded.
    func item(_ namespace: String, _ key: String) throws -> Item? {
        try bytes(namespace, key).map { try JSONDecoder().decode(Item.self, from: Data($0)) }
    }

    private func write(_ changes: [StateChange]) throws {
        try state.withLock { s in
            if s.failing { throw Failure() }
            for change in changes { s.data[change.namespace, default: [:]][change.key] = change.value }
            s.writes.append(changes)
        }
    }

    func put(_ namespace: String, _ key: String, _ value: [UInt8]) async throws {
        try write([StateChange(namespace, key, value)])
    }

    func put(_ namespace: String, entries: [(key: String, value: [UInt8])]) async throws {
        try write(entries.map { StateChange(namespace, $0.key, $0.value) })
    }

    func apply(_ changes: [StateChange]) async throws {
        if let hook = beforeApply.withLock({ $0 }) { await hook() }
        try write(changes)
    }

    func delete(_ namespace: String, _ key: String) async throws {
        try write([StateChange(namespace, key, nil)])
    }

    func all(_ namespace: String) async throws -> [(key: String, value: [UInt8])] {
        state.withLock { $0.data[namespace] ?? [:] }.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    func entries(_ namespace: String, prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await all(namespace).filter { $0.key.hasPrefix(prefix) }
    }
}

/// Keeps the change records it receives; with `check`, runs it on each delivery first (to look at the store then).
private final class RecordingListener: ResourceChangeListener {
    private let received = Mutex<[[ResourceChange]]>([])
    private let check: (@Sendable ([ResourceChange]) -> Void)?

    init(check: (@Sendable ([ResourceChange]) -> Void)? = nil) {
        self.check = check
    }

    /// Every delivery so far.
    var deliveries: [[ResourceChange]] { received.withLock { $0 } }

    func record(_ changes: [ResourceChange]) async throws {
        check?(changes)
        received.withLock { $0.append(changes) }
    }
}

/// A listener that always fails.
private struct FailingListener: ResourceChangeListener {
    struct Failure: Error {}

    func record(_ changes: [ResourceChange]) async throws {
        throw Failure()
    }
}

/// Keeps the messages logged through it.
private struct CapturingLogHandler: LogHandler {
    /// Where the messages go.
    final class Messages: Sendable {
        private let entries = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])
        var all: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] { entries.withLock { $0 } }
        func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
            entries.withLock { $0.append((level, message, metadata)) }
        }
    }

    let messages: Messages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append(event.level, event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })
    }
}

/// The resource ids of change records, `-id` for a deletion.
private func ids(_ changes: [ResourceChange]) -> [String] {
    changes.map {
        switch $0.kind {
        case .present(let state): state.resourceId
        case .deleted(let key): "-" + key.resourceId
        }
    }
}

private func encoded(_ item: Item) throws -> [UInt8] {
    Array(try JSONEncoder().encode(item))
}

@Suite("StateRegistry")
struct StateRegistryTests {
    @Test("loads its namespace at start and serves reads from memory")
    func loads() async throws {
        let store = MemoryStateStore()
        try await store.put("items", "a", encoded(Item(name: "a", size: 1)))
        try await store.put("items", "b", encoded(Item(name: "b", size: 2)))
        try await store.put("others", "c", encoded(Item(name: "c")))
        let registry = try await StateRegistry<Item>("items", store: store)
        #expect(registry["a"] == Item(name: "a", size: 1))
        #expect(registry["c"] == nil)
        #expect(registry.snapshot.keys.sorted() == ["a", "b"])
    }

    @Test("a registry over SQLite loads what an earlier one wrote, in the same JSON")
    func reloadsFromSQLite() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let storage = try SQLiteStorage(directory: dir)
                let registry = try await StateRegistry<Item>("items", store: storage)
                try await registry.update("a") { _ in (Item(name: "a", size: 3, tag: "x"), ()) }
                try await registry.update("b") { _ in (Item(name: "b"), ()) }
                try await registry.update("b") { _ in (nil, ()) }
                let stored = try await storage.all("items")
                #expect(stored.map(\.key) == ["a"])
                // The value is the JSON of `JSONEncoder` (member order aside, which Foundation does not fix).
                let json = try stored.first.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.value)) }
                #expect(json == .object(["name": "a", "size": 3, "tag": "x"]))
            }
            let reopened = try await StateRegistry<Item>("items", store: try SQLiteStorage(directory: dir))
            #expect(reopened.snapshot == ["a": Item(name: "a", size: 3, tag: "x")])
        }
    }

    @Test("a write stores, replaces and removes keys; a value equal to the current one is not written")
    func mutates() async throws {
        let store = MemoryStateStore()
        let registry = try await StateRegistry<Item>("items", store: store)
        let result = try await registry.mutate { current in
            #expect(current.isEmpty)
            return ("made", ["a": Item(name: "a"), "b": Item(name: "b")])
        }
        #expect(result == "made")
        #expect(try store.item("items", "a") == Item(name: "a"))
        try await registry.mutate { _ in ((), ["a": nil, "b": Item(name: "b", size: 5)]) }
        #expect(registry["a"] == nil && store.bytes("items", "a") == nil)
        #expect(registry["b"]?.size == 5)
        let before = store.writes.count
        try await registry.update("b") { current in (current, ()) }
        try await registry.mutate { _ in ((), ["missing": nil]) }
        #expect(store.writes.count == before)
    }

    @Test("a write across registries and raw namespaces is one store transaction")
    func oneTransaction() async throws {
        let store = MemoryStateStore()
        let writer = StateWriter(store: store)
        let items = try await StateRegistry<Item>("items", writer: writer)
        let tags = try await StateRegistry<Item>("tags", writer: writer)
        try await writer.transaction { transaction in
            transaction[items, "a"] = Item(name: "a")
            transaction[items, "b"] = Item(name: "b")
            // A staged value reads back as staged.
            #expect(transaction[items, "a"] == Item(name: "a"))
            transaction[tags, "a"] = Item(name: "a", tag: "t")
            transaction.write(StateChange("cursors", "a", Array("42".utf8)))
        }
        #expect(store.writes.count == 1)
        #expect(store.writes.first?.map { $0.namespace + "/" + $0.key } == ["items/a", "items/b", "tags/a", "cursors/a"])
        #expect(items.snapshot.count == 2 && tags["a"]?.tag == "t")
        #expect(store.bytes("cursors", "a") == Array("42".utf8))
    }

    @Test("a failing store write leaves memory and the store unchanged, publishes nothing, and reaches the caller")
    func failingWrite() async throws {
        let store = MemoryStateStore()
        let feed = ResourceChangeFeed()
        let listener = RecordingListener()
        feed.subscribe(listener)
        let writer = StateWriter(store: store, changes: feed)
        let items = try await StateRegistry<Item>("items", writer: writer, describe: describe)
        let tags = try await StateRegistry<Item>("tags", writer: writer)
        try await items.update("a") { _ in (Item(name: "a"), ()) }
        store.failing = true
        await #expect(throws: MemoryStateStore.Failure.self) {
            try await writer.transaction { transaction in
                transaction[items, "a"] = Item(name: "a", size: 9)
                transaction[items, "b"] = Item(name: "b")
                transaction[tags, "a"] = Item(name: "a")
                transaction.write(StateChange("cursors", "a", [1]))
            }
        }
        #expect(items.snapshot == ["a": Item(name: "a")])
        #expect(tags.snapshot.isEmpty)
        #expect(try store.item("items", "a") == Item(name: "a") && store.bytes("cursors", "a") == nil)
        #expect(listener.deliveries.map(ids) == [["a"]])
        // The writer is usable again once the store is.
        store.failing = false
        try await items.update("b") { _ in (Item(name: "b"), ()) }
        #expect(items["b"] != nil)
    }

    @Test("a body that throws writes nothing")
    func failingBody() async throws {
        struct Refused: Error {}
        let store = MemoryStateStore()
        let registry = try await StateRegistry<Item>("items", store: store)
        await #expect(throws: Refused.self) {
            try await registry.mutate { _ -> (result: Void, changes: [String: Item?]) in throw Refused() }
        }
        await #expect(throws: Refused.self) {
            try await registry.writer.transaction { transaction in
                transaction[registry, "a"] = Item(name: "a")
                throw Refused()
            }
        }
        #expect(registry.snapshot.isEmpty && store.writes.isEmpty)
    }

    @Test("a change is durable before it is visible: readers see the old value while the store write is under way")
    func durableBeforeVisible() async throws {
        let store = MemoryStateStore()
        let registry = try await StateRegistry<Item>("items", store: store)
        try await registry.update("a") { _ in (Item(name: "a", size: 1), ()) }
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        store.beforeApply.withLock {
            $0 = {
                enter.yield()
                for await _ in released { break }
            }
        }
        async let write: Void = registry.update("a") { _ in (Item(name: "a", size: 2), ()) }
        for await _ in entered { break }
        #expect(registry["a"]?.size == 1)
        #expect(try store.item("items", "a")?.size == 1)
        release.yield()
        try await write
        #expect(registry["a"]?.size == 2)
    }

    @Test("writes are serialized: concurrent read-modify-writes lose no update")
    func serialized() async throws {
        let store = MemoryStateStore()
        let registry = try await StateRegistry<Item>("items", store: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await registry.update("counter") { current in
                        var item = current ?? Item(name: "counter")
                        item.size += 1
                        await Task.yield()
                        return (item, ())
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(registry["counter"]?.size == 50)
        #expect(try store.item("items", "counter")?.size == 50)
    }

    @Test("change records are published after the durable write, with the calling event's id, for changed keys only")
    func publishes() async throws {
        let store = MemoryStateStore()
        let feed = ResourceChangeFeed()
        let registry = try await StateRegistry<Item>("items", store: store, changes: feed, describe: describe)
        let listener = RecordingListener { changes in
            // Called during publication: every published value is already in the store and visible.
            for change in changes {
                if case .present(let state) = change.kind {
                    #expect(store.bytes("items", state.resourceId) != nil)
                    #expect(registry[state.resourceId] != nil)
                }
            }
        }
        feed.subscribe(listener)
        try await ResourceChangeFeed.$causingEventID.withValue("event-1") {
            try await registry.mutate { _ in ((), ["b": Item(name: "b"), "a": Item(name: "a")]) }
        }
        // Unchanged values and changes Config does not see publish nothing.
        try await registry.update("a") { current in (current, ()) }
        try await registry.update("z") { _ in (nil, ()) }
        try await registry.update("b") { _ in (nil, ()) }
        #expect(listener.deliveries.map(ids) == [["a", "b"], ["-b"]])
        #expect(listener.deliveries.first?.allSatisfy { $0.eventID == "event-1" } == true)
        #expect(listener.deliveries.last?.first?.eventID == nil)
    }

    @Test("a failing listener does not fail the committed write: it is logged, and the other listeners still get the records")
    func failingListener() async throws {
        let messages = CapturingLogHandler.Messages()
        let feed = ResourceChangeFeed(logger: Logger(label: "test") { _ in CapturingLogHandler(messages: messages) })
        let after = RecordingListener()
        feed.subscribe(FailingListener())
        feed.subscribe(after)
        let store = MemoryStateStore()
        let registry = try await StateRegistry<Item>("items", store: store, changes: feed, describe: describe)
        let result = try await ResourceChangeFeed.$causingEventID.withValue("event-2") {
            try await registry.update("a") { _ in (Item(name: "a"), "done") }
        }
        #expect(result == "done")
        #expect(registry["a"] == Item(name: "a"))
        #expect(try store.item("items", "a") == Item(name: "a"))
        #expect(after.deliveries.map(ids) == [["a"]])
        let errors = messages.all.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.metadata["eventID"] == "event-2")
        #expect(errors.first?.metadata["listener"]?.description.contains("FailingListener") == true)
    }
}
