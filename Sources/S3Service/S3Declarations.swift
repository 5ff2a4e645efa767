import Audit
import Hummingbird

/// One S3 operation's declaration, like a modeled service's `AWSOperation`: how CloudTrail records it (event name,
/// read-only or not, management or data event, whether its record names the object) and the handler that runs it.
///
/// Every S3 record is rendered the same way from the call (S3's `requestParameters` conventions in ``S3Call``);
/// handlers add only what differs (the body, `responseElements`, bytes transferred).
struct S3Declaration: Sendable {
    /// The operation, as requests name it.
    let operation: S3Operation
    /// The CloudTrail `eventName` (the operation's name, except where CloudTrail records another).
    let eventName: String
    /// Management (bucket-level) or data (object-level, and object listings) event.
    let category: EventCategory
    /// Whether the operation only reads.
    let readOnly: Bool
    /// Whether the operation names an object (its record lists the object among its `resources`).
    let namesObject: Bool
    /// The handler.
    let run: @Sendable (S3Service, inout S3Call) async throws -> Response

    /// Declares an operation.
    init(
        _ operation: S3Operation, _ category: EventCategory, readOnly: Bool, namesObject: Bool = false, eventName: String? = nil,
        run: @escaping @Sendable (S3Service, inout S3Call) async throws -> Response
    ) {
        self.operation = operation
        self.eventName = eventName ?? operation.rawValue
        self.category = category
        self.readOnly = readOnly
        self.namesObject = namesObject
        self.run = run
    }

    /// Every served operation's declaration.
    ///
    /// Bucket-level operations are management events; object-level ones and object listings are data events
    /// (the S3 user guide's lists of bucket-level and object-level actions). ListObjectsV2 calls are recorded as
    /// `ListObjects` with a `list-type` of `2` among their request parameters, as CloudTrail writes them.
    static let all: [S3Operation: S3Declaration] = Dictionary(
        uniqueKeysWithValues: [
            S3Declaration(.listBuckets, .management, readOnly: true) { try await $0.listBuckets(&$1) },
            S3Declaration(.createBucket, .management, readOnly: false) { try await $0.createBucket(&$1) },
            S3Declaration(.headBucket, .management, readOnly: true) { try await $0.headBucket(&$1) },
            S3Declaration(.deleteBucket, .management, readOnly: false) { try await $0.deleteBucket(&$1) },
            S3Declaration(.getBucketLocation, .management, readOnly: true) { try await $0.getBucketLocation(&$1) },
            S3Declaration(.getBucketPolicy, .management, readOnly: true) { try await $0.getBucketPolicy(&$1) },
            S3Declaration(.putBucketPolicy, .management, readOnly: false) { try await $0.putBucketPolicy(&$1) },
            S3Declaration(.deleteBucketPolicy, .management, readOnly: false) { try await $0.deleteBucketPolicy(&$1) },
            S3Declaration(.getBucketTagging, .management, readOnly: true) { try await $0.getBucketTagging(&$1) },
            S3Declaration(.putBucketTagging, .management, readOnly: false) { try await $0.putBucketTagging(&$1) },
            S3Declaration(.deleteBucketTagging, .management, readOnly: false) { try await $0.deleteBucketTagging(&$1) },
            S3Declaration(.getBucketVersioning, .management, readOnly: true) { try await $0.getBucketVersioning(&$1) },
            S3Declaration(.putBucketVersioning, .management, readOnly: false) { try await $0.putBucketVersioning(&$1) },
            S3Declaration(.getBucketEncryption, .management, readOnly: true) { try await $0.getBucketEncryption(&$1) },
            S3Declaration(.putBucketEncryption, .management, readOnly: false) { try await $0.putBucketEncryption(&$1) },
            S3Declaration(.deleteBucketEncryption, .management, readOnly: false) { try await $0.deleteBucketEncryption(&$1) },
            S3Declaration(.getBucketAcl, .management, readOnly: true) { try await $0.getBucketAcl(&$1) },
            S3Declaration(.listMultipartUploads, .management, readOnly: true) { try await $0.listMultipartUploads(&$1) },
            S3Declaration(.listObjects, .data, readOnly: true) { try await $0.listObjects(&$1, v2: false) },
            S3Declaration(.listObjectsV2, .data, readOnly: true, eventName: "ListObjects") { try await $0.listObjects(&$1, v2: true) },
            S3Declaration(.deleteObjects, .data, readOnly: false) { try await $0.deleteObjects(&$1) },
            S3Declaration(.putObject, .data, readOnly: false, namesObject: true) { try await $0.putObject(&$1) },
            S3Declaration(.copyObject, .data, readOnly: false, namesObject: true) { try await $0.copyObject(&$1) },
            S3Declaration(.getObject, .data, readOnly: true, namesObject: true) { try await $0.getObject(&$1, head: false) },
            S3Declaration(.headObject, .data, readOnly: true, namesObject: true) { try await $0.getObject(&$1, head: true) },
            S3Declaration(.deleteObject, .data, readOnly: false, namesObject: true) { try await $0.deleteObject(&$1) },
            S3Declaration(.createMultipartUpload, .data, readOnly: false, namesObject: true) { try await $0.createMultipartUpload(&$1) },
            S3Declaration(.uploadPart, .data, readOnly: false, namesObject: true) { try await $0.uploadPart(&$1) },
            S3Declaration(.uploadPartCopy, .data, readOnly: false, namesObject: true) { try await $0.uploadPartCopy(&$1) },
            S3Declaration(.completeMultipartUpload, .data, readOnly: false, namesObject: true) {
                try await $0.completeMultipartUpload(&$1)
            },
            S3Declaration(.abortMultipartUpload, .data, readOnly: false, namesObject: true) { try await $0.abortMultipartUpload(&$1) },
            S3Declaration(.listParts, .data, readOnly: true, namesObject: true) { try await $0.listParts(&$1) },
        ].map { ($0.operation, $0) })
}
