import AWSCore
import Foundation

/// A bucket and its configuration, as kept in the state store.
struct Bucket: Codable, Sendable, Equatable {
    /// The bucket name (globally unique).
    var name: String
    /// The owning account.
    var owner: String
    /// The region the bucket was created in (`us-east-1` when no LocationConstraint was given).
    var region: String
    /// Creation time in epoch milliseconds.
    var createdMillis: Int64
    /// The bucket policy document, verbatim.
    var policy: String?
    /// The tag set, in the order given; `nil` when the bucket has none.
    var tags: [Tag]?
    /// `Enabled` or `Suspended`; `nil` when versioning was never configured.
    var versioning: String?
    /// `MfaDelete` of the versioning configuration (`Enabled`/`Disabled`), when given.
    var mfaDelete: String?
    /// The default encryption rule; `nil` means S3's default (SSE-S3, AES256), which every bucket has since 2023.
    var encryption: EncryptionRule?

    /// One tag.
    struct Tag: Codable, Sendable, Equatable {
        var key: String
        var value: String
    }

    /// A default encryption rule (`ServerSideEncryptionConfiguration.Rule`).
    struct EncryptionRule: Codable, Sendable, Equatable {
        /// `AES256`, `aws:kms` or `aws:kms:dsse`.
        var algorithm: String
        /// The KMS key for `aws:kms`.
        var kmsKeyID: String?
        /// `BucketKeyEnabled`.
        var bucketKeyEnabled: Bool?
    }

    /// The bucket's ARN.
    var arn: String { "arn:aws:s3:::\(name)" }
}

/// An object's metadata record (the bytes are a file named by ``file``).
struct StoredObject: Codable, Sendable {
    /// The object's file, relative to the object directory.
    var file: String
    /// Size in bytes.
    var size: Int64
    /// The ETag without quotes: the MD5 hex, or `<md5-of-md5s>-<parts>` for multipart uploads.
    var etag: String
    /// Last-modified time in epoch milliseconds.
    var modifiedMillis: Int64
    /// The Content-Type given on upload (`binary/octet-stream` when none).
    var contentType: String
    /// Other representation headers given on upload (Cache-Control, Content-Disposition, Content-Encoding,
    /// Content-Language, Expires), lower-case names.
    var headers: [String: String]
    /// User metadata, lower-case names without the `x-amz-meta-` prefix, in upload order.
    var metadata: [[String]]
    /// Additional checksums computed on upload: algorithm (`CRC32`, ...) to base64 value.
    var checksums: [String: String]
    /// `FULL_OBJECT` or `COMPOSITE` (multipart), when a checksum is stored.
    var checksumType: String?
    /// The number of parts of a multipart object.
    var partCount: Int?
    /// Part sizes of a multipart object, for `partNumber` reads.
    var partSizes: [Int64]?
    /// The account that uploaded the object.
    var owner: String
    /// `STANDARD` unless another storage class was asked for.
    var storageClass: String
    /// The object's tags, as given in `x-amz-tagging`.
    var tagging: String?
    /// Server-side encryption algorithm reported for the object.
    var serverSideEncryption: String
}

/// Epoch-millisecond and HTTP date formatting for S3's wire formats.
enum S3Time {
    /// `2009-10-12T17:50:30.000Z` (listings).
    static func iso(_ millis: Int64) -> String {
        Timestamp.iso8601Millis(Double(millis) / 1000)
    }

    /// `Wed, 12 Oct 2009 17:50:00 GMT` (Last-Modified header).
    static func http(_ millis: Int64) -> String {
        Timestamp.httpDate(millis / 1000)
    }

    /// Parses an HTTP date (or an ISO 8601 time, which S3 also accepts in conditional headers) to epoch milliseconds.
    static func parseHTTP(_ s: String) -> Int64? {
        Timestamp.parseHTTPDate(s).map { $0 * 1000 } ?? parseISO(s)
    }

    /// Parses an ISO 8601 time to epoch milliseconds.
    static func parseISO(_ s: String) -> Int64? {
        Timestamp.parseISO8601(s).map { Int64($0 * 1000) }
    }
}
