import HummingbirdCore
import Logging
import NIOCore

/// Runs the jobs of a task on one NIO event loop.
///
/// A connection's socket belongs to one event loop. Running the connection's handler task there too means reading
/// the request, answering it and every step in between stay on that thread: without it, every request crosses from
/// the event loop to Swift's global executor and back, a thread wake-up each way.
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    let eventLoop: any EventLoop

    /// Creates an executor for one event loop.
    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Queues the job on the event loop (without a wake-up when called on the loop itself).
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Hummingbird's HTTP/1.1 child channel whose per-connection handler prefers the connection's event loop as its
/// task executor (see ``EventLoopTaskExecutor``).
struct EventLoopHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    /// The channel that sets up the pipeline and serves the requests.
    let http1: HTTP1Channel

    /// Sets up the HTTP/1.1 pipeline, as Hummingbird's channel does.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        http1.setup(channel: channel, logger: logger)
    }

    /// Serves the connection's requests on its event loop.
    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await http1.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with each connection's requests handled on the connection's event loop.
    static func eventLoopHTTP1(configuration: HTTP1Channel.Configuration) -> HTTPServerBuilder {
        .init { responder in
            EventLoopHTTP1Channel(http1: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
