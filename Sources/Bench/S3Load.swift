import AWSCore
import Crypto
import Foundation
import NIOCore
import Synchronization

/// An object body the S3 scenarios upload, with the digests computed once: the SHA-256 every request signs and
/// the MD5 every PutObject's ETag must equal.
struct S3Payload: Sendable {
    /// The bytes, shared by every request that sends them (never copied).
    let bytes: ByteBuffer
    /// The hex SHA-256: the `x-amz-content-sha256` value.
    let sha256: String
    /// The hex MD5: the ETag S3 returns for a single-part upload, without quotes.
    let md5: String

    /// The size in bytes.
    var size: Int { bytes.readableBytes }

    /// The ETag as S3 sends it: the MD5 in quotes.
    var etag: String { "\"\(md5)\"" }

    /// Random (incompressible) bytes of `size`, and their digests.
    init(randomOfSize size: Int) {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                var word = generator.next()
                let n = min(8, raw.count - offset)
                withUnsafeBytes(of: &word) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        self.init(bytes)
    }

    /// A payload of the given bytes.
    init(_ bytes: [UInt8]) {
        self.bytes = ByteBuffer(bytes: bytes)
        sha256 = PayloadChecksum.of(bytes, .sha256).hexDigest()
        md5 = PayloadChecksum.of(bytes, .md5).hexDigest()
    }

    /// The empty body (bucket creation, GETs).
    static let empty = S3Payload([])
}

/// Builds signed path-style S3 requests (`/bucket/key` on `127.0.0.1:PORT`) for ``RawConnection``, each signed at
/// the moment it is built, as an SDK does.
struct S3RequestMaker: Sendable {
    /// `127.0.0.1:PORT`, the signed `host` header.
    let host: String
    /// The signer: `test`/`test`, `us-east-1`, service `s3`.
    let signer: SigV4Signer

    /// A maker for the server on a loopback port.
    init(port: Int) {
        host = "127.0.0.1:\(port)"
        signer = SigV4Signer(accessKeyId: "test", secretAccessKey: "test", region: "us-east-1", service: "s3")
    }

    /// The head (request line and headers) of a request signed now; the body, `contentLength` bytes hashing to
    /// `payloadHash`, is written after it.
    func head(method: String, path: String, payloadHash: String, contentLength: Int, contentType: String? = nil) -> ByteBuffer {
        var headers: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash)]
        if let contentType { headers.append(("content-type", contentType)) }
        headers += signer.sign(
            method: method, rawPath: path, headers: headers, payloadHash: payloadHash, now: Int64(Date().timeIntervalSince1970))
        var text = "\(method) \(path) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "user-agent: cairn-bench/1.0\r\ncontent-length: \(contentLength)\r\n\r\n"
        return ByteBuffer(string: text)
    }

    /// The head of a PutObject of `payload` to `/bucket/key`.
    func put(bucket: String, key: String, _ payload: S3Payload) -> ByteBuffer {
        head(
            method: "PUT", path: "/\(bucket)/\(key)", payloadHash: payload.sha256, contentLength: payload.size,
            contentType: "application/octet-stream")
    }

    /// A GetObject of `/bucket/key`.
    func get(bucket: String, key: String) -> ByteBuffer {
        head(method: "GET", path: "/\(bucket)/\(key)", payloadHash: S3Payload.empty.sha256, contentLength: 0)
    }

    /// A CreateBucket of `bucket` (in us-east-1, which needs no configuration body).
    func createBucket(_ bucket: String) -> ByteBuffer {
        head(method: "PUT", path: "/\(bucket)", payloadHash: S3Payload.empty.sha256, contentLength: 0)
    }
}

/// The keys the PutObject runs wrote successfully (from every client task), for the GetObject runs to read.
final class WrittenKeys: Sendable {
    private let keys = Mutex<Set<String>>([])

    /// Notes a key whose upload was verified.
    func add(_ key: String) { _ = keys.withLock { $0.insert(key) } }

    /// The keys written so far, sorted.
    var all: [String] { keys.withLock { $0.sorted() } }
}

/// One measured S3 run, for the closing summary.
struct S3Run: Sendable {
    /// `PutObject` or `GetObject`.
    var operation: String
    /// The object size in bytes.
    var size: Int
    /// Concurrent clients.
    var clients: Int
    /// What was measured.
    var result: LoadResult
}

