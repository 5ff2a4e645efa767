package import Crypto
package import NIOCore

/// How a request body is sent, from its `x-amz-content-sha256` header.
package enum PayloadForm: Sendable, Hashable {
    /// A hex SHA-256 the client signed: the body must hash to it.
    case sha256(String)
    /// `UNSIGNED-PAYLOAD` (or no header on a presigned or anonymous request): the body as sent.
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, every chunk signed.
    case streamingSigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: aws-chunked, chunks and trailing headers signed.
    case streamingSignedTrailer
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked, unsigned, with trailing headers (botocore over HTTPS).
    case streamingUnsignedTrailer

    /// Whether the body is aws-chunked.
    package var isAWSChunked: Bool {
        switch self {
        case .sha256, .unsigned: false
        case .streamingSigned, .streamingSignedTrailer, .streamingUnsignedTrailer: true
        }
    }

    /// Whether the body ends with trailing headers.
    package var hasTrailer: Bool { self == .streamingSignedTrailer || self == .streamingUnsignedTrailer }

    /// Classifies an `x-amz-content-sha256` value.
    ///
    /// - Parameter headerSigned: whether the request is authenticated by an `Authorization` header, where S3
    ///   requires the header; presigned and anonymous requests without it are `unsigned`.
    /// - Throws: `InvalidRequest` when a header-signed request lacks it, `InvalidArgument` for an unknown value,
    ///   `NotImplemented` for the SigV4a (`ECDSA`) streaming forms.
    package static func parse(_ value: String?, headerSigned: Bool) throws(AWSError) -> PayloadForm {
        guard let value else {
            if headerSigned { throw S3PayloadError.missingContentSHA256 }
            return .unsigned
        }
        switch value {
        case "UNSIGNED-PAYLOAD": return .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": return .streamingSigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": return .streamingSignedTrailer
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": return .streamingUnsignedTrailer
        case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
            throw S3PayloadError.notImplemented
        default:
            guard value.utf8.count == 64, value.utf8.allSatisfy({ $0.isHexDigit }) else {
                throw S3PayloadError.invalidContentSHA256
            }
            return .sha256(value.lowercased())
        }
    }
}

extension UInt8 {
    /// Whether the byte is an ASCII hex digit.
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}

/// The request headers that decide how a body is read and checked.
package struct S3PayloadHeaders: Sendable, Hashable {
    /// `x-amz-content-sha256`.
    package var contentSHA256: String?
    /// `Content-Encoding`.
    package var contentEncoding: String?
    /// `Content-Length` (of the body as sent, framing included).
    package var contentLength: String?
    /// `x-amz-decoded-content-length`: the object size of an aws-chunked upload.
    package var decodedContentLength: String?
    /// `x-amz-trailer`: the trailing headers an aws-chunked body ends with.
    package var trailer: String?
    /// `Content-MD5`: base64 MD5 of the object data.
    package var contentMD5: String?
    /// `x-amz-sdk-checksum-algorithm`: the checksum the SDK computed (sent in a header or a trailer).
    package var sdkChecksumAlgorithm: String?
    /// The `x-amz-checksum-<algorithm>` headers (not `-algorithm`, `-mode` or `-type`), lower-case names.
    package var checksums: [HeaderField]

    /// Creates the header set from its values.
    package init(
        contentSHA256: String? = nil, contentEncoding: String? = nil, contentLength: String? = nil,
        decodedContentLength: String? = nil, trailer: String? = nil, contentMD5: String? = nil,
        sdkChecksumAlgorithm: String? = nil, checksums: [HeaderField] = []
    ) {
        self.contentSHA256 = contentSHA256
        self.contentEncoding = contentEncoding
        self.contentLength = contentLength
        self.decodedContentLength = decodedContentLength
        self.trailer = trailer
        self.contentMD5 = contentMD5
        self.sdkChecksumAlgorithm = sdkChecksumAlgorithm
        self.checksums = checksums
    }

    /// Picks the payload headers out of a request's headers (names in any case; the first of repeated ones).
    package init(_ headers: [(name: String, value: String)]) {
        self.init()
        for (rawName, value) in headers {
            let name = rawName.lowercased()
            switch name {
            case "x-amz-content-sha256": contentSHA256 = contentSHA256 ?? value
            case "content-encoding": contentEncoding = contentEncoding ?? value
            case "content-length": contentLength = contentLength ?? value
            case "x-amz-decoded-content-length": decodedContentLength = decodedContentLength ?? value
            case "x-amz-trailer": trailer = trailer ?? value
            case "content-md5": contentMD5 = contentMD5 ?? value
            case "x-amz-sdk-checksum-algorithm": sdkChecksumAlgorithm = sdkChecksumAlgorithm ?? value
            case "x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type": break
            default:
                if name.hasPrefix("x-amz-checksum-") { checksums.append(HeaderField(name, value)) }
            }
        }
    }
}

