import AWSCore
import Audit
import Crypto
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Storage

extension Gateway {
    /// The S3 request path: authenticate from headers, hand the streamed request to the S3 service, record the
    /// call (durably) and respond with S3's request id headers.
    func respondS3(to request: Request, context: Context) async -> Response {
        let requestID = S3RequestIDs.requestID(from: runtime.uuid())
        let hostID = S3RequestIDs.hostID(for: requestID)
        let isHead = request.method == .head
        do {
            var response = try await handleS3(request, requestID: requestID, hostID: hostID, context: context)
            response.headers[HeaderNames.amzRequestId] = requestID
            response.headers[HeaderNames.amzId2] = hostID
            response.headers[.server] = "AmazonS3"
            return response
        } catch let error as AWSError {
            return WireRenderer.s3Error(error, requestID: requestID, hostID: hostID, head: isHead)
        } catch {
            context.logger.error("S3 request failed", metadata: ["aws.request.id": "\(requestID)", "error": "\(String(reflecting: error))"])
            return WireRenderer.s3Error(
                AWSError("InternalError", "We encountered an internal error. Please try again.", status: 500), requestID: requestID,
                hostID: hostID, head: isHead)
        }
    }

    private func handleS3(_ request: Request, requestID: String, hostID: String, context: Context) async throws -> Response {
        let now = Int64(runtime.now())
        let host = request.head.authority ?? ""
        let (bucket, key) = try Self.s3Target(host: host, rawPath: request.uri.path)
        let (caller, auth, secret) =
            try authenticateSigV2(request, bucket: bucket, now: now)
            ?? authenticate(request, payloadHash: nil, wire: .s3, now: now)
        guard auth.service == "s3" else {
            throw AWSError(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; incorrect service \"\(auth.service)\". This endpoint belongs to \"s3\".")
        }
        var query: [(name: String, value: String)] = []
        if let raw = request.uri.query {
            for (name, value) in FormEncoding.rawPairs(Substring(raw)) {
                guard let n = FormEncoding.percentDecode(name, plusIsSpace: true),
                    let v = FormEncoding.percentDecode(value, plusIsSpace: true)
                else { throw AWSError("InvalidArgument", "Invalid query string", status: 400) }
                if auth.isPresigned, n.hasPrefix("X-Amz-") || (auth.scopeDate.isEmpty && ["AWSAccessKeyId", "Signature", "Expires"].contains(n)) {
                    continue
                }
                query.append((n, v))
            }
        }
        let signingKey = verifier.signingKey(secret: secret, date: auth.scopeDate, region: auth.region, service: auth.service)
        let s3Request = S3Request(
            method: request.method, bucket: bucket, key: key, query: query, headers: request.headers, host: host,
            body: request.body, caller: caller, auth: auth, signingKey: signingKey, requestID: requestID, now: now)
        let origin = CallOrigin(
            caller: caller, region: auth.region, sourceIPAddress: Self.sourceIP(context),
            userAgent: request.headers[.userAgent].map(Auditor.s3UserAgent))
        return try await pipeline.perform(s3Request, origin: origin, hostID: hostID).get()
    }

    /// Verifies S3's legacy SigV2 query authentication, when the request uses it (`nil` otherwise).
    ///
    /// The returned authorization has an empty scope date (SigV2 has no credential scope) and the expiry as its
    /// presign lifetime; the region is `us-east-1`, where such URLs are signed.
    private func authenticateSigV2(_ request: Request, bucket: String?, now: Int64) throws -> (Caller, SigV4Authorization, String)? {
        guard let rawQuery = request.uri.query, rawQuery.contains("AWSAccessKeyId="), rawQuery.contains("Signature=") else {
            return nil
        }
        var params: [String: String] = [:]
        for (name, value) in FormEncoding.rawPairs(Substring(rawQuery)) {
            params[String(name)] = FormEncoding.percentDecode(value, plusIsSpace: false)
        }
        guard let keyID = params["AWSAccessKeyId"], let signature = params["Signature"], let expiresText = params["Expires"],
            let expires = Int64(expiresText)
        else {
            throw AWSError("AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters", status: 403)
        }
        guard let credential = vault.credential(for: keyID) else { throw WireRenderer.s3AuthError(.unknownAccessKey(keyID)) }
        guard expires >= now else {
            throw AWSError("AccessDenied", "Request has expired", status: 403, details: ["Expires": Timestamp.iso8601(expires)])
        }
        var headers: [(name: String, value: String)] = []
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let host = (request.head.authority ?? "").split(separator: ":").first.map(String.init) ?? ""
        var path = request.uri.path.isEmpty ? "/" : request.uri.path
        if let bucket, host.lowercased().hasSuffix(".localhost") { path = "/" + bucket + path }
        let toSign = S3SigV2.stringToSign(
            method: request.method.rawValue, resourcePath: path, query: rawQuery, headers: headers, expires: expiresText)
        guard S3SigV2.signature(toSign, secret: credential.secretAccessKey) == signature else {
            throw WireRenderer.s3AuthError(.signatureMismatch(canonicalRequest: "", stringToSign: toSign))
        }
        if let token = credential.sessionToken {
            guard params["x-amz-security-token"] == token || request.headers[.init("x-amz-security-token")!] == token else {
                throw WireRenderer.s3AuthError(.invalidToken)
            }
        }
        let auth = SigV4Authorization(
            accessKeyId: keyID, scopeDate: "", region: "us-east-1", service: "s3", signedHeaders: [], signature: signature,
            amzDate: Timestamp.amzDate(now), requestTime: now, sessionToken: params["x-amz-security-token"],
            presignExpires: Int(max(0, expires - now)))
        return (credential.caller, auth, credential.secretAccessKey)
    }

    /// The bucket and key a request addresses: virtual-hosted (`bucket.localhost[:port]`) or path-style
    /// (`/bucket/key`). Both are percent-decoded; `+` in a path is a plus sign, not a space.
    static func s3Target(host: String, rawPath: String) throws -> (bucket: String?, key: String?) {
        var hostName = Substring(host)
        if hostName.hasPrefix("[") {
            hostName = ""  // an IPv6 literal names no bucket
        } else if let colon = hostName.lastIndex(of: ":") {
            hostName = hostName[..<colon]
        }
        let path = rawPath.isEmpty ? "/" : rawPath
        guard let decoded = FormEncoding.percentDecode(Substring(path), plusIsSpace: false) else {
            throw AWSError("InvalidURI", "Couldn't parse the specified URI.", status: 400)
        }
        var rest = Substring(decoded)
        if rest.hasPrefix("/") { rest = rest.dropFirst() }
        if hostName.lowercased().hasSuffix(".localhost") {
            let bucket = hostName.dropLast(".localhost".count)
            if !bucket.isEmpty, bucket != "s3" {
                return (String(bucket), rest.isEmpty ? nil : String(rest))
            }
        }
        guard !rest.isEmpty else { return (nil, nil) }
        guard let slash = rest.firstIndex(of: "/") else { return (String(rest), nil) }
        let key = rest[rest.index(after: slash)...]
        return (String(rest[..<slash]), key.isEmpty ? nil : String(key))
    }
}
