import AWSCore
import Testing

/// One request signed by botocore, with the intermediate values botocore computed (see `SigV4Vectors`).
struct SigV4Vector: Sendable, CustomTestStringConvertible {
    /// A short label.
    var name: String
    /// The service of the credential scope.
    var service: String
    /// The HTTP method.
    var method: String
    /// The path as sent (percent-encoded).
    var rawPath: String
    /// The query string as sent, without `?`.
    var rawQuery: String
    /// Every header as sent (lower-case names), `host` and the signature headers included.
    var headers: [(String, String)]
    /// The body, as UTF-8 text.
    var body: String
    /// The session token of the credentials, if any.
    var sessionToken: String?
    /// The payload hash the server must use (SHA-256 of the body, or the signed `x-amz-content-sha256`).
    var payloadHash: String
    /// botocore's canonical request.
    var canonicalRequest: String
    /// botocore's string to sign.
    var stringToSign: String
    /// botocore's signature.
    var signature: String
    /// `X-Amz-Expires` of a presigned URL.
    var presignExpires: Int?
    /// The headers SigV4Signer should be given to reproduce the signature (nil for presigned URLs).
    var signerInput: [(String, String)]?

    var testDescription: String { name }

    /// The request as the verifier sees it.
    var request: SigV4Request {
        SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers.map { (name: $0.0, value: $0.1) })
    }

    /// The first value of a header.
    func header(_ name: String) -> String? { headers.first(where: { $0.0 == name })?.1 }
}

/// Verification of botocore-signed requests.
@Suite("SigV4 verification against botocore vectors")
struct SigV4VerifierTests {
    let verifier = SigV4Verifier()

    @Test("parseAuthorization reads credential scope, signed headers, signature and time", arguments: SigV4Vectors.all)
    func parse(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        #expect(auth.accessKeyId == SigV4Vectors.accessKeyId)
        #expect(auth.scopeDate == "20250314")
        #expect(auth.region == SigV4Vectors.region)
        #expect(auth.service == vector.service)
        #expect(auth.signature == vector.signature)
        #expect(auth.amzDate == "20250314T150926Z")
        #expect(auth.requestTime == SigV4Vectors.signingTime)
        #expect(auth.sessionToken == vector.sessionToken)
        #expect(auth.presignExpires == vector.presignExpires)
        #expect(auth.isPresigned == (vector.presignExpires != nil))
        // botocore's canonical request names the signed headers on its second-to-last line.
        let signedLine = vector.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last
        #expect(auth.signedHeaders.joined(separator: ";") == signedLine.map(String.init))
    }

    @Test("the canonical request and string to sign equal botocore's", arguments: SigV4Vectors.all)
    func canonicalForms(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        let canonical = SigV4Verifier.canonicalRequest(vector.request, auth: auth, payloadHash: vector.payloadHash)
        #expect(canonical == vector.canonicalRequest)
        #expect(SigV4Verifier.stringToSign(canonicalRequest: canonical, auth: auth) == vector.stringToSign)
    }

    @Test("the payload hash of the body equals botocore's", arguments: SigV4Vectors.all.filter { $0.payloadHash != "UNSIGNED-PAYLOAD" })
    func payloadHash(vector: SigV4Vector) {
        #expect(SigV4Verifier.payloadHash(Array(vector.body.utf8)) == vector.payloadHash)
    }

    @Test("a botocore signature verifies with the right secret", arguments: SigV4Vectors.all)
    func accepts(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        try SigV4Verifier.checkTime(auth, now: SigV4Vectors.signingTime)
    }

