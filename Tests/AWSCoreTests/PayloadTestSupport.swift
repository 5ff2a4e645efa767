import AWSCore
import Crypto
import NIOCore
import Testing

/// A request boto3 made, captured before sending (see `PayloadVectors.botocore`).
struct BodyVector: Sendable, CustomTestStringConvertible {
    /// The operation and transport.
    var name: String
    /// The payload headers as sent (lower-case names).
    var headers: [(String, String)]
    /// The object data.
    var data: [UInt8]
    /// The aws-chunked data chunk sizes (empty for plain bodies).
    var chunkSizes: [Int]
    /// The trailer lines, without CRLF.
    var trailers: [String]
    /// The body as sent, when small.
    var body: [UInt8]?
    /// The length of the body as sent.
    var bodyLength: Int
    /// The hex SHA-256 of the body as sent.
    var bodySHA256: String

    var testDescription: String { name }

    /// The first value of a header.
    func header(_ name: String) -> String? { headers.first(where: { $0.0 == name })?.1 }

    /// The body on the wire, rebuilt from the data and botocore's framing.
    var wire: [UInt8] {
        chunkSizes.isEmpty && trailers.isEmpty && header("x-amz-content-sha256")?.hasPrefix("STREAMING-") != true
            ? data : Wire.unsigned(data: data, chunkSizes: chunkSizes, trailers: trailers)
    }
}

/// A signed aws-chunked request (see `PayloadVectors.signed`).
struct SignedBodyVector: Sendable, CustomTestStringConvertible {
    /// A short label.
    var name: String
    /// Every header as sent (lower-case names), `authorization` included.
    var headers: [(String, String)]
    /// The seed signature.
    var seed: String
    /// The object data.
    var data: [UInt8]
    /// The data chunk sizes.
    var chunkSizes: [Int]
    /// The signature of each chunk, the final empty one included.
    var chunkSignatures: [String]
    /// The trailer lines, the trailer signature included.
    var trailers: [String]
    /// The length of the body as sent.
    var bodyLength: Int
    /// The hex SHA-256 of the body as sent.
    var bodySHA256: String

    var testDescription: String { name }

    /// The request as the verifier sees it.
    var request: SigV4Request {
        SigV4Request(method: "PUT", rawPath: "/bucket/signed-key", rawQuery: "", headers: headers.map { (name: $0.0, value: $0.1) })
    }

    /// The body on the wire.
    var wire: [UInt8] {
        Wire.signed(data: data, chunkSizes: chunkSizes, signatures: chunkSignatures, trailers: trailers)
    }
}

/// Builds and feeds aws-chunked bodies.
enum Wire {
    /// An unsigned aws-chunked body, laid out as botocore's `AwsChunkedWrapper` writes it.
    static func unsigned(data: [UInt8], chunkSizes: [Int], trailers: [String], finalCRLF: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        for size in chunkSizes {
            out += Array("\(String(size, radix: 16))\r\n".utf8)
            out += data[offset..<(offset + size)]
            out += Array("\r\n".utf8)
            offset += size
        }
        out += Array("0\r\n".utf8)
        for line in trailers { out += Array("\(line)\r\n".utf8) }
        if finalCRLF { out += Array("\r\n".utf8) }
        return out
    }

    /// A signed aws-chunked body: `signatures` has one more entry than `chunkSizes`, for the final empty chunk.
    static func signed(
        data: [UInt8], chunkSizes: [Int], signatures: [String], trailers: [String], blankBeforeTrailers: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        for (size, signature) in zip(chunkSizes + [0], signatures) {
            out += Array("\(String(size, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            if size > 0 {
                out += data[offset..<(offset + size)]
                out += Array("\r\n".utf8)
            }
            offset += size
        }
        if blankBeforeTrailers { out += Array("\r\n".utf8) }
        for line in trailers { out += Array("\(line)\r\n".utf8) }
        out += Array("\r\n".utf8)
        return out
    }

