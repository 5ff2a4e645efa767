import AWSCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What one scenario measured.
struct LoadResult: Sendable {
    /// Requests completed inside the measured window.
    var completed: Int
    /// Responses that were not 200, or failed, inside the window.
    var errors: Int
    /// The measured window in seconds.
    var seconds: Double
    /// Latencies of the requests of the window, in milliseconds, sorted.
    var latencies: [Double]
    /// The first error seen, for the report.
    var firstError: String?
    /// Payload bytes each request moves (an S3 object's size), 0 when bandwidth is not reported.
    var bytesPerRequest = 0

    /// Completed requests per second.
    var throughput: Double { Double(completed) / seconds }

    /// Payload MiB (2^20 bytes) per second moved by the completed requests.
    var mebibytesPerSecond: Double { throughput * Double(bytesPerRequest) / 1_048_576 }

    /// The nearest-rank percentile `p` (0...1) of the latencies, in milliseconds.
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let rank = Int((p * Double(latencies.count)).rounded(.up))
        return latencies[min(max(rank, 1), latencies.count) - 1]
    }

    /// One line for the report (with MiB/s when requests move a payload).
    var summary: String {
        String(format: "%8.0f req/s   ", throughput)
            + (bytesPerRequest > 0 ? String(format: "%8.1f MiB/s   ", mebibytesPerSecond) : "")
            + String(format: "p50 %7.2f ms   p99 %7.2f ms   max %8.2f ms", percentile(0.5), percentile(0.99), latencies.last ?? .nan)
            + "   (\(completed) requests, \(errors) errors, " + String(format: "%.1f s)", seconds)
    }
}

/// Signs and builds the requests of a JSON 1.1 operation, as an AWS SDK would send them.
struct SignedJSONRequest: Sendable {
    /// The endpoint, `http://127.0.0.1:PORT`.
    var endpoint: String
    /// `127.0.0.1:PORT`, the signed `host` header.
    var host: String
    /// The full `X-Amz-Target`.
    var target: String
    /// The JSON body.
    var body: [UInt8]
    /// The signer (key, region, service).
    var signer: SigV4Signer

    /// The server's port.
    var port: Int { Int(host.split(separator: ":").last ?? "") ?? 0 }

    /// The bytes of a request signed now, for ``RawConnection``.
    func bytes() -> ByteBuffer {
        var headers: [(name: String, value: String)] = [
            ("host", host), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target),
        ]
        headers += signer.sign(method: "POST", rawPath: "/", headers: headers, body: body, now: Int64(Date().timeIntervalSince1970))
        var text = "POST / HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "user-agent: cairn-bench/1.0\r\ncontent-length: \(body.count)\r\n\r\n"
        var buffer = ByteBuffer(string: text)
        buffer.writeBytes(body)
        return buffer
    }

    /// A request signed now.
    func make() -> HTTPClientRequest {
        var headers: [(name: String, value: String)] = [
            ("host", host), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target),
        ]
        headers += signer.sign(method: "POST", rawPath: "/", headers: headers, body: body, now: Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.add(name: "user-agent", value: "cairn-bench/1.0")
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }
}

/// Sends one request and returns the status and body (at most 16 MiB).
func send(_ client: HTTPClient, _ request: HTTPClientRequest, timeout: TimeAmount = .seconds(30)) async throws -> (UInt, ByteBuffer) {
    let response = try await client.execute(request, timeout: timeout)
    let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
    return (response.status.code, body)
}

/// What one request of the load loop came to.
struct StepResult: Sendable {
    /// Why the request failed (a non-200 status, a wrong ETag or length), or nil when it succeeded.
    var failure: String?
    /// Whether the server closes the connection after the response.
    var closes: Bool
}

/// What one closed-loop client counted: the latencies of its successful requests inside the measured window, its
/// errors and the first error's text.
struct ClientTally: Sendable {
    var latencies: [Double] = []
    var errors = 0
    var firstError: String?

    /// An empty tally with room for a long run.
    init() { latencies.reserveCapacity(200_000) }

    /// Counts a request that ran from `start` to `end` when it lies inside `window`: an error when `failure` is
    /// given, else its latency in milliseconds.
    mutating func record(start: ContinuousClock.Instant, end: ContinuousClock.Instant, window: Range<ContinuousClock.Instant>, failure: String?) {
        guard start >= window.lowerBound, end <= window.upperBound else { return }
        if let failure {
            fail(failure)
        } else {
            let elapsed = end - start
            latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
    }

    /// Counts an error.
    mutating func fail(_ message: String) {
        errors += 1
        if firstError == nil { firstError = message }
    }
}

extension LoadResult {
    /// The result of a run from its clients' tallies.
    init(tallies: [ClientTally], duration: Duration, bytesPerRequest: Int = 0) {
        self.init(
            completed: tallies.reduce(0) { $0 + $1.latencies.count }, errors: tallies.reduce(0) { $0 + $1.errors },
            seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18,
            latencies: tallies.flatMap(\.latencies).sorted(), firstError: tallies.compactMap(\.firstError).first,
            bytesPerRequest: bytesPerRequest)
    }
}

/// Drives `clients` concurrent closed-loop clients for `warmup` (not measured) and then `duration` (measured).
///
/// Each client keeps one connection (``RawConnection``) and runs `step` on it again and again: `step` sends one
/// request, waits for the whole response and checks it; it gets the client's index (0..<clients) and the client's
/// request sequence number (from 0, warm-up included). A request counts when it completes inside the measured
/// window; a failure reported by `step`, or a thrown error, counts as an error. `bytesPerRequest` is the payload
/// each request moves, for the MiB/s of the result.
func runLoad(
    port: Int, clients: Int, warmup: Duration, duration: Duration, bytesPerRequest: Int = 0,
    step: @escaping @Sendable (inout RawConnection, _ client: Int, _ sequence: Int) async throws -> StepResult
) async -> LoadResult {
    let clock = ContinuousClock()
    let measureStart = clock.now + warmup
    let measureEnd = measureStart + duration
    let tallies = await withTaskGroup(of: ClientTally.self) { group in
        for client in 0..<clients {
            group.addTask {
                var tally = ClientTally()
                var sequence = 0
                do {
                    // A server that closes after every response (moto) gets a new connection per request.
                    while clock.now < measureEnd {
                        try await RawConnection.with(port: port) { connection in
                            var open = true
                            while open, clock.now < measureEnd {
                                let start = clock.now
                                let result = try await step(&connection, client, sequence)
                                sequence += 1
                                open = !result.closes
                                tally.record(start: start, end: clock.now, window: measureStart..<measureEnd, failure: result.failure)
                            }
                        }
                    }
                } catch {
                    tally.fail("\(error)")
                }
                return tally
            }
        }
        var all: [ClientTally] = []
        for await tally in group { all.append(tally) }
        return all
    }
    return LoadResult(tallies: tallies, duration: duration, bytesPerRequest: bytesPerRequest)
}

/// Waits until `url` answers (any status when `anyStatus`, else 200), while `process` runs, for at most `timeout`.
///
/// - Throws: when the process exits or the time runs out.
func waitUntilAnswering(
    _ client: HTTPClient, url: String, process: ChildProcess, anyStatus: Bool, timeout: Duration
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        guard process.isRunning else {
            throw BenchError("\(process.name) exited before it answered; its output:\n\(process.logTail())")
        }
        if let (status, _) = try? await send(client, HTTPClientRequest(url: url), timeout: .seconds(2)),
            anyStatus || status == 200
        {
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw BenchError("\(process.name) did not answer \(url) within \(timeout); its output:\n\(process.logTail())")
}
