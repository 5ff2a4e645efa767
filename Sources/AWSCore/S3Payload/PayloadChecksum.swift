import Crypto
package import NIOCore

/// A checksum algorithm S3 accepts for object data, as named by `x-amz-sdk-checksum-algorithm` and the
/// `x-amz-checksum-<name>` headers and trailers (botocore's `ChecksumAlgorithm` enum, less the XXHASH family, which
/// Cairn does not implement).
package enum ChecksumAlgorithm: String, Sendable, Hashable, CaseIterable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha512 = "SHA512"
    case md5 = "MD5"

    /// The algorithms botocore knows but Cairn does not compute (`x-amz-checksum-xxhash64`, ...).
    package static let unsupportedNames: Set<String> = ["xxhash64", "xxhash3", "xxhash128"]

    /// Parses an algorithm name in any case (`crc32`, `CRC32`).
    package init?(name: some StringProtocol) {
        self.init(rawValue: name.uppercased())
    }

    /// Parses a header or trailer name (`x-amz-checksum-crc32`, any case).
    package init?(headerName: some StringProtocol) {
        let lower = headerName.lowercased()
        let prefix = "x-amz-checksum-"
        guard lower.hasPrefix(prefix) else { return nil }
        self.init(name: lower.dropFirst(prefix.count))
    }

    /// The header and trailer name: `x-amz-checksum-crc32`.
    package var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    /// The length of the binary digest.
    package var digestLength: Int {
        switch self {
        case .crc32, .crc32c: 4
        case .crc64nvme: 8
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        case .md5: 16
        }
    }
}

/// An incremental checksum of object data, producing the digest S3 puts in `x-amz-checksum-<alg>` (base64 of the
/// big-endian CRC or of the hash) and, for MD5, the hex ETag and the base64 `Content-MD5`.
///
/// CRCs use ``CRC``'s slice-by-8 tables; the hashes are swift-crypto's. Feeding takes raw buffer views, so a
/// request body is hashed where NIO put it, without copies.
package struct PayloadChecksum: Sendable {
    /// The algorithm.
    package let algorithm: ChecksumAlgorithm
    private var crc32: UInt32 = 0
    private var crc64: UInt64 = 0
    private var sha1: Insecure.SHA1?
    private var sha256: SHA256?
    private var sha512: SHA512?
    private var md5: Insecure.MD5?

    /// Starts an empty checksum.
    package init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32, .crc32c, .crc64nvme: break
        case .sha1: sha1 = Insecure.SHA1()
        case .sha256: sha256 = SHA256()
        case .sha512: sha512 = SHA512()
        case .md5: md5 = Insecure.MD5()
        }
    }

    /// Feeds bytes.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .crc32: crc32 = CRC.crc32(crc32, bytes)
        case .crc32c: crc32 = CRC.crc32c(crc32, bytes)
        case .crc64nvme: crc64 = CRC.crc64nvme(crc64, bytes)
        case .sha1: sha1?.update(bufferPointer: bytes)
        case .sha256: sha256?.update(bufferPointer: bytes)
        case .sha512: sha512?.update(bufferPointer: bytes)
        case .md5: md5?.update(bufferPointer: bytes)
        }
    }

    /// Feeds the readable bytes of a buffer (its reader index is not moved).
    package mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    /// Feeds an array of bytes.
    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The binary digest of everything fed so far (CRCs big-endian, as S3 and botocore encode them).
    package func digest() -> [UInt8] {
        switch algorithm {
        case .crc32, .crc32c: withUnsafeBytes(of: crc32.bigEndian) { Array($0) }
        case .crc64nvme: withUnsafeBytes(of: crc64.bigEndian) { Array($0) }
        case .sha1: sha1.map { Array($0.finalize()) } ?? []
        case .sha256: sha256.map { Array($0.finalize()) } ?? []
        case .sha512: sha512.map { Array($0.finalize()) } ?? []
        case .md5: md5.map { Array($0.finalize()) } ?? []
        }
    }

    /// The base64 digest, the value of `x-amz-checksum-<alg>` (and of `Content-MD5` for MD5).
    package func base64Digest() -> String { Base64.encode(digest()) }

    /// The lower-case hex digest (the ETag of a single-part object for MD5).
    package func hexDigest() -> String { Hex.encode(digest()) }

    /// The checksum of one byte string.
    package static func of(_ bytes: [UInt8], _ algorithm: ChecksumAlgorithm) -> PayloadChecksum {
        var checksum = PayloadChecksum(algorithm)
        checksum.update(bytes)
        return checksum
    }
}
