/// The errors S3 answers when a request body is malformed, fails its signatures, or does not match its digests.
///
/// Codes, messages and statuses are S3's own. Sources, since AWS's error list
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) gives no message for several of them:
/// - the error list: `BadDigest`, `InvalidDigest`, `IncompleteBody`, `MissingContentLength`, `NotImplemented`,
///   `SignatureDoesNotMatch`, `XAmzContentSHA256Mismatch`;
/// - real S3 responses quoted in versity/versitygw issues that compare the gateway with S3 ("direct"):
///   #1685/#1666/#1660 (bad chunk framing: `IncompleteBody` "The request body terminated unexpectedly"),
///   #1684 (decoded length mismatch: `IncompleteBody` "You did not provide the number of bytes specified by the
///   Content-Length HTTP header", no final period), #1656 (bad `x-amz-decoded-content-length`:
///   `MissingContentLength` 411), #1600/#1690/#1691 (`MalformedTrailerError`), #1161/#1632 (unsupported
///   `x-amz-trailer`), #1657 (trailer plus checksum header), #1683 (`InvalidChunkSizeError`), PR #2400
///   (`UNSIGNED-PAYLOAD` with `aws-chunked`);
/// - aws/aws-sdk-cpp#2727 and #3132: S3 answers `InvalidChunkSizeError` with HTTP 403;
/// - S3 responses quoted in client projects: "The SHA256 you specified did not match the calculated checksum."
///   (`BadDigest`), "Value for x-amz-checksum-sha256 trailing header is invalid." (scality/cloudserver tests,
///   run against AWS), "Missing required header for this request: x-amz-content-sha256".
package enum S3PayloadError {
    /// A chunk or trailer signature that does not match: S3's wording, shorter than the other protocols'.
    package static let signatureDoesNotMatch = AWSError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        status: 403
    )

    /// aws-chunked framing that cannot be parsed, or a body that ends inside it.
    package static let bodyTerminated = AWSError("IncompleteBody", "The request body terminated unexpectedly")

    /// Fewer or more bytes than `Content-Length` (plain bodies) or `x-amz-decoded-content-length` (aws-chunked).
    package static let lengthMismatch = AWSError(
        "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"
    )

    /// A chunk other than the last smaller than 8 KiB (S3's minimum chunk size).
    package static let invalidChunkSize = AWSError(
        "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes", status: 403
    )

    /// Trailing headers that are malformed, missing, or not the ones `x-amz-trailer` announced.
    package static let malformedTrailer = AWSError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema."
    )

    /// A flexible checksum (header or trailer) that does not match the data.
    package static func badDigest(_ algorithm: ChecksumAlgorithm) -> AWSError {
        AWSError("BadDigest", "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
    }

    /// A `Content-MD5` that does not match the data.
    package static let badContentMD5 = AWSError("BadDigest", "The Content-MD5 you specified did not match what we received.")

    /// A `Content-MD5` that is not the base64 of 16 bytes.
    package static let invalidContentMD5 = AWSError("InvalidDigest", "The Content-MD5 you specified was invalid.")

    /// A hex `x-amz-content-sha256` that is not the SHA-256 of the body.
    package static let contentSHA256Mismatch = AWSError(
        "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
    )

    /// An `x-amz-content-sha256` value S3 does not know.
    package static let invalidContentSHA256 = AWSError(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
    )

    /// A header-signed request without `x-amz-content-sha256`.
    package static let missingContentSHA256 = AWSError(
        "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
    )

    /// An aws-chunked upload without a valid `x-amz-decoded-content-length`.
    package static let missingContentLength = AWSError(
        "MissingContentLength", "You must provide the Content-Length HTTP header.", status: 411
    )

    /// An `x-amz-trailer` that names something other than one checksum.
    package static let unsupportedTrailer = AWSError(
        "InvalidRequest", "The value specified in the x-amz-trailer header is not supported"
    )

    /// More than one `x-amz-checksum-*` header.
    package static let multipleChecksums = AWSError(
        "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
    )

    /// An `x-amz-checksum-*` header together with a checksum trailer.
    package static let checksumHeaderAndTrailer = AWSError("InvalidRequest", "Expecting a single x-amz-checksum- header")

    /// A checksum header whose value is not the base64 of a digest of the algorithm's length.
    package static func invalidChecksumHeader(_ algorithm: ChecksumAlgorithm) -> AWSError {
        AWSError("InvalidRequest", "Value for \(algorithm.headerName) header is invalid.")
    }

    /// A checksum trailer whose value is not the base64 of a digest of the algorithm's length.
    package static func invalidChecksumTrailer(_ algorithm: ChecksumAlgorithm) -> AWSError {
        AWSError("InvalidRequest", "Value for \(algorithm.headerName) trailing header is invalid.")
    }

    /// `Content-Encoding: aws-chunked` with `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
    package static let unsignedPayloadWithAWSChunked = AWSError(
        "InvalidArgument", "aws-chunked encoding is not supported when x-amz-content-sha256 UNSIGNED-PAYLOAD is supplied"
    )

    /// A payload form Cairn does not implement (SigV4a streaming, XXHASH checksums).
    package static let notImplemented = AWSError(
        "NotImplemented", "A header you provided implies functionality that is not implemented", status: 501
    )
}