    /// Cuts a body into buffers of `size` bytes; size 0 means the cycle 1, 2, ..., 17 bytes, which puts buffer
    /// boundaries at every offset of chunk headers, CRLFs and trailer lines.
    static func pieces(_ body: [UInt8], size: Int) -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        var offset = 0
        var step = 1
        while offset < body.count {
            let length = size > 0 ? size : step
            step = step % 17 + 1
            let end = min(offset + length, body.count)
            out.append(ByteBuffer(bytes: body[offset..<end]))
            offset = end
        }
        return out
    }

    /// Decodes a whole body fed in pieces and returns the data and the trailers.
    static func decode(
        _ decoder: inout AWSChunkedDecoder, _ body: [UInt8], piece: Int
    ) throws(AWSError) -> (data: [UInt8], trailers: [HeaderField]) {
        var data: [UInt8] = []
        for buffer in pieces(body, size: piece) {
            if let out = try decoder.feed(buffer) { data += out.readableBytesView }
        }
        return (data, try decoder.finish())
    }

    /// Reads a whole body fed in pieces and returns the data and the summary.
    static func read(
        _ reader: inout S3PayloadReader, _ body: [UInt8], piece: Int
    ) throws(AWSError) -> (data: [UInt8], summary: PayloadSummary) {
        var data: [UInt8] = []
        for buffer in pieces(body, size: piece) {
            if let out = try reader.feed(buffer) { data += out.readableBytesView }
        }
        return (data, try reader.finish())
    }
}

/// The example of AWS's S3 API Reference, "Signature Calculations for the Authorization Header: Transferring Payload
/// in Multiple Chunks (Chunked Upload)" and its trailing-header sibling: 66,560 bytes of `a` in chunks of 65,536,
/// 1,024 and 0 bytes, PUT to `/examplebucket/chunkObject.txt` at 20130524T000000Z.
enum AWSExample {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let amzDate = "20130524T000000Z"
    static let scope = "20130524/us-east-1/s3/aws4_request"
    static let data = [UInt8](repeating: UInt8(ascii: "a"), count: 66560)
    static let chunkSizes = [65536, 1024]

    /// The signing key of the example.
    static var signingKey: SymmetricKey {
        SigV4Verifier.deriveSigningKey(secret: secret, date: "20130524", region: "us-east-1", service: "s3")
    }

    /// The seed signature of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` and its chunk signatures.
    static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let signatures = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]

    /// The seed signature of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with `x-amz-trailer:
    /// x-amz-checksum-crc32c`, its chunk signatures and the trailer and its signature.
    static let trailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    static let trailerSignatures = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ]
    static let trailers = [
        "x-amz-checksum-crc32c:sOO8/Q==",
        "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
    ]

    /// The example's request headers, with the given content SHA-256 value and extra headers.
    static func headers(contentSHA256: String, extra: [(String, String)], signature: String) -> [(name: String, value: String)] {
        let signed =
            ([
                "content-encoding", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-decoded-content-length",
                "x-amz-storage-class",
            ] + extra.map { $0.0 } + (contentSHA256.hasSuffix("TRAILER") ? [] : ["content-length"])).sorted()
        var headers: [(name: String, value: String)] = [
            ("host", "s3.amazonaws.com"), ("x-amz-date", amzDate), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("content-encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"),
            ("x-amz-content-sha256", contentSHA256),
        ]
        if !contentSHA256.hasSuffix("TRAILER") { headers.append(("content-length", "66824")) }
        headers += extra.map { (name: $0.0, value: $0.1) }
        headers.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/\(scope),SignedHeaders=\(signed.joined(separator: ";")),Signature=\(signature)"
            ))
        return headers
    }

    /// The request of the plain chunked example.
    static var request: SigV4Request {
        SigV4Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
            headers: headers(contentSHA256: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", extra: [], signature: seed)
        )
    }

    /// The request of the trailer example.
    static var trailerRequest: SigV4Request {
        SigV4Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
            headers: headers(
                contentSHA256: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", extra: [("x-amz-trailer", "x-amz-checksum-crc32c")],
                signature: trailerSeed
            )
        )
    }

    /// The chunk-signing context of the plain example.
    static var context: ChunkSigningContext {
        ChunkSigningContext(signingKey: signingKey, amzDate: amzDate, credentialScope: scope, seedSignature: seed)
    }

    /// The chunk-signing context of the trailer example.
    static var trailerContext: ChunkSigningContext {
        ChunkSigningContext(signingKey: signingKey, amzDate: amzDate, credentialScope: scope, seedSignature: trailerSeed)
    }
}
