import AWSCore
import Foundation
import Storage
import TestSupport
import Testing

@testable import CloudTrailService

/// `re.escape` of Python 3.7+: every character outside `[A-Za-z0-9_]` gets a backslash.
private func pythonEscape(_ text: String) -> String {
    text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? String($0) : "\\" + String($0) }.joined()
}

/// `DigestProvider._create_digest_key_regex` of awscli's validation.py (non-organization trails).
private func validateLogsDigestRegex(prefix: String?, accountId account: String, sourceRegion: String, trailName: String, homeRegion: String) throws
    -> Regex<AnyRegexOutput>
{
    var key =
        "AWSLogs/\(pythonEscape(account))/CloudTrail\\-Digest/\(pythonEscape(sourceRegion))/\\d+/\\d+/\\d+/"
        + "\(pythonEscape(account))_CloudTrail\\-Digest_\(pythonEscape(sourceRegion))_\(pythonEscape(trailName))_"
        + "\(pythonEscape(homeRegion))_.+(?:_backfill)?\\.json\\.gz"
    if let prefix { key = pythonEscape(prefix) + "/" + key }
    return try Regex("^" + key + "$")
}

/// `extract_digest_key_date`: characters -24 ..< -8 of the key.
private func keyDate(_ key: String) -> String {
    String(key.dropLast(8).suffix(16))
}

private let account = "111122223333"
private let sampleDigestKey =
    "pfx/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/01/01/111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-1_20260101T010000Z.json.gz"

