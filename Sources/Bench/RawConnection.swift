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
    struct Head {
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
    /// Works on the raw bytes (a generic `firstRange(of:)` and Foundation's trimming took a third of the load
    /// generator's time at a few thousand small responses per second).
    ///
    /// - Throws: for a `Transfer-Encoding: chunked` response, which this client does not read.
    private static func parseHead(_ buffer: ByteBuffer) throws -> (head: Head, bytes: Int)? {
        try buffer.withUnsafeReadableBytes { raw throws -> (head: Head, bytes: Int)? in try parseHead(raw) }
    }

    /// Parses the response head at the front of `raw` (see ``parseHead(_:)-(ByteBuffer)``).
    static func parseHead(_ raw: UnsafeRawBufferPointer) throws -> (head: Head, bytes: Int)? {
        guard let end = headEnd(raw) else { return nil }
        let bytes = end + 4
        guard end >= 12, raw[9] >= 0x30, raw[9] <= 0x39, let status = decimal(UnsafeRawBufferPointer(rebasing: raw[9..<12])) else {
            return (Head(status: 0, length: 0, etag: nil, closes: true), bytes)
        }
        var head = Head(status: status, length: 0, etag: nil, closes: false)
        var lineStart = 0
        var first = true
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, raw[lineEnd] != 13 || raw[lineEnd + 1] != 10 { lineEnd += 1 }
            defer { lineStart = lineEnd + 2 }
            if first {
                first = false
                continue
            }
            let line = UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd])
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
            let value = trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            if equalsIgnoringCase(name, "content-length") {
                head.length = decimal(value) ?? 0
            } else if equalsIgnoringCase(name, "etag") {
                head.etag = String(decoding: value, as: UTF8.self)
            } else if equalsIgnoringCase(name, "connection") {
                head.closes = String(decoding: value, as: UTF8.self).lowercased().contains("close")
            } else if equalsIgnoringCase(name, "transfer-encoding"),
                String(decoding: value, as: UTF8.self).lowercased().contains("chunked")
            {
                throw BenchError("a chunked response, which RawConnection does not read")
            }
        }
        return (head, bytes)
    }

    /// The offset of the `CRLF CRLF` that ends a response head, or nil.
    private static func headEnd(_ raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count >= 4 else { return nil }
        var i = 0
        while i + 3 < raw.count {
            if raw[i] == 13, raw[i + 1] == 10, raw[i + 2] == 13, raw[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// The bytes without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Whether ASCII `bytes` equal the lower-case `name`, ignoring case.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        for i in 0..<bytes.count {
            let c = bytes[i]
            if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != expected[i] { return false }
        }
        return true
    }

    /// The value of ASCII decimal digits (nil for none, other bytes or more than 18 digits).
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for c in bytes {
            guard c >= 0x30, c <= 0x39 else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        return value
    }
}
