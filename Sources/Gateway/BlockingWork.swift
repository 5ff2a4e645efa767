import NIOPosix

/// Blocking work (RSA key generation, file writes that fsync) moved off the event loops and Swift's cooperative
/// pool, onto NIO's blocking-I/O thread pool: a request's connection stays served by its loop while the work runs.
package enum BlockingWork {
    /// Runs `work` on NIO's shared blocking thread pool and returns its result.
    ///
    /// - Throws: what `work` throws, or NIO's error when the pool has been shut down.
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
