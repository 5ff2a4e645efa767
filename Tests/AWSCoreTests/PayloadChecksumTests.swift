import AWSCore
import NIOCore
import Testing

/// One input and its digests as botocore computes them (see `PayloadVectors`).
struct ChecksumVector: Sendable, CustomTestStringConvertible {
    /// A short label.
    var name: String
    /// The input.
    var data: [UInt8]
    /// The base64 digest per algorithm name (`CRC32`, ..., `MD5`).
    var base64: [String: String]
    /// The hex MD5.
    var md5Hex: String

    var testDescription: String { name }
}

/// The checksums of `PayloadChecksum` and the CRC tables under them.
@Suite("Payload checksums")
struct PayloadChecksumTests {
    @Test("every digest equals botocore's", arguments: PayloadVectors.checksums)
    func matchesBotocore(vector: ChecksumVector) {
        for algorithm in ChecksumAlgorithm.allCases {
            let checksum = PayloadChecksum.of(vector.data, algorithm)
            #expect(checksum.base64Digest() == vector.base64[algorithm.rawValue], "\(algorithm)")
            #expect(checksum.digest().count == algorithm.digestLength)
        }
        #expect(PayloadChecksum.of(vector.data, .md5).hexDigest() == vector.md5Hex)
    }

    @Test("the CRCs give the published check values for \"123456789\"")
    func checkValues() {
        let input = Array("123456789".utf8)
        func value(_ algorithm: ChecksumAlgorithm) -> UInt64 {
            PayloadChecksum.of(input, algorithm).digest().reduce(0) { $0 << 8 | UInt64($1) }
        }
        #expect(value(.crc32) == 0xCBF4_3926)  // zlib
        #expect(value(.crc32c) == 0xE306_9283)  // RFC 3720 B.4
        #expect(value(.crc64nvme) == 0xAE8B_1486_0A79_9888)  // AWS checksum documentation
        input.withUnsafeBytes { bytes in
            #expect(CRC.crc32(0, bytes) == 0xCBF4_3926)
            #expect(CRC.crc32c(0, bytes) == 0xE306_9283)
            #expect(CRC.crc64nvme(0, bytes) == 0xAE8B_1486_0A79_9888)
        }
    }

    @Test("feeding in pieces of any size gives the one-shot digest", arguments: ChecksumAlgorithm.allCases)
    func incremental(algorithm: ChecksumAlgorithm) {
        let data = PayloadVectors.pattern(3001)
        let whole = PayloadChecksum.of(data, algorithm).digest()
        for split in 0...70 {
            var checksum = PayloadChecksum(algorithm)
            checksum.update(Array(data[..<split]))
            checksum.update(Array(data[split...]))
            #expect(checksum.digest() == whole, "split at \(split)")
        }
        for piece in [1, 3, 7, 8, 9, 15, 16, 17, 1000] {
            var checksum = PayloadChecksum(algorithm)
            var start = 0
            while start < data.count {
                let end = min(start + piece, data.count)
                checksum.update(ByteBuffer(bytes: data[start..<end]))
                start = end
            }
            #expect(checksum.digest() == whole, "pieces of \(piece)")
        }
    }

    @Test("an 8 MiB part is checksummed in one pass, fed in 64 KiB buffers")
    func largePart() {
        let data = PayloadVectors.pattern(8 * 1024 * 1024)
        var crc = PayloadChecksum(.crc64nvme)
        var md5 = PayloadChecksum(.md5)
        var offset = 0
        while offset < data.count {
            let buffer = ByteBuffer(bytes: data[offset..<min(offset + 65536, data.count)])
            crc.update(buffer)
            md5.update(buffer)
            offset += 65536
        }
        #expect(crc.digest() == PayloadChecksum.of(data, .crc64nvme).digest())
        #expect(md5.hexDigest() == PayloadChecksum.of(data, .md5).hexDigest())
    }

    @Test("algorithm names parse from S3's spellings")
    func names() {
        #expect(ChecksumAlgorithm(name: "crc64nvme") == .crc64nvme)
        #expect(ChecksumAlgorithm(name: "SHA256") == .sha256)
        #expect(ChecksumAlgorithm(headerName: "X-Amz-Checksum-CRC32C") == .crc32c)
        #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-xxhash64") == nil)
        #expect(ChecksumAlgorithm(headerName: "x-amz-trailer") == nil)
        #expect(ChecksumAlgorithm.crc32.headerName == "x-amz-checksum-crc32")
    }
}

/// The strict base64 of digests.
@Suite("Base64")
struct Base64Tests {
    @Test("encodes like RFC 4648 and decodes back")
    func roundTrip() {
        let cases: [(String, String)] = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in cases {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        let all = (0..<256).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(all)) == all)
    }

    @Test("rejects what is not canonical base64", arguments: ["Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zg==Zg==", "Zm-v", "Zm_v"])
    func rejects(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
