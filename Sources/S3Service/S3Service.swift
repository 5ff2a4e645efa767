package import AWSCore
import Audit
import Crypto
import Foundation
package import Gateway
import HTTPTypes
import Hummingbird
package import Logging
import NIOCore
package import Storage

/// Amazon S3 on Cairn's endpoint: buckets with their configuration, objects stored as files, multipart uploads.
///
/// Every request reaches ``handle(_:)`` already authenticated; the outcome carries the response and how CloudTrail
/// records the call (S3's own `requestParameters` conventions, `resources`, data or management category).
package final class S3Service: S3Handler {
    let buckets: BucketRegistry
    /// The object index, with keys escaped so that any key (U+0000 included) is stored whole.
    let index: ObjectKeyIndex
    let files: ObjectFiles
    let uploads: UploadStore
    let logger: Logger
    let runtime: Runtime
    /// Whether a bucket policy must grant an AWS service principal what it does (`--resource-policy-checks
    /// strict`); when `false`, services may act on any bucket that exists.
    let checksServicePrincipals: Bool

    /// Opens the service over the stores and the data directory (objects live in `<dataDirectory>/s3`); bucket
    /// changes are published to `changes`.
    ///
    /// - Parameter checksServicePrincipals: whether calls of AWS service principals (CloudTrail and Config
    ///   delivering files) need the bucket policy's grant, as on AWS (`--resource-policy-checks strict`).
    package init(
        state: any StateStore, index: any ObjectIndex, dataDirectory: String, runtime: Runtime, logger: Logger,
        changes: ResourceChangeFeed = ResourceChangeFeed(), checksServicePrincipals: Bool = true
    ) async throws {
        self.checksServicePrincipals = checksServicePrincipals
        self.buckets = try await BucketRegistry(store: state, changes: changes)
        self.index = ObjectKeyIndex(base: index)
        self.files = try ObjectFiles(dataDirectory: dataDirectory, newID: runtime.uuid)
        self.uploads = UploadStore(store: state)
        self.runtime = runtime
        self.logger = logger
    }

    package func handle(_ request: S3Request) async -> S3Outcome {
        if let unserved = S3UnservedOperation.match(request) {
            return await handle(unserved, request)
        }
        let operation: S3Operation
        do {
            operation = try S3Operation.route(request)
        } catch {
            return S3Outcome(
                eventName: nil, category: .management, readOnly: true, requestParameters: nil, resources: nil,
                response: .failure(error))
        }
        let declaration = operation.declaration
        var call = S3Call(request: request, namesObject: declaration.namesObject)
        let response: Result<Response, AWSError>
        do {
            response = .success(try await declaration.run(self, &call))
        } catch let error as AWSError {
            response = .failure(error)
        } catch {
            logger.error(
                "S3 operation failed",
                metadata: [
                    "aws.request.id": "\(request.requestID)", "aws.operation": "\(operation.rawValue)", "error": "\(String(reflecting: error))",
                ])
            response = .failure(AWSError("InternalError", "We encountered an internal error. Please try again.", status: 500))
        }
        return S3Outcome(
            eventName: declaration.eventName, category: declaration.category, readOnly: declaration.readOnly,
            requestParameters: call.requestParameters(), responseElements: call.responseElements,
            resources: call.resources(owner: request.bucket.flatMap { buckets.bucket($0)?.owner } ?? call.bucketOwner),
            lookupResources: request.bucket.map { [LookupResource(type: "AWS::S3::Bucket", name: $0)] } ?? [],
            bytesIn: call.bytesIn, bytesOut: call.bytesOut, response: response)
    }

    /// Answers an operation Cairn does not serve with `NotImplemented` and describes the call as CloudTrail records
    /// it: S3's `requestParameters` (the subresource as an empty-string member, the XML body under its element name
    /// when the request has one that parses), the object and bucket as resources, and the error.
    private func handle(_ operation: S3UnservedOperation, _ request: S3Request) async -> S3Outcome {
        var call = S3Call(request: request, namesObject: request.key != nil)
        if request.method == .put || request.method == .post {
            // A body that cannot be read or parsed is left out of the record; the answer is NotImplemented anyway.
            if let bytes = try? await smallBody(&call), !bytes.isEmpty, let node = try? S3XML.parse(bytes) {
                var w = JSONWriter(capacity: 256)
                S3XML.writeValue(node, to: &w)
                call.bodyParameters = (node.name, w.bytes)
            }
        }
        return S3Outcome(
            eventName: operation.eventName, category: operation.category, readOnly: operation.readOnly,
            requestParameters: call.requestParameters(), resources: call.resources(owner: request.bucket.flatMap { buckets.bucket($0)?.owner }),
            lookupResources: request.bucket.map { [LookupResource(type: "AWS::S3::Bucket", name: $0)] } ?? [],
            bytesIn: call.bytesIn, response: .failure(S3Operation.notImplemented(operation.subresource)))
    }

    // MARK: Shared steps

    /// The bucket a request names, checked for existence and for the caller's access (see ``authorize(_:bucket:action:resource:)``).
    func bucket(_ call: inout S3Call, action: String, resource: String? = nil) throws(AWSError) -> Bucket {
        let name = call.request.bucket ?? ""
        guard let bucket = buckets.bucket(name) else { throw S3Errors.noSuchBucket(name) }
        call.bucketOwner = bucket.owner
        if let expected = call.request.header("x-amz-expected-bucket-owner"), expected != bucket.owner {
            throw S3Errors.accessDenied
        }
        if call.request.caller.kind == .awsService {
            try authorizeService(call.request, bucket: bucket, action: action, resource: resource ?? bucket.arn)
        } else {
            try Self.authorize(call.request.caller, bucket: bucket, action: action, resource: resource ?? bucket.arn)
        }
        return bucket
    }

    /// Checks an AWS service principal's access (CloudTrail or Config delivering into a bucket): the bucket policy
    /// must allow the service the action, with the condition keys the service sends (`aws:SourceAccount`,
    /// `aws:SourceArn`, `s3:x-amz-acl`); explicit Deny wins. With `--resource-policy-checks off` any bucket that
    /// exists is writable by services.
    func authorizeService(_ request: S3Request, bucket: Bucket, action: String, resource: String) throws(AWSError) {
        guard checksServicePrincipals else { return }
        var context = ["aws:SourceAccount": request.caller.accountId]
        if let sourceArn = request.caller.sourceArn { context["aws:SourceArn"] = sourceArn }
        if let acl = request.header("x-amz-acl") { context["s3:x-amz-acl"] = acl }
        let policyRequest = PolicyDocument.Request(servicePrincipal: request.caller.name, action: action, resource: resource, context: context)
        guard let policy = bucket.policy, let document = try? PolicyDocument(json: policy), document.allows(policyRequest) else {
            throw S3Errors.accessDenied
        }
    }

    /// Checks a caller's access to a bucket or object as S3 does without identity policies: the owner's account may
    /// do anything the bucket policy does not explicitly deny; another account needs the bucket policy to allow it.
    static func authorize(_ caller: Caller, bucket: Bucket, action: String, resource: String) throws(AWSError) {
        let request = PolicyDocument.Request(awsPrincipal: caller.arn, awsAccount: caller.accountId, action: action, resource: resource)
        let document = bucket.policy.flatMap { try? PolicyDocument(json: $0) }
        if bucket.owner == caller.accountId {
            if let document, document.explicitlyDenies(request) { throw S3Errors.accessDenied }
            return
        }
        guard let document, document.allows(request) else { throw S3Errors.accessDenied }
    }

    /// Reads a small request body (an XML configuration or a policy) through the payload checks.
    func smallBody(_ call: inout S3Call, limit: Int = 1 << 20) async throws -> [UInt8] {
        var reader = try PayloadReader(call.request)
        var bytes: [UInt8] = []
        for try await buffer in call.request.body {
            call.bytesIn += buffer.readableBytes
            guard call.bytesIn <= limit * 2 else {
                throw AWSError("MaxMessageLengthExceeded", "Your request was too big.", status: 400)
            }
            let decoded = try reader.feed(buffer)
            bytes += decoded.readableBytesView
            guard bytes.count <= limit else {
                throw AWSError("MaxMessageLengthExceeded", "Your request was too big.", status: 400)
            }
        }
        _ = try reader.finish()
        return bytes
    }

    /// Parses a small XML body and remembers it for the event's `requestParameters`.
    func xmlBody(_ call: inout S3Call) async throws -> XMLNode {
        let bytes = try await smallBody(&call)
        guard !bytes.isEmpty else { throw S3XML.malformed }
        let node = try S3XML.parse(bytes)
        var w = JSONWriter(capacity: 256)
        S3XML.writeValue(node, to: &w)
        call.bodyParameters = (node.name, w.bytes)
        return node
    }

    /// A 200 response with an XML document (`<?xml ...?>` declaration, S3's namespace on the root). Control
    /// characters that object keys may hold are written as S3 writes them (``XMLWriter/escape(_:controls:)``).
    static func xml(_ status: HTTPResponse.Status = .ok, _ build: (inout XMLWriter) -> Void) -> Response {
        var x = XMLWriter(declaration: true, referencesControlCharacters: true)
        build(&x)
        return Response(
            status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: x.text)))
    }

    /// An empty response with the given status.
    static func empty(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if status != .noContent, headers[.contentLength] == nil { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers)
    }
}

