/// The parts of an incoming HTTP request that SigV4 verification reads.
///
/// The gateway fills it from Hummingbird's request without copying the body: the payload hash is computed by the
/// caller (SHA-256 of the body) or taken from `x-amz-content-sha256`.
package struct SigV4Request: Sendable {
    /// The HTTP method, upper-case (`POST`).
    package var method: String
    /// The request target's path exactly as sent, still percent-encoded (`/bucket/a%20b`).
    package var rawPath: String
    /// The request target's query string exactly as sent, without `?` (may be empty).
    package var rawQuery: String
    /// The request headers as (lower-case name, value) pairs, including `host`.
    package var headers: [(name: String, value: String)]

    /// Creates the request view.
    package init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// The first value of a header (name in lower case).
    package func header(_ name: String) -> String? {
        headers.first(where: { $0.name == name })?.value
    }
}

/// Why a request's authentication failed, independent of the wire protocol.
///
/// The gateway maps each case to the exact error code, status and message of the request's protocol
/// (JSON 1.1, Query or S3), because AWS names the same failure differently in each.
package enum SigV4Failure: Error, Sendable, Equatable {
    /// No `Authorization` header and no presigned query parameters.
    case missingAuthentication
    /// The authorization data is present but malformed; the message says what is wrong.
    case incompleteSignature(String)
    /// The access key id is not known.
    case unknownAccessKey(String)
    /// The signature does not match the one computed with the key's secret.
    case signatureMismatch(canonicalRequest: String, stringToSign: String)
    /// The request time is more than 15 minutes away from the server's clock.
    case requestTimeTooSkewed(requestTime: String, serverTime: String)
    /// A presigned URL used after its `X-Amz-Expires` ran out.
    case presignExpired(requestTime: String, expires: Int, serverTime: String)
    /// Temporary credentials used after their expiration.
    case expiredToken
    /// Temporary credentials used without (or with the wrong) session token.
    case invalidToken
}

/// Authentication data parsed from a request, before the key's secret is known.
package struct SigV4Authorization: Sendable, Equatable {
    /// The access key id of the credential.
    package var accessKeyId: String
    /// The `YYYYMMDD` date of the credential scope.
    package var scopeDate: String
    /// The region of the credential scope: the request's region.
    package var region: String
    /// The service of the credential scope (`cloudtrail`, `sts`, `s3`, ...).
    package var service: String
    /// The lower-case names of the signed headers, sorted as sent.
    package var signedHeaders: [String]
    /// The hex signature the client sent.
    package var signature: String
    /// The request time (`X-Amz-Date`), `YYYYMMDDTHHMMSSZ`.
    package var amzDate: String
    /// The request time in epoch seconds.
    package var requestTime: Int64
    /// The session token sent with temporary credentials, if any.
    package var sessionToken: String?
    /// For presigned requests, `X-Amz-Expires` in seconds; `nil` for header authentication.
    package var presignExpires: Int?

    /// Creates authorization data.
    package init(
        accessKeyId: String, scopeDate: String, region: String, service: String, signedHeaders: [String], signature: String,
        amzDate: String, requestTime: Int64, sessionToken: String?, presignExpires: Int?
    ) {
        self.accessKeyId = accessKeyId
        self.scopeDate = scopeDate
        self.region = region
        self.service = service
        self.signedHeaders = signedHeaders
        self.signature = signature
        self.amzDate = amzDate
        self.requestTime = requestTime
        self.sessionToken = sessionToken
        self.presignExpires = presignExpires
    }

    /// `<date>/<region>/<service>/aws4_request`.
    package var credentialScope: String { "\(scopeDate)/\(region)/\(service)/aws4_request" }
    /// Whether the request was authenticated by a presigned query string.
    package var isPresigned: Bool { presignExpires != nil }
}