/// A checksum computed over a body: the algorithm and its base64 digest.
package struct ComputedChecksum: Sendable, Hashable {
    /// The algorithm.
    package var algorithm: ChecksumAlgorithm
    /// The base64 digest, as S3 returns it in `x-amz-checksum-<alg>`.
    package var base64: String
}

/// What ``S3PayloadReader/finish()`` found: everything the S3 handler stores or returns about the body.
package struct PayloadSummary: Sendable, Hashable {
    /// The form the body came in.
    package var form: PayloadForm
    /// The number of object bytes (after aws-chunked decoding).
    package var length: Int64
    /// The MD5 of the object bytes.
    package var md5: [UInt8]
    /// The checksums computed: the one the client sent (verified), then those asked for.
    package var checksums: [ComputedChecksum]
    /// The algorithm of the checksum the client sent in a header or trailer and that was verified, if any.
    package var verifiedChecksum: ChecksumAlgorithm?
    /// The trailing headers of an aws-chunked body, `x-amz-trailer-signature` left out.
    package var trailers: [HeaderField]

    /// The lower-case hex MD5: a single-part object's ETag, without quotes.
    package var md5Hex: String { Hex.encode(md5) }
    /// The base64 MD5, the form of `Content-MD5`.
    package var md5Base64: String { Base64.encode(md5) }

    /// The base64 digest of an algorithm, if it was computed (MD5 always is).
    package func checksum(_ algorithm: ChecksumAlgorithm) -> String? {
        if algorithm == .md5 { return md5Base64 }
        return checksums.first(where: { $0.algorithm == algorithm })?.base64
    }
}

