import AWSCore
import NIOCore
import Testing

/// The S3 handler's payload façade: every form botocore sends, signed streaming bodies, and S3's errors.
@Suite("S3 payload reading")
struct S3PayloadReaderTests {
    /// A header-signed authorization, as the gateway has it after verification (for the unsigned and hex forms).
    static let headerAuth = try! SigV4Verifier.parseAuthorization(
        SigV4Request(
            method: "PUT", rawPath: "/bucket/key", rawQuery: "",
            headers: [
                ("x-amz-date", "20250314T150926Z"),
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(String(repeating: "0", count: 64))"
                ),
            ]
        )
    )

    /// A presigned authorization.
    static let presignedAuth = try! SigV4Verifier.parseAuthorization(
        SigV4Request(
            method: "PUT", rawPath: "/bucket/key",
            rawQuery:
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20250314%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250314T150926Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=\(String(repeating: "0", count: 64))",
            headers: []
        )
    )

    /// A reader for headers given as pairs, header-signed, without a signing key.
    func reader(_ headers: [(String, String)], auth: SigV4Authorization? = headerAuth, additional: [ChecksumAlgorithm] = [])
        throws(AWSError) -> S3PayloadReader
    {
        try S3PayloadReader(
            headers: S3PayloadHeaders(headers.map { (name: $0.0, value: $0.1) }), authorization: auth, signingKey: nil,
            additionalChecksums: additional
        )
    }

    /// Reads a whole body.
    func read(_ headers: [(String, String)], _ body: [UInt8], piece: Int = 0, additional: [ChecksumAlgorithm] = [])
        throws(AWSError) -> (data: [UInt8], summary: PayloadSummary)
    {
        var r = try reader(headers, additional: additional)
        return try Wire.read(&r, body, piece: piece)
    }

    // MARK: botocore

    @Test("every body boto3 sends reads back as the object data, its checksum verified", arguments: PayloadVectors.botocore)
    func botocoreBodies(vector: BodyVector) throws {
        let wire = vector.wire
        #expect(wire.count == vector.bodyLength)
        #expect(SigV4Verifier.payloadHash(wire) == vector.bodySHA256)  // the same bytes botocore sent
        if let body = vector.body { #expect(wire == body) }
        let algorithm = try #require(vector.header("x-amz-sdk-checksum-algorithm").flatMap { ChecksumAlgorithm(name: $0) })
        for piece in vector.bodyLength <= 6000 ? [0, 1, 64, 100_000] : [0, 65536, 1 << 20] {
            let (data, summary) = try read(vector.headers, wire, piece: piece)
            #expect(data == vector.data)
            #expect(summary.length == Int64(vector.data.count))
            #expect(summary.md5Hex == PayloadChecksum.of(vector.data, .md5).hexDigest())
            #expect(summary.verifiedChecksum == algorithm)
            #expect(summary.checksum(algorithm) == PayloadChecksum.of(vector.data, algorithm).base64Digest())
            if vector.trailers.isEmpty {
                #expect(summary.trailers.isEmpty)
                #expect(summary.checksum(algorithm) == vector.header(algorithm.headerName))
            } else {
                #expect(summary.form == .streamingUnsignedTrailer)
                #expect(summary.trailers == [HeaderField(algorithm.headerName, String(vector.trailers[0].split(separator: ":")[1]))])
            }
        }
    }

    @Test("a changed byte of a boto3 body is caught", arguments: PayloadVectors.botocore)
    func botocoreCorrupted(vector: BodyVector) throws {
        var data = vector.data
        guard !data.isEmpty else { return }
        data[data.count / 2] ^= 0x01
        let wire = vector.chunkSizes.isEmpty ? data : Wire.unsigned(data: data, chunkSizes: vector.chunkSizes, trailers: vector.trailers)
        let algorithm = try #require(vector.header("x-amz-sdk-checksum-algorithm").flatMap { ChecksumAlgorithm(name: $0) })
        let expected: AWSError =
            if vector.header("x-amz-content-sha256")?.count == 64 {
                S3PayloadError.contentSHA256Mismatch  // the signed payload hash is checked first
            } else {
                S3PayloadError.badDigest(algorithm)
            }
        #expect(throws: expected) { try read(vector.headers, wire, piece: 65536) }
    }

    // MARK: signed streaming

    @Test("signed aws-chunked bodies verify from the botocore seed signature", arguments: PayloadVectors.signed)
    func signedBodies(vector: SignedBodyVector) throws {
        let wire = vector.wire
        #expect(wire.count == vector.bodyLength)
        #expect(SigV4Verifier.payloadHash(wire) == vector.bodySHA256)
        let request = vector.request
        let auth = try SigV4Verifier.parseAuthorization(request)
        #expect(auth.signature == vector.seed)
        let contentSHA256 = try #require(request.header("x-amz-content-sha256"))
        try SigV4Verifier().verify(request, auth: auth, secret: PayloadVectors.secret, payloadHash: contentSHA256)
        let key = SigV4Verifier().signingKey(secret: PayloadVectors.secret, date: auth.scopeDate, region: auth.region, service: auth.service)
        for piece in [0, 1000, 1 << 20] {
            var reader = try S3PayloadReader(
                headers: S3PayloadHeaders(request.headers), authorization: auth, signingKey: key, additionalChecksums: [.crc64nvme]
            )
            let (data, summary) = try Wire.read(&reader, wire, piece: piece)
            #expect(data == vector.data)
            #expect(summary.length == Int64(vector.data.count))
            #expect(summary.checksum(.crc64nvme) == PayloadChecksum.of(vector.data, .crc64nvme).base64Digest())
            if vector.trailers.isEmpty {
                #expect(summary.form == .streamingSigned)
                #expect(summary.verifiedChecksum == nil)
            } else {
                #expect(summary.form == .streamingSignedTrailer)
                let name = String(vector.trailers[0].split(separator: ":")[0])
                #expect(summary.verifiedChecksum == ChecksumAlgorithm(headerName: name))
                #expect(summary.trailers.map(\.name) == [name])
            }
        }
        // The same body against another request's seed fails on the first chunk.
        var other = auth
        other.signature = String(repeating: "1", count: 64)
        var reader = try S3PayloadReader(headers: S3PayloadHeaders(request.headers), authorization: other, signingKey: key)
        #expect(throws: S3PayloadError.signatureDoesNotMatch) { try Wire.read(&reader, wire, piece: 0) }
    }

    @Test("AWS's signed example reads through the façade, content encoding and all")
    func awsExample() throws {
        let request = AWSExample.request
        let auth = try SigV4Verifier.parseAuthorization(request)
        var reader = try S3PayloadReader(headers: S3PayloadHeaders(request.headers), authorization: auth, signingKey: AWSExample.signingKey)
        let body = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.signatures, trailers: [])
        let (data, summary) = try Wire.read(&reader, body, piece: 8000)
        #expect(data == AWSExample.data)
        #expect(summary.md5Hex == PayloadChecksum.of(AWSExample.data, .md5).hexDigest())
        #expect(S3PayloadReader.storedContentEncoding("aws-chunked", form: summary.form) == nil)
        #expect(S3PayloadReader.storedContentEncoding("gzip, aws-chunked", form: summary.form) == "gzip")
        #expect(S3PayloadReader.storedContentEncoding("aws-chunked", form: .sha256(String(repeating: "0", count: 64))) == "aws-chunked")
    }

    @Test("signed streaming needs the header signature to seed the chain")
    func signedNeedsSeed() {
        let headers = [("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("x-amz-decoded-content-length", "5")]
        #expect(throws: S3PayloadError.signatureDoesNotMatch) { try reader(headers) }  // no signing key
        #expect(throws: S3PayloadError.signatureDoesNotMatch) { try reader(headers, auth: Self.presignedAuth) }
    }

    // MARK: lengths

    @Test("x-amz-decoded-content-length must equal the decoded bytes")
    func decodedLength() throws {
        let body = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        let form = ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        #expect(try read([form, ("x-amz-decoded-content-length", "5")], body).data == Array("hello".utf8))
        // Too few decoded bytes: at the end.
        #expect(throws: S3PayloadError.lengthMismatch) { try read([form, ("x-amz-decoded-content-length", "6")], body) }
        // Too many: as soon as they arrive, before the end of the body.
        var r = try reader([form, ("x-amz-decoded-content-length", "3")])
        #expect(throws: S3PayloadError.lengthMismatch) { try r.feed(ByteBuffer(string: "5\r\nhello")) }
        for value in [nil, "", "abc", "-1", "+5", "5 ", "99999999999999999999"] {
            var headers = [form]
            if let value { headers.append(("x-amz-decoded-content-length", value)) }
            #expect(throws: S3PayloadError.missingContentLength) { try reader(headers) }
        }
    }

    @Test("a plain body must have its Content-Length")
    func plainLength() throws {
        let unsigned = ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        #expect(try read([unsigned, ("content-length", "5")], Array("hello".utf8)).summary.length == 5)
        #expect(throws: S3PayloadError.lengthMismatch) { try read([unsigned, ("content-length", "6")], Array("hello".utf8)) }
        #expect(throws: S3PayloadError.lengthMismatch) { try read([unsigned, ("content-length", "4")], Array("hello".utf8)) }
        #expect(try read([unsigned], Array("hello".utf8)).summary.length == 5)  // no Content-Length: nothing to check
        let empty = try read([unsigned, ("content-length", "0")], [])
        #expect(empty.summary.md5Hex == "d41d8cd98f00b204e9800998ecf8427e")
    }

    // MARK: digests

    @Test("a hex x-amz-content-sha256 is checked against the body, in either case")
    func signedPayloadHash() throws {
        let body = Array("hello world".utf8)
        let hash = SigV4Verifier.payloadHash(body)
        #expect(try read([("x-amz-content-sha256", hash)], body).summary.form == .sha256(hash))
        #expect(try read([("x-amz-content-sha256", hash.uppercased())], body, piece: 3).data == body)
        #expect(throws: S3PayloadError.contentSHA256Mismatch) {
            try read([("x-amz-content-sha256", hash)], Array("hello World".utf8))
        }
    }

    @Test("Content-MD5 is checked, and must be the base64 of 16 bytes")
    func contentMD5() throws {
        let body = Array("hello".utf8)
        let md5 = PayloadChecksum.of(body, .md5).base64Digest()
        let unsigned = ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        #expect(try read([unsigned, ("content-md5", md5)], body).summary.md5Base64 == md5)
        #expect(throws: S3PayloadError.badContentMD5) { try read([unsigned, ("content-md5", md5)], Array("hellO".utf8)) }
        for bad in ["", "abc", "XUFAKrxLKna5cZ2REBfFkg", "XUFAKrxLKna5cZ2REBfFkgA=", "not base64!"] {
            #expect(throws: S3PayloadError.invalidContentMD5) { try reader([unsigned, ("content-md5", bad)]) }
        }
        // With aws-chunked, Content-MD5 covers the decoded data.
        let chunked = [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", "5"), ("content-md5", md5)]
        #expect(try read(chunked, Array("5\r\nhello\r\n0\r\n\r\n".utf8)).data == body)
    }

    @Test("a checksum header is verified: BadDigest names the algorithm", arguments: ChecksumAlgorithm.allCases)
    func checksumHeader(algorithm: ChecksumAlgorithm) throws {
        let body = PayloadVectors.pattern(10000)
        let value = PayloadChecksum.of(body, algorithm).base64Digest()
        let headers = [("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), (algorithm.headerName, value)]
        let summary = try read(headers, body, piece: 999).summary
        #expect(summary.verifiedChecksum == algorithm)
        #expect(summary.checksum(algorithm) == value)
        var changed = body
        changed[0] ^= 1
        #expect(throws: S3PayloadError.badDigest(algorithm)) { try read(headers, changed) }
        #expect(S3PayloadError.badDigest(algorithm).message == "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
    }

    @Test("a checksum trailer is verified against the decoded data")
    func checksumTrailer() throws {
        let headers = [
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", "5"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ]
        #expect(try read(headers, Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)).summary.verifiedChecksum == .crc32)
        #expect(throws: S3PayloadError.badDigest(.crc32)) {
            try read(headers, Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n".utf8))
        }
        #expect(S3PayloadError.badDigest(.crc32).message == "The CRC32 you specified did not match the calculated checksum.")
        for bad in ["NhCmhg", "NhCmhgAA", "", "*"] {
            #expect(throws: S3PayloadError.invalidChecksumTrailer(.crc32)) {
                try read(headers, Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:\(bad)\r\n\r\n".utf8))
            }
        }
        #expect(throws: S3PayloadError.malformedTrailer) { try read(headers, Array("5\r\nhello\r\n0\r\n\r\n".utf8)) }
    }

    @Test("extra checksums are computed for the handler to store")
    func additionalChecksums() throws {
        let body = PayloadVectors.pattern(5000)
        let summary = try read([("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], body, additional: [.crc64nvme, .sha256, .md5]).summary
        #expect(summary.verifiedChecksum == nil)
        #expect(summary.checksums.map(\.algorithm) == [.crc64nvme, .sha256])
        #expect(summary.checksum(.crc64nvme) == PayloadChecksum.of(body, .crc64nvme).base64Digest())
        #expect(summary.checksum(.md5) == PayloadChecksum.of(body, .md5).base64Digest())
        #expect(summary.checksum(.crc32) == nil)
        // x-amz-sdk-checksum-algorithm alone asks for that checksum too.
        let sdk = try read([("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("x-amz-sdk-checksum-algorithm", "CRC32C")], body).summary
        #expect(sdk.checksum(.crc32c) == PayloadChecksum.of(body, .crc32c).base64Digest())
    }

    // MARK: header errors

    @Test("x-amz-content-sha256 must be one of S3's values")
    func contentSHA256Values() throws {
        #expect(throws: S3PayloadError.missingContentSHA256) { try reader([]) }
        #expect(try reader([], auth: Self.presignedAuth).form == .unsigned)
        #expect(try reader([], auth: nil).form == .unsigned)
        for bad in ["", "unsigned-payload", "STREAMING-AWS4-HMAC-SHA256", String(repeating: "g", count: 64), String(repeating: "a", count: 63)] {
            #expect(throws: S3PayloadError.invalidContentSHA256) { try reader([("x-amz-content-sha256", bad)]) }
        }
        for sigv4a in ["STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"] {
            #expect(throws: S3PayloadError.notImplemented) { try reader([("x-amz-content-sha256", sigv4a), ("x-amz-decoded-content-length", "1")]) }
        }
        #expect(throws: S3PayloadError.unsignedPayloadWithAWSChunked) {
            try reader([("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("content-encoding", "gzip, aws-chunked")])
        }
        // A hex hash with Content-Encoding: aws-chunked is a plain body whose stored encoding is aws-chunked.
        let hash = SigV4Verifier.payloadHash(Array("x".utf8))
        #expect(try read([("x-amz-content-sha256", hash), ("content-encoding", "aws-chunked")], Array("x".utf8)).data == Array("x".utf8))
    }

    @Test("checksum headers and trailers: one, known, well formed")
    func checksumHeaderErrors() {
        let unsigned = ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        #expect(throws: S3PayloadError.multipleChecksums) {
            try reader([unsigned, ("x-amz-checksum-crc32", "NhCmhg=="), ("x-amz-checksum-sha1", "qvTGHdzF6KLavt4PO0gs2a6pQ00=")])
        }
        for bad in ["NhCmhg", "NhCmhgAA", "AAAAAAAAAAA=", "%%%%"] {
            #expect(throws: S3PayloadError.invalidChecksumHeader(.crc32)) { try reader([unsigned, ("x-amz-checksum-crc32", bad)]) }
        }
        #expect(S3PayloadError.invalidChecksumHeader(.crc32).message == "Value for x-amz-checksum-crc32 header is invalid.")
        #expect(throws: S3PayloadError.notImplemented) { try reader([unsigned, ("x-amz-checksum-xxhash64", "AAAAAAAAAAA=")]) }
        let streaming = [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", "5")]
        for trailer in ["x-amz-checksum-foo", "content-md5", "x-amz-checksum-crc32,x-amz-checksum-sha1"] {
            #expect(throws: S3PayloadError.unsupportedTrailer) { try reader(streaming + [("x-amz-trailer", trailer)]) }
        }
        #expect(throws: S3PayloadError.checksumHeaderAndTrailer) {
            try reader(streaming + [("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-checksum-sha1", "qvTGHdzF6KLavt4PO0gs2a6pQ00=")])
        }
        // The algorithm, mode and type headers are not checksums.
        #expect(throws: Never.self) {
            try reader([unsigned, ("x-amz-checksum-algorithm", "CRC32"), ("x-amz-checksum-type", "FULL_OBJECT"), ("x-amz-checksum-mode", "ENABLED")])
        }
    }

    @Test("the error codes, statuses and messages are S3's")
    func errorShapes() {
        #expect(S3PayloadError.signatureDoesNotMatch.status == 403)
        #expect(S3PayloadError.invalidChunkSize.status == 403)
        #expect(S3PayloadError.missingContentLength.status == 411)
        #expect(S3PayloadError.notImplemented.status == 501)
        for error in [
            S3PayloadError.bodyTerminated, S3PayloadError.lengthMismatch, S3PayloadError.malformedTrailer, S3PayloadError.badContentMD5,
            S3PayloadError.invalidContentMD5, S3PayloadError.contentSHA256Mismatch, S3PayloadError.invalidContentSHA256,
        ] {
            #expect(error.status == 400)
            #expect(error.isSenderFault)
        }
        #expect(S3PayloadError.lengthMismatch.code == "IncompleteBody")
        #expect(S3PayloadError.lengthMismatch.message == "You did not provide the number of bytes specified by the Content-Length HTTP header")
        #expect(S3PayloadError.badContentMD5.message == "The Content-MD5 you specified did not match what we received.")
        #expect(S3PayloadError.contentSHA256Mismatch.code == "XAmzContentSHA256Mismatch")
        #expect(S3PayloadError.contentSHA256Mismatch.message == "The provided 'x-amz-content-sha256' header does not match what was computed.")
    }

    @Test("an 8 MiB part in 64 KiB buffers reads in one pass with every digest")
    func largePart() throws {
        let data = PayloadVectors.pattern(8 * 1024 * 1024)
        let sizes = [Int](repeating: 1 << 20, count: 8)
        let crc = PayloadChecksum.of(data, .crc32).base64Digest()
        let body = Wire.unsigned(data: data, chunkSizes: sizes, trailers: ["x-amz-checksum-crc32:\(crc)"])
        let headers = [
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("x-amz-decoded-content-length", String(data.count)),
            ("x-amz-trailer", "x-amz-checksum-crc32"), ("content-md5", PayloadChecksum.of(data, .md5).base64Digest()),
        ]
        var r = try reader(headers, additional: [.crc64nvme])
        var length = 0
        for buffer in Wire.pieces(body, size: 65536) {
            if let out = try r.feed(buffer) { length += out.readableBytes }
        }
        let summary = try r.finish()
        #expect(length == data.count)
        #expect(summary.verifiedChecksum == .crc32)
        #expect(summary.md5Hex == PayloadChecksum.of(data, .md5).hexDigest())
    }
}
