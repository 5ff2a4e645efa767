public import Logging

/// Cairn's log handler: swift-log's `StreamLogHandler` output to standard error, with logger metadata formatted only
/// when a message is logged.
///
/// Hummingbird gives every request a logger carrying its request id. `StreamLogHandler` formats its metadata into a
/// string each time the metadata changes, so that cost was paid on every request although almost none logs anything.
/// This handler keeps the metadata and hands it to the stream handler with each message instead; the output is the
/// same.
public struct LazyMetadataLogHandler: LogHandler {
    private var output: StreamLogHandler
    /// The logger's metadata, merged into each message's.
    public var metadata: Logger.Metadata = [:]

    /// Logs to standard error under `label`.
    public init(label: String) {
        output = StreamLogHandler.standardError(label: label)
    }

    public var logLevel: Logger.Level {
        get { output.logLevel }
        set { output.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { output.metadataProvider }
        set { output.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        output.log(event: event)
    }
}
