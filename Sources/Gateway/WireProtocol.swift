package import AWSCore
import HTTPTypes
package import Hummingbird
import NIOCore

/// The AWS wire protocols Cairn serves on its one port.
package enum WireProtocol: Sendable {
    /// AWS JSON 1.1 (`X-Amz-Target`): CloudTrail, AWS Config.
    case json
    /// AWS Query (form body with `Action`): STS, SNS, CloudFormation.
    case query
    /// S3's REST-XML.
    case s3

    /// Detects the protocol from what real clients send.
    ///
    /// On AWS each service has its own host; on Cairn's one port the request itself must tell: `X-Amz-Target`
    /// means JSON 1.1, a form body or an `Action=` query means Query. A request with neither (a Query call sent
    /// without its form `Content-Type`, say) goes to the service its signature is scoped to, so that it is answered
    /// in that service's error shape rather than S3's; everything else is S3.
    ///
    /// - Parameter jsonServices: the signing names of the JSON 1.1 services.
    package static func detect(_ request: Request, jsonServices: Set<String>) -> WireProtocol {
        if request.headers[HeaderNames.amzTarget] != nil { return .json }
        let contentType = request.headers[.contentType] ?? ""
        if request.method == .post, contentType.hasPrefix("application/x-www-form-urlencoded") { return .query }
        if let query = request.uri.query, query.hasPrefix("Action=") || query.contains("&Action=") { return .query }
        if let scoped = scopeService(request.headers[.authorization]), scoped != "s3" {
            return jsonServices.contains(String(scoped)) ? .json : .query
        }
        return .s3
    }

    /// The service of a SigV4 `Authorization` header's credential scope
    /// (`AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sts/aws4_request, ...` → `sts`); `nil` when the header
    /// is absent or not of that form.
    static func scopeService(_ authorization: String?) -> Substring? {
        guard let authorization, let start = authorization.firstRange(of: "Credential=") else { return nil }
        let credential = authorization[start.upperBound...].prefix { $0 != "," && $0 != " " }
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, !parts[3].isEmpty else { return nil }
        return parts[3]
    }
}

/// Header names Cairn reads and writes.
package enum HeaderNames {
    package static let amzTarget = HTTPField.Name("X-Amz-Target")!
    package static let amznRequestId = HTTPField.Name("x-amzn-RequestId")!
    package static let amzRequestId = HTTPField.Name("x-amz-request-id")!
    package static let amzId2 = HTTPField.Name("x-amz-id-2")!
}

