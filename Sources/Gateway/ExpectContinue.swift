import HTTPTypes
package import NIOCore
package import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue` as soon as the request head arrives.
///
/// botocore and the aws CLI send every upload with `Expect: 100-continue` and hold the body back until the server
/// answers (or a one-second timeout passes). Cairn always accepts the body (a request that fails early still has its
/// body read and discarded by the server), so it tells the client to go ahead at once; without this every PUT would
/// wait a second, and a client that gets an early error would leave the connection out of step.
package final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPResponsePart

    /// Creates the handler (one per connection).
    package init() {}

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data),
            let expect = head.headerFields[.expect], expect.lowercased() == "100-continue"
        {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
