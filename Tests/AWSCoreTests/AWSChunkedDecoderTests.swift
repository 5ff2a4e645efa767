import AWSCore
import NIOCore
import Testing

/// Decoding of aws-chunked bodies: AWS's published examples, signatures, framing errors and buffer boundaries.
@Suite("aws-chunked decoding")
struct AWSChunkedDecoderTests {
    static let pieceSizes = [0, 1, 2, 5, 64, 4096, 65537, 1 << 20]

    // MARK: AWS's example

    @Test("the example's seed signatures verify with SigV4Verifier")
    func exampleSeeds() throws {
        let verifier = SigV4Verifier()
        for (request, payload) in [
            (AWSExample.request, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            (AWSExample.trailerRequest, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
        ] {
            let auth = try SigV4Verifier.parseAuthorization(request)
            try verifier.verify(request, auth: auth, secret: AWSExample.secret, payloadHash: payload)
        }
    }

    @Test("the example's chunk and trailer signatures are computed as AWS documents them")
    func exampleSignatures() {
        let context = AWSExample.context
        var previous = AWSExample.seed
        for (size, expected) in zip(AWSExample.chunkSizes + [0], AWSExample.signatures) {
            let hash = SigV4Verifier.payloadHash([UInt8](repeating: UInt8(ascii: "a"), count: size))
            previous = context.chunkSignature(previous: previous, chunkSHA256: hash)
            #expect(previous == expected)
        }
        // The AWS CRT's trailing-header vector (aws-crt-swift ChunkSignerTests) fixes the canonical form.
        let crt = context.trailerSignature(
            previous: AWSExample.signatures[2],
            canonicalTrailers: ChunkSigningContext.canonicalTrailers([
                HeaderField("third", "3rd"), HeaderField("first", "1st"), HeaderField("second", "2nd"),
            ])
        )
        #expect(crt == "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c")
    }

    @Test("the signed example decodes, whatever the buffer boundaries", arguments: AWSChunkedDecoderTests.pieceSizes)
    func signedExample(piece: Int) throws {
        let body = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.signatures, trailers: [])
        #expect(body.count == 66824)  // the example's Content-Length
        var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
        let (data, trailers) = try Wire.decode(&decoder, body, piece: piece)
        #expect(data == AWSExample.data)
        #expect(trailers.isEmpty)
        #expect(decoder.decodedByteCount == 66560)
        #expect(decoder.chunkCount == 3)
    }

    @Test("the signed trailer example decodes and returns its checksum trailer", arguments: AWSChunkedDecoderTests.pieceSizes)
    func signedTrailerExample(piece: Int) throws {
        let body = Wire.signed(
            data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.trailerSignatures,
            trailers: AWSExample.trailers
        )
        var decoder = AWSChunkedDecoder(framing: .signedWithTrailer(AWSExample.trailerContext), expectedTrailers: ["x-amz-checksum-crc32c"])
        let (data, trailers) = try Wire.decode(&decoder, body, piece: piece)
        #expect(data == AWSExample.data)
        #expect(trailers == [HeaderField("x-amz-checksum-crc32c", "sOO8/Q==")])
        #expect(PayloadChecksum.of(data, .crc32c).base64Digest() == "sOO8/Q==")
    }

    @Test("a blank line between the final chunk and the trailers is tolerated")
    func blankBeforeTrailers() throws {
        let body = Wire.signed(
            data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.trailerSignatures,
            trailers: AWSExample.trailers, blankBeforeTrailers: true
        )
        var decoder = AWSChunkedDecoder(framing: .signedWithTrailer(AWSExample.trailerContext), expectedTrailers: ["x-amz-checksum-crc32c"])
        let (data, trailers) = try Wire.decode(&decoder, body, piece: 0)
        #expect(data == AWSExample.data)
        #expect(trailers.count == 1)
    }

    // MARK: Signature failures

    @Test("a changed data byte breaks that chunk's signature", arguments: [10, 65536 + 100])
    func changedData(offset: Int) {
        var data = AWSExample.data
        data[offset] = UInt8(ascii: "b")
        let body = Wire.signed(data: data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.signatures, trailers: [])
        var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
        #expect(throws: S3PayloadError.signatureDoesNotMatch) { try Wire.decode(&decoder, body, piece: 4096) }
    }

    @Test("a changed, reordered or wrong-key signature is a mismatch")
    func changedSignatures() {
        let s = AWSExample.signatures
        let bad = "f" + s[1].dropFirst()
        for signatures in [[s[0], bad, s[2]], [s[1], s[0], s[2]], [s[0], s[1], s[1]], [s[0], s[1], s[2].uppercased().replacingA()]] {
            let body = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: signatures, trailers: [])
            var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
            #expect(throws: S3PayloadError.signatureDoesNotMatch) { try Wire.decode(&decoder, body, piece: 0) }
        }
        // Signatures are compared case-insensitively, as hex.
        let upper = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: s.map { $0.uppercased() }, trailers: [])
        var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
        #expect(throws: Never.self) { try Wire.decode(&decoder, upper, piece: 0) }
        // Another seed (another request) breaks the first chunk.
        let other = ChunkSigningContext(
            signingKey: AWSExample.signingKey, amzDate: AWSExample.amzDate, credentialScope: AWSExample.scope,
            seedSignature: AWSExample.trailerSeed
        )
        let body = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: s, trailers: [])
        var wrongSeed = AWSChunkedDecoder(framing: .signed(other))
        #expect(throws: S3PayloadError.signatureDoesNotMatch) { try Wire.decode(&wrongSeed, body, piece: 0) }
    }

    @Test("a changed trailer value or trailer signature is a mismatch")
    func changedTrailer() {
        let cases: [[String]] = [
            ["x-amz-checksum-crc32c:AAAAAA==", AWSExample.trailers[1]],
            [AWSExample.trailers[0], "x-amz-trailer-signature:" + String(repeating: "0", count: 64)],
            [AWSExample.trailers[0]],
        ]
        for trailers in cases {
            let body = Wire.signed(
                data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: AWSExample.trailerSignatures, trailers: trailers
            )
            var decoder = AWSChunkedDecoder(framing: .signedWithTrailer(AWSExample.trailerContext), expectedTrailers: ["x-amz-checksum-crc32c"])
            #expect(throws: S3PayloadError.signatureDoesNotMatch) { try Wire.decode(&decoder, body, piece: 0) }
        }
    }

    // MARK: Framing

    /// Decodes an unsigned body given as text (`\r\n` written out), with no minimum chunk size.
    func decodeUnsigned(_ text: String, trailers: [String] = [], minimum: Int64 = 0, piece: Int = 0) throws(AWSError) -> [UInt8] {
        var decoder = AWSChunkedDecoder(framing: .unsignedWithTrailer, expectedTrailers: trailers, minimumChunkSize: minimum)
        return try Wire.decode(&decoder, Array(text.utf8), piece: piece).data
    }

    @Test("well-formed unsigned bodies decode", arguments: [0, 1, 3, 100])
    func unsignedBodies(piece: Int) throws {
        #expect(try decodeUnsigned("5\r\nhello\r\n0\r\n\r\n", piece: piece) == Array("hello".utf8))
        #expect(try decodeUnsigned("0\r\n\r\n", piece: piece).isEmpty)
        #expect(try decodeUnsigned("3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", piece: piece) == Array("hello".utf8))
        #expect(try decodeUnsigned("A\r\n0123456789\r\n0\r\n\r\n", piece: piece) == Array("0123456789".utf8))
        #expect(try decodeUnsigned("0005\r\nhello\r\n0\r\n\r\n", piece: piece) == Array("hello".utf8))
        // Chunk extensions other than a signature are ignored, as in HTTP chunked encoding.
        #expect(try decodeUnsigned("5;ext=1\r\nhello\r\n0\r\n\r\n", piece: piece) == Array("hello".utf8))
        let text = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"
        #expect(try decodeUnsigned(text, trailers: ["x-amz-checksum-crc32"], piece: piece) == Array("hello".utf8))
        // Trailer names are case-insensitive and values are trimmed.
        var decoder = AWSChunkedDecoder(framing: .unsignedWithTrailer, expectedTrailers: ["x-amz-checksum-crc32"], minimumChunkSize: 0)
        let decoded = try Wire.decode(&decoder, Array("5\r\nhello\r\n0\r\nX-Amz-Checksum-CRC32: NhCmhg== \r\n\r\n".utf8), piece: piece)
        #expect(decoded.trailers == [HeaderField("x-amz-checksum-crc32", "NhCmhg==")])
    }

    @Test("a trailer part without its final CRLF is accepted")
    func missingFinalCRLF() throws {
        let text = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n"
        #expect(try decodeUnsigned(text, trailers: ["x-amz-checksum-crc32"]) == Array("hello".utf8))
    }

    @Test(
        "malformed framing is IncompleteBody: the request body terminated unexpectedly",
        arguments: [
            "5\r\nhelloX\r\n0\r\n\r\n",  // no CRLF after the data
            "5\r\nhello\n0\r\n\r\n",  // LF alone
            "5\nhello\r\n0\r\n\r\n",  // header ended by LF alone
            "zz\r\nhello\r\n0\r\n\r\n",  // not hex
            "\r\nhello\r\n0\r\n\r\n",  // no size
            ";x\r\nhello\r\n0\r\n\r\n",  // no size before an extension
            "5 \r\nhello\r\n0\r\n\r\n",  // junk after the size
            "1000000000000000\r\n",  // a size of 16 hex digits
            "5\r\nhel",  // ends inside the data
            "5\r\nhello\r",  // ends inside the CRLF
            "5\r\nhello\r\n",  // ends before the final chunk
            "5\r\nhello\r\n0\r\n",  // ends before the end of the trailer part
            "5\r\nhello\r\n0",  // ends inside the final chunk header
            "5\r\nhello\r\n0\r\n\r\nextra",  // bytes after the end
            "4\r\nhello\r\n0\r\n\r\n",  // size smaller than the data
        ]
    )
    func malformedFraming(text: String) {
        for piece in [0, 1, 1000] {
            #expect(throws: S3PayloadError.bodyTerminated) { try decodeUnsigned(text, piece: piece) }
        }
    }

    @Test("a chunk header longer than 4 KiB is refused before it is all read")
    func longHeader() {
        let text = String(repeating: "0", count: 5000)
        #expect(throws: S3PayloadError.bodyTerminated) { try decodeUnsigned(text, piece: 100) }
    }

    @Test("a signed body needs a well-formed chunk-signature on every chunk")
    func signedHeaders() {
        let s = AWSExample.signatures
        let good = Wire.signed(data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: s, trailers: [])
        let text = String(decoding: good, as: UTF8.self)
        let broken = [
            text.replacingFirst("10000;chunk-signature=", with: "10000\r\n"),  // no signature
            text.replacingFirst(";chunk-signature=", with: ";chunk-signatur="),
            text.replacingFirst(";chunk-signature=\(s[0])", with: ";chunk-signature=\(s[0].dropLast())"),  // 63 digits
            text.replacingFirst(";chunk-signature=\(s[0])", with: ";chunk-signature=\(s[0])0"),  // 65 digits
            text.replacingFirst(";chunk-signature=\(s[0])", with: ";chunk-signature=\(s[0].dropLast())g"),  // not hex
        ]
        for body in broken {
            var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
            #expect(throws: S3PayloadError.bodyTerminated) { try Wire.decode(&decoder, Array(body.utf8), piece: 0) }
        }
        // Trailing headers in a form without trailers are framing errors too.
        let withTrailer = Wire.signed(
            data: AWSExample.data, chunkSizes: AWSExample.chunkSizes, signatures: s, trailers: ["x-amz-checksum-crc32:AAAAAA=="]
        )
        var decoder = AWSChunkedDecoder(framing: .signed(AWSExample.context))
        #expect(throws: S3PayloadError.bodyTerminated) { try Wire.decode(&decoder, withTrailer, piece: 0) }
    }

    @Test("trailers must be the announced ones, well formed, once each")
    func malformedTrailers() {
        let bad: [(String, [String])] = [
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", []),  // not announced
            ("5\r\nhello\r\n0\r\nx-amz-checksum-sha1:NhCmhg==\r\n\r\n", ["x-amz-checksum-crc32"]),  // another one
            ("5\r\nhello\r\n0\r\n\r\n", ["x-amz-checksum-crc32"]),  // missing
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32 NhCmhg==\r\n\r\n", ["x-amz-checksum-crc32"]),  // no colon
            ("5\r\nhello\r\n0\r\n:NhCmhg==\r\n\r\n", ["x-amz-checksum-crc32"]),  // no name
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", ["x-amz-checksum-crc32"]),
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:00\r\n\r\n", ["x-amz-checksum-crc32"]),
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\n\r\n", ["x-amz-checksum-crc32"]),  // LF alone
            ("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + String(repeating: "A", count: 5000) + "\r\n\r\n", ["x-amz-checksum-crc32"]),
        ]
        for (text, trailers) in bad {
            #expect(throws: S3PayloadError.malformedTrailer) { try decodeUnsigned(text, trailers: trailers, piece: 7) }
        }
    }

    @Test("only the last data chunk may be smaller than 8 KiB")
    func minimumChunkSize() throws {
        let small = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
        #expect(throws: S3PayloadError.invalidChunkSize) { try decodeUnsigned(small, minimum: 8192) }
        #expect(try decodeUnsigned(small, minimum: 0) == Array("abcdef".utf8))
        #expect(try decodeUnsigned("3\r\nabc\r\n0\r\n\r\n", minimum: 8192) == Array("abc".utf8))
        let data = [UInt8](repeating: 1, count: 8195)
        let body = Wire.unsigned(data: data, chunkSizes: [8192, 3], trailers: [])
        var decoder = AWSChunkedDecoder(framing: .unsignedWithTrailer)
        #expect(try Wire.decode(&decoder, body, piece: 1000).data == data)
        let tooSmall = Wire.unsigned(data: data, chunkSizes: [8191, 4], trailers: [])
        var strict = AWSChunkedDecoder(framing: .unsignedWithTrailer)
        #expect(throws: S3PayloadError.invalidChunkSize) { try Wire.decode(&strict, tooSmall, piece: 1000) }
    }

    @Test("data passes through as a slice of the input when a buffer holds one data run")
    func zeroCopy() throws {
        var decoder = AWSChunkedDecoder(framing: .unsignedWithTrailer, minimumChunkSize: 0)
        #expect(try decoder.feed(ByteBuffer(string: "5\r\n")) == nil)
        let out = try decoder.feed(ByteBuffer(string: "hel"))
        #expect(out == ByteBuffer(string: "hel"))
        // Two runs in one buffer come back as one buffer.
        #expect(try decoder.feed(ByteBuffer(string: "lo\r\n2\r\n!!\r\n0\r\n\r\n")) == ByteBuffer(string: "lo!!"))
        #expect(try decoder.finish().isEmpty)
        #expect(decoder.decodedByteCount == 7)
    }
}

extension String {
    /// The text with its first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }

    /// The text with every `A` made `B` (turns a valid upper-case signature into another hex string).
    func replacingA() -> String { String(map { $0 == "A" ? "B" : $0 }) }
}
