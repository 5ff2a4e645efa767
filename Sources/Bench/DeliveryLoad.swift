import AWSCore
import CompressNIO
import Foundation
import NIOCore
import Storage

/// The trail-delivery scenario: how fast stored events become delivered log files, and how long a call waits for
/// its file under load.
extension Runner {
    /// What the delivery scenario measured.
    struct DeliveryRun: Sendable {
        /// Events turned into delivered files per second by one flush of a backlog.
        var eventsPerSecond: Double
        /// Backlog size and flush time.
        var backlog: Int
        var flushSeconds: Double
        /// Delay from a probe call (sent during a DescribeTrails load) to the upload of the file holding it, in ms.
        var delays: [Double]
        /// The load the probes ran in.
        var load: LoadResult
        /// The delivery interval the server ran with, in seconds.
        var interval: Int
    }

    static let deliveryBucket = "cairn-bench-trail"
    static let deliveryTrail = "cairn-bench-trail"

    /// Runs the scenario: a logging trail on a server with a 1-second delivery interval; a DescribeTrails load with
    /// probe calls whose request ids are looked up in the delivered files afterwards; then a backlog of `backlog`
    /// events seeded while the server is stopped and delivered by one `/_cairn/flush`.
    func runDelivery(backlog: Int, seedBatch: Int) async throws -> DeliveryRun {
        let dataDir = root + "/delivery"
        let interval = 1
        say("\n[4] Trail delivery (delivery interval \(interval) s): delay under a DescribeTrails load, then a backlog")
        var (server, endpoint) = try await startCairn(
            dataDir: dataDir, extra: ["--delivery-interval", String(interval), "--resource-policy-checks", "off"])
        let port = Int(endpoint.split(separator: ":").last ?? "") ?? 0
        let s3 = S3RequestMaker(port: port)
        let created = try await RawConnection.with(port: port) { c in try await c.exchange(s3.createBucket(Self.deliveryBucket)) }
        guard created.status == 200 else { throw BenchError("CreateBucket answered HTTP \(created.status)") }
        try await expectOK(
            signed(
                endpoint: endpoint, target: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail",
                body: #"{"Name":"\#(Self.deliveryTrail)","S3BucketName":"\#(Self.deliveryBucket)"}"#), what: "CreateTrail")
        try await expectOK(
            signed(
                endpoint: endpoint, target: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StartLogging",
                body: #"{"Name":"\#(Self.deliveryTrail)"}"#), what: "StartLogging")

        // Delay under load: probes every 100 ms, each remembered with its send time.
        let describe = signed(endpoint: endpoint, target: Self.describeTarget, body: "{}")
        // Each probe names a trail of its own, so its record is found by that name in the delivered files.
        var probes: [(id: String, sentMillis: Double)] = []
        let probeDuration = warmup + duration
        async let load = runLoad(port: port, clients: clients, warmup: warmup, duration: duration, request: describe.bytes)
        try await RawConnection.with(port: port) { connection in
            let end = ContinuousClock.now + probeDuration
            while ContinuousClock.now < end {
                let name = "bench-probe-\(probes.count)"
                let probe = signed(endpoint: endpoint, target: Self.describeTarget, body: #"{"trailNameList":["\#(name)"]}"#)
                let sent = Date().timeIntervalSince1970 * 1000
                _ = try await connection.exchange(probe.bytes())
                probes.append((name, sent))
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let loadResult = await load
        say("    load: \(loadResult.summary)")
        report(errorsOf: loadResult, server: server)
        try await expectFlush(endpoint)
        await stop(server)
        let delays = try await Self.probeDelays(dataDir: dataDir, probes: probes)

        // Throughput: a backlog seeded while the server is down, delivered by one flush.
        let seeded = try await Seeder.seed(
            directory: dataDir, count: backlog, names: 50, days: 1, batch: seedBatch, now: Int64(Date().timeIntervalSince1970))
        (server, endpoint) = try await startCairn(
            dataDir: dataDir, extra: ["--delivery-interval", "3600", "--resource-policy-checks", "off"])
        let start = ContinuousClock.now
        try await expectFlush(endpoint)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await stop(server)
        let delivered = try await Self.deliveredRecordCount(dataDir: dataDir)
        guard delivered >= seeded.events else {
            throw BenchError("only \(delivered) records delivered, \(seeded.events) seeded")
        }
        say(
            String(
                format: "    backlog: %d events delivered by one flush in %.2f s (%.0f events/s)", seeded.events, seconds,
                Double(seeded.events) / seconds))
        return DeliveryRun(
            eventsPerSecond: Double(seeded.events) / seconds, backlog: seeded.events, flushSeconds: seconds, delays: delays,
            load: loadResult, interval: interval)
    }

    /// POST /_cairn/flush, required to answer 200.
    private func expectFlush(_ endpoint: String) async throws {
        let port = Int(endpoint.split(separator: ":").last ?? "") ?? 0
        let response = try await RawConnection.with(port: port) { c in
            try await c.exchange(ByteBuffer(string: "POST /_cairn/flush HTTP/1.1\r\nhost: 127.0.0.1:\(port)\r\ncontent-length: 0\r\n\r\n"))
        }
        guard response.status == 200 else { throw BenchError("flush answered HTTP \(response.status)") }
    }

    /// The delivered log files of the bench trail's bucket, read from the stopped server's data directory: each
    /// file's upload time (ms) and uncompressed content.
    private static func deliveredFiles(dataDir: String) async throws -> [(modifiedMillis: Double, content: ByteBuffer)] {
        let storage = try SQLiteStorage(directory: dataDir)
        var out: [(Double, ByteBuffer)] = []
        var after: String?
        while true {
            let page = try await storage.listObjects(bucket: deliveryBucket, prefix: "AWSLogs/", after: after, limit: 1000)
            if page.isEmpty { break }
            for (key, record) in page {
                after = key
                guard key.contains("/CloudTrail/"),
                    let object = try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any],
                    let file = object["file"] as? String, let modified = object["modifiedMillis"] as? Double
                else { continue }
                var gzipped = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: dataDir + "/s3/objects/" + file)))
                out.append((modified, try gzipped.decompress(with: .gzip())))
            }
        }
        return out
    }

    /// For each probe, the time from sending it to the upload of the file that holds its record (ms). Each file is
    /// searched once (Foundation's substring search), for every probe name it holds.
    private static func probeDelays(dataDir: String, probes: [(id: String, sentMillis: Double)]) async throws -> [Double] {
        var uploaded: [String: Double] = [:]
        for file in try await deliveredFiles(dataDir: dataDir) {
            for name in occurrences(of: #""bench-probe-"#, in: file.content, upTo: "\"") {
                uploaded[name] = min(uploaded[name] ?? .infinity, file.modifiedMillis)
            }
        }
        var delays: [Double] = []
        for probe in probes {
            guard let at = uploaded[probe.id] else { throw BenchError("probe \(probe.id) was never delivered") }
            delays.append(at - probe.sentMillis)
        }
        return delays.sorted()
    }

    /// The number of records in every delivered file.
    private static func deliveredRecordCount(dataDir: String) async throws -> Int {
        var count = 0
        for file in try await deliveredFiles(dataDir: dataDir) {
            count += occurrences(of: #""eventVersion""#, in: file.content, upTo: nil).count
        }
        return count
    }

    /// The occurrences of `marker` in a buffer; with `end`, each as the text from after the opening quote of
    /// `marker` up to the next `end` (`"bench-probe-7"` gives `bench-probe-7`).
    private static func occurrences(of marker: String, in buffer: ByteBuffer, upTo end: String?) -> [String] {
        let text = String(buffer: buffer)
        var found: [String] = []
        var from = text.startIndex
        while let hit = text.range(of: marker, range: from..<text.endIndex) {
            if let end, let close = text.range(of: end, range: hit.upperBound..<text.endIndex) {
                found.append(String(text[text.index(after: hit.lowerBound)..<close.lowerBound]))
                from = close.upperBound
            } else {
                found.append(marker)
                from = hit.upperBound
            }
        }
        return found
    }
}
