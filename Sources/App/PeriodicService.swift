import Logging
import ServiceLifecycle
import Storage

/// Runs a job now and then every `interval`, until the application shuts down gracefully (a ServiceLifecycle service).
///
/// A failing run is logged and the next one happens on schedule.
struct PeriodicService: Service {
    /// What the job is, for the log.
    let name: String
    /// The time between the end of one run and the start of the next.
    let interval: Duration
    /// The level failures are logged at.
    var failureLevel: Logger.Level = .error
    let logger: Logger
    let job: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await job()
                } catch {
                    logger.log(level: failureLevel, "\(name) failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return  // cancelled: the application is shutting down
                }
            }
        }
    }
}

extension PeriodicService {
    /// How long events are kept: CloudTrail's 90-day Event history window.
    static let retention: Int64 = 90 * 86400

    /// Removes events older than 90 days, at start and then every hour.
    static func retention(events: any EventStore, clock: @escaping @Sendable () -> Double, logger: Logger) -> PeriodicService {
        PeriodicService(name: "event retention", interval: .seconds(3600), logger: logger) {
            let removed = try await events.purge(before: Int64(clock()) - retention)
            if removed > 0 { logger.info("removed events older than 90 days", metadata: ["events.removed": "\(removed)"]) }
        }
    }

    /// Runs the event store's housekeeping (SQLite WAL checkpoints) every half second, off the request path.
    static func checkpoints(events: any EventStore, logger: Logger) -> PeriodicService {
        PeriodicService(name: "checkpoint", interval: .milliseconds(500), failureLevel: .debug, logger: logger) {
            try await events.checkpoint()
        }
    }
}
