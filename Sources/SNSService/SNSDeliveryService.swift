import ServiceLifecycle

/// Sends SNS's due deliveries in the background: every 50 milliseconds it claims what is due in the outbox and
/// sends each delivery in a child task, so a slow endpoint holds up no other (a ServiceLifecycle service).
///
/// On graceful shutdown the loop stops and deliveries being sent are cancelled; they stay in the outbox, which is
/// durable, and go out after the restart.
package struct SNSDeliveryService: Service {
    let outbox: Outbox
    let clock: @Sendable () -> Double

    /// Runs until the application shuts down gracefully.
    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    for delivery in outbox.claim(dueAt: clock()) {
                        group.addTask { await outbox.attempt(delivery) }
                    }
                    do {
                        try await Task.sleep(for: .milliseconds(50))
                    } catch {
                        return  // cancelled: the application is shutting down
                    }
                }
            }
        }
    }
}