/// The S3 object sizes, printed in binary units.
enum ObjectSize {
    /// `4 KiB`, `8 MiB`, or plain bytes when the size is not a whole number of KiB.
    static func label(_ size: Int) -> String {
        if size >= 1 << 20, size % (1 << 20) == 0 { return "\(size >> 20) MiB" }
        if size >= 1 << 10, size % (1 << 10) == 0 { return "\(size >> 10) KiB" }
        return "\(size) B"
    }

    /// Parses `4096`, `4K`, `4KiB`, `8M`, `8MiB` (binary units; `KB`/`MB` are read as KiB/MiB too).
    static func parse(_ text: some StringProtocol) -> Int? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = lower.prefix(while: \.isNumber)
        guard let number = Int(digits) else { return nil }
        switch lower.dropFirst(digits.count) {
        case "", "b": return number
        case "k", "kb", "kib": return number << 10
        case "m", "mb", "mib": return number << 20
        default: return nil
        }
    }
}

extension Runner {
    /// The bucket the S3 scenarios use.
    static let s3Bucket = "cairn-bench"

    /// How many objects of each size a GetObject run without a PutObject run uploads first (fewer for large sizes:
    /// at most the PutObject ring, 8 for 8 MiB).
    static let getOnlyObjects = 256

    /// Every Nth GetObject per client has its body gathered and compared with the uploaded bytes (the others are
    /// checked by status, length and ETag, and their bodies only counted).
    static let getCompareEvery = 32

    /// The S3 scenarios: PutObject and/or GetObject throughput for each object size, with 1 and `clients`
    /// clients, against one `cairn serve` and one bucket.
    ///
    /// PutObject runs upload the same random body (hashed once) to keys
    /// `<size>/put-<clients>/c<client>/<n mod ring>`, where the ring holds up to 10,000 keys per client and at most
    /// 64 MiB of objects per client (so small objects mostly create new keys and 8 MiB ones replace earlier ones);
    /// every response must be 200 with the body's MD5 as ETag. GetObject runs read the keys the PutObject runs wrote
    /// (or, without a PutObject run, up to ``getOnlyObjects`` objects uploaded first), clients spread over them; every
    /// response must be 200 with the object's length and ETag, and every ``getCompareEvery``th body is compared byte
    /// for byte.
    func runS3(put: Bool, get: Bool, sizes: [Int], warmup: Duration, duration: Duration) async throws -> [S3Run] {
        say(
            "\n[3] S3 PutObject / GetObject, path-style, signed with a precomputed x-amz-content-sha256 (audited: every call is a CloudTrail event committed before its response)"
        )
        let (server, endpoint) = try await startCairn(dataDir: root + "/s3")
        let port = Int(endpoint.split(separator: ":").last ?? "") ?? 0
        let maker = S3RequestMaker(port: port)
        let bucket = Self.s3Bucket
        try await RawConnection.with(port: port) { connection in
            let response = try await connection.exchange(head: maker.createBucket(bucket), body: nil, handling: .keep)
            guard response.status == 200 else {
                throw BenchError("CreateBucket \(bucket) answered HTTP \(response.status): \(String(buffer: response.body).prefix(500))")
            }
        }
        var runs: [S3Run] = []
        for size in sizes {
            let payload = S3Payload(randomOfSize: size)
            let prefix = "obj-\(size)"
            let ring = max(8, min(10_000, (64 << 20) / max(size, 1)))
            let written = WrittenKeys()
            try await checkRoundTrip(maker: maker, port: port, bucket: bucket, key: prefix + "/check", payload: payload)
            say("    \(ObjectSize.label(size)) objects (\(size) bytes): a PutObject and a GetObject of them verified (ETag = MD5, same bytes back)")

            if put {
                for n in Array(Set([1, clients])).sorted() {
                    let result = await runLoad(port: port, clients: n, warmup: warmup, duration: duration, bytesPerRequest: size) {
                        connection, client, sequence in
                        let key = "\(prefix)/put-\(n)/c\(client)/\(sequence % ring)"
                        let response = try await connection.exchange(
                            head: maker.put(bucket: bucket, key: key, payload), body: payload.bytes, handling: .keep)
                        let failure = Self.checkPut(response, key: key, payload: payload)
                        if failure == nil { written.add(key) }
                        return StepResult(failure: failure, closes: response.closes)
                    }
                    say("    PutObject \(ObjectSize.label(size)), \(n) client\(n == 1 ? " " : "s"): \(result.summary)")
                    report(errorsOf: result, server: server)
                    runs.append(S3Run(operation: "PutObject", size: size, clients: n, result: result))
                }
            }

            if get {
                var keys = written.all
                if keys.isEmpty {
                    keys = (0..<min(ring, Self.getOnlyObjects)).map { "\(prefix)/seed/\($0)" }
                    try await RawConnection.with(port: port) { connection in
                        for key in keys {
                            let response = try await connection.exchange(
                                head: maker.put(bucket: bucket, key: key, payload), body: payload.bytes, handling: .keep)
                            if let failure = Self.checkPut(response, key: key, payload: payload) { throw BenchError(failure) }
                        }
                    }
                    say("    uploaded \(keys.count) \(ObjectSize.label(size)) objects to read")
                } else {
                    say("    reading the \(keys.count) \(ObjectSize.label(size)) objects the PutObject runs wrote")
                }
                let readable = keys
                for n in Array(Set([1, clients])).sorted() {
                    let result = await runLoad(port: port, clients: n, warmup: warmup, duration: duration, bytesPerRequest: size) {
                        connection, client, sequence in
                        let key = readable[(sequence * n + client) % readable.count]
                        let compare = sequence % Self.getCompareEvery == 0
                        let response = try await connection.exchange(
                            head: maker.get(bucket: bucket, key: key), body: nil, handling: compare ? .keep : .count)
                        let failure = Self.checkGet(response, key: key, payload: payload, compareBody: compare)
                        return StepResult(failure: failure, closes: response.closes)
                    }
                    say("    GetObject \(ObjectSize.label(size)), \(n) client\(n == 1 ? " " : "s"): \(result.summary)")
                    report(errorsOf: result, server: server)
                    runs.append(S3Run(operation: "GetObject", size: size, clients: n, result: result))
                }
            }
        }
        await stop(server)
        return runs
    }

