import AWSCore
import Gateway
import HTTPTypes
import NIOCore

/// Reads an S3 request body through AWSCore's ``S3PayloadReader``: every payload form clients send (signed hex
/// SHA-256, `UNSIGNED-PAYLOAD`, aws-chunked with chunk signatures or trailing checksums), with Content-MD5 and
/// `x-amz-checksum-*` verification.
struct PayloadReader {
    private var reader: S3PayloadReader

    /// Prepares the checks the request's headers ask for. Every upload also gets a CRC64NVME, which S3 stores for
    /// new objects when the client sends no checksum of its own.
    init(_ request: S3Request) throws(AWSError) {
        var headers: [(name: String, value: String)] = []
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        reader = try S3PayloadReader(
            headers: S3PayloadHeaders(headers), authorization: request.auth.scopeDate.isEmpty ? nil : request.auth,
            signingKey: request.signingKey, additionalChecksums: [.crc64nvme])
    }

    /// Takes the next chunk of the body and returns the payload bytes it carries (unverified until ``finish()``).
    mutating func feed(_ buffer: ByteBuffer) throws(AWSError) -> ByteBuffer {
        try reader.feed(buffer) ?? ByteBuffer()
    }

    /// Ends the body: verifies what was declared and returns the summary.
    mutating func finish() throws(AWSError) -> PayloadSummary {
        try reader.finish()
    }
}

extension PayloadSummary {
    /// The checksum S3 keeps with the object: the one the client sent and Cairn verified, else the CRC64NVME S3
    /// computes by default.
    var storedChecksums: [String: String] {
        if let verified = verifiedChecksum, let value = checksum(verified) { return [verified.rawValue: value] }
        if let value = checksum(.crc64nvme) { return [ChecksumAlgorithm.crc64nvme.rawValue: value] }
        return [:]
    }
}
