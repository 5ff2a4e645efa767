package import Crypto
package import NIOCore

/// One `name:value` pair of a request header or an aws-chunked trailer (name in lower case).
package struct HeaderField: Sendable, Hashable {
    /// The lower-case name.
    package var name: String
    /// The value, trimmed.
    package var value: String

    /// Creates a field.
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What the chunk and trailer signatures of a signed aws-chunked body are computed with: the request's SigV4
/// signing key, time and scope, and the seed signature (the `Authorization` header's) that starts the chain.
///
/// From https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and `sigv4-streaming-trailers.html`:
/// ```
/// chunk:   "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previousSignature + "\n"
///          + hex(sha256("")) + "\n" + hex(sha256(chunkData))
/// trailer: "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previousSignature + "\n"
///          + hex(sha256(trailers))
/// ```
/// where `trailers` is every trailing header but `x-amz-trailer-signature` as `name:value\n`, sorted by name (the
/// form the AWS CRT signs; checked against its published vector `df5735bd…` for `first`/`second`/`third`), and each
/// signature is `hex(HMAC-SHA256(signingKey, stringToSign))`.
package struct ChunkSigningContext: Sendable {
    /// `hex(sha256(""))`, the fixed fifth line of a chunk's string to sign.
    package static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The SigV4 signing key of the request's credential scope.
    package var signingKey: SymmetricKey
    /// The request time, `YYYYMMDDTHHMMSSZ`.
    package var amzDate: String
    /// `<date>/<region>/<service>/aws4_request`.
    package var credentialScope: String
    /// The `Signature` of the request's `Authorization` header, lower-case hex.
    package var seedSignature: String

    /// Creates a context from its parts.
    package init(signingKey: SymmetricKey, amzDate: String, credentialScope: String, seedSignature: String) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.credentialScope = credentialScope
        self.seedSignature = seedSignature.lowercased()
    }

    /// Creates the context of a request whose header signature has been verified.
    package init(authorization: SigV4Authorization, signingKey: SymmetricKey) {
        self.init(
            signingKey: signingKey, amzDate: authorization.amzDate, credentialScope: authorization.credentialScope,
            seedSignature: authorization.signature
        )
    }

    /// The signature of a chunk whose data has the given hex SHA-256.
    package func chunkSignature(previous: String, chunkSHA256: String) -> String {
        sign("AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(credentialScope)\n\(previous)\n\(Self.emptySHA256)\n\(chunkSHA256)")
    }

    /// The signature of the trailing headers, given in their canonical form (`name:value\n` each, sorted).
    package func trailerSignature(previous: String, canonicalTrailers: String) -> String {
        let hash = Hex.encode(SHA256.hash(data: Array(canonicalTrailers.utf8)))
        return sign("AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(credentialScope)\n\(previous)\n\(hash)")
    }

    /// The canonical form of trailing headers: `name:value\n` for each, sorted by name.
    package static func canonicalTrailers(_ trailers: [HeaderField]) -> String {
        trailers.sorted { $0.name < $1.name }.map { "\($0.name):\($0.value)\n" }.joined()
    }

    /// `hex(HMAC-SHA256(signingKey, stringToSign))`.
    private func sign(_ stringToSign: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey))
    }
}

