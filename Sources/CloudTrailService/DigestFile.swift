import AWSCore
import Crypto

/// One log file a digest lists (`logFiles[]`).
package struct DigestLogFile: Sendable, Equatable {
    /// Bucket of the log file.
    package var s3Bucket: String
    /// Key of the log file.
    package var s3Object: String
    /// Lower-case hex SHA-256 of the log file's uncompressed bytes.
    package var hashValue: String
    /// Newest event time in the file (epoch seconds).
    package var newestEventTime: Int64
    /// Oldest event time in the file (epoch seconds).
    package var oldestEventTime: Int64

    /// Describes a log file by its hash.
    package init(s3Bucket: String, s3Object: String, hashValue: String, newestEventTime: Int64, oldestEventTime: Int64) {
        self.s3Bucket = s3Bucket
        self.s3Object = s3Object
        self.hashValue = hashValue
        self.newestEventTime = newestEventTime
        self.oldestEventTime = oldestEventTime
    }

    /// Describes a log file by its uncompressed bytes (the JSON before gzip), hashing them.
    package init(s3Bucket: String, s3Object: String, uncompressed: [UInt8], newestEventTime: Int64, oldestEventTime: Int64) {
        self.init(
            s3Bucket: s3Bucket, s3Object: s3Object, hashValue: DigestFile.sha256Hex(uncompressed),
            newestEventTime: newestEventTime, oldestEventTime: oldestEventTime)
    }
}

/// The digest a new digest chains to (`previousDigest*`): what a delivery service keeps per trail and region
/// between two digests. ``DigestFile/chainLink`` is the value to keep after delivering a digest.
package struct PreviousDigest: Sendable, Equatable, Codable {
    /// Bucket of the previous digest.
    package var s3Bucket: String
    /// Key of the previous digest.
    package var s3Object: String
    /// Lower-case hex SHA-256 of the previous digest's uncompressed bytes.
    package var hashValue: String
    /// The previous digest's hex signature (its `signature` metadata).
    package var signature: String

    /// Creates a chain link.
    package init(s3Bucket: String, s3Object: String, hashValue: String, signature: String) {
        self.s3Bucket = s3Bucket
        self.s3Object = s3Object
        self.hashValue = hashValue
        self.signature = signature
    }
}