/// Reads an S3 request body in every form clients send and checks it as S3 does; the S3 handler's one entry point
/// for PutObject and UploadPart bodies.
///
/// Built from the request's headers and its verified SigV4 authorization, it takes the body in NIO buffers of any
/// size (``feed(_:)`` returns the object bytes to write) and, at the end, ``finish()`` checks lengths, signatures
/// and digests and returns a ``PayloadSummary``:
/// - hex `x-amz-content-sha256`: the body must hash to it (`XAmzContentSHA256Mismatch`);
/// - `UNSIGNED-PAYLOAD`: taken as is;
/// - `STREAMING-*`: decoded by ``AWSChunkedDecoder`` (chunk and trailer signatures checked), and the decoded length
///   must equal `x-amz-decoded-content-length` (`IncompleteBody`);
/// - `Content-Length` of a plain body must match (`IncompleteBody`); `Content-MD5` (`BadDigest`); one
///   `x-amz-checksum-*` header or the checksum trailer `x-amz-trailer` names (`BadDigest`, "The CRC32 you specified
///   did not match the calculated checksum.").
///
/// Nothing ``feed(_:)`` returned is verified until ``finish()`` returns: on any error, discard what was written.
/// Memory stays bounded whatever the body size: the hashes are incremental and only aws-chunked header and trailer
/// lines are buffered.
package struct S3PayloadReader: Sendable {
    /// The form the body comes in.
    package let form: PayloadForm
    private var decoder: AWSChunkedDecoder?
    private var md5 = PayloadChecksum(.md5)
    private var sha256: PayloadChecksum?
    private var checksums: [PayloadChecksum]
    private let expectedLength: Int64?
    private let contentMD5: [UInt8]?
    private let headerChecksum: (algorithm: ChecksumAlgorithm, digest: [UInt8])?
    private let trailerChecksum: ChecksumAlgorithm?
    private var length: Int64 = 0

    /// Checks the payload headers and prepares to read the body.
    ///
    /// `x-amz-trailer` is read for the trailer forms only; `Content-Encoding: aws-chunked` with a hex SHA-256 is a plain
    /// body (S3 stores that encoding as sent).
    ///
    /// - Parameters:
    ///   - headers: the request's payload headers.
    ///   - authorization: the request's verified SigV4 authorization (`nil` for anonymous requests). Its signature
    ///     seeds the chunk signature chain of the signed streaming forms.
    ///   - signingKey: the SigV4 signing key of that authorization (`SigV4Verifier.signingKey`); required by the
    ///     signed streaming forms.
    ///   - additionalChecksums: checksums to compute besides the one the client sent, e.g. `[.crc64nvme]`, the one
    ///     S3 computes for objects uploaded without one.
    ///   - minimumChunkSize: S3's minimum size of every aws-chunked data chunk but the last (0 turns it off).
    /// - Throws: the `AWSError` S3 answers for malformed payload headers (see ``S3PayloadError``).
    package init(
        headers: S3PayloadHeaders, authorization: SigV4Authorization?, signingKey: SymmetricKey?,
        additionalChecksums: [ChecksumAlgorithm] = [], minimumChunkSize: Int64 = 8192
    ) throws(AWSError) {
        let headerSigned = authorization.map { !$0.isPresigned } ?? false
        let form = try PayloadForm.parse(headers.contentSHA256, headerSigned: headerSigned)
        self.form = form

        let encodings = (headers.contentEncoding ?? "").split(separator: ",").map {
            $0.trimmingBlanks().lowercased()
        }
        if form == .unsigned, encodings.contains("aws-chunked") {
            throw S3PayloadError.unsignedPayloadWithAWSChunked
        }

        if form.isAWSChunked {
            guard let text = headers.decodedContentLength, let value = Self.parseLength(text) else {
                throw S3PayloadError.missingContentLength
            }
            expectedLength = value
        } else {
            expectedLength = headers.contentLength.flatMap(Self.parseLength)
        }

        if let text = headers.contentMD5 {
            guard let digest = Base64.decode(text.trimmingBlanks()), digest.count == 16 else {
                throw S3PayloadError.invalidContentMD5
            }
            contentMD5 = digest
        } else {
            contentMD5 = nil
        }

        var sent: (algorithm: ChecksumAlgorithm, digest: [UInt8])?
        for field in headers.checksums {
            guard let algorithm = ChecksumAlgorithm(headerName: field.name) else {
                if ChecksumAlgorithm.unsupportedNames.contains(String(field.name.dropFirst("x-amz-checksum-".count))) {
                    throw S3PayloadError.notImplemented
                }
                continue
            }
            guard sent == nil else { throw S3PayloadError.multipleChecksums }
            guard let digest = Base64.decode(field.value.trimmingBlanks()),
                digest.count == algorithm.digestLength
            else { throw S3PayloadError.invalidChecksumHeader(algorithm) }
            sent = (algorithm, digest)
        }
        headerChecksum = sent

        var trailerNames: [String] = []
        var trailerAlgorithm: ChecksumAlgorithm?
        if form.hasTrailer, let text = headers.trailer {
            trailerNames = text.split(separator: ",").map { $0.trimmingBlanks().lowercased() }
                .filter { !$0.isEmpty }
            for name in trailerNames {
                guard let algorithm = ChecksumAlgorithm(headerName: name) else {
                    if name.hasPrefix("x-amz-checksum-"),
                        ChecksumAlgorithm.unsupportedNames.contains(String(name.dropFirst("x-amz-checksum-".count)))
                    {
                        throw S3PayloadError.notImplemented
                    }
                    throw S3PayloadError.unsupportedTrailer
                }
                guard trailerAlgorithm == nil else { throw S3PayloadError.unsupportedTrailer }
                trailerAlgorithm = algorithm
            }
            if trailerAlgorithm != nil, sent != nil { throw S3PayloadError.checksumHeaderAndTrailer }
        }
        trailerChecksum = trailerAlgorithm

        var wanted: [ChecksumAlgorithm] = []
        for algorithm in [sent?.algorithm, trailerAlgorithm, headers.sdkChecksumAlgorithm.flatMap { ChecksumAlgorithm(name: $0) }]
            .compactMap({ $0 }) + additionalChecksums
        where algorithm != .md5 && !wanted.contains(algorithm) {
            wanted.append(algorithm)
        }
        checksums = wanted.map(PayloadChecksum.init)
        if case .sha256 = form { sha256 = PayloadChecksum(.sha256) }

        switch form {
        case .sha256, .unsigned:
            decoder = nil
        case .streamingSigned, .streamingSignedTrailer:
            // Chunk signatures chain from the Authorization header's signature: without one they cannot be checked.
            guard let authorization, !authorization.isPresigned, let signingKey else {
                throw S3PayloadError.signatureDoesNotMatch
            }
            let context = ChunkSigningContext(authorization: authorization, signingKey: signingKey)
            decoder = AWSChunkedDecoder(
                framing: form == .streamingSigned ? .signed(context) : .signedWithTrailer(context),
                expectedTrailers: trailerNames, minimumChunkSize: minimumChunkSize
            )
        case .streamingUnsignedTrailer:
            decoder = AWSChunkedDecoder(
                framing: .unsignedWithTrailer, expectedTrailers: trailerNames, minimumChunkSize: minimumChunkSize
            )
        }
    }

    /// Reads the next body buffer and returns the object bytes in it (`nil` when it holds none).
    ///
    /// - Throws: framing and chunk-signature errors of aws-chunked bodies, and `IncompleteBody` as soon as more
    ///   bytes arrive than the declared length.
    package mutating func feed(_ buffer: ByteBuffer) throws(AWSError) -> ByteBuffer? {
        let data: ByteBuffer?
        if decoder != nil {
            data = try decoder!.feed(buffer)
        } else {
            data = buffer.readableBytes > 0 ? buffer : nil
        }
        guard let data else { return nil }
        length += Int64(data.readableBytes)
        if let expectedLength, length > expectedLength { throw S3PayloadError.lengthMismatch }
        data.withUnsafeReadableBytes { bytes in
            md5.update(bytes)
            sha256?.update(bytes)
            for i in checksums.indices { checksums[i].update(bytes) }
        }
        return data
    }

    /// Checks the end of the body and everything that depends on all of it, and summarizes it.
    ///
    /// Checks, in order: the aws-chunked end and trailers (``AWSChunkedDecoder/finish()``), the length, the signed
    /// SHA-256, `Content-MD5`, and the checksum header or trailer.
    package mutating func finish() throws(AWSError) -> PayloadSummary {
        let trailers = try decoder?.finish() ?? []
        if let expectedLength, length != expectedLength { throw S3PayloadError.lengthMismatch }
        if case .sha256(let expected) = form, let sha256, sha256.hexDigest() != expected {
            throw S3PayloadError.contentSHA256Mismatch
        }
        let md5Digest = md5.digest()
        if let contentMD5, contentMD5 != md5Digest { throw S3PayloadError.badContentMD5 }
        var verified: ChecksumAlgorithm?
        if let headerChecksum {
            guard digest(of: headerChecksum.algorithm) == headerChecksum.digest else {
                throw S3PayloadError.badDigest(headerChecksum.algorithm)
            }
            verified = headerChecksum.algorithm
        }
        if let trailerChecksum, let field = trailers.first(where: { $0.name == trailerChecksum.headerName }) {
            guard let sent = Base64.decode(field.value), sent.count == trailerChecksum.digestLength else {
                throw S3PayloadError.invalidChecksumTrailer(trailerChecksum)
            }
            guard digest(of: trailerChecksum) == sent else { throw S3PayloadError.badDigest(trailerChecksum) }
            verified = trailerChecksum
        }
        return PayloadSummary(
            form: form, length: length, md5: md5Digest,
            checksums: checksums.map { ComputedChecksum(algorithm: $0.algorithm, base64: $0.base64Digest()) },
            verifiedChecksum: verified, trailers: trailers
        )
    }

    /// The `Content-Encoding` S3 stores for the object: `aws-chunked` is a transfer detail of the streaming forms
    /// and is dropped from them (and the header with it when nothing else is left); other forms keep it as sent.
    package static func storedContentEncoding(_ value: String?, form: PayloadForm) -> String? {
        guard let value, form.isAWSChunked else { return value }
        let rest = value.split(separator: ",").map { $0.trimmingBlanks() }
            .filter { !$0.isEmpty && $0.lowercased() != "aws-chunked" }
        return rest.isEmpty ? nil : rest.joined(separator: ",")
    }

    /// The binary digest computed for an algorithm, if it was computed.
    private func digest(of algorithm: ChecksumAlgorithm) -> [UInt8]? {
        if algorithm == .md5 { return md5.digest() }
        return checksums.first(where: { $0.algorithm == algorithm })?.digest()
    }

    /// A non-negative decimal length, digits only.
    private static func parseLength(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int64(text)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    fileprivate func trimmingBlanks() -> String {
        var text = Substring(String(self))
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
