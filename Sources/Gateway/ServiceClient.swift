package import AWSCore
import Crypto
package import HTTPTypes
import Hummingbird
package import NIOCore

/// The in-process client: how one Cairn service calls an operation of another (or its own), S3 included.
///
/// A call takes the same steps as an HTTP call after authentication: the input is type-checked against the model
/// and its required members checked, the operation runs, its CloudTrail event is rendered from the declaration and
/// appended durably, and the output or the AWS error comes back. What differs is only the origin: an AWS service
/// principal, or a user's identity carried by a service (``CallOrigin``), so the events of service-made calls are
/// right by construction.
package struct ServiceClient: Sendable {
    let pipeline: CallPipeline
    /// The signing key an in-process S3 request carries: never used, since its payload is declared unsigned.
    private static let unusedSigningKey = SymmetricKey(data: [UInt8](repeating: 0, count: 32))

    /// A client of the services installed in `pipeline`.
    package init(pipeline: CallPipeline) {
        self.pipeline = pipeline
    }

    /// Calls an operation of a modeled service (JSON 1.1 or Query), named by the service's signing name (`sns`,
    /// `cloudtrail`, `config`, `sts`) and the operation's model name, with input shaped like the model's input.
    ///
    /// With `coercingScalars`, string values of boolean and number members are read as such first (for callers
    /// whose values are text, as CloudFormation's resource properties are).
    ///
    /// - Returns: the output, shaped like the model's output.
    /// - Throws: the call's ``AWSError`` (recorded in its event like any failure); another error only when the
    ///   event could not be stored.
    package func call(
        _ serviceName: String, _ operation: String, _ input: JSONValue = .object([:]), as origin: CallOrigin, coercingScalars: Bool = false
    ) async throws -> JSONValue {
        guard let service = pipeline.service(named: serviceName) else {
            throw AWSError("UnknownService", "No service named \(serviceName) is hosted.")
        }
        guard let model = service.model.operations[operation], service.operations[operation] != nil else {
            throw CallPipeline.unknownOperation(service, operation)
        }
        let codec = ShapeCodec(model: service.model)
        let given = coercingScalars ? model.input.map { codec.coercingScalars(input, shape: $0) } ?? input : input
        let decoded = Result { () throws(AWSError) in try codec.validate(given, shape: model.input) }
        let runtime = pipeline.runtime
        return try await pipeline.perform(
            service, operation, input: decoded, origin: origin, requestID: runtime.uuid(), now: Int64(runtime.now())
        ).get()
    }

    /// Calls S3 with a REST request, as an SDK would send it (without a signature: the origin says who calls).
    ///
    /// - Returns: the status, headers and body of S3's answer.
    /// - Throws: S3's ``AWSError`` (recorded like any failure); another error only when the event could not be
    ///   stored or the answer's body could not be read.
    package func s3(_ request: S3ClientRequest, as origin: CallOrigin) async throws -> S3ClientResponse {
        let runtime = pipeline.runtime
        let now = Int64(runtime.now())
        let requestID = S3RequestIDs.requestID(from: runtime.uuid())
        var headers = request.headers
        headers[.contentLength] = String(request.body.readableBytes)
        // Services sign their payloads; the pipeline trusts an in-process caller, so the payload needs no hash.
        headers[HTTPField.Name("x-amz-content-sha256")!] = "UNSIGNED-PAYLOAD"
        let amzDate = Timestamp.amzDate(now)
        let auth = SigV4Authorization(
            accessKeyId: origin.caller.accessKeyId, scopeDate: String(amzDate.prefix(8)), region: origin.region, service: "s3",
            signedHeaders: [], signature: "", amzDate: amzDate, requestTime: now, sessionToken: nil, presignExpires: nil)
        var s3Request = S3Request(
            method: request.method, bucket: request.bucket, key: request.key, query: request.query, headers: headers,
            host: request.bucket.map { "\($0).s3.\(origin.region).amazonaws.com" } ?? "s3.\(origin.region).amazonaws.com",
            body: RequestBody(buffer: request.body), caller: origin.caller, auth: auth, signingKey: Self.unusedSigningKey,
            requestID: requestID, now: now)
        s3Request.invokedBy = origin.invokedBy
        let response = try await pipeline.perform(s3Request, origin: origin, hostID: S3RequestIDs.hostID(for: requestID)).get()
        let box = BodyCollector.Box()
        try await response.body.write(BodyCollector(box: box))
        return S3ClientResponse(status: response.status, headers: response.headers, body: box.body)
    }
}

/// An S3 REST request made in process: what an SDK would put on the wire, less the signature.
package struct S3ClientRequest: Sendable {
    /// The HTTP method.
    package var method: HTTPRequest.Method
    /// The bucket, if the request names one.
    package var bucket: String?
    /// The object key, if the request names one.
    package var key: String?
    /// Query parameters (subresources such as `policy`, with an empty value), in order.
    package var query: [(name: String, value: String)]
    /// Request headers (`content-type`, `x-amz-acl`, `x-amz-meta-*`, ...).
    package var headers: HTTPFields
    /// The request body.
    package var body: ByteBuffer

    /// Creates a request.
    package init(
        method: HTTPRequest.Method, bucket: String?, key: String? = nil, query: [(name: String, value: String)] = [],
        headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()
    ) {
        self.method = method
        self.bucket = bucket
        self.key = key
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// A `PutObject` of `body` with the given headers.
    package static func putObject(bucket: String, key: String, body: ByteBuffer, headers: HTTPFields = [:]) -> S3ClientRequest {
        S3ClientRequest(method: .put, bucket: bucket, key: key, headers: headers, body: body)
    }
}

/// S3's answer to an in-process request.
package struct S3ClientResponse: Sendable {
    /// The HTTP status.
    package var status: HTTPResponse.Status
    /// The response headers.
    package var headers: HTTPFields
    /// The response body, whole.
    package var body: ByteBuffer
}

/// Collects a response body written by a ``ResponseBody`` into one buffer (the writer is consumed by the body,
/// so the bytes land in a box the caller keeps).
private struct BodyCollector: ResponseBodyWriter {
    /// Where the bytes land.
    final class Box {
        var body = ByteBuffer()
    }

    let box: Box

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        box.body.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