/// A signed CloudTrail digest file for one trail, source region and window, ready to store: its key, uncompressed
/// JSON (gzip it for the object body), signature and object metadata (spec §5.2–5.4).
///
/// Building one is pure apart from the signature, which is deterministic for a key (PKCS #1 v1.5).
package struct DigestFile: Sendable {
    /// `digestSignatureAlgorithm` and the `signature-algorithm` metadata value.
    package static let signatureAlgorithm = SigningKey.algorithm
    /// `hashAlgorithm` and `previousDigestHashAlgorithm`.
    package static let hashAlgorithm = "SHA-256"

    /// The bucket the digest goes to.
    package let bucket: String
    /// The object key (``key(prefix:accountId:sourceRegion:trailName:homeRegion:endTime:)``).
    package let key: String
    /// The uncompressed JSON: the bytes that are hashed, signed over, and gzipped into the object.
    package let body: [UInt8]
    /// Lower-case hex SHA-256 of ``body``.
    package let hashValue: String
    /// The string signed: `digestEndTime \n bucket/key \n hashValue \n previous signature or "null"`.
    package let stringToSign: String
    /// Lower-case hex SHA256withRSA signature of ``stringToSign``.
    package let signature: String
    /// Fingerprint of the signing key (`digestPublicKeyFingerprint`).
    package let fingerprint: String

    /// The user metadata to store with the object (lower-case names; S3 serves them as `x-amz-meta-*`).
    package var metadata: [String: String] {
        ["signature": signature, "signature-algorithm": Self.signatureAlgorithm]
    }

    /// What the next digest of the chain refers to as its previous digest.
    package var chainLink: PreviousDigest {
        PreviousDigest(s3Bucket: bucket, s3Object: key, hashValue: hashValue, signature: signature)
    }

    /// Builds and signs a digest.
    ///
    /// - Parameters:
    ///   - accountId: the trail owner's account (`awsAccountId`).
    ///   - trailName: the trail's name; `homeRegion` the region it was created in.
    ///   - sourceRegion: the region whose log files the digest covers (in the key, twice).
    ///   - bucket: the trail's bucket; `prefix` its `S3KeyPrefix` (`nil` or empty for none).
    ///   - startTime: window start; `endTime` window end, which also names the object (epoch seconds).
    ///   - logFiles: the log files delivered in the window (may be empty).
    ///   - previous: the previous digest of the chain, `nil` for a starting digest.
    ///   - signingKey: `sourceRegion`'s current key (``SigningKeys/current(region:)``).
    /// - Throws: when signing fails.
    package init(
        accountId: String, trailName: String, homeRegion: String, sourceRegion: String, bucket: String, prefix: String?,
        startTime: Int64, endTime: Int64, logFiles: [DigestLogFile], previous: PreviousDigest?, signingKey: SigningKey
    ) throws {
        let key = Self.key(
            prefix: prefix, accountId: accountId, sourceRegion: sourceRegion, trailName: trailName, homeRegion: homeRegion,
            endTime: endTime)
        let body = Self.body(
            accountId: accountId, startTime: startTime, endTime: endTime, bucket: bucket, key: key,
            fingerprint: signingKey.fingerprint, logFiles: logFiles, previous: previous)
        let hash = Self.sha256Hex(body)
        let toSign = Self.stringToSign(
            endTime: Timestamp.iso8601(endTime), bucket: bucket, key: key, hashValue: hash, previousSignature: previous?.signature)
        self.bucket = bucket
        self.key = key
        self.body = body
        self.hashValue = hash
        self.stringToSign = toSign
        self.signature = try signingKey.sign(toSign)
        self.fingerprint = signingKey.fingerprint
    }

    /// `[prefix/]AWSLogs/<acct>/CloudTrail-Digest/<region>/YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHMMSSZ>.json.gz`,
    /// dated by the window's end (UTC, second precision).
    package static func key(
        prefix: String?, accountId: String, sourceRegion: String, trailName: String, homeRegion: String, endTime: Int64
    ) -> String {
        let stamp = Timestamp.amzDate(endTime)
        let name = "\(accountId)_CloudTrail-Digest_\(sourceRegion)_\(trailName)_\(homeRegion)_\(stamp).json.gz"
        return LogFileName.join(prefix, "AWSLogs/\(accountId)/CloudTrail-Digest/\(sourceRegion)/\(LogFileName.folders(endTime))/\(name)")
    }

    /// The digest JSON, compact, with the members in AWS's order; the previous-digest members are `null` for a
    /// starting digest, and `newestEventTime`/`oldestEventTime` are `null` when no log file was delivered.
    package static func body(
        accountId: String, startTime: Int64, endTime: Int64, bucket: String, key: String, fingerprint: String,
        logFiles: [DigestLogFile], previous: PreviousDigest?
    ) -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + 400 * logFiles.count)
        func optional(_ name: String, _ value: String?) {
            w.key(name)
            if let value { w.string(value) } else { w.null() }
        }
        w.beginObject()
        w.field("awsAccountId", accountId)
        w.field("digestStartTime", Timestamp.iso8601(startTime))
        w.field("digestEndTime", Timestamp.iso8601(endTime))
        w.field("digestS3Bucket", bucket)
        w.field("digestS3Object", key)
        w.field("digestPublicKeyFingerprint", fingerprint)
        w.field("digestSignatureAlgorithm", signatureAlgorithm)
        optional("newestEventTime", logFiles.map(\.newestEventTime).max().map(Timestamp.iso8601))
        optional("oldestEventTime", logFiles.map(\.oldestEventTime).min().map(Timestamp.iso8601))
        optional("previousDigestS3Bucket", previous?.s3Bucket)
        optional("previousDigestS3Object", previous?.s3Object)
        optional("previousDigestHashValue", previous?.hashValue)
        optional("previousDigestHashAlgorithm", previous == nil ? nil : hashAlgorithm)
        optional("previousDigestSignature", previous?.signature)
        w.key("logFiles")
        w.beginArray()
        for file in logFiles {
            w.arrayElement()
            w.beginObject()
            w.field("s3Bucket", file.s3Bucket)
            w.field("s3Object", file.s3Object)
            w.field("hashValue", file.hashValue)
            w.field("hashAlgorithm", hashAlgorithm)
            w.field("newestEventTime", Timestamp.iso8601(file.newestEventTime))
            w.field("oldestEventTime", Timestamp.iso8601(file.oldestEventTime))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// The signed string of spec §5.4: `endTime + "\n" + bucket + "/" + key + "\n" + hashValue + "\n" + previous`,
    /// where `previous` is the previous digest's hex signature or the literal `null`.
    package static func stringToSign(endTime: String, bucket: String, key: String, hashValue: String, previousSignature: String?) -> String {
        "\(endTime)\n\(bucket)/\(key)\n\(hashValue)\n\(previousSignature ?? "null")"
    }

    /// Lower-case hex SHA-256 of `bytes`.
    package static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}

/// Object keys of trail log files (spec §4.1).
package enum LogFileName {
    /// `[prefix/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz`,
    /// dated by the delivery time (UTC, minute precision).
    ///
    /// - Parameter uniqueString: 16 characters that keep two deliveries in the same minute apart
    ///   (``uniqueString()`` makes one).
    package static func key(prefix: String?, accountId: String, region: String, deliveryTime: Int64, uniqueString: String) -> String {
        let stamp = String(Timestamp.amzDate(deliveryTime).prefix(13)) + "Z"
        let name = "\(accountId)_CloudTrail_\(region)_\(stamp)_\(uniqueString).json.gz"
        return join(prefix, "AWSLogs/\(accountId)/CloudTrail/\(region)/\(folders(deliveryTime))/\(name)")
    }

    /// A random 16-character `[A-Za-z0-9]` unique string, like AWS's.
    package static func uniqueString() -> String {
        IDs.alphanumeric(16)
    }

    /// `YYYY/MM/DD` of an instant (UTC).
    static func folders(_ time: Int64) -> String {
        let stamp = Timestamp.amzDate(time)
        return "\(stamp.prefix(4))/\(stamp.dropFirst(4).prefix(2))/\(stamp.dropFirst(6).prefix(2))"
    }

    /// `prefix/rest`, or `rest` without a prefix: validate-logs joins a trail's prefix with a single `/`.
    static func join(_ prefix: String?, _ rest: String) -> String {
        guard let prefix, !prefix.isEmpty else { return rest }
        return prefix + "/" + rest
    }
}
