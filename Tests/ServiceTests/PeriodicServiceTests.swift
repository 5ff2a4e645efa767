import AWSCore
import App
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Testing

/// Background jobs run on an injected clock: the test advances time instead of waiting for it.
@Suite("PeriodicService")
struct PeriodicServiceTests {
    /// Yields until `condition` holds (the service runs on other threads of the cooperative pool).
    func until(_ condition: () -> Bool) async throws {
        for _ in 0..<100_000 where !condition() {
            await Task.yield()
        }
        #expect(condition())
    }

    @Test("runs at start, then each time the interval has passed, and once more at a graceful shutdown")
    func schedule() async throws {
        let clock = ManualClock()
        let runs = Atomic(0)
        let finals = Atomic(0)
        let logger = Logger(label: "test")
        let service = PeriodicService(
            name: "job", interval: .seconds(10), clock: clock, logger: logger,
            job: { runs.add(1, ordering: .relaxed) }, final: { finals.add(1, ordering: .relaxed) })
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await until { runs.load(ordering: .relaxed) == 1 && clock.sleeperCount == 1 }
            clock.advance(by: .seconds(9))
            #expect(runs.load(ordering: .relaxed) == 1)
            clock.advance(by: .seconds(1))
            try await until { runs.load(ordering: .relaxed) == 2 && clock.sleeperCount == 1 }
            clock.advance(by: .seconds(25))
            try await until { runs.load(ordering: .relaxed) == 3 && clock.sleeperCount == 1 }
            #expect(finals.load(ordering: .relaxed) == 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(runs.load(ordering: .relaxed) == 3)
        #expect(finals.load(ordering: .relaxed) == 1)
    }

    @Test("a failing run is logged and the next one happens on schedule")
    func failures() async throws {
        struct Failure: Error {}
        let clock = ManualClock()
        let runs = Atomic(0)
        let logger = Logger(label: "test")
        let service = PeriodicService(
            name: "flaky", interval: .seconds(1), clock: clock, logger: logger,
            job: {
                runs.add(1, ordering: .relaxed)
                throw Failure()
            })
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await until { runs.load(ordering: .relaxed) == 1 && clock.sleeperCount == 1 }
            clock.advance(by: .seconds(1))
            try await until { runs.load(ordering: .relaxed) == 2 && clock.sleeperCount == 1 }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(runs.load(ordering: .relaxed) == 2)
    }

    @Test("a graceful shutdown of the application indexes the journal and releases the data directory")
    func shutdownClosesTheEventStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tests-\(UUID().uuidString)").path
        let runtime = Runtime(now: { 1_767_225_600 }, uuid: IDs.uuid, clock: ManualClock())
        let app = try await buildApplication(AppConfiguration(port: 0, dataDirectory: dir), logger: Logger(label: "test"), runtime: runtime)
        // While the application is built, its store holds the directory.
        #expect(throws: JournalError.self) { try SQLiteStorage(directory: dir) }
        try await app.test(.live) { client in
            try await client.execute(uri: "/_cairn/health", method: .get) { response in #expect(response.status == .ok) }
        }
        // The application is still referenced, yet its journal writer has ended and the lock is released.
        let reopened = try SQLiteStorage(directory: dir)
        #expect(try await reopened.latestSequence() == 0)
        withExtendedLifetime(app) {}
    }
}
