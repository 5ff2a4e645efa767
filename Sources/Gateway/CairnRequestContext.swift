public import Hummingbird
public import NIOCore

/// The per-request context of Cairn's HTTP server: Hummingbird's core storage plus the peer's address.
public struct CairnRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connected client's address: the event's `sourceIPAddress`.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
