import AWSCore
import Audit
import Gateway
import HTTPTypes

/// The S3 operations Cairn serves, with how CloudTrail records each.
enum S3Operation: String, Sendable {
    case listBuckets = "ListBuckets"
    case createBucket = "CreateBucket"
    case headBucket = "HeadBucket"
    case deleteBucket = "DeleteBucket"
    case getBucketLocation = "GetBucketLocation"
    case getBucketPolicy = "GetBucketPolicy"
    case putBucketPolicy = "PutBucketPolicy"
    case deleteBucketPolicy = "DeleteBucketPolicy"
    case getBucketTagging = "GetBucketTagging"
    case putBucketTagging = "PutBucketTagging"
    case deleteBucketTagging = "DeleteBucketTagging"
    case getBucketVersioning = "GetBucketVersioning"
    case putBucketVersioning = "PutBucketVersioning"
    case getBucketEncryption = "GetBucketEncryption"
    case putBucketEncryption = "PutBucketEncryption"
    case deleteBucketEncryption = "DeleteBucketEncryption"
    case getBucketAcl = "GetBucketAcl"
    case listObjects = "ListObjects"
    case listObjectsV2 = "ListObjectsV2"
    case listMultipartUploads = "ListMultipartUploads"
    case deleteObjects = "DeleteObjects"
    case putObject = "PutObject"
    case copyObject = "CopyObject"
    case getObject = "GetObject"
    case headObject = "HeadObject"
    case deleteObject = "DeleteObject"
    case createMultipartUpload = "CreateMultipartUpload"
    case uploadPart = "UploadPart"
    case uploadPartCopy = "UploadPartCopy"
    case completeMultipartUpload = "CompleteMultipartUpload"
    case abortMultipartUpload = "AbortMultipartUpload"
    case listParts = "ListParts"

    /// The CloudTrail `eventName`. ListObjectsV2 calls are recorded as `ListObjects` with a `list-type` of `2`
    /// among their request parameters, as CloudTrail writes them.
    var eventName: String {
        self == .listObjectsV2 ? "ListObjects" : rawValue
    }

    /// Object-level operations (and object listings) are data events; bucket-level ones are management events.
    var category: EventCategory {
        switch self {
        case .listObjects, .listObjectsV2, .deleteObjects, .putObject, .copyObject, .getObject, .headObject, .deleteObject,
            .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload, .abortMultipartUpload, .listParts:
            .data
        default:
            .management
        }
    }

    /// Whether the operation only reads.
    var readOnly: Bool {
        switch self {
        case .listBuckets, .headBucket, .getBucketLocation, .getBucketPolicy, .getBucketTagging, .getBucketVersioning,
            .getBucketEncryption, .getBucketAcl, .listObjects, .listObjectsV2, .listMultipartUploads, .getObject, .headObject,
            .listParts:
            true
        default:
            false
        }
    }

    /// Whether the operation names an object (its event lists the object among its resources).
    var isObjectLevel: Bool {
        switch self {
        case .putObject, .copyObject, .getObject, .headObject, .deleteObject, .createMultipartUpload, .uploadPart,
            .uploadPartCopy, .completeMultipartUpload, .abortMultipartUpload, .listParts:
            true
        default:
            false
        }
    }

    /// Bucket subresources Cairn does not serve; a request for one is answered `NotImplemented`.
    private static let unsupportedSubresources: Set<String> = [
        "accelerate", "analytics", "cors", "intelligent-tiering", "inventory", "lifecycle", "logging", "metrics",
        "notification", "object-lock", "ownershipControls", "policyStatus", "publicAccessBlock", "replication",
        "requestPayment", "website", "versions", "legal-hold", "retention", "restore", "select", "torrent", "attributes",
        "acl", "tagging", "metadataTable", "metadataConfiguration",
    ]

    /// Finds the operation a request names, from its method, bucket, key and subresources.
    ///
    /// - Throws: S3's `MethodNotAllowed` or `NotImplemented` for requests that name no served operation.
    static func route(_ r: S3Request) throws(AWSError) -> S3Operation {
        let has: (String) -> Bool = { r.query($0) != nil }
        guard r.bucket != nil else {
            if r.method == .get { return .listBuckets }
            throw methodNotAllowed(r.method, resource: "SERVICE")
        }
        if r.key == nil {
            switch r.method {
            case .put:
                if has("policy") { return .putBucketPolicy }
                if has("tagging") { return .putBucketTagging }
                if has("versioning") { return .putBucketVersioning }
                if has("encryption") { return .putBucketEncryption }
                try rejectUnsupported(r)
                return .createBucket
            case .get:
                if has("location") { return .getBucketLocation }
                if has("policy") { return .getBucketPolicy }
                if has("tagging") { return .getBucketTagging }
                if has("versioning") { return .getBucketVersioning }
                if has("encryption") { return .getBucketEncryption }
                if has("acl") { return .getBucketAcl }
                if has("uploads") { return .listMultipartUploads }
                try rejectUnsupported(r)
                return r.query("list-type") == "2" ? .listObjectsV2 : .listObjects
            case .head:
                return .headBucket
            case .delete:
                if has("policy") { return .deleteBucketPolicy }
                if has("tagging") { return .deleteBucketTagging }
                if has("encryption") { return .deleteBucketEncryption }
                try rejectUnsupported(r)
                return .deleteBucket
            case .post:
                if has("delete") { return .deleteObjects }
                try rejectUnsupported(r)
                throw methodNotAllowed(r.method, resource: "BUCKET")
            default:
                throw methodNotAllowed(r.method, resource: "BUCKET")
            }
        }
        switch r.method {
        case .put:
            try rejectUnsupported(r)
            let copy = r.header("x-amz-copy-source") != nil
            if has("uploadId") || has("partNumber") { return copy ? .uploadPartCopy : .uploadPart }
            return copy ? .copyObject : .putObject
        case .get:
            try rejectUnsupported(r)
            return has("uploadId") ? .listParts : .getObject
        case .head:
            return .headObject
        case .delete:
            try rejectUnsupported(r)
            return has("uploadId") ? .abortMultipartUpload : .deleteObject
        case .post:
            if has("uploads") { return .createMultipartUpload }
            if has("uploadId") { return .completeMultipartUpload }
            try rejectUnsupported(r)
            throw methodNotAllowed(r.method, resource: "OBJECT")
        default:
            throw methodNotAllowed(r.method, resource: "OBJECT")
        }
    }

    private static func rejectUnsupported(_ r: S3Request) throws(AWSError) {
        if let name = r.query.first(where: { unsupportedSubresources.contains($0.name) })?.name {
            throw AWSError(
                "NotImplemented", "A header you provided implies functionality that is not implemented", status: 501,
                details: ["Header": name])
        }
    }

    private static func methodNotAllowed(_ method: HTTPRequest.Method, resource: String) -> AWSError {
        AWSError(
            "MethodNotAllowed", "The specified method is not allowed against this resource.", status: 405,
            details: ["Method": method.rawValue, "ResourceType": resource])
    }
}
