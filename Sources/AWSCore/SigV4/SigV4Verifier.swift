package import Crypto
import Synchronization

/// Verifies AWS Signature Version 4 on incoming requests, in the Authorization header or as a presigned query.
///
/// Verification follows the stages of AWS's documentation
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): parse the authorization,
/// build the canonical request, the string to sign, derive the signing key and compare signatures in constant time.
/// Signing keys are cached per secret, date, region and service (``SigningKeyCache``), so a steady stream of requests
/// costs two SHA-256 digests and one HMAC each.
package final class SigV4Verifier: Sendable {
    /// The allowed distance between the request time and the server clock (AWS: 15 minutes).
    package static let maximumSkew: Int64 = 15 * 60

    private let keys = SigningKeyCache()

    /// Creates a verifier.
    package init() {}

    // MARK: Stage 0: parse

    /// Extracts the authorization data of a request (header or presigned query).
    ///
    /// - Throws: ``SigV4Failure/missingAuthentication`` when there is none, ``SigV4Failure/incompleteSignature(_:)``
    ///   when it is malformed.
    package static func parseAuthorization(_ request: SigV4Request) throws(SigV4Failure) -> SigV4Authorization {
        if let header = request.header("authorization") {
            if let amzDate = request.header("x-amz-date"),
                let auth = parseHeaderFast(header, amzDate: amzDate, sessionToken: request.header("x-amz-security-token"))
            {
                return auth
            }
            return try parseHeader(header, request: request)
        }
        if request.rawQuery.contains("X-Amz-Signature=") || request.rawQuery.contains("X-Amz-Credential=") {
            return try parsePresigned(request)
        }
        throw .missingAuthentication
    }

    static func parseHeader(_ header: String, request: SigV4Request) throws(SigV4Failure) -> SigV4Authorization {
        let prefix = "AWS4-HMAC-SHA256 "
        guard header.hasPrefix(prefix) else {
            if header.hasPrefix("AWS ") {
                throw .incompleteSignature("Signature Version 2 is not supported; use AWS4-HMAC-SHA256.")
            }
            throw .incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=\(header)")
        }
        var credential: Substring?
        var signedHeaders: Substring?
        var signature: Substring?
        for part in header.dropFirst(prefix.count).split(separator: ",") {
            let item = part.drop(while: { $0 == " " })
            if item.hasPrefix("Credential=") {
                credential = item.dropFirst("Credential=".count)
            } else if item.hasPrefix("SignedHeaders=") {
                signedHeaders = item.dropFirst("SignedHeaders=".count)
            } else if item.hasPrefix("Signature=") {
                signature = item.dropFirst("Signature=".count)
            }
        }
        guard let credential else {
            throw .incompleteSignature("Authorization header requires 'Credential' parameter. Authorization=\(header)")
        }
        guard let signedHeaders else {
            throw .incompleteSignature("Authorization header requires 'SignedHeaders' parameter. Authorization=\(header)")
        }
        guard let signature else {
            throw .incompleteSignature("Authorization header requires 'Signature' parameter. Authorization=\(header)")
        }
        guard let amzDate = request.header("x-amz-date") else {
            throw .incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=\(header)")
        }
        return try build(
            credential: credential, signedHeaders: signedHeaders, signature: signature, amzDate: amzDate,
            sessionToken: request.header("x-amz-security-token"), expires: nil
        )
    }

    /// Parses a well-formed, all-ASCII `Authorization` header over its bytes, as an SDK sends it on every call; nil
    /// for anything else, which ``parseHeader(_:request:)`` then parses (and words the error of).
    ///
    /// It accepts exactly what ``parseHeader(_:request:)`` accepts without error, and returns the same result: the
    /// comma-separated parts after the algorithm, leading spaces dropped, the last of each of `Credential=`,
    /// `SignedHeaders=` and `Signature=` taken, other parts ignored; a five-part credential scope ending in
    /// `aws4_request` whose date starts `X-Amz-Date`. (The general parser works on `Character`s and took about a
    /// tenth of a DescribeTrails call's CPU.)
    static func parseHeaderFast(_ header: String, amzDate: String, sessionToken: String?) -> SigV4Authorization? {
        guard let requestTime = Timestamp.parseAmzDate(amzDate) else { return nil }
        var header = header
        return header.withUTF8 { bytes -> SigV4Authorization? in
            let algorithm: StaticString = "AWS4-HMAC-SHA256 "
            guard bytes.count > algorithm.utf8CodeUnitCount, matches(bytes, at: 0, algorithm) else { return nil }
            var credential: Range<Int>?
            var signedHeaders: Range<Int>?
            var signature: Range<Int>?
            var i = algorithm.utf8CodeUnitCount
            while i < bytes.count {
                var end = i
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") {
                    guard bytes[end] < 0x80 else { return nil }
                    end += 1
                }
                var start = i
                while start < end, bytes[start] == UInt8(ascii: " ") { start += 1 }
                if matches(bytes, at: start, "Credential=", before: end) {
                    credential = (start + 11)..<end
                } else if matches(bytes, at: start, "SignedHeaders=", before: end) {
                    signedHeaders = (start + 14)..<end
                } else if matches(bytes, at: start, "Signature=", before: end) {
                    signature = (start + 10)..<end
                }
                i = end + 1
            }
            guard let credential, let signedHeaders, let signature else { return nil }
            // The scope: key / date / region / service / aws4_request.
            var scope: [Range<Int>] = []
            var partStart = credential.lowerBound
            for j in credential where bytes[j] == UInt8(ascii: "/") {
                scope.append(partStart..<j)
                partStart = j + 1
            }
            scope.append(partStart..<credential.upperBound)
            guard scope.count == 5, !scope[0].isEmpty, scope[1].count == 8, matches(bytes, at: scope[4].lowerBound, "aws4_request"),
                scope[4].count == 12
            else { return nil }
            let text = { (range: Range<Int>) in String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            let date = text(scope[1])
            guard amzDate.hasPrefix(date) else { return nil }
            var names: [String] = []
            var nameStart = signedHeaders.lowerBound
            for j in signedHeaders.lowerBound...signedHeaders.upperBound
            where j == signedHeaders.upperBound || bytes[j] == UInt8(ascii: ";") {
                if j > nameStart { names.append(text(nameStart..<j)) }
                nameStart = j + 1
            }
            return SigV4Authorization(
                accessKeyId: text(scope[0]), scopeDate: date, region: text(scope[2]), service: text(scope[3]),
                signedHeaders: names, signature: text(signature), amzDate: amzDate, requestTime: requestTime,
                sessionToken: sessionToken, presignExpires: nil)
        }
    }

    /// Whether `bytes` hold `literal` at `offset`, ending at or before `limit`.
    private static func matches(
        _ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ literal: StaticString, before limit: Int? = nil
    ) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= (limit ?? bytes.count) else { return false }
        for k in 0..<count where bytes[offset + k] != literal.utf8Start[k] { return false }
        return true
    }

    private static func parsePresigned(_ request: SigV4Request) throws(SigV4Failure) -> SigV4Authorization {
        guard let pairs = FormEncoding.parse(Substring(request.rawQuery)) else {
            throw .incompleteSignature("The request query string is malformed.")
        }
        func value(_ name: String) -> String? { pairs.first(where: { $0.0 == name })?.1 }
        let missing = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"]
            .filter { value($0) == nil }
        if !missing.isEmpty {
            throw .incompleteSignature(
                "AWS query-string parameters must include \(missing.map { "'\($0)'" }.joined(separator: ", ")). Re-examine the query-string parameters."
            )
        }
        guard value("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" else {
            throw .incompleteSignature("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        let expiresText = value("X-Amz-Expires") ?? "604800"
        // Digits only: `Int` would also take a sign (`+3600`), which AWS refuses.
        guard !expiresText.isEmpty, expiresText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let expires = Int(expiresText),
            expires >= 1, expires <= 604_800
        else {
            throw .incompleteSignature("X-Amz-Expires must be between 1 and 604800 seconds")
        }
        return try build(
            credential: Substring(value("X-Amz-Credential")!), signedHeaders: Substring(value("X-Amz-SignedHeaders")!),
            signature: Substring(value("X-Amz-Signature")!), amzDate: value("X-Amz-Date")!,
            sessionToken: value("X-Amz-Security-Token"), expires: expires
        )
    }

    private static func build(
        credential: Substring, signedHeaders: Substring, signature: Substring, amzDate: String, sessionToken: String?,
        expires: Int?
    ) throws(SigV4Failure) -> SigV4Authorization {
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard scope.count == 5, !scope[0].isEmpty, scope[4] == "aws4_request" else {
            throw .incompleteSignature(
                "Credential should be scoped to a valid region, not ''. Credential should be scoped to correct service: ''. Credential should be scoped with a valid terminator: 'aws4_request', not '\(scope.last ?? "")'. "
            )
        }
        guard let requestTime = Timestamp.parseAmzDate(amzDate) else {
            throw .incompleteSignature("Date must be in ISO-8601 'basic format'. Got '\(amzDate)'. See http://en.wikipedia.org/wiki/ISO_8601")
        }
        guard scope[1].count == 8, amzDate.hasPrefix(scope[1]) else {
            throw .incompleteSignature("Credential should be scoped to a valid date: '\(amzDate.prefix(8))', not '\(scope[1])'.")
        }
        return SigV4Authorization(
            accessKeyId: String(scope[0]), scopeDate: String(scope[1]), region: String(scope[2]),
            service: String(scope[3]), signedHeaders: signedHeaders.split(separator: ";").map { String($0) },
            signature: String(signature), amzDate: amzDate, requestTime: requestTime, sessionToken: sessionToken,
            presignExpires: expires
        )
    }

    // MARK: Time

    /// Checks the request time against the server clock: 15 minutes either way for header authentication,
    /// the `X-Amz-Expires` window for presigned requests.
    package static func checkTime(_ auth: SigV4Authorization, now: Int64) throws(SigV4Failure) {
        if let expires = auth.presignExpires {
            if now > auth.requestTime + Int64(expires) {
                throw .presignExpired(requestTime: auth.amzDate, expires: expires, serverTime: Timestamp.amzDate(now))
            }
            if auth.requestTime - now > maximumSkew {
                throw .requestTimeTooSkewed(requestTime: auth.amzDate, serverTime: Timestamp.amzDate(now))
            }
        } else if abs(now - auth.requestTime) > maximumSkew {
            throw .requestTimeTooSkewed(requestTime: auth.amzDate, serverTime: Timestamp.amzDate(now))
        }
    }

    // MARK: Stage 1: canonical request

    /// The canonical URI: S3 signs the path as sent; every other service signs it URI-encoded once more.
    package static func canonicalURI(rawPath: String, service: String) -> String {
        let path = rawPath.isEmpty ? "/" : rawPath
        if service == "s3" { return path }
        return FormEncoding.uriEncode(normalize(path), keepSlash: true)
    }

    /// Removes `.` and `..` segments and collapses repeated slashes, as non-S3 signers do.
    private static func normalize(_ path: String) -> String {
        guard path.contains("/.") || path.contains("//") else { return path }
        var out: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                _ = out.popLast()
                continue
            }
            out.append(segment)
        }
        var result = "/" + out.joined(separator: "/")
        if path.hasSuffix("/"), result != "/" { result += "/" }
        return result
    }

    /// The canonical query string: every parameter but `X-Amz-Signature`, decoded, AWS-URI-encoded and sorted.
    package static func canonicalQuery(rawQuery: String) -> String {
        if rawQuery.isEmpty { return "" }
        var pairs: [(String, String)] = []
        for (name, value) in FormEncoding.rawPairs(Substring(rawQuery)) {
            let decodedName = FormEncoding.percentDecode(name, plusIsSpace: false) ?? String(name)
            if decodedName == "X-Amz-Signature" { continue }
            let decodedValue = FormEncoding.percentDecode(value, plusIsSpace: false) ?? String(value)
            pairs.append((FormEncoding.uriEncode(decodedName), FormEncoding.uriEncode(decodedValue)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Trims a header value and collapses runs of white space to one space.
    private static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// The canonical request of stage 1.
    package static func canonicalRequest(
        _ request: SigV4Request, auth: SigV4Authorization, payloadHash: String
    ) -> String {
        String(decoding: canonicalRequestBytes(request, auth: auth, payloadHash: payloadHash), as: UTF8.self)
    }

    /// The canonical request of stage 1, as the bytes that are hashed.
    ///
    /// The common case (the root path, no query, header values without white space to trim) is written straight
    /// into the buffer; the rest goes through ``canonicalURI(rawPath:service:)``, ``canonicalQuery(rawQuery:)`` and
    /// the trimming of values.
    static func canonicalRequestBytes(_ request: SigV4Request, auth: SigV4Authorization, payloadHash: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(contentsOf: request.method.utf8)
        out.append(10)
        if request.rawPath == "/" || request.rawPath.isEmpty {
            out.append(UInt8(ascii: "/"))
        } else {
            out.append(contentsOf: canonicalURI(rawPath: request.rawPath, service: auth.service).utf8)
        }
        out.append(10)
        if !request.rawQuery.isEmpty { out.append(contentsOf: canonicalQuery(rawQuery: request.rawQuery).utf8) }
        out.append(10)
        for name in auth.signedHeaders {
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            var first = true
            for header in request.headers where header.name == name {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if needsTrimming(header.value) {
                    out.append(contentsOf: trimAll(header.value).utf8)
                } else {
                    out.append(contentsOf: header.value.utf8)
                }
            }
            out.append(10)
        }
        out.append(10)
        for (index, name) in auth.signedHeaders.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
        }
        out.append(10)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    /// Whether a header value has white space that ``trimAll(_:)`` would change: at either end, a run of spaces, or
    /// any tab, carriage return or line feed.
    private static func needsTrimming(_ value: String) -> Bool {
        var previousSpace = true  // a leading space counts as a run
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: " "):
                if previousSpace { return true }
                previousSpace = true
            case UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): return true
            default: previousSpace = false
            }
        }
        return previousSpace && !value.isEmpty
    }

    // MARK: Stage 2: string to sign

    /// The string to sign of stage 2.
    package static func stringToSign(canonicalRequest: String, auth: SigV4Authorization) -> String {
        String(decoding: stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), auth: auth), as: UTF8.self)
    }

    /// The string to sign of stage 2, as the bytes that are signed.
    static func stringToSignBytes(canonicalRequest: [UInt8], auth: SigV4Authorization) -> [UInt8] {
        var toSign: [UInt8] = []
        toSign.reserveCapacity(160)
        toSign.append(contentsOf: "AWS4-HMAC-SHA256\n".utf8)
        toSign.append(contentsOf: auth.amzDate.utf8)
        toSign.append(10)
        toSign.append(contentsOf: auth.credentialScope.utf8)
        toSign.append(10)
        Hex.append(SHA256.hash(data: canonicalRequest), to: &toSign)
        return toSign
    }

    // MARK: Stage 3: signature

    /// The signing key of stage 3 (cached).
    package func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        keys.key(secret: secret, date: date, region: region, service: service)
    }

    /// Derives `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`.
    package static func deriveSigningKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The hex signature of a string to sign (stage 4), as bytes.
    static func signature(of toSign: [UInt8], key: SymmetricKey) -> [UInt8] {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        Hex.append(HMAC<SHA256>.authenticationCode(for: toSign, using: key), to: &hex)
        return hex
    }

    /// Verifies a request's signature with the credential's secret.
    ///
    /// - Parameters:
    ///   - payloadHash: the hex SHA-256 of the body, or the `x-amz-content-sha256` value the client signed.
    /// - Throws: ``SigV4Failure/signatureMismatch(canonicalRequest:stringToSign:)`` when it does not match.
    package func verify(
        _ request: SigV4Request, auth: SigV4Authorization, secret: String, payloadHash: String
    ) throws(SigV4Failure) {
        let canonical = Self.canonicalRequestBytes(request, auth: auth, payloadHash: payloadHash)
        let toSign = Self.stringToSignBytes(canonicalRequest: canonical, auth: auth)
        let key = signingKey(secret: secret, date: auth.scopeDate, region: auth.region, service: auth.service)
        let expected = Self.signature(of: toSign, key: key)
        guard Self.constantTimeEquals(expected, Array(auth.signature.utf8)) else {
            throw .signatureMismatch(
                canonicalRequest: String(decoding: canonical, as: UTF8.self), stringToSign: String(decoding: toSign, as: UTF8.self))
        }
    }

    /// Compares two signatures in time that depends on their length only.
    package static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        constantTimeEquals(Array(a.utf8), Array(b.utf8))
    }

    /// Compares two byte strings in time that depends on their length only.
    static func constantTimeEquals(_ x: [UInt8], _ y: [UInt8]) -> Bool {
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// Hex SHA-256 of a payload.
    package static func payloadHash(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Hex.encode(hasher.finalize())
    }
}

/// Derived SigV4 signing keys by secret, date, region and service: a key changes once a day, and deriving it costs
/// four HMACs. Shared by the verifier and the client-side signer (AWS's SDKs cache signing keys the same way).
package final class SigningKeyCache: Sendable {
    private let keys = Mutex<[String: SymmetricKey]>([:])

    /// Creates an empty cache.
    package init() {}

    /// The signing key for a secret and credential scope, derived on first use.
    package func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        let cacheKey = "\(secret)\u{0}\(date)\u{0}\(region)\u{0}\(service)"
        if let key = keys.withLock({ $0[cacheKey] }) { return key }
        let key = SigV4Verifier.deriveSigningKey(secret: secret, date: date, region: region, service: service)
        keys.withLock { cache in
            if cache.count > 4096 { cache.removeAll() }
            cache[cacheKey] = key
        }
        return key
    }
}
