import Logging
import ServiceLifecycle
import Storage

/// Removes events older than CloudTrail's 90-day Event history window, once at start and then every hour.
///
/// A ServiceLifecycle service: it stops when the application shuts down gracefully.
struct RetentionService: Service {
    /// How long events are kept.
    static let retention: Int64 = 90 * 86400

    let events: any EventStore
    let clock: @Sendable () -> Double
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await events.purge(before: Int64(clock()) - Self.retention)
                    if removed > 0 { logger.info("removed events older than 90 days", metadata: ["events.removed": "\(removed)"]) }
                } catch {
                    logger.error("event retention failed", metadata: ["error": "\(error)"])
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
