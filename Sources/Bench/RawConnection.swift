import Foundation
import NIOCore
import NIOPosix

/// One response as ``RawConnection`` read it.
struct RawResponse {
    /// The HTTP status (0 when the status line could not be parsed).
    var status: Int
    /// The body, when it was kept (``RawConnection/BodyHandling/keep``); empty when it was only counted.
    var body: ByteBuffer
    /// The number of body bytes received (the `Content-Length`, read in full).
    var bodyLength: Int
    /// The `ETag` header, if any (quotes included, as sent).
    var etag: String?
    /// Whether the server closes the connection after this response (`Connection: close`).
    var closes: Bool
}

/// A minimal HTTP/1.1 keep-alive client connection for the load loop.
///
/// The load generator shares the machine's cores with the server it measures, so it must cost as little as
/// possible: a request is written as prepared bytes (a large body as a buffer shared by every request, never
/// copied), and a response is read only as far as its status and `Content-Length` require; a large body can be
/// counted and dropped chunk by chunk instead of being gathered. AsyncHTTPClient, used for everything else, costs
/// several times more per request. Chunked responses are not supported (Cairn sends a `Content-Length`).
struct RawConnection {
    /// What to do with a response body.
    enum BodyHandling {
        /// Gather it into ``RawResponse/body``.
        case keep
        /// Only count its bytes (``RawResponse/bodyLength``), dropping each chunk as it arrives (a 2xx body; any
        /// other is kept).
        case count
    }

    /// The facts of a response head the load loop uses.
    private struct Head {
        var status: Int
        var length: Int
        var etag: String?
        var closes: Bool
    }

    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()

    /// Opens a connection to a loopback port, runs `body` with it and closes it.
    ///
    /// Reads take up to 1 MiB at a time (NIO's default stops at 64 KiB), so that a large response body costs few
    /// wake-ups of the load generator.
    static func with<T: Sendable>(port: Int, _ body: (inout RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
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
        let response = try await exchange(head: request, body: nil, handling: .keep)
        return (response.status, response.body, response.closes)
    }

    /// Sends a request made of a head (request line and headers, or a whole small request) and an optional body,
    /// written together without copying either, and reads the response.
    ///
    /// - Parameter handling: whether the response body is kept or only counted.
    /// - Throws: when the server closes the connection early or answers with a chunked body.
    mutating func exchange(head: ByteBuffer, body: ByteBuffer?, handling: BodyHandling) async throws -> RawResponse {
        if let body {
            try await outbound.write(contentsOf: [head, body])
        } else {
            try await outbound.write(head)
        }
        return try await readResponse(handling)
    }

    /// Reads one response off the connection.
    private mutating func readResponse(_ handling: BodyHandling) async throws -> RawResponse {
        let head = try await readHead()
        var response = RawResponse(status: head.status, body: ByteBuffer(), bodyLength: head.length, etag: head.etag, closes: head.closes)
        // Error documents are small and worth printing: only a successful body is counted.
        switch head.status / 100 == 2 ? handling : .keep {
        case .keep:
            if buffer.readableBytes < head.length {
                buffer.reserveCapacity(minimumWritableBytes: head.length - buffer.readableBytes)
            }
            while buffer.readableBytes < head.length { try await readMore() }
            response.body = buffer.readSlice(length: head.length) ?? ByteBuffer()
        case .count:
            var remaining = head.length
            let buffered = min(remaining, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: buffered)
            remaining -= buffered
            while remaining > 0 {
                guard var more = try await inbound.next() else {
                    throw BenchError("the server closed the connection \(remaining) bytes before the end of a body")
                }
                let taken = min(remaining, more.readableBytes)
                more.moveReaderIndex(forwardBy: taken)
                remaining -= taken
                if more.readableBytes > 0 { buffer.writeBuffer(&more) }
            }
        }
        buffer.discardReadBytes()
        return response
    }

    /// Reads until a whole response head is buffered, parses it and moves past it.
    private mutating func readHead() async throws -> Head {
        while true {
            if let (head, bytes) = try Self.parseHead(buffer) {
                buffer.moveReaderIndex(forwardBy: bytes)
                return head
            }
            try await readMore()
        }
    }

    /// Appends the next inbound chunk to `buffer`.
    private mutating func readMore() async throws {
        guard var more = try await inbound.next() else { throw BenchError("the server closed the connection") }
        buffer.writeBuffer(&more)
    }

    /// Parses the response head at the front of `buffer`: its facts and its length in bytes, or nil when more
    /// bytes are needed. An unparsable status line gives status 0 and `closes`.
    ///
    /// - Throws: for a `Transfer-Encoding: chunked` response, which this client does not read.
    private static func parseHead(_ buffer: ByteBuffer) throws -> (head: Head, bytes: Int)? {
        let view = buffer.readableBytesView
        guard let headerEnd = view.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let bytes = headerEnd.upperBound - view.startIndex
        let text = String(decoding: view[view.startIndex..<headerEnd.lowerBound], as: UTF8.self)
        let lines = text.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.dropFirst(9).prefix(3)) else {
            return (Head(status: 0, length: 0, etag: nil, closes: true), bytes)
        }
        var head = Head(status: status, length: 0, etag: nil, closes: false)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "content-length": head.length = Int(value) ?? 0
            case "connection": head.closes = value.lowercased().contains("close")
            case "etag": head.etag = value
            case "transfer-encoding":
                if value.lowercased().contains("chunked") { throw BenchError("a chunked response, which RawConnection does not read") }
            default: break
            }
        }
        return (head, bytes)
    }
}