/// An incremental decoder of `aws-chunked` request bodies (`x-amz-content-sha256: STREAMING-*`).
///
/// Body grammar (S3 API Reference, sigv4-streaming and sigv4-streaming-trailers; botocore's `AwsChunkedWrapper`):
/// ```
/// signed:           (hex-size ";chunk-signature=" sig64 CRLF data CRLF)* "0;chunk-signature=" sig64 CRLF trailer-part CRLF
/// unsigned-trailer: (hex-size CRLF data CRLF)* "0" CRLF trailer-part CRLF
/// trailer-part:     (name ":" value CRLF)*     ("x-amz-trailer-signature:" sig64 CRLF last, in the signed form)
/// ```
/// Feed it the body in buffers of any size; chunk boundaries may fall anywhere, including inside chunk headers,
/// CRLFs and trailer lines. Memory is bounded: data passes through as slices of the input (or one copy when a buffer
/// holds several data runs), only a header or trailer line is accumulated (at most ``maximumLineLength`` bytes, and
/// ``maximumTrailerBytes`` for the trailer part), and chunk hashes are incremental.
///
/// Each chunk signature is checked when the chunk's data is complete, so the bytes ``feed(_:)`` returns are
/// authenticated only once ``finish()`` returns: a caller that writes them out must discard them on any error.
/// After an error the decoder is unusable.
///
/// Framing errors are S3's `IncompleteBody` ("The request body terminated unexpectedly"); chunk and trailer
/// signature mismatches `SignatureDoesNotMatch` (403); bad trailers `MalformedTrailerError`; a data chunk smaller than
/// ``minimumChunkSize`` followed by another data chunk `InvalidChunkSizeError` (see ``S3PayloadError``).
package struct AWSChunkedDecoder: Sendable {
    /// The three aws-chunked forms.
    package enum Framing: Sendable {
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: signed chunks, no trailer.
        case signed(ChunkSigningContext)
        /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and signed trailing headers.
        case signedWithTrailer(ChunkSigningContext)
        /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks and unsigned trailing headers (what botocore sends).
        case unsignedWithTrailer
    }

    /// The longest chunk header or trailer line accepted, CRLF included.
    package static let maximumLineLength = 4096
    /// The most trailer bytes accepted.
    package static let maximumTrailerBytes = 16 * 1024

    private enum State: Sendable {
        case header
        case data(remaining: Int64)
        case dataEnd(seenCR: Bool)
        case trailer
        case done
        case failed

        /// Whether lines being read belong to the trailer part.
        var isTrailer: Bool {
            if case .trailer = self { return true }
            return false
        }
    }

    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A
    private static let signaturePrefix: [UInt8] = Array(";chunk-signature=".utf8)

    private let signing: ChunkSigningContext?
    private let hasTrailer: Bool
    private let expectedTrailers: [String]
    /// Data chunks other than the last must hold at least this many bytes (S3: 8192; 0 turns the check off).
    package let minimumChunkSize: Int64

    private var state: State = .header
    private var line: [UInt8] = []
    private var previousSignature: String
    private var sentChunkSignature = ""
    private var chunkHash = SHA256()
    private var previousChunkSize: Int64?
    private var trailerBytes = 0
    private var blankBeforeTrailers = false
    private var trailers: [HeaderField] = []
    private var trailerSignature: String?

    /// The number of data bytes decoded so far.
    package private(set) var decodedByteCount: Int64 = 0
    /// The number of chunks whose header has been read, the final zero-length chunk included.
    package private(set) var chunkCount = 0

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - framing: the form, from `x-amz-content-sha256`.
    ///   - expectedTrailers: the lower-case names `x-amz-trailer` announced; the body must carry exactly these.
    ///   - minimumChunkSize: S3's 8 KiB minimum for every data chunk but the last; 0 disables the check.
    package init(framing: Framing, expectedTrailers: [String] = [], minimumChunkSize: Int64 = 8192) {
        switch framing {
        case .signed(let context):
            signing = context
            hasTrailer = false
        case .signedWithTrailer(let context):
            signing = context
            hasTrailer = true
        case .unsignedWithTrailer:
            signing = nil
            hasTrailer = true
        }
        self.expectedTrailers = expectedTrailers
        self.minimumChunkSize = minimumChunkSize
        previousSignature = signing?.seedSignature ?? ""
        line.reserveCapacity(128)
    }

    /// Decodes the next bytes of the body and returns the data bytes among them (`nil` when there are none).
    ///
    /// The result is a slice of `input` when the buffer holds one run of data, or a new buffer when it holds several.
    package mutating func feed(_ input: ByteBuffer) throws(AWSError) -> ByteBuffer? {
        var output = Output()
        let failure: AWSError? = input.withUnsafeReadableBytes { raw in process(raw, &output) }
        if let failure {
            state = .failed
            throw failure
        }
        if let merged = output.merged { return merged }
        if let run = output.first { return input.getSlice(at: input.readerIndex + run.lowerBound, length: run.count) }
        return nil
    }

    /// Checks that the body ended where the encoding ends, that the announced trailers came and that their signature
    /// matches, and returns the trailing headers (without `x-amz-trailer-signature`).
    ///
    /// A body whose trailer part lacks only its final CRLF is accepted (some SDKs have sent that).
    package mutating func finish() throws(AWSError) -> [HeaderField] {
        switch state {
        case .done:
            break
        case .trailer where hasTrailer && line.isEmpty && (!trailers.isEmpty || trailerSignature != nil || blankBeforeTrailers):
            state = .done
        default:
            state = .failed
            throw S3PayloadError.bodyTerminated
        }
        for name in expectedTrailers where !trailers.contains(where: { $0.name == name }) {
            throw S3PayloadError.malformedTrailer
        }
        if let signing, hasTrailer, !trailers.isEmpty || trailerSignature != nil {
            let expected = signing.trailerSignature(
                previous: previousSignature, canonicalTrailers: ChunkSigningContext.canonicalTrailers(trailers)
            )
            guard let sent = trailerSignature, SigV4Verifier.constantTimeEquals(expected, sent) else {
                throw S3PayloadError.signatureDoesNotMatch
            }
        }
        return trailers
    }

    // MARK: Parsing

    /// Where the data runs of one input buffer go: the first run as a range, later ones copied with it.
    private struct Output {
        var first: Range<Int>?
        var merged: ByteBuffer?

        /// Records a run of data bytes of `raw`.
        mutating func emit(_ run: Range<Int>, _ raw: UnsafeRawBufferPointer) {
            if merged != nil {
                merged!.writeBytes(UnsafeRawBufferPointer(rebasing: raw[run]))
            } else if let first {
                var buffer = ByteBufferAllocator().buffer(capacity: raw.count)
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[first]))
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[run]))
                merged = buffer
            } else {
                first = run
            }
        }
    }

    /// Runs the state machine over one input buffer; returns the error that stops it, if any.
    private mutating func process(_ raw: UnsafeRawBufferPointer, _ output: inout Output) -> AWSError? {
        var i = 0
        let count = raw.count
        while i < count {
            switch state {
            case .header, .trailer:
                var j = i
                while j < count, raw[j] != Self.lf { j += 1 }
                if line.count + (j - i) >= Self.maximumLineLength {
                    return state.isTrailer ? S3PayloadError.malformedTrailer : S3PayloadError.bodyTerminated
                }
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<j]))
                guard j < count else { return nil }
                i = j + 1
                guard line.last == Self.cr else {
                    return state.isTrailer ? S3PayloadError.malformedTrailer : S3PayloadError.bodyTerminated
                }
                line.removeLast()
                let failure = state.isTrailer ? trailerLine() : headerLine()
                line.removeAll(keepingCapacity: true)
                if let failure { return failure }
            case .data(let remaining):
                let take = Int(min(remaining, Int64(count - i)))
                let run = i..<(i + take)
                if signing != nil { chunkHash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[run])) }
                output.emit(run, raw)
                decodedByteCount += Int64(take)
                i += take
                if remaining == Int64(take) {
                    if let failure = endOfChunkData() { return failure }
                    state = .dataEnd(seenCR: false)
                } else {
                    state = .data(remaining: remaining - Int64(take))
                }
            case .dataEnd(let seenCR):
                let byte = raw[i]
                i += 1
                guard byte == (seenCR ? Self.lf : Self.cr) else { return S3PayloadError.bodyTerminated }
                state = seenCR ? .header : .dataEnd(seenCR: true)
            case .done, .failed:
                return S3PayloadError.bodyTerminated
            }
        }
        return nil
    }

    /// Parses a chunk header (`line`, without CRLF): the hex size, then the signature or nothing.
    private mutating func headerLine() -> AWSError? {
        var size: Int64 = 0
        var k = 0
        while k < line.count, let digit = Self.hexValue(line[k]) {
            guard k < 15 else { return S3PayloadError.bodyTerminated }
            size = size << 4 | Int64(digit)
            k += 1
        }
        guard k > 0 else { return S3PayloadError.bodyTerminated }
        let rest = line[k...]
        if signing != nil {
            let prefix = Self.signaturePrefix
            guard rest.count == prefix.count + 64, rest.starts(with: prefix),
                rest.dropFirst(prefix.count).allSatisfy({ Self.hexValue($0) != nil })
            else { return S3PayloadError.bodyTerminated }
            sentChunkSignature = String(decoding: rest.dropFirst(prefix.count), as: UTF8.self).lowercased()
            chunkHash = SHA256()
        } else if let first = rest.first, first != UInt8(ascii: ";") {
            return S3PayloadError.bodyTerminated
        }
        chunkCount += 1
        if size == 0 {
            if let failure = endOfChunkData() { return failure }
            state = .trailer
            return nil
        }
        if let previous = previousChunkSize, previous < minimumChunkSize { return S3PayloadError.invalidChunkSize }
        previousChunkSize = size
        state = .data(remaining: size)
        return nil
    }

    /// Checks the signature of the chunk whose data just ended, and makes it the previous signature.
    private mutating func endOfChunkData() -> AWSError? {
        guard let signing else { return nil }
        let expected = signing.chunkSignature(previous: previousSignature, chunkSHA256: Hex.encode(chunkHash.finalize()))
        guard SigV4Verifier.constantTimeEquals(expected, sentChunkSignature) else {
            return S3PayloadError.signatureDoesNotMatch
        }
        previousSignature = expected
        return nil
    }

    /// Handles one line of the trailer part (`line`, without CRLF).
    private mutating func trailerLine() -> AWSError? {
        if line.isEmpty {
            // Some writers put the zero-length chunk's empty data line ("0;chunk-signature=…\r\n\r\n") before the
            // trailers; tolerate one blank line there when trailers are announced and none came yet.
            if hasTrailer, !expectedTrailers.isEmpty, trailers.isEmpty, trailerSignature == nil, !blankBeforeTrailers {
                blankBeforeTrailers = true
                return nil
            }
            state = .done
            return nil
        }
        guard hasTrailer else { return S3PayloadError.bodyTerminated }
        trailerBytes += line.count + 2
        guard trailerBytes <= Self.maximumTrailerBytes, let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return S3PayloadError.malformedTrailer
        }
        let name = Self.trimmed(line[..<colon]).lowercased()
        let value = Self.trimmed(line[(colon + 1)...])
        guard !name.isEmpty else { return S3PayloadError.malformedTrailer }
        if name == "x-amz-trailer-signature" {
            guard signing != nil, trailerSignature == nil else { return S3PayloadError.malformedTrailer }
            trailerSignature = value.lowercased()
            return nil
        }
        guard expectedTrailers.contains(name), !trailers.contains(where: { $0.name == name }) else {
            return S3PayloadError.malformedTrailer
        }
        trailers.append(HeaderField(name, value))
        return nil
    }

    /// The value of an ASCII hex digit.
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes as text without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}
