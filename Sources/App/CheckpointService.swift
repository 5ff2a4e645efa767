import Logging
import ServiceLifecycle
import Storage

/// Runs the event store's housekeeping (SQLite WAL checkpoints) every half second, off the request path.
struct CheckpointService: Service {
    let events: any EventStore
    let logger: Logger
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await events.checkpoint()
                } catch {
                    logger.debug("checkpoint skipped", metadata: ["error": "\(error)"])
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
