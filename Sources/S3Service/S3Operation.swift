import AWSCore
import Audit
import Gateway
import HTTPTypes

/// The S3 operations Cairn serves, as requests name them (``route(_:)``); each has an ``S3Declaration``.
enum S3Operation: String, Sendable, CaseIterable {
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

    /// The operation's declaration: how CloudTrail records it and what runs it.
    var declaration: S3Declaration { S3Declaration.all[self]! }

    /// The CloudTrail `eventName`.
    var eventName: String { declaration.eventName }

    /// Management or data event.
    var category: EventCategory { declaration.category }

    /// Whether the operation only reads.
    var readOnly: Bool { declaration.readOnly }

    /// Subresources Cairn does not serve; a request for one that ``S3UnservedOperation/match(_:)`` does not name
    /// (a method no S3 operation has for it) is answered `NotImplemented` and, naming no operation, not recorded.
    private static let unsupportedSubresources: Set<String> = [
        "accelerate", "analytics", "cors", "intelligent-tiering", "inventory", "lifecycle", "logging", "metrics",
        "notification", "object-lock", "ownershipControls", "policyStatus", "publicAccessBlock", "replication",
        "requestPayment", "website", "versions", "legal-hold", "retention", "restore", "select", "torrent", "attributes",
        "acl", "tagging", "metadataTable", "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable",
        "abac", "session", "renameObject",
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
            throw notImplemented(name)
        }
    }

    /// S3's answer to functionality it does not implement (Cairn's answer to the operations it does not serve).
    static func notImplemented(_ subresource: String) -> AWSError {
        AWSError(
            "NotImplemented", "A header you provided implies functionality that is not implemented", status: 501,
            details: ["Header": subresource])
    }

    private static func methodNotAllowed(_ method: HTTPRequest.Method, resource: String) -> AWSError {
        AWSError(
            "MethodNotAllowed", "The specified method is not allowed against this resource.", status: 405,
            details: ["Method": method.rawValue, "ResourceType": resource])
    }
}

/// An S3 operation Cairn does not serve, named as CloudTrail records it. Such a call is answered `501 NotImplemented`
/// and still recorded: every call that passes authentication is an event, whatever the answer.
///
/// Operations are found as S3 finds them, by method and subresource (the request URIs of botocore's S3 model, e.g.
/// `PUT /{Bucket}?logging` is PutBucketLogging, `POST /{Bucket}/{Key+}?restore` RestoreObject). Event names follow
/// CloudTrail where it differs from the API name: the S3 user guide's list of bucket-level actions
/// (`PutBucketLifecycle` for PutBucketLifecycleConfiguration, `PutBucketNotification`, `PutBucketPublicAccessBlock`
/// for PutPublicAccessBlock, ...) and recorded events (`GetAccelerateConfiguration`,
/// `GetBucketObjectLockConfiguration`; the `GET ?analytics|inventory|metrics|intelligent-tiering` listings are
/// recorded as the `GetBucket...Configuration` event of their subresource).
struct S3UnservedOperation: Sendable, Equatable {
    /// The CloudTrail `eventName`.
    let eventName: String
    /// The subresource that names the operation (a `requestParameters` member with an empty value).
    let subresource: String
    /// Object-level operations (and ListObjectVersions, a listing of objects) are data events; bucket-level ones
    /// are management events.
    let category: EventCategory
    /// Whether the operation only reads.
    let readOnly: Bool

