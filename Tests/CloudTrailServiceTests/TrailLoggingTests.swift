import AWSCore
import Foundation
import Gateway
import Storage
import Synchronization
import Testing

@testable import CloudTrailService

/// A state store that passes everything to another one, records each write call as the keys it writes
/// (`namespace/key`, `-` before a removal) and can fail its writes.
private final class WatchedStore: StateStore {
    struct Failure: Error {}

    private let inner: any StateStore
    private let log = Mutex<[[String]]>([])
    private let failure = Mutex(false)

    init(_ inner: any StateStore) {
        self.inner = inner
    }

    /// Whether writes throw (and write nothing).
    var failing: Bool {
        get { failure.withLock { $0 } }
        set { failure.withLock { $0 = newValue } }
    }

    /// The write calls made so far, each as the keys it wrote.
    var writes: [[String]] { log.withLock { $0 } }

    /// Forgets the write calls made so far.
    func reset() { log.withLock { $0 = [] } }

    private func note(_ changes: [StateChange]) throws {
        if failing { throw Failure() }
        log.withLock { $0.append(changes.map { ($0.value == nil ? "-" : "") + $0.namespace + "/" + $0.key }) }
    }

    func put(_ namespace: String, _ key: String, _ value: [UInt8]) async throws {
        try note([StateChange(namespace, key, value)])
        try await inner.put(namespace, key, value)
    }

    func put(_ namespace: String, entries: [(key: String, value: [UInt8])]) async throws {
        try note(entries.map { StateChange(namespace, $0.key, $0.value) })
        try await inner.put(namespace, entries: entries)
    }

    func apply(_ changes: [StateChange]) async throws {
        try note(changes)
        try await inner.apply(changes)
    }

    func delete(_ namespace: String, _ key: String) async throws {
        try note([StateChange(namespace, key, nil)])
        try await inner.delete(namespace, key)
    }

    func all(_ namespace: String) async throws -> [(key: String, value: [UInt8])] {
        try await inner.all(namespace)
    }

    func entries(_ namespace: String, prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await inner.entries(namespace, prefix: prefix)
    }
}

@Suite("Trail logging changes")
struct TrailLoggingTests {
    /// Runs `body` with a CloudTrail service over a watched store, with trail `trail` created (validating log files).
    private func withService(_ body: (CloudTrailService, WatchedStore, SQLiteStorage) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0)
            let (storage, keys) = try await openKeys(dir, clock: clock)
            let store = WatchedStore(storage)
            let service = try await CloudTrailService(state: store, events: storage, signingKeys: keys, clock: clock.function)
            _ = try await service.operations["CreateTrail"]!.run(
                call(.object(["Name": "trail", "S3BucketName": "logs", "EnableLogFileValidation": true]), now: t0))
            store.reset()
            try await body(service, store, storage)
        }
    }

    private static let key = "111122223333/us-east-1/trail"

    @Test("StartLogging writes the trail, its cursor and its digest chain in one transaction")
    func startIsOneTransaction() async throws {
        try await withService { service, store, storage in
            _ = try await service.operations["StartLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 1))
            #expect(store.writes.count == 1)
            let written = Set(store.writes.first ?? [])
            #expect(written.contains("cloudtrail.trails/" + Self.key))
            #expect(written.contains("cloudtrail.cursors/" + Self.key))
            #expect(written.contains("cloudtrail.digests/" + Self.key + "|us-east-1"))
            #expect(service.registry.trail(key: Self.key)?.isLogging == true)
            // Starting a logging trail again writes nothing.
            _ = try await service.operations["StartLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 2))
            #expect(store.writes.count == 1)
        }
    }

    @Test("StopLogging and DeleteTrail write the trail and the cursor's stop time in one transaction")
    func stopAndDeleteAreOneTransaction() async throws {
        try await withService { service, store, storage in
            _ = try await service.operations["StartLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 1))
            store.reset()
            _ = try await service.operations["StopLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 2))
            #expect(store.writes.map(Set.init) == [["cloudtrail.trails/" + Self.key, "cloudtrail.cursors/" + Self.key]])
            store.reset()
            _ = try await service.operations["DeleteTrail"]!.run(call(.object(["Name": "trail"]), now: t0 + 3))
            #expect(store.writes.map(Set.init) == [["-cloudtrail.trails/" + Self.key, "cloudtrail.cursors/" + Self.key]])
            #expect(service.registry.trail(key: Self.key) == nil)
        }
    }

    @Test("when the transaction fails, StartLogging fails and neither the trail nor its cursor changes")
    func failedStartChangesNothing() async throws {
        try await withService { service, store, storage in
            store.failing = true
            await #expect(throws: WatchedStore.Failure.self) {
                _ = try await service.operations["StartLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 1))
            }
            #expect(service.registry.trail(key: Self.key)?.isLogging == false)
            #expect(try await storage.all("cloudtrail.cursors").isEmpty)
            store.failing = false
            _ = try await service.operations["StartLogging"]!.run(call(.object(["Name": "trail"]), now: t0 + 2))
            #expect(service.registry.trail(key: Self.key)?.startLoggingTime == t0 + 2)
            #expect(try await storage.all("cloudtrail.cursors").map(\.key) == [Self.key])
        }
    }
}
