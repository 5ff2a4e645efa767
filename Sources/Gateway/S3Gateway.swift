package import AWSCore
package import Audit
package import Crypto
import Foundation
package import HTTPTypes
package import Hummingbird
import NIOCore

/// An authenticated S3 REST request, as the gateway hands it to the S3 service.
///
/// S3 is not described by a model the gateway can decode: its inputs are the method, the path (bucket and key), the
/// query string's subresources, headers and a body that may be gigabytes long. The gateway authenticates the
/// request from its headers alone and passes the body on unread, as a stream.
package struct S3Request: Sendable {
    /// The HTTP method.
    package var method: HTTPRequest.Method
    /// The bucket named by the virtual host or the first path segment (percent-decoded), if any.
    package var bucket: String?
    /// The object key (percent-decoded), if the path names one.
    package var key: String?
    /// The query parameters, percent-decoded, in request order (presign parameters removed).
    package var query: [(name: String, value: String)]
    /// The request headers.
    package var headers: HTTPFields
    /// The `Host` header as the client sent it (CloudTrail's `Host` request parameter).
    package var host: String
    /// The request body, unread.
    package var body: RequestBody
    /// Who signed the request.
    package var caller: Caller
    /// The verified SigV4 authorization (scope, seed signature, request time).
    package var auth: SigV4Authorization
    /// The SigV4 signing key of this request's scope, for verifying chunk signatures of streamed uploads.
    package var signingKey: SymmetricKey
    /// S3's 16-character request id (`x-amz-request-id`, the event's `requestID`).
    package var requestID: String
    /// The request time in epoch seconds (from the injected clock).
    package var now: Int64
    /// The AWS service that makes the call for its caller (`cloudformation.amazonaws.com`), for in-process calls.
    package var invokedBy: String? = nil

    /// The region of the request: the credential scope's region.
    package var region: String { auth.region }

    /// Creates a request (the gateway makes them; tests make their own).
    package init(
        method: HTTPRequest.Method, bucket: String?, key: String?, query: [(name: String, value: String)], headers: HTTPFields,
        host: String, body: RequestBody, caller: Caller, auth: SigV4Authorization, signingKey: SymmetricKey, requestID: String,
        now: Int64
    ) {
        self.method = method
        self.bucket = bucket
        self.key = key
        self.query = query
        self.headers = headers
        self.host = host
        self.body = body
        self.caller = caller
        self.auth = auth
        self.signingKey = signingKey
        self.requestID = requestID
        self.now = now
    }

    /// The value of a query parameter, if present (an empty string for a bare subresource such as `?policy`).
    package func query(_ name: String) -> String? {
        query.first(where: { $0.name == name })?.value
    }

    /// The value of a header, if present.
    package func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}

/// What the S3 service made of a request: the response (or error) and how CloudTrail records the call.
package struct S3Outcome: Sendable {
    /// The CloudTrail `eventName`; `nil` when the request named no S3 operation (such calls are not recorded).
    package var eventName: String?
    /// Management (bucket-level) or data (object-level) event.
    package var category: EventCategory
    /// Whether the operation only reads.
    package var readOnly: Bool
    /// Pre-rendered `requestParameters` JSON (S3 writes `bucketName`, `Host`, `key`, subresources, body).
    package var requestParameters: [UInt8]?
    /// Pre-rendered `responseElements` JSON, or `nil` for `null`.
    package var responseElements: [UInt8]?
    /// The record's `resources`.
    package var resources: [EventResource]?
    /// Event history's `Resources` summary.
    package var lookupResources: [LookupResource]
    /// Request body bytes received (`additionalEventData.bytesTransferredIn`).
    package var bytesIn: Int
    /// Response body bytes sent (`additionalEventData.bytesTransferredOut`).
    package var bytesOut: Int
    /// The response to send, or the error to render.
    package var response: Result<Response, AWSError>

    /// Creates an outcome.
    package init(
        eventName: String?, category: EventCategory, readOnly: Bool, requestParameters: [UInt8]?,
        responseElements: [UInt8]? = nil, resources: [EventResource]?, lookupResources: [LookupResource] = [],
        bytesIn: Int = 0, bytesOut: Int = 0, response: Result<Response, AWSError>
    ) {
        self.eventName = eventName
        self.category = category
        self.readOnly = readOnly
        self.requestParameters = requestParameters
        self.responseElements = responseElements
        self.resources = resources
        self.lookupResources = lookupResources
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.response = response
    }
}

/// The S3 REST service as the gateway sees it.
package protocol S3Handler: Sendable {
    /// Runs one authenticated request. Never throws: every failure is an outcome with an error response, so that
    /// the call is still recorded.
    func handle(_ request: S3Request) async -> S3Outcome
}

/// S3's request ids: 16 upper-case hex characters, and the longer `x-amz-id-2` host id.
package enum S3RequestIDs {
    /// Makes the 16-character request id from a fresh UUID.
    package static func requestID(from uuid: String) -> String {
        var out = ""
        out.reserveCapacity(16)
        for c in uuid.utf8 where c != UInt8(ascii: "-") {
            out.unicodeScalars.append(Unicode.Scalar(c >= UInt8(ascii: "a") ? c - 32 : c))
            if out.utf8.count == 16 { break }
        }
        return out
    }

    /// The `x-amz-id-2` extended request id that goes with a request id (base64, as S3 sends it).
    package static func hostID(for requestID: String) -> String {
        let digest = SHA256.hash(data: Array(("cairn-host-" + requestID).utf8))
        let more = SHA256.hash(data: Array(digest))
        return Data(Array(digest) + Array(more).prefix(25)).base64EncodedString()
    }
}

extension WireRenderer {
    /// Maps an authentication failure to S3's error for it.
    ///
    /// S3 names these differently from the JSON and Query services (`InvalidAccessKeyId`, `RequestTimeTooSkewed`,
    /// `AccessDenied` for unsigned and expired presigned requests), and answers most of them with 403.
    package static func s3AuthError(_ failure: SigV4Failure) -> AWSError {
        switch failure {
        case .missingAuthentication:
            return AWSError("AccessDenied", "Access Denied", status: 403)
        case .incompleteSignature(let m):
            return AWSError("AuthorizationHeaderMalformed", "The authorization header is malformed; \(m)", status: 400)
        case .unknownAccessKey:
            return AWSError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", status: 403)
        case .signatureMismatch:
            return AWSError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                status: 403)
        case .requestTimeTooSkewed:
            return AWSError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", status: 403)
        case .presignExpired:
            return AWSError("AccessDenied", "Request has expired", status: 403)
        case .expiredToken:
            return AWSError("ExpiredToken", "The provided token has expired.", status: 400)
        case .invalidToken:
            return AWSError("InvalidToken", "The provided token is malformed or otherwise invalid.", status: 400)
        }
    }
}