/// One S3 call in progress: the request and what its CloudTrail event will say.
struct S3Call {
    let request: S3Request
    /// Whether the operation names an object (its event lists the object among its resources).
    let namesObject: Bool
    /// The request body as CloudTrail renders it in `requestParameters`: the member name and its JSON value.
    var bodyParameters: (name: String, json: [UInt8])?
    /// Extra `requestParameters` fields from headers (`x-amz-acl`, `x-amz-copy-source`, ...), in order.
    var headerParameters: [(String, String)] = []
    /// The event's `responseElements`.
    var responseElements: [UInt8]?
    /// Bytes received and sent.
    var bytesIn = 0
    var bytesOut = 0
    /// The bucket owner, once known.
    var bucketOwner: String?

    /// A call that names an object or not.
    init(request: S3Request, namesObject: Bool) {
        self.request = request
        self.namesObject = namesObject
        for name in ["x-amz-acl", "x-amz-server-side-encryption", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-storage-class"] {
            if let value = request.header(name) { headerParameters.append((name, value)) }
        }
    }

    /// S3's `requestParameters`: the body, `bucketName`, `Host`, selected headers, the query parameters and `key`.
    func requestParameters() -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        if let bodyParameters {
            w.key(bodyParameters.name)
            w.raw(bodyParameters.json)
        }
        if let bucket = request.bucket { w.field("bucketName", bucket) }
        w.field("Host", request.host)
        for (name, value) in headerParameters { w.field(name, value) }
        for (name, value) in request.query { w.field(name, value) }
        if let key = request.key { w.field("key", key) }
        w.endObject()
        return w.bytes
    }

    /// The record's `resources`: the object (for object-level calls) and the bucket.
    func resources(owner: String?) -> [EventResource]? {
        guard let bucket = request.bucket else { return nil }
        var out: [EventResource] = []
        if namesObject, let key = request.key {
            out.append(EventResource(type: "AWS::S3::Object", arn: "arn:aws:s3:::\(bucket)/\(key)", accountId: nil))
        }
        out.append(EventResource(type: "AWS::S3::Bucket", arn: "arn:aws:s3:::\(bucket)", accountId: owner))
        return out
    }
}

