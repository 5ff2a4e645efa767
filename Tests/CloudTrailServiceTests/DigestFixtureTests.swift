import AWSCore
import Foundation
import Gateway
import Storage
import Testing

@testable import CloudTrailService

/// Builds what a trail with log-file validation would have delivered over three hours, for the awscli check in
/// `tests/e2e/test_digest_format.py`: three chained digests (a starting digest with two log files, an empty one,
/// one more signed by a rotated key), their log files, and the ListPublicKeys response validate-logs would get.
///
/// The fixtures are written to `$CAIRN_DIGEST_FIXTURES` when it is set (the pytest sets it and runs this test);
/// otherwise the test only checks the chain.
@Suite("Digest fixtures for awscli")
struct DigestFixtureTests {
    static let account = "111122223333"
    static let bucket = "ct-bucket"
    static let prefix = "pfx"
    static let region = "us-east-2"
    static let home = "us-east-1"
    static let trail = "my-trail"

    /// One stored object: key, uncompressed bytes (the pytest gzips them as S3 would serve them), metadata.
    struct StoredObject {
        var key: String
        var body: [UInt8]
        var metadata: [String: String]
    }

    @Test("a three-hour chain across a key rotation")
    func chain() async throws {
        let output = ProcessInfo.processInfo.environment["CAIRN_DIGEST_FIXTURES"].flatMap { $0.isEmpty ? nil : $0 }
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0 + 3600)
            let (storage, keys) = try await openKeys(dir, clock: clock, rotationPeriod: 5400)
            let service = try await CloudTrailService(state: storage, events: storage, signingKeys: keys, clock: clock.function)
            var objects: [StoredObject] = []
            func logFile(delivered: Int64, events: [Int64]) -> DigestLogFile {
                let records = events.map {
                    #"{"eventVersion":"1.11","eventTime":"\#(Timestamp.iso8601($0))","eventSource":"cloudtrail.amazonaws.com","eventName":"DescribeTrails"}"#
                }
                let body = Array((#"{"Records":["# + records.joined(separator: ",") + "]}").utf8)
                let unique = "FixtureLog" + String(format: "%06d", objects.count)
                let key = LogFileName.key(
                    prefix: Self.prefix, accountId: Self.account, region: Self.region, deliveryTime: delivered, uniqueString: unique)
                objects.append(StoredObject(key: key, body: body, metadata: [:]))
                return DigestLogFile(
                    s3Bucket: Self.bucket, s3Object: key, uncompressed: body, newestEventTime: events.max()!,
                    oldestEventTime: events.min()!)
            }
            func digest(_ start: Int64, _ end: Int64, _ logs: [DigestLogFile], _ previous: PreviousDigest?) async throws -> DigestFile {
                let file = try DigestFile(
                    accountId: Self.account, trailName: Self.trail, homeRegion: Self.home, sourceRegion: Self.region,
                    bucket: Self.bucket, prefix: Self.prefix, startTime: start, endTime: end, logFiles: logs, previous: previous,
                    signingKey: try await keys.current(region: Self.region))
                objects.append(StoredObject(key: file.key, body: file.body, metadata: file.metadata))
                return file
            }

            let firstLogs = [
                logFile(delivered: t0 + 600, events: [t0 + 100, t0 + 500]), logFile(delivered: t0 + 1800, events: [t0 + 1200, t0 + 1700]),
            ]
            let d1 = try await digest(t0, t0 + 3600, firstLogs, nil)
            clock.advance(3600)
            let d2 = try await digest(t0 + 3600, t0 + 7200, [], d1.chainLink)
            clock.advance(3600)  // the first key (valid from t0 + 3600 for 5400 s) has expired
            let lastLogs = [logFile(delivered: t0 + 9000, events: [t0 + 8000, t0 + 8900])]
            let d3 = try await digest(t0 + 7200, t0 + 10800, lastLogs, d2.chainLink)
            #expect(d1.fingerprint == d2.fingerprint)
            #expect(d3.fingerprint != d2.fingerprint)

            // validate-logs --start-time t0 --end-time t0+10800 asks for [start, end + 2 h].
            let range: (Int64, Int64) = (t0, t0 + 10800 + 7200)
            let response = try await service.operations["ListPublicKeys"]!.run(
                call(.object(["StartTime": .number(Double(range.0)), "EndTime": .number(Double(range.1))]), region: Self.region, now: t0 + 10800))
            let listed = response["PublicKeyList"]?.array?.compactMap { $0["Fingerprint"]?.string } ?? []
            #expect(Set(listed) == [d1.fingerprint, d3.fingerprint])
            for file in [d1, d2, d3] {
                let key = try #require(try await keys.publicKeys(region: Self.region, from: 0, to: 4e9).first { $0.fingerprint == file.fingerprint })
                #expect(key.isValidSignature(file.signature, for: Array(file.stringToSign.utf8)))
            }

            guard let output else { return }
            var wire = JSONWriter()
            ShapeCodec(model: .cloudTrail).writeJSON(response, shape: "ListPublicKeysResponse", to: &wire)
            try Self.write(
                objects: objects, listPublicKeys: wire.bytes, range: range, digests: [d1.key, d2.key, d3.key], to: output)
        }
    }

    /// Writes `manifest.json`, `list-public-keys.json` (the wire body) and `objects/<n>` (uncompressed bytes).
    static func write(objects: [StoredObject], listPublicKeys: [UInt8], range: (Int64, Int64), digests: [String], to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/objects", withIntermediateDirectories: true)
        var entries: [[String: Any]] = []
        for (n, object) in objects.enumerated() {
            let file = "objects/\(n)"
            try Data(object.body).write(to: URL(fileURLWithPath: directory + "/" + file))
            entries.append(["key": object.key, "file": file, "metadata": object.metadata])
        }
        try Data(listPublicKeys).write(to: URL(fileURLWithPath: directory + "/list-public-keys.json"))
        let manifest: [String: Any] = [
            "accountId": account, "bucket": bucket, "prefix": prefix, "region": region, "homeRegion": home, "trailName": trail,
            "trailArn": "arn:aws:cloudtrail:\(home):\(account):trail/\(trail)",
            "startTime": Timestamp.iso8601(t0), "endTime": Timestamp.iso8601(t0 + 10800),
            "listPublicKeysRange": [range.0, range.1], "digests": digests, "objects": entries,
        ]
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: directory + "/manifest.json"))
    }
}
