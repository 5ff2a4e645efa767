/// A client-side SigV4 signer, used by Cairn's benchmark and tests to sign requests as the AWS SDKs do.
package struct SigV4Signer: Sendable {
    /// The access key id.
    package var accessKeyId: String
    /// The secret access key.
    package var secretAccessKey: String
    /// The session token of temporary credentials.
    package var sessionToken: String?
    /// The region of the credential scope.
    package var region: String
    /// The service of the credential scope.
    package var service: String
    /// Signing keys derived so far (shared by copies of this signer).
    private let keys = SigningKeyCache()

    /// Creates a signer for one credential, region and service.
    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, region: String, service: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// Returns the headers to add to a request (`x-amz-date`, `x-amz-security-token`, `authorization`).
    ///
    /// - Parameters:
    ///   - headers: the headers that will be sent and signed (lower-case names, `host` included).
    ///   - now: the signing time in epoch seconds.
    package func sign(
        method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)],
        body: [UInt8], now: Int64
    ) -> [(name: String, value: String)] {
        sign(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers, payloadHash: SigV4Verifier.payloadHash(body), now: now)
    }

    /// Returns the headers to add to a request whose body hash is already known, as S3 clients sign the hash they
    /// send in `x-amz-content-sha256` (so a large body is hashed once, not for every request).
    ///
    /// - Parameters:
    ///   - payloadHash: the hex SHA-256 of the body.
    package func sign(
        method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)],
        payloadHash: String, now: Int64
    ) -> [(name: String, value: String)] {
        let amzDate = Timestamp.amzDate(now)
        var all = headers
        all.append(("x-amz-date", amzDate))
        if let sessionToken { all.append(("x-amz-security-token", sessionToken)) }
        let signed = Set(all.map(\.name)).sorted()
        let auth = SigV4Authorization(
            accessKeyId: accessKeyId, scopeDate: String(amzDate.prefix(8)), region: region, service: service,
            signedHeaders: signed, signature: "", amzDate: amzDate, requestTime: now, sessionToken: sessionToken,
            presignExpires: nil
        )
        let request = SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: all)
        let canonical = SigV4Verifier.canonicalRequestBytes(request, auth: auth, payloadHash: payloadHash)
        let toSign = SigV4Verifier.stringToSignBytes(canonicalRequest: canonical, auth: auth)
        let key = keys.key(secret: secretAccessKey, date: auth.scopeDate, region: region, service: service)
        let signature = String(decoding: SigV4Verifier.signature(of: toSign, key: key), as: UTF8.self)
        var out: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if let sessionToken { out.append(("x-amz-security-token", sessionToken)) }
        out.append(
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=\(accessKeyId)/\(auth.credentialScope), SignedHeaders=\(signed.joined(separator: ";")), Signature=\(signature)"
            ))
        return out
    }
}