/// S3's common errors, worded as S3 words them.
enum S3Errors {
    static func noSuchBucket(_ name: String) -> AWSError {
        AWSError("NoSuchBucket", "The specified bucket does not exist", status: 404, details: ["BucketName": name])
    }

    static func noSuchKey(_ key: String) -> AWSError {
        AWSError("NoSuchKey", "The specified key does not exist.", status: 404, details: ["Key": key])
    }

    static let accessDenied = AWSError("AccessDenied", "Access Denied", status: 403)

    static func invalidArgument(_ message: String, name: String, value: String) -> AWSError {
        AWSError("InvalidArgument", message, details: ["ArgumentName": name, "ArgumentValue": value])
    }
}

/// What another service (CloudTrail, AWS Config) needs to know about a bucket it delivers into.
package struct BucketFacts: Sendable {
    /// The bucket name.
    package var name: String
    /// The owning account.
    package var owner: String
    /// The bucket's region.
    package var region: String
    /// The bucket policy, verbatim.
    package var policy: String?
    /// The bucket's default encryption algorithm (`AES256` unless configured otherwise).
    package var encryption: String
}

extension S3Service {
    /// The facts of a bucket, or `nil` when it does not exist.
    package func bucketFacts(_ name: String) -> BucketFacts? {
        buckets.bucket(name).map {
            BucketFacts(
                name: $0.name, owner: $0.owner, region: $0.region, policy: $0.policy, encryption: $0.encryption?.algorithm ?? "AES256")
        }
    }
}