    @Test("a wrong secret is a signature mismatch", arguments: SigV4Vectors.all)
    func rejectsWrongSecret(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret + "x", payloadHash: vector.payloadHash)
        }
        // The mismatch reports botocore's canonical request, so clients can compare theirs.
        #expect(throws: SigV4Failure.signatureMismatch(canonicalRequest: vector.canonicalRequest, stringToSign: vector.stringToSign)) {
            try verifier.verify(vector.request, auth: auth, secret: "wrong", payloadHash: vector.payloadHash)
        }
    }

    @Test("a changed signed header is a signature mismatch", arguments: SigV4Vectors.all)
    func rejectsChangedHeader(vector: SigV4Vector) throws {
        var request = vector.request
        let auth = try SigV4Verifier.parseAuthorization(request)
        // Change the last signed header that is not the time (changing x-amz-date would change the parsed time).
        let target = auth.signedHeaders.last(where: { $0 != "x-amz-date" })!
        let index = request.headers.firstIndex(where: { $0.name == target })!
        request.headers[index].value += "x"
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        }
    }

    @Test("an unsigned header may change without breaking the signature")
    func ignoresUnsignedHeader() throws {
        let vector = SigV4Vectors.all.first { $0.name == "json11-cloudtrail" }!
        var request = vector.request
        let index = try #require(request.headers.firstIndex(where: { $0.name == "user-agent" }))
        request.headers[index].value = "something-else/2.0"
        let auth = try SigV4Verifier.parseAuthorization(request)
        #expect(!auth.signedHeaders.contains("user-agent"))
        try verifier.verify(request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
    }

    @Test("a changed body is a signature mismatch", arguments: SigV4Vectors.all.filter { $0.payloadHash != "UNSIGNED-PAYLOAD" })
    func rejectsChangedBody(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        let changed = SigV4Verifier.payloadHash(Array((vector.body + " ").utf8))
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: changed)
        }
    }

    @Test("a changed path or query is a signature mismatch", arguments: SigV4Vectors.all)
    func rejectsChangedTarget(vector: SigV4Vector) throws {
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        var path = vector.request
        path.rawPath += "x"
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(path, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        }
        var query = vector.request
        query.rawQuery += query.rawQuery.isEmpty ? "extra=1" : "&extra=1"
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(query, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        }
    }

    @Test("a changed signature is rejected, and so is one of another length")
    func rejectsChangedSignature() throws {
        let vector = SigV4Vectors.all[0]
        var auth = try SigV4Verifier.parseAuthorization(vector.request)
        let last = auth.signature.last!
        auth.signature = String(auth.signature.dropLast()) + (last == "0" ? "1" : "0")
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        }
        auth.signature = vector.signature + "00"
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        }
    }

    @Test("the signing key is cached per secret: another secret with the same scope is still rejected")
    func keyCacheSeparatesSecrets() throws {
        let vector = SigV4Vectors.all[0]
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(vector.request, auth: auth, secret: "other", payloadHash: vector.payloadHash)
        }
        try verifier.verify(vector.request, auth: auth, secret: SigV4Vectors.secret, payloadHash: vector.payloadHash)
    }
}

/// Parse failures and the time checks.
@Suite("SigV4 parsing failures and time window")
struct SigV4ParseAndTimeTests {
    /// A request with only the given headers (plus host).
    private func request(_ headers: [(String, String)], query: String = "") -> SigV4Request {
        SigV4Request(
            method: "POST", rawPath: "/", rawQuery: query,
            headers: [(name: "host", value: "localhost")] + headers.map { (name: $0.0, value: $0.1) })
    }

    private static let goodAuth =
        "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd"

    @Test("no authorization at all is missingAuthentication")
    func missing() {
        #expect(throws: SigV4Failure.missingAuthentication) { try SigV4Verifier.parseAuthorization(request([])) }
    }

    @Test(
        "malformed authorization headers are incompleteSignature",
        arguments: [
            "AWS AKID:signature",
            "Bearer token",
            "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abcd",
            "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts/aws4_request, Signature=abcd",
            "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts/aws4_request, SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts, SignedHeaders=host;x-amz-date, Signature=abcd",
            "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts/aws5_request, SignedHeaders=host;x-amz-date, Signature=abcd",
            "AWS4-HMAC-SHA256 Credential=/20250314/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
            "AWS4-HMAC-SHA256 Credential=AKID/20250315/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
        ])
    func malformedHeader(header: String) {
        #expect {
            try SigV4Verifier.parseAuthorization(request([("authorization", header), ("x-amz-date", "20250314T150926Z")]))
        } throws: { error in
            if case .incompleteSignature = error as? SigV4Failure { return true }
            return false
        }
    }

    @Test(
        "a missing or malformed X-Amz-Date is incompleteSignature", arguments: [nil, "2025-03-14T15:09:26Z", "20250314T150926", "20251314T150926Z"])
    func badDate(date: String?) {
        var headers = [("authorization", Self.goodAuth)]
        if let date { headers.append(("x-amz-date", date)) }
        #expect {
            try SigV4Verifier.parseAuthorization(request(headers))
        } throws: { error in
            if case .incompleteSignature = error as? SigV4Failure { return true }
            return false
        }
    }

    @Test("presigned queries need every X-Amz parameter and an expiry within a week")
    func presignedParameters() throws {
        let base = [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Credential=AKID%2F20250314%2Fus-east-1%2Fs3%2Faws4_request",
            "X-Amz-Date=20250314T150926Z", "X-Amz-SignedHeaders=host", "X-Amz-Signature=abcd",
        ]
        let ok = try SigV4Verifier.parseAuthorization(request([], query: (base + ["X-Amz-Expires=604800"]).joined(separator: "&")))
        #expect(ok.presignExpires == 604_800)
        #expect(ok.service == "s3")
        for i in base.indices where i != 4 {
            var parts = base
            parts.remove(at: i)
            #expect(throws: SigV4Failure.self) { try SigV4Verifier.parseAuthorization(request([], query: parts.joined(separator: "&"))) }
        }
        for expires in ["0", "604801", "abc", "-5", "%2B3600", "3600.0", "%203600", ""] {
            #expect(throws: SigV4Failure.self) {
                try SigV4Verifier.parseAuthorization(request([], query: (base + ["X-Amz-Expires=\(expires)"]).joined(separator: "&")))
            }
        }
        var v2 = base
        v2[0] = "X-Amz-Algorithm=AWS4-HMAC-SHA1"
        #expect(throws: SigV4Failure.self) { try SigV4Verifier.parseAuthorization(request([], query: v2.joined(separator: "&"))) }
    }

    @Test("header authentication accepts 15 minutes of skew either way and no more")
    func headerSkew() throws {
        let vector = SigV4Vectors.all.first { $0.presignExpires == nil }!
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        let t = SigV4Vectors.signingTime
        for now in [t - 900, t, t + 900] { try SigV4Verifier.checkTime(auth, now: now) }
        for now in [t - 901, t + 901, t + 86_400] {
            #expect {
                try SigV4Verifier.checkTime(auth, now: now)
            } throws: { error in
                if case .requestTimeTooSkewed(let requestTime, _) = error as? SigV4Failure { return requestTime == "20250314T150926Z" }
                return false
            }
        }
    }

    @Test("presigned URLs work until X-Amz-Expires runs out, and not from more than 15 minutes in the future")
    func presignWindow() throws {
        let vector = SigV4Vectors.all.first { $0.name == "presigned-sts" }!
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        let t = SigV4Vectors.signingTime
        #expect(auth.presignExpires == 60)
        for now in [t - 900, t, t + 60] { try SigV4Verifier.checkTime(auth, now: now) }
        #expect(throws: SigV4Failure.presignExpired(requestTime: "20250314T150926Z", expires: 60, serverTime: "20250314T151027Z")) {
            try SigV4Verifier.checkTime(auth, now: t + 61)
        }
        #expect {
            try SigV4Verifier.checkTime(auth, now: t - 901)
        } throws: { error in
            if case .requestTimeTooSkewed = error as? SigV4Failure { return true }
            return false
        }
    }

    @Test("a long-lived presigned URL is valid hours later, unlike a header signature")
    func longPresign() throws {
        let vector = SigV4Vectors.all.first { $0.name == "presigned-s3" }!
        let auth = try SigV4Verifier.parseAuthorization(vector.request)
        try SigV4Verifier.checkTime(auth, now: SigV4Vectors.signingTime + 3600)
        #expect(throws: SigV4Failure.self) { try SigV4Verifier.checkTime(auth, now: SigV4Vectors.signingTime + 3601) }
    }
}