/// Renders errors and outputs in each protocol's wire shape.
package enum WireRenderer {
    /// A JSON 1.1 error: `{"__type":"Code","message":"…"}` with `x-amzn-RequestId`.
    ///
    /// Modeled service exceptions use `Message` (as CloudTrail sends it); the common errors of the AWS front end
    /// (authentication, serialization) use `message`.
    package static func jsonError(_ error: AWSError, requestID: String, capitalMessage: Bool) -> Response {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.field("__type", error.code)
        w.field(capitalMessage ? "Message" : "message", error.message)
        w.endObject()
        return response(status: error.status, contentType: "application/x-amz-json-1.1", body: w.bytes, requestID: requestID)
    }

    /// A Query error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
    package static func queryError(_ error: AWSError, requestID: String, xmlns: String?) -> Response {
        var x = XMLWriter()
        x.open("ErrorResponse", xmlns: xmlns ?? "https://sts.amazonaws.com/doc/2011-06-15/")
        x.open("Error")
        x.element("Type", error.isSenderFault ? "Sender" : "Receiver")
        x.element("Code", error.code)
        x.element("Message", error.message)
        x.close("Error")
        x.element("RequestId", requestID)
        x.close("ErrorResponse")
        return response(status: error.status, contentType: "text/xml", body: Array(x.text.utf8), requestID: requestID)
    }

    /// An S3 error: `<Error><Code/><Message/>[details]<RequestId/><HostId/></Error>` with `x-amz-request-id` and
    /// `x-amz-id-2`. Responses to HEAD carry no body, as S3 sends them.
    package static func s3Error(_ error: AWSError, requestID: String, hostID: String, head: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/xml"]
        headers[HeaderNames.amzRequestId] = requestID
        headers[HeaderNames.amzId2] = hostID
        headers[.server] = "AmazonS3"
        if head {
            return Response(status: .init(code: error.status), headers: headers)
        }
        var x = XMLWriter(declaration: true)
        x.open("Error")
        x.element("Code", error.code)
        x.element("Message", error.message)
        for name in error.details.keys.sorted() { x.element(name, error.details[name]!) }
        x.element("RequestId", requestID)
        x.element("HostId", hostID)
        x.close("Error")
        return Response(
            status: .init(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: x.text)))
    }

    /// A response with a body and the AWS request id header.
    package static func response(status: Int, contentType: String, body: [UInt8], requestID: String) -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        headers[HeaderNames.amznRequestId] = requestID
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Maps an authentication failure to the error AWS returns for it in each protocol.
    package static func authError(_ failure: SigV4Failure, protocol wire: WireProtocol) -> AWSError {
        let mismatch =
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        let invalidToken = "The security token included in the request is invalid."
        switch (failure, wire) {
        case (.missingAuthentication, .json):
            return AWSError("MissingAuthenticationTokenException", "Missing Authentication Token", status: 400)
        case (.missingAuthentication, _):
            return AWSError("MissingAuthenticationToken", "Request is missing Authentication Token", status: 403)
        case (.incompleteSignature(let m), .json):
            return AWSError("IncompleteSignatureException", m, status: 400)
        case (.incompleteSignature(let m), _):
            return AWSError("IncompleteSignature", m, status: 400)
        case (.unknownAccessKey, .json), (.invalidToken, .json):
            return AWSError("UnrecognizedClientException", invalidToken, status: 400)
        case (.unknownAccessKey, _), (.invalidToken, _):
            return AWSError("InvalidClientTokenId", invalidToken, status: 403)
        case (.signatureMismatch, .json):
            return AWSError("InvalidSignatureException", mismatch, status: 400)
        case (.signatureMismatch, _):
            return AWSError("SignatureDoesNotMatch", mismatch, status: 403)
        case (.requestTimeTooSkewed(let requestTime, let serverTime), _):
            let message = skewMessage(requestTime: requestTime, serverTime: serverTime)
            return wire == .json
                ? AWSError("InvalidSignatureException", message, status: 400)
                : AWSError("SignatureDoesNotMatch", message, status: 403)
        case (.presignExpired(let requestTime, let expires, let serverTime), _):
            let until = Timestamp.amzDate((Timestamp.parseAmzDate(requestTime) ?? 0) + Int64(expires))
            let message = "Signature expired: \(until) is now earlier than \(serverTime)"
            return wire == .json
                ? AWSError("InvalidSignatureException", message, status: 400)
                : AWSError("SignatureDoesNotMatch", message, status: 403)
        case (.expiredToken, .json):
            return AWSError("ExpiredTokenException", "The security token included in the request is expired", status: 400)
        case (.expiredToken, _):
            return AWSError("ExpiredToken", "The security token included in the request is expired", status: 400)
        }
    }

    /// AWS's wording for a request time outside the 15-minute window, in either direction.
    private static func skewMessage(requestTime: String, serverTime: String) -> String {
        let request = Timestamp.parseAmzDate(requestTime) ?? 0
        let server = Timestamp.parseAmzDate(serverTime) ?? 0
        if request < server {
            return
                "Signature expired: \(requestTime) is now earlier than \(Timestamp.amzDate(server - SigV4Verifier.maximumSkew)) (\(serverTime) - 15 min.)"
        }
        return
            "Signature not yet current: \(requestTime) is still later than \(Timestamp.amzDate(server + SigV4Verifier.maximumSkew)) (\(serverTime) + 15 min.)"
    }
}
