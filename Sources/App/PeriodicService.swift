import AWSCore
import CloudTrailService
import ConfigService
package import Logging
import ServiceLifecycle
import Storage

/// Runs a job now and then every `interval`, until the application shuts down gracefully (a ServiceLifecycle service).
///
/// A failing run is logged and the next one happens on schedule. The waits are measured on an injected clock
/// (`ContinuousClock` when serving), so tests advance time instead of sleeping.
package struct PeriodicService: Service {
    /// What the job is, for the log.
    package let name: String
    /// The time between the end of one run and the start of the next.
    package let interval: Duration
    /// The clock the waits are measured on.
    let clock: any Clock<Duration>
    /// The level failures are logged at.
    var failureLevel: Logger.Level = .error
    let logger: Logger
    let job: @Sendable () async throws -> Void
    /// Runs once more after a graceful shutdown began (delivering what is pending), if set.
    var final: (@Sendable () async throws -> Void)? = nil

    /// Declares a periodic job.
    package init(
        name: String, interval: Duration, clock: any Clock<Duration> = ContinuousClock(), failureLevel: Logger.Level = .error,
        logger: Logger, job: @escaping @Sendable () async throws -> Void, final: (@Sendable () async throws -> Void)? = nil
    ) {
        self.name = name
        self.interval = interval
        self.clock = clock
        self.failureLevel = failureLevel
        self.logger = logger
        self.job = job
        self.final = final
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await job()
                } catch {
                    logger.log(level: failureLevel, "\(name) failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    break  // cancelled: the application is shutting down
                }
            }
        }
        if let final {
            do {
                try await final()
            } catch {
                logger.log(level: failureLevel, "\(name) failed at shutdown", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension PeriodicService {
    /// Hands memory freed after large requests back to the system (see ``MemoryTuning/releaseFreeMemory()``).
    static func memoryRelease(clock: any Clock<Duration>, logger: Logger) -> PeriodicService {
        PeriodicService(
            name: "memory release", interval: MemoryTuning.releaseInterval, clock: clock, logger: logger,
            job: { MemoryTuning.releaseFreeMemory() })
    }

    /// How long events are kept: CloudTrail's 90-day Event history window.
    static let retention: Int64 = 90 * 86400

    /// Removes events older than 90 days, at start and then every hour.
    static func retention(events: any EventStore, runtime: Runtime, logger: Logger) -> PeriodicService {
        PeriodicService(
            name: "event retention", interval: .seconds(3600), clock: runtime.clock, logger: logger,
            job: {
                let removed = try await events.purge(before: Int64(runtime.now()) - retention)
                if removed > 0 { logger.info("removed events older than 90 days", metadata: ["events.removed": "\(removed)"]) }
            })
    }

    /// Delivers trail log files every second for the trails whose delivery interval has passed, and everything
    /// pending once more when the application shuts down gracefully.
    static func trailDelivery(_ delivery: TrailDelivery, clock: any Clock<Duration>, logger: Logger) -> PeriodicService {
        PeriodicService(
            name: "trail delivery", interval: .seconds(1), clock: clock, logger: logger, job: { try await delivery.deliverDue() },
            final: { try await delivery.flush() })
    }

    /// Checks every ten seconds for due AWS Config deliveries (history files every `historyInterval` seconds,
    /// periodic snapshots), and delivers the pending history once more at a graceful shutdown.
    static func configDelivery(
        _ config: ConfigService, historyInterval: Int, clock: any Clock<Duration>, logger: Logger
    ) -> PeriodicService {
        PeriodicService(
            name: "config delivery", interval: .seconds(10), clock: clock, logger: logger,
            job: { try await config.deliverDue(historyInterval: historyInterval) },
            final: { try await config.deliverDue(historyInterval: historyInterval, force: true) })
    }

    /// Indexes the events appended in the last 250 ms (from the journal into the event tables), off the request path:
    /// one transaction for all of them instead of one per request. At a graceful shutdown it indexes the rest and
    /// ends the store's journal writer, so it must be the first service of the group: ServiceLifecycle stops
    /// services in reverse order, and every service that appends events (deliveries record their calls) has
    /// finished its last run by then.
    static func eventIndexing(events: any EventStore, clock: any Clock<Duration>, logger: Logger) -> PeriodicService {
        PeriodicService(
            name: "event indexing", interval: .milliseconds(250), clock: clock, logger: logger, job: { try await events.settle() },
            final: { try await events.close() })
    }

    /// Runs the event store's housekeeping (SQLite WAL checkpoints) every half second, off the request path.
    static func checkpoints(events: any EventStore, clock: any Clock<Duration>, logger: Logger) -> PeriodicService {
        PeriodicService(
            name: "checkpoint", interval: .milliseconds(500), clock: clock, failureLevel: .debug, logger: logger, job: { try await events.checkpoint() })
    }
}
