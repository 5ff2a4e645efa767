import Foundation
import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 keep-alive client connection for the load loop.
///
/// The load generator shares the machine's cores with the server it measures, so it must cost as little as
/// possible: a request is written as prepared bytes and a response is read only as far as its status and
/// `Content-Length` require. AsyncHTTPClient, used for everything else, costs several times more per request.
struct RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()

    /// Opens a connection to a loopback port, runs `body` with it and closes it.
    static func with<T: Sendable>(port: Int, _ body: (inout RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    /// Sends one request and returns the response status and body, and whether the server closes the connection
    /// after it (`Connection: close`, as moto's server does after every response).
    mutating func exchange(_ request: ByteBuffer) async throws -> (status: Int, body: ByteBuffer, closes: Bool) {
        try await outbound.write(request)
        while true {
            if let response = Self.parse(&buffer) { return response }
            guard var more = try await inbound.next() else { throw BenchError("the server closed the connection") }
            buffer.writeBuffer(&more)
        }
    }

    /// Takes one complete response off the front of `buffer`, or returns nil when more bytes are needed.
    private static func parse(_ buffer: inout ByteBuffer) -> (status: Int, body: ByteBuffer, closes: Bool)? {
        let view = buffer.readableBytesView
        guard let headerEnd = view.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let head = String(decoding: view[view.startIndex..<headerEnd.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.dropFirst(9).prefix(3)) else {
            return (0, ByteBuffer(), true)
        }
        var length = 0
        var closes = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
            if lower.hasPrefix("connection:"), lower.contains("close") { closes = true }
        }
        let headerBytes = headerEnd.upperBound - view.startIndex
        guard buffer.readableBytes >= headerBytes + length else { return nil }
        buffer.moveReaderIndex(forwardBy: headerBytes)
        let body = buffer.readSlice(length: length) ?? ByteBuffer()
        buffer.discardReadBytes()
        return (status, body, closes)
    }
}