    /// Uploads `payload` to `key` and reads it back in full, requiring the ETag and the bytes to match.
    private func checkRoundTrip(maker: S3RequestMaker, port: Int, bucket: String, key: String, payload: S3Payload) async throws {
        try await RawConnection.with(port: port) { connection in
            let put = try await connection.exchange(head: maker.put(bucket: bucket, key: key, payload), body: payload.bytes, handling: .keep)
            if let failure = Self.checkPut(put, key: key, payload: payload) { throw BenchError(failure) }
            let get = try await connection.exchange(head: maker.get(bucket: bucket, key: key), body: nil, handling: .keep)
            if let failure = Self.checkGet(get, key: key, payload: payload, compareBody: true) { throw BenchError(failure) }
        }
    }

    /// Why a PutObject response is wrong (not 200, or an ETag other than the body's MD5), or nil.
    static func checkPut(_ response: RawResponse, key: String, payload: S3Payload) -> String? {
        guard response.status == 200 else {
            return "PutObject \(key): HTTP \(response.status): \(String(buffer: response.body).prefix(300))"
        }
        guard response.etag == payload.etag else {
            return "PutObject \(key): ETag \(response.etag ?? "(none)") is not the body's MD5 \(payload.etag)"
        }
        return nil
    }

    /// Why a GetObject response is wrong (not 200, another length or ETag, or, when `compareBody`, other bytes), or
    /// nil.
    static func checkGet(_ response: RawResponse, key: String, payload: S3Payload, compareBody: Bool) -> String? {
        guard response.status == 200 else {
            return "GetObject \(key): HTTP \(response.status): \(String(buffer: response.body).prefix(300))"
        }
        guard response.bodyLength == payload.size else {
            return "GetObject \(key): \(response.bodyLength) bytes, expected \(payload.size)"
        }
        guard response.etag == payload.etag else {
            return "GetObject \(key): ETag \(response.etag ?? "(none)"), expected \(payload.etag)"
        }
        if compareBody, response.body != payload.bytes {
            return "GetObject \(key): the body differs from the uploaded bytes"
        }
        return nil
    }
}
