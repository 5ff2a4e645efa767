import AWSCore
import Crypto
import Foundation
import Gateway
import NIOCore

/// What an upload's body turned out to be once it was read and checked.
struct PayloadSummary: Sendable {
    /// Decoded length in bytes.
    var length: Int64
    /// MD5 of the decoded bytes, hex (the ETag of a single-part object).
    var md5Hex: String
    /// Raw MD5 digest bytes (for multipart ETags).
    var md5: [UInt8]
    /// Additional checksums by algorithm name (`CRC32`, ...), base64.
    var checksums: [String: String]
}

/// Reads an S3 request body and checks it against what the request declared.
struct PayloadReader {
    private var sha256: SHA256?
    private var declaredSHA256: String?
    private var md5 = Insecure.MD5()
    private var length: Int64 = 0
    private let contentMD5: String?
    private let declaredChecksums: [String: String]

    /// Prepares the checks the request's headers ask for.
    init(_ request: S3Request) throws(AWSError) {
        let declared = request.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD"
        if declared.hasPrefix("STREAMING-") {
            throw AWSError("NotImplemented", "A header you provided implies functionality that is not implemented", status: 501)
        }
        if declared != "UNSIGNED-PAYLOAD" {
            guard declared.utf8.count == 64, declared.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw AWSError(
                    "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
                    details: ["ArgumentName": "x-amz-content-sha256", "ArgumentValue": declared])
            }
            sha256 = SHA256()
            declaredSHA256 = declared
        }
        contentMD5 = request.header("content-md5")
        var checksums: [String: String] = [:]
        for name in ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] {
            if let value = request.header("x-amz-checksum-" + name.lowercased()) { checksums[name] = value }
        }
        declaredChecksums = checksums
    }

    /// Takes the next chunk of the body and returns the payload bytes it carries.
    mutating func feed(_ buffer: ByteBuffer) throws(AWSError) -> ByteBuffer {
        buffer.withUnsafeReadableBytes { bytes in
            md5.update(bufferPointer: bytes)
            sha256?.update(bufferPointer: bytes)
        }
        length += Int64(buffer.readableBytes)
        return buffer
    }

    /// Ends the body: verifies the declared hashes and returns the summary.
    mutating func finish() throws(AWSError) -> PayloadSummary {
        let md5 = Array(self.md5.finalize())
        if let declaredSHA256, let sha256 {
            guard Hex.encode(Array(sha256.finalize())) == declaredSHA256 else {
                throw AWSError(
                    "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    details: ["ClientComputedContentSHA256": declaredSHA256])
            }
        }
        if let contentMD5 {
            guard let decoded = Data(base64Encoded: contentMD5), decoded.count == 16 else {
                throw AWSError("InvalidDigest", "The Content-MD5 you specified was invalid.", details: ["Content-MD5": contentMD5])
            }
            guard Array(decoded) == md5 else {
                throw AWSError(
                    "BadDigest", "The Content-MD5 you specified did not match what we received.",
                    details: ["ExpectedDigest": Hex.encode(Array(decoded))])
            }
        }
        return PayloadSummary(length: length, md5Hex: Hex.encode(md5), md5: md5, checksums: declaredChecksums)
    }
}