/// The client-side signer against botocore's signatures.
@Suite("SigV4Signer reproduces botocore")
struct SigV4SignerTests {
    /// Header-signed vectors whose payload hash is the body's SHA-256 (SigV4Signer always hashes the body).
    static let signable = SigV4Vectors.all.filter { $0.signerInput != nil && $0.payloadHash != "UNSIGNED-PAYLOAD" }

    @Test("the Authorization header equals botocore's", arguments: signable)
    func authorization(vector: SigV4Vector) throws {
        let signer = SigV4Signer(
            accessKeyId: SigV4Vectors.accessKeyId, secretAccessKey: SigV4Vectors.secret, sessionToken: vector.sessionToken,
            region: SigV4Vectors.region, service: vector.service)
        let added = signer.sign(
            method: vector.method, rawPath: vector.rawPath, rawQuery: vector.rawQuery,
            headers: vector.signerInput!.map { (name: $0.0, value: $0.1) }, body: Array(vector.body.utf8),
            now: SigV4Vectors.signingTime)
        func value(_ name: String) -> String? { added.first(where: { $0.name == name })?.value }
        #expect(value("authorization") == vector.header("authorization"))
        #expect(value("x-amz-date") == vector.header("x-amz-date"))
        #expect(value("x-amz-security-token") == vector.sessionToken)
        #expect(added.count == (vector.sessionToken == nil ? 2 : 3))
    }

    @Test("a request the signer signed verifies, and fails with another secret")
    func roundTrip() throws {
        let signer = SigV4Signer(accessKeyId: "test", secretAccessKey: "test", region: "eu-west-3", service: "cloudtrail")
        let body = Array(#"{"trailNameList":[]}"#.utf8)
        let now: Int64 = 1_700_000_000
        var headers: [(name: String, value: String)] = [("host", "127.0.0.1:4566"), ("content-type", "application/x-amz-json-1.1")]
        headers += signer.sign(method: "POST", rawPath: "/", headers: headers, body: body, now: now)
        let request = SigV4Request(method: "POST", rawPath: "/", rawQuery: "", headers: headers)
        let auth = try SigV4Verifier.parseAuthorization(request)
        #expect(auth.region == "eu-west-3")
        #expect(auth.requestTime == now)
        let verifier = SigV4Verifier()
        try verifier.verify(request, auth: auth, secret: "test", payloadHash: SigV4Verifier.payloadHash(body))
        #expect(throws: SigV4Failure.self) {
            try verifier.verify(request, auth: auth, secret: "tesT", payloadHash: SigV4Verifier.payloadHash(body))
        }
    }
}
