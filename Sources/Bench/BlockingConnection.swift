#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import Synchronization

/// A blocking HTTP/1.1 keep-alive connection to a loopback port, for a load-generator thread of its own.
///
/// The CloudTrail scenarios send small requests and read small responses thousands of times a second on the same
/// cores as the server they measure. A thread that blocks in `send` and `recv` costs the least per request: no
/// event loop, no hand-off between threads, one system call each way. (The NIO client, ``RawConnection``, spent about
/// 0.1 ms of CPU per DescribeTrails call, CPU the server then could not use.)
final class BlockingConnection {
    private let socket: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0

    /// Connects to `127.0.0.1:port` with `TCP_NODELAY` and a 30-second receive timeout.
    init(port: Int) throws {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw BenchError("connect to 127.0.0.1:\(port): errno \(error)")
        }
        socket = fd
        buffer = [UInt8](repeating: 0, count: 64 * 1024)
    }

    deinit { close(socket) }

    /// Sends a whole request and reads the response: its status, its body and whether the server closes the
    /// connection after it.
    ///
    /// - Throws: when the connection fails or closes early, or the response is chunked or larger than 16 MiB.
    func exchange(_ request: ByteBuffer) throws -> (status: Int, body: ByteBuffer, closes: Bool) {
        try request.withUnsafeReadableBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let n = send(socket, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw BenchError("send: errno \(errno)") }
                sent += n
            }
        }
        while true {
            let parsed = try buffer.withUnsafeBytes { raw in
                try RawConnection.parseHead(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            }
            if let (head, headBytes) = parsed {
                let bodyStart = start + headBytes
                if head.length > 16 << 20 { throw BenchError("a response body of \(head.length) bytes") }
                while end - bodyStart < head.length { try receive() }
                let body = ByteBuffer(bytes: buffer[(start + headBytes)..<(start + headBytes + head.length)])
                start += headBytes + head.length
                if start == end { (start, end) = (0, 0) }
                return (head.status, body, head.closes)
            }
            try receive()
        }
    }

    /// Reads more bytes into the buffer, first moving the unread bytes to its front when it is full (and growing it
    /// when they fill it).
    private func receive() throws {
        if end == buffer.count {
            let kept = end - start
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: kept)
                }
                end = kept
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        }
        let n = buffer.withUnsafeMutableBytes { raw in recv(socket, raw.baseAddress! + end, raw.count - end, 0) }
        guard n > 0 else { throw BenchError(n == 0 ? "the server closed the connection" : "recv: errno \(errno)") }
        end += n
    }
}

/// Drives `clients` closed-loop clients, each on a thread of its own with a ``BlockingConnection``, for `warmup`
/// (not measured) and then `duration` (measured); every request comes from `request` and must be answered 200.
///
/// A server that closes after every response (moto) gets a new connection per request. A client stops at its first
/// failed exchange (counted as an error).
func runLoad(
    port: Int, clients: Int, warmup: Duration, duration: Duration, request: @escaping @Sendable () -> ByteBuffer
) async -> LoadResult {
    let clock = ContinuousClock()
    let measureStart = clock.now + warmup
    let measureEnd = measureStart + duration
    let results = Mutex<[ClientTally]>([])
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let remaining = Mutex(clients)
        for _ in 0..<clients {
            let thread = Thread {
                var tally = ClientTally()
                var connection: BlockingConnection?
                while clock.now < measureEnd {
                    let start = clock.now
                    do {
                        if connection == nil { connection = try BlockingConnection(port: port) }
                        let (status, body, closes) = try connection!.exchange(request())
                        if closes { connection = nil }
                        tally.record(
                            start: start, end: clock.now, window: measureStart..<measureEnd,
                            failure: status == 200 ? nil : "HTTP \(status): \(String(buffer: body).prefix(300))")
                    } catch {
                        tally.fail("\(error)")
                        break
                    }
                }
                results.withLock { $0.append(tally) }
                if remaining.withLock({ left in
                    left -= 1
                    return left == 0
                }) {
                    done.resume()
                }
            }
            thread.start()
        }
    }
    return LoadResult(tallies: results.withLock { $0 }, duration: duration)
}