    /// Bucket-level operations by subresource and method.
    private static let bucketLevel: [String: [String: String]] = [
        "abac": ["GET": "GetBucketAbac", "PUT": "PutBucketAbac"],
        "accelerate": ["GET": "GetAccelerateConfiguration", "PUT": "PutAccelerateConfiguration"],
        "acl": ["PUT": "PutBucketAcl"],
        "analytics": [
            "GET": "GetBucketAnalyticsConfiguration", "PUT": "PutBucketAnalyticsConfiguration",
            "DELETE": "DeleteBucketAnalyticsConfiguration",
        ],
        "cors": ["GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"],
        "intelligent-tiering": [
            "GET": "GetBucketIntelligentTieringConfiguration", "PUT": "PutBucketIntelligentTieringConfiguration",
            "DELETE": "DeleteBucketIntelligentTieringConfiguration",
        ],
        "inventory": [
            "GET": "GetBucketInventoryConfiguration", "PUT": "PutBucketInventoryConfiguration",
            "DELETE": "DeleteBucketInventoryConfiguration",
        ],
        "lifecycle": ["GET": "GetBucketLifecycle", "PUT": "PutBucketLifecycle", "DELETE": "DeleteBucketLifecycle"],
        "logging": ["GET": "GetBucketLogging", "PUT": "PutBucketLogging"],
        "metadataConfiguration": [
            "GET": "GetBucketMetadataConfiguration", "POST": "CreateBucketMetadataConfiguration",
            "DELETE": "DeleteBucketMetadataConfiguration",
        ],
        "metadataInventoryTable": ["PUT": "UpdateBucketMetadataInventoryTableConfiguration"],
        "metadataJournalTable": ["PUT": "UpdateBucketMetadataJournalTableConfiguration"],
        "metadataTable": [
            "GET": "GetBucketMetadataTableConfiguration", "POST": "CreateBucketMetadataTableConfiguration",
            "DELETE": "DeleteBucketMetadataTableConfiguration",
        ],
        "metrics": [
            "GET": "GetBucketMetricsConfiguration", "PUT": "PutBucketMetricsConfiguration",
            "DELETE": "DeleteBucketMetricsConfiguration",
        ],
        "notification": ["GET": "GetBucketNotification", "PUT": "PutBucketNotification"],
        "object-lock": ["GET": "GetBucketObjectLockConfiguration", "PUT": "PutBucketObjectLockConfiguration"],
        "ownershipControls": [
            "GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls", "DELETE": "DeleteBucketOwnershipControls",
        ],
        "policyStatus": ["GET": "GetBucketPolicyStatus"],
        "publicAccessBlock": [
            "GET": "GetBucketPublicAccessBlock", "PUT": "PutBucketPublicAccessBlock", "DELETE": "DeleteBucketPublicAccessBlock",
        ],
        "replication": ["GET": "GetBucketReplication", "PUT": "PutBucketReplication", "DELETE": "DeleteBucketReplication"],
        "requestPayment": ["GET": "GetBucketRequestPayment", "PUT": "PutBucketRequestPayment"],
        "session": ["GET": "CreateSession"],
        "versions": ["GET": "ListObjectVersions"],
        "website": ["GET": "GetBucketWebsite", "PUT": "PutBucketWebsite", "DELETE": "DeleteBucketWebsite"],
    ]

    /// Object-level operations by subresource and method.
    private static let objectLevel: [String: [String: String]] = [
        "acl": ["GET": "GetObjectAcl", "PUT": "PutObjectAcl"],
        "attributes": ["GET": "GetObjectAttributes"],
        "encryption": ["PUT": "UpdateObjectEncryption"],
        "legal-hold": ["GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"],
        "renameObject": ["PUT": "RenameObject"],
        "restore": ["POST": "RestoreObject"],
        "retention": ["GET": "GetObjectRetention", "PUT": "PutObjectRetention"],
        "select": ["POST": "SelectObjectContent"],
        "tagging": ["GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"],
        "torrent": ["GET": "GetObjectTorrent"],
    ]

    /// Bucket-level operations recorded as data events: operations on the objects of a bucket (the S3 user guide
    /// lists ListObjectVersions among them; CreateSession is the object-access session of directory buckets).
    private static let bucketLevelData: Set<String> = ["ListObjectVersions", "CreateSession"]

    /// Operations that only read although their name does not say so (S3 Select reads the object).
    private static let readingByName: Set<String> = ["SelectObjectContent"]

    /// The unserved operation a request names, if any: the first of its query parameters that is, for its method,
    /// the subresource of an operation Cairn does not serve.
    static func match(_ r: S3Request) -> S3UnservedOperation? {
        guard r.bucket != nil else { return nil }
        let table = r.key == nil ? bucketLevel : objectLevel
        for parameter in r.query {
            guard let name = table[parameter.name]?[r.method.rawValue] else { continue }
            let data = r.key != nil || bucketLevelData.contains(name)
            let readOnly = name.hasPrefix("Get") || name.hasPrefix("List") || readingByName.contains(name)
            return S3UnservedOperation(
                eventName: name, subresource: parameter.name, category: data ? .data : .management, readOnly: readOnly)
        }
        return nil
    }

    /// Every operation of the tables (for tests): subresource, whether object-level, method and event name.
    static var all: [(subresource: String, objectLevel: Bool, method: String, eventName: String)] {
        var out: [(subresource: String, objectLevel: Bool, method: String, eventName: String)] = []
        for (objectLevelTable, table) in [(false, bucketLevel), (true, objectLevel)] {
            for (subresource, methods) in table {
                for (method, name) in methods { out.append((subresource, objectLevelTable, method, name)) }
            }
        }
        return out
    }
}
