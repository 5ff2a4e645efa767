import Foundation

/// The sources of time and identifiers Cairn runs on, injected so that tests control them.
package struct Runtime: Sendable {
    /// The current time in epoch seconds.
    package var now: @Sendable () -> Double
    /// A new request or event id (version-4 UUID form).
    package var uuid: @Sendable () -> String
    /// The clock background services wait on between their runs (tests advance a manual one).
    package var clock: any Clock<Duration>

    /// Creates a runtime from its parts.
    package init(
        now: @escaping @Sendable () -> Double, uuid: @escaping @Sendable () -> String, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.now = now
        self.uuid = uuid
        self.clock = clock
    }

    /// The real clock and random ids.
    package static let live = Runtime(now: { Date().timeIntervalSince1970 }, uuid: IDs.uuid)
}