@Suite("Digest files")
struct DigestFileTests {
    @Test("the digest key follows spec §5.2 and matches validate-logs' pattern and date slice")
    func digestKey() throws {
        let key = DigestFile.key(
            prefix: "pfx", accountId: account, sourceRegion: "us-east-2", trailName: "my-trail", homeRegion: "us-east-1",
            endTime: t0 + 3600)
        #expect(key == sampleDigestKey)
        #expect(
            DigestFile.key(
                prefix: nil, accountId: account, sourceRegion: "us-east-2", trailName: "my-trail", homeRegion: "us-east-1",
                endTime: t0 + 3600) == String(sampleDigestKey.dropFirst(4)))
        #expect(
            DigestFile.key(
                prefix: "", accountId: account, sourceRegion: "us-east-2", trailName: "my-trail", homeRegion: "us-east-1",
                endTime: t0 + 3600) == String(sampleDigestKey.dropFirst(4)))
        let regex = try validateLogsDigestRegex(
            prefix: "pfx", accountId: account, sourceRegion: "us-east-2", trailName: "my-trail", homeRegion: "us-east-1")
        #expect(try regex.wholeMatch(in: key) != nil)
        #expect(keyDate(key) == Timestamp.amzDate(t0 + 3600))
        // Another trail's or region's digests do not match.
        let other = DigestFile.key(
            prefix: "pfx", accountId: account, sourceRegion: "us-east-2", trailName: "my-trail2", homeRegion: "us-east-1",
            endTime: t0 + 3600)
        #expect(try regex.wholeMatch(in: other) == nil)
        // The marker validate-logs lists after (a digest ending a minute before the start) sorts before the key.
        let marker = DigestFile.key(
            prefix: "pfx", accountId: account, sourceRegion: "us-east-2", trailName: "my-trail", homeRegion: "us-east-1",
            endTime: t0 + 3600 - 60)
        #expect(marker < key)
        // Dates roll over correctly at the end of a year.
        let newYear = DigestFile.key(
            prefix: nil, accountId: account, sourceRegion: "eu-west-1", trailName: "t.x_y-z", homeRegion: "us-east-1",
            endTime: t0 - 1)
        #expect(newYear.hasPrefix("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2025/12/31/"))
        #expect(newYear.hasSuffix("_eu-west-1_t.x_y-z_us-east-1_20251231T235959Z.json.gz"))
        #expect(
            try validateLogsDigestRegex(prefix: nil, accountId: account, sourceRegion: "eu-west-1", trailName: "t.x_y-z", homeRegion: "us-east-1")
                .wholeMatch(in: newYear) != nil)
    }

    @Test("log file keys follow spec §4.1")
    func logFileKey() {
        let key = LogFileName.key(
            prefix: "pfx", accountId: account, region: "us-east-2", deliveryTime: t0 + 3600 + 5 * 60 + 59, uniqueString: "Mu0KsOhtH1ar15ZZ")
        #expect(
            key
                == "pfx/AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/01/111122223333_CloudTrail_us-east-2_20260101T0105Z_Mu0KsOhtH1ar15ZZ.json.gz"
        )
        #expect(
            LogFileName.key(prefix: nil, accountId: account, region: "us-east-2", deliveryTime: t0 - 60, uniqueString: "Mu0KsOhtH1ar15ZZ")
                == "AWSLogs/111122223333/CloudTrail/us-east-2/2025/12/31/111122223333_CloudTrail_us-east-2_20251231T2359Z_Mu0KsOhtH1ar15ZZ.json.gz")
        let unique = LogFileName.uniqueString()
        #expect(unique.count == 16 && unique.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(unique != LogFileName.uniqueString())
    }

    @Test("a starting digest of an empty window has nulls for the previous digest and the event times")
    func startingEmptyDigest() async throws {
        try await withTemporaryDirectory { dir in
            let (_, keys) = try await openKeys(dir, clock: TestClock(t0 + 3600))
            let key = try await keys.current(region: "us-east-2")
            let digest = try DigestFile(
                accountId: account, trailName: "my-trail", homeRegion: "us-east-1", sourceRegion: "us-east-2", bucket: "ct-bucket",
                prefix: "pfx", startTime: t0, endTime: t0 + 3600, logFiles: [], previous: nil, signingKey: key)
            let expected =
                #"{"awsAccountId":"111122223333","digestStartTime":"2026-01-01T00:00:00Z","digestEndTime":"2026-01-01T01:00:00Z","#
                + #""digestS3Bucket":"ct-bucket","digestS3Object":"\#(sampleDigestKey)","#
                + #""digestPublicKeyFingerprint":"\#(key.fingerprint)","digestSignatureAlgorithm":"SHA256withRSA","#
                + #""newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"#
                + #""previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}"#
            #expect(String(decoding: digest.body, as: UTF8.self) == expected)
            #expect(digest.key == sampleDigestKey && digest.bucket == "ct-bucket")
            #expect(digest.fingerprint == key.fingerprint)
            #expect(digest.hashValue == DigestFile.sha256Hex(digest.body))
            #expect(digest.stringToSign == "2026-01-01T01:00:00Z\nct-bucket/\(sampleDigestKey)\n\(digest.hashValue)\nnull")
            #expect(key.publicKey.isValidSignature(digest.signature, for: Array(digest.stringToSign.utf8)))
            #expect(digest.metadata == ["signature": digest.signature, "signature-algorithm": "SHA256withRSA"])
            #expect(
                digest.chainLink
                    == PreviousDigest(s3Bucket: "ct-bucket", s3Object: sampleDigestKey, hashValue: digest.hashValue, signature: digest.signature))
        }
    }

    @Test("a chained digest lists its log files in AWS's member order, with the window's newest and oldest events")
    func chainedDigest() async throws {
        let logA = DigestLogFile(
            s3Bucket: "ct-bucket", s3Object: "pfx/AWSLogs/a.json.gz", uncompressed: Array(#"{"Records":[]}"#.utf8),
            newestEventTime: t0 + 4000, oldestEventTime: t0 + 3000)
        // sha256sum of the uncompressed bytes.
        #expect(logA.hashValue == "26a792db36a3afba23b1dd277fcc9f15a7313c4a92e4e4cc0494846af345ecff")
        let logB = DigestLogFile(
            s3Bucket: "ct-bucket", s3Object: "pfx/AWSLogs/b.json.gz", hashValue: String(repeating: "ab", count: 32),
            newestEventTime: t0 + 5000, oldestEventTime: t0 + 100)
        let previous = PreviousDigest(
            s3Bucket: "old-bucket", s3Object: "old/key.json.gz", hashValue: String(repeating: "cd", count: 32), signature: "0f0f")
        let body = DigestFile.body(
            accountId: account, startTime: t0 + 3600, endTime: t0 + 7200, bucket: "ct-bucket", key: "k.json.gz",
            fingerprint: "31e8b5433410dfb61a9dc45cc65b22ff", logFiles: [logA, logB], previous: previous)
        #expect(
            JSONKeys.topLevel(body) == [
                "awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object", "digestPublicKeyFingerprint",
                "digestSignatureAlgorithm", "newestEventTime", "oldestEventTime", "previousDigestS3Bucket", "previousDigestS3Object",
                "previousDigestHashValue", "previousDigestHashAlgorithm", "previousDigestSignature", "logFiles",
            ])
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""newestEventTime":"2026-01-01T01:23:20Z","oldestEventTime":"2026-01-01T00:01:40Z""#))
        #expect(
            text.contains(
                #""previousDigestS3Bucket":"old-bucket","previousDigestS3Object":"old/key.json.gz","previousDigestHashValue":"\#(previous.hashValue)","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"0f0f""#
            ))
        #expect(
            text.hasSuffix(
                #""logFiles":[{"s3Bucket":"ct-bucket","s3Object":"pfx/AWSLogs/a.json.gz","hashValue":"\#(logA.hashValue)","hashAlgorithm":"SHA-256","newestEventTime":"2026-01-01T01:06:40Z","oldestEventTime":"2026-01-01T00:50:00Z"},"#
                    + #"{"s3Bucket":"ct-bucket","s3Object":"pfx/AWSLogs/b.json.gz","hashValue":"\#(logB.hashValue)","hashAlgorithm":"SHA-256","newestEventTime":"2026-01-01T01:23:20Z","oldestEventTime":"2026-01-01T00:01:40Z"}]}"#
            ))
        // The whole document parses as JSON.
        #expect(try JSONSerialization.jsonObject(with: Data(body)) is [String: Any])
    }

    @Test("the string to sign carries the previous signature; the signature verifies with the listed public key")
    func chainedSignature() async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0 + 3600)
            let (_, keys) = try await openKeys(dir, clock: clock)
            let first = try DigestFile(
                accountId: account, trailName: "my-trail", homeRegion: "us-east-1", sourceRegion: "us-east-2", bucket: "ct-bucket",
                prefix: nil, startTime: t0, endTime: t0 + 3600, logFiles: [], previous: nil,
                signingKey: try await keys.current(region: "us-east-2"))
            clock.advance(3600)
            let log = DigestLogFile(
                s3Bucket: "ct-bucket", s3Object: "AWSLogs/x.json.gz", uncompressed: Array(#"{"Records":[{}]}"#.utf8),
                newestEventTime: t0 + 5000, oldestEventTime: t0 + 4000)
            let second = try DigestFile(
                accountId: account, trailName: "my-trail", homeRegion: "us-east-1", sourceRegion: "us-east-2", bucket: "ct-bucket",
                prefix: nil, startTime: t0 + 3600, endTime: t0 + 7200, logFiles: [log], previous: first.chainLink,
                signingKey: try await keys.current(region: "us-east-2"))
            #expect(second.stringToSign == "2026-01-01T02:00:00Z\nct-bucket/\(second.key)\n\(second.hashValue)\n\(first.signature)")
            let listed = try await keys.publicKeys(region: "us-east-2", from: Double(t0), to: Double(t0 + 7200 + 7200))
            let key = try #require(listed.first { $0.fingerprint == second.fingerprint })
            #expect(key.isValidSignature(second.signature, for: Array(second.stringToSign.utf8)))
            #expect(!key.isValidSignature(first.signature, for: Array(second.stringToSign.utf8)))
            let parsed = try JSONSerialization.jsonObject(with: Data(second.body)) as? [String: Any]
            #expect(parsed?["previousDigestSignature"] as? String == first.signature)
            #expect(parsed?["previousDigestHashValue"] as? String == DigestFile.sha256Hex(first.body))
        }
    }
}
