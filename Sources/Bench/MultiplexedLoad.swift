import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One closed-loop client of ``runLoad(port:clients:warmup:duration:request:)``: a non-blocking keep-alive
/// connection to a loopback port, the request it is sending and the response bytes read so far.
final class LoadClient {
    /// The socket, or -1 between a closed connection and the next.
    private(set) var socket: Int32 = -1
    /// The request being sent and how much of it is out.
    private var request: [UInt8] = []
    private var sent = 0
    /// When the request's first byte went out.
    private(set) var startedAt: ContinuousClock.Instant?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0
    private let port: Int

    /// A client of `127.0.0.1:port`, not connected yet.
    init(port: Int) { self.port = port }

    deinit { disconnect() }

    /// Whether part of the request still waits for room in the socket's send buffer.
    var isSending: Bool { sent < request.count }

    /// Opens the connection (blocking connect on loopback, then non-blocking, `TCP_NODELAY`).
    func connect() throws {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw BenchError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                Darwin.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw BenchError("connect to 127.0.0.1:\(port): errno \(error)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        socket = fd
        (start, end) = (0, 0)
    }

    /// Closes the connection (a server that closes after every response, or a failed one).
    func disconnect() {
        if socket >= 0 { close(socket) }
        socket = -1
    }

    /// Starts sending `bytes` as the next request, at `now`.
    func begin(_ bytes: [UInt8], at now: ContinuousClock.Instant) throws {
        request = bytes
        sent = 0
        startedAt = now
        try flush()
    }

    /// Sends as much of the request as the socket takes now.
    func flush() throws {
        while sent < request.count {
            let n = request.withUnsafeBytes { send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw BenchError("send: errno \(errno)") }
            sent += n
        }
    }

    /// Reads what has arrived and returns the response once it is complete: its status, a prefix of its body (for
    /// error reports) and whether the server closes the connection after it; nil while more bytes are needed.
    ///
    /// - Throws: when the connection fails or closes early, or the response is chunked or larger than 16 MiB.
    func receive() throws -> (status: Int, bodyPrefix: String, closes: Bool)? {
        while true {
            if let response = try parse() { return response }
            if end == buffer.count {
                let kept = end - start
                if start > 0 {
                    buffer.withUnsafeMutableBytes { raw in raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: kept) }
                    (start, end) = (0, kept)
                }
                if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            }
            let n = buffer.withUnsafeMutableBytes { raw in recv(socket, raw.baseAddress! + end, raw.count - end, 0) }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw BenchError(n == 0 ? "the server closed the connection" : "recv: errno \(errno)") }
            end += n
        }
    }

    /// The response at the front of the buffer when all of it is there (and consumes it).
    private func parse() throws -> (status: Int, bodyPrefix: String, closes: Bool)? {
        guard end > start else { return nil }
        let parsed = try buffer.withUnsafeBytes { raw in
            try RawConnection.parseHead(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
        }
        guard let (head, headBytes) = parsed else { return nil }
        if head.length > 16 << 20 { throw BenchError("a response body of \(head.length) bytes") }
        let bodyStart = start + headBytes
        guard end - bodyStart >= head.length else { return nil }
        let prefix = head.status == 200 ? "" : String(decoding: buffer[bodyStart..<(bodyStart + min(head.length, 300))], as: UTF8.self)
        start = bodyStart + head.length
        if start == end { (start, end) = (0, 0) }
        return (head.status, prefix, head.closes)
    }
}

/// Drives `clients` closed-loop clients for `warmup` (not measured) and then `duration` (measured); every request
/// comes from `request` and must be answered 200. Each client keeps one request in flight on a connection of its own.
///
/// All clients run on one thread that waits in `poll` for whichever connection is ready. The CloudTrail scenarios
/// send small requests and read small responses thousands of times a second, on the same two cores as the server
/// they measure: a thread per client, each blocking in `recv`, spent most of its CPU being switched in and out.
///
/// A signed request stays valid for 15 minutes (signed again within the same second it is the same bytes), so
/// `request` is called again once a second rather than for every request; the server still verifies the signature of
/// every request. A server that closes after every response (moto) gets a new connection per request.
/// A client stops at its first failed exchange (counted as an error).
func runLoad(
    port: Int, clients: Int, warmup: Duration, duration: Duration, request: @escaping @Sendable () -> ByteBuffer
) async -> LoadResult {
    let tallies = await withCheckedContinuation { (done: CheckedContinuation<[ClientTally], Never>) in
        let thread = Thread {
            done.resume(returning: driveClients(port: port, clients: clients, warmup: warmup, duration: duration, request: request))
        }
        thread.start()
    }
    return LoadResult(tallies: tallies, duration: duration)
}

/// The loop of ``runLoad(port:clients:warmup:duration:request:)``, on its thread; returns each client's tally.
private func driveClients(
    port: Int, clients count: Int, warmup: Duration, duration: Duration, request: @Sendable () -> ByteBuffer
) -> [ClientTally] {
    let clock = ContinuousClock()
    let measureStart = clock.now + warmup
    let measureEnd = measureStart + duration
    let window = measureStart..<measureEnd
    var tallies = [ClientTally](repeating: ClientTally(), count: count)
    let clients = (0..<count).map { _ in LoadClient(port: port) }
    var active = [Bool](repeating: true, count: count)
    var signed = Array(buffer: request())
    var signedAt = clock.now

    /// Starts client `i`'s next request, connecting first when it has no connection; false when it failed.
    func next(_ i: Int) -> Bool {
        let now = clock.now
        if now - signedAt >= .seconds(1) {
            signed = Array(buffer: request())
            signedAt = now
        }
        do {
            if clients[i].socket < 0 { try clients[i].connect() }
            try clients[i].begin(signed, at: clock.now)
            return true
        } catch {
            tallies[i].fail("\(error)")
            clients[i].disconnect()
            return false
        }
    }

    for i in 0..<count { active[i] = next(i) }
    var fds: [pollfd] = []
    var owners: [Int] = []
    while true {
        fds.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
        for i in 0..<count where active[i] {
            fds.append(pollfd(fd: clients[i].socket, events: Int16(clients[i].isSending ? POLLOUT : POLLIN), revents: 0))
            owners.append(i)
        }
        if fds.isEmpty { break }
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress!, nfds_t($0.count), 30_000) }
        if ready < 0, errno == EINTR { continue }
        guard ready > 0 else {
            for i in owners { tallies[i].fail(ready == 0 ? "no response within 30 s" : "poll: errno \(errno)") }
            break
        }
        for (slot, i) in owners.enumerated() where fds[slot].revents != 0 {
            let client = clients[i]
            do {
                if client.isSending {
                    try client.flush()
                    continue
                }
                guard let response = try client.receive() else { continue }
                let end = clock.now
                tallies[i].record(
                    start: client.startedAt ?? end, end: end, window: window,
                    failure: response.status == 200 ? nil : "HTTP \(response.status): \(response.bodyPrefix)")
                if response.closes { client.disconnect() }
                active[i] = end < measureEnd && next(i)
            } catch {
                tallies[i].fail("\(error)")
                client.disconnect()
                active[i] = false
            }
        }
    }
    return tallies
}
