import AWSCore
import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Storage

/// Bucket-level operations: create, list, delete and the bucket's configuration subresources.
extension S3Service {
    /// S3's canonical user id of an account: 64 hex characters, stable for the account.
    static func canonicalID(_ account: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array("cairn-canonical-user:\(account)".utf8))))
    }

    func listBuckets(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        var owned = buckets.owned(by: r.caller.accountId)
        if let prefix = r.query("prefix") { owned = owned.filter { $0.name.hasPrefix(prefix) } }
        if let region = r.query("bucket-region") { owned = owned.filter { $0.region == region } }
        if let token = r.query("continuation-token") { owned = owned.filter { $0.name > token } }
        var next: String?
        if let maxText = r.query("max-buckets") {
            guard let max = Int(maxText), (1...10000).contains(max) else {
                throw S3Errors.invalidArgument("Invalid max-buckets value", name: "max-buckets", value: maxText)
            }
            if owned.count > max {
                owned = Array(owned.prefix(max))
                next = owned.last?.name
            }
        }
        return Self.xml { x in
            x.open("ListAllMyBucketsResult", xmlns: S3XML.namespace)
            x.open("Owner")
            x.element("ID", Self.canonicalID(r.caller.accountId))
            x.close("Owner")
            x.open("Buckets")
            for b in owned {
                x.open("Bucket")
                x.element("Name", b.name)
                x.element("CreationDate", S3Time.iso(b.createdMillis))
                x.element("BucketRegion", b.region)
                x.close("Bucket")
            }
            x.close("Buckets")
            if let next { x.element("ContinuationToken", next) }
            if let prefix = r.query("prefix") { x.element("Prefix", prefix) }
            x.close("ListAllMyBucketsResult")
        }
    }

    func createBucket(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let name = r.bucket ?? ""
        try BucketNames.validate(name)
        var constraint: String?
        if r.header("content-length").flatMap(Int.init) ?? 0 > 0 || r.header("transfer-encoding") != nil {
            let body = try await xmlBody(&call)
            guard body.name == "CreateBucketConfiguration" else { throw S3XML.malformed }
            constraint = body.value("LocationConstraint")
        }
        let region = try Self.bucketRegion(constraint: constraint, requestRegion: r.region)
        let caller = r.caller
        let now = Int64(runtime.now() * 1000)
        try await buckets.update(name) { existing -> (value: Bucket?, result: Void) in
            if let existing {
                guard existing.owner == caller.accountId else {
                    throw AWSError(
                        "BucketAlreadyExists",
                        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                        status: 409, details: ["BucketName": name])
                }
                // us-east-1 answers the owner's repeated create with success (a legacy behaviour); other regions refuse.
                if existing.region == "us-east-1" && region == "us-east-1" { return (existing, ()) }
                throw AWSError(
                    "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.",
                    status: 409, details: ["BucketName": name])
            }
            return (Bucket(name: name, owner: caller.accountId, region: region, createdMillis: now), ())
        }
        call.bucketOwner = caller.accountId
        var headers: HTTPFields = [:]
        headers[.location] = region == "us-east-1" ? "/\(name)" : "http://\(name).s3.amazonaws.com/"
        return Self.empty(headers: headers)
    }

    /// The region a new bucket goes to, or the error S3 gives for the LocationConstraint.
    static func bucketRegion(constraint: String?, requestRegion: String) throws(AWSError) -> String {
        guard let constraint, !constraint.isEmpty else {
            guard requestRegion == "us-east-1" else {
                throw AWSError(
                    "IllegalLocationConstraintException",
                    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
            }
            return "us-east-1"
        }
        guard constraint != "us-east-1" else {
            throw AWSError("InvalidLocationConstraint", "The specified location-constraint is not valid", details: ["LocationConstraint": constraint])
        }
        let region = constraint == "EU" ? "eu-west-1" : constraint
        guard region.range(of: #"^[a-z]{2}(-[a-z]+)+-\d$"#, options: .regularExpression) != nil else {
            throw AWSError("InvalidLocationConstraint", "The specified location-constraint is not valid", details: ["LocationConstraint": constraint])
        }
        guard requestRegion == "us-east-1" || requestRegion == region else {
            throw AWSError(
                "IllegalLocationConstraintException",
                "The \(constraint) location constraint is incompatible for the region specific endpoint this request was sent to.")
        }
        return region
    }

    func headBucket(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:ListBucket")
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("x-amz-bucket-region")!] = bucket.region
        headers[HTTPField.Name("x-amz-access-point-alias")!] = "false"
        return Self.empty(headers: headers)
    }

    func deleteBucket(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:DeleteBucket")
        let index = self.index
        let uploads = self.uploads
        try await buckets.update(bucket.name) { current -> (value: Bucket?, result: Void) in
            guard current != nil else { throw S3Errors.noSuchBucket(bucket.name) }
            guard try await index.listObjects(bucket: bucket.name, prefix: "", after: nil, limit: 1).isEmpty else {
                throw AWSError("BucketNotEmpty", "The bucket you tried to delete is not empty", status: 409, details: ["BucketName": bucket.name])
            }
            try await uploads.removeAll(bucket: bucket.name)
            return (nil, ())
        }
        return Self.empty(.noContent)
    }

    func getBucketLocation(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetBucketLocation")
        return Self.xml { x in
            if bucket.region == "us-east-1" {
                x.empty("LocationConstraint", xmlns: S3XML.namespace)
            } else {
                x.open("LocationConstraint", xmlns: S3XML.namespace)
                x.escapedText(bucket.region)
                x.close("LocationConstraint")
            }
        }
    }

    // MARK: Policy

    func getBucketPolicy(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetBucketPolicy")
        guard let policy = bucket.policy else {
            throw AWSError("NoSuchBucketPolicy", "The bucket policy does not exist", status: 404, details: ["BucketName": bucket.name])
        }
        call.bytesOut = policy.utf8.count
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: policy)))
    }

    func putBucketPolicy(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutBucketPolicy")
        let body = try await smallBody(&call, limit: 20 * 1024)
        let text = String(decoding: body, as: UTF8.self)
        if let compact = JSONMinifier.minify(body) {
            call.bodyParameters = ("bucketPolicy", compact)
        }
        try BucketPolicyRules.validate(text, bucket: bucket.name)
        try await buckets.update(bucket.name) { current in
            guard var current else { throw S3Errors.noSuchBucket(bucket.name) }
            current.policy = text
            return (current, ())
        }
        return Self.empty(.noContent)
    }

    func deleteBucketPolicy(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:DeleteBucketPolicy")
        try await updateBucket(bucket.name) { $0.policy = nil }
        return Self.empty(.noContent)
    }

    /// Applies a change to an existing bucket.
    func updateBucket(_ name: String, _ change: @Sendable @escaping (inout Bucket) throws -> Void) async throws {
        try await buckets.update(name) { current in
            guard var current else { throw S3Errors.noSuchBucket(name) }
            try change(&current)
            return (current, ())
        }
    }

    // MARK: Tagging

    func getBucketTagging(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetBucketTagging")
        guard let tags = bucket.tags else {
            throw AWSError("NoSuchTagSet", "The TagSet does not exist", status: 404, details: ["BucketName": bucket.name])
        }
        return Self.xml { x in
            x.open("Tagging", xmlns: S3XML.namespace)
            x.open("TagSet")
            for tag in tags {
                x.open("Tag")
                x.element("Key", tag.key)
                x.element("Value", tag.value)
                x.close("Tag")
            }
            x.close("TagSet")
            x.close("Tagging")
        }
    }

    func putBucketTagging(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutBucketTagging")
        let body = try await xmlBody(&call)
        guard body.name == "Tagging", let set = body.child("TagSet") else { throw S3XML.malformed }
        var tags: [Bucket.Tag] = []
        for node in set.all("Tag") {
            guard let key = node.value("Key"), let value = node.value("Value") else { throw S3XML.malformed }
            tags.append(.init(key: key, value: value))
        }
        try TagRules.validate(tags, invokedBy: call.request.invokedBy)
        let tagSet = tags
        try await updateBucket(bucket.name) { $0.tags = tagSet }
        return Self.empty(.noContent)
    }

    func deleteBucketTagging(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutBucketTagging")
        try await updateBucket(bucket.name) { $0.tags = nil }
        return Self.empty(.noContent)
    }

    // MARK: Versioning

    func getBucketVersioning(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetBucketVersioning")
        return Self.xml { x in
            guard bucket.versioning != nil || bucket.mfaDelete != nil else {
                x.empty("VersioningConfiguration", xmlns: S3XML.namespace)
                return
            }
            x.open("VersioningConfiguration", xmlns: S3XML.namespace)
            if let status = bucket.versioning { x.element("Status", status) }
            if let mfa = bucket.mfaDelete { x.element("MfaDelete", mfa) }
            x.close("VersioningConfiguration")
        }
    }

    func putBucketVersioning(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutBucketVersioning")
        let body = try await xmlBody(&call)
        guard body.name == "VersioningConfiguration" else { throw S3XML.malformed }
        let status = body.value("Status")
        let mfa = body.value("MfaDelete")
        guard status == nil || status == "Enabled" || status == "Suspended", mfa == nil || mfa == "Enabled" || mfa == "Disabled" else {
            throw S3XML.malformed
        }
        try await updateBucket(bucket.name) { b in
            if let status { b.versioning = status }
            if let mfa { b.mfaDelete = mfa }
        }
        return Self.empty()
    }

    // MARK: Encryption

    func getBucketEncryption(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetEncryptionConfiguration")
        // Since January 2023 every bucket has SSE-S3 as its default encryption, so there is always a rule.
        let rule = bucket.encryption ?? .init(algorithm: "AES256", kmsKeyID: nil, bucketKeyEnabled: false)
        return Self.xml { x in
            x.open("ServerSideEncryptionConfiguration", xmlns: S3XML.namespace)
            x.open("Rule")
            x.open("ApplyServerSideEncryptionByDefault")
            x.element("SSEAlgorithm", rule.algorithm)
            if let key = rule.kmsKeyID { x.element("KMSMasterKeyID", key) }
            x.close("ApplyServerSideEncryptionByDefault")
            x.element("BucketKeyEnabled", (rule.bucketKeyEnabled ?? false) ? "true" : "false")
            x.close("Rule")
            x.close("ServerSideEncryptionConfiguration")
        }
    }

    func putBucketEncryption(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutEncryptionConfiguration")
        let body = try await xmlBody(&call)
        guard body.name == "ServerSideEncryptionConfiguration", let rule = body.child("Rule"),
            let apply = rule.child("ApplyServerSideEncryptionByDefault"), let algorithm = apply.value("SSEAlgorithm"),
            ["AES256", "aws:kms", "aws:kms:dsse"].contains(algorithm)
        else { throw S3XML.malformed }
        let keyID = apply.value("KMSMasterKeyID")
        if keyID != nil && algorithm == "AES256" {
            throw AWSError("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
        }
        let bucketKey = rule.value("BucketKeyEnabled").map { $0 == "true" }
        try await updateBucket(bucket.name) { $0.encryption = .init(algorithm: algorithm, kmsKeyID: keyID, bucketKeyEnabled: bucketKey) }
        return Self.empty()
    }

    func deleteBucketEncryption(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:PutEncryptionConfiguration")
        try await updateBucket(bucket.name) { $0.encryption = nil }
        return Self.empty(.noContent)
    }

    // MARK: ACL

    func getBucketAcl(_ call: inout S3Call) async throws -> Response {
        let bucket = try bucket(&call, action: "s3:GetBucketAcl")
        let owner = Self.canonicalID(bucket.owner)
        return Self.xml { x in
            x.open("AccessControlPolicy", xmlns: S3XML.namespace)
            x.open("Owner")
            x.element("ID", owner)
            x.close("Owner")
            x.open("AccessControlList")
            x.open("Grant")
            x.open("Grantee", attributes: [("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser")])
            x.element("ID", owner)
            x.close("Grantee")
            x.element("Permission", "FULL_CONTROL")
            x.close("Grant")
            x.close("AccessControlList")
            x.close("AccessControlPolicy")
        }
    }
}

/// S3's bucket naming rules for general purpose buckets.
enum BucketNames {
    /// Throws `InvalidBucketName` unless `name` is a valid bucket name.
    static func validate(_ name: String) throws(AWSError) {
        guard isValid(name) else {
            throw AWSError("InvalidBucketName", "The specified bucket is not valid.", details: ["BucketName": name])
        }
    }

    /// Whether `name` follows the rules: 3-63 characters of lower-case letters, digits, dots and hyphens, starting
    /// and ending with a letter or digit, no adjacent dots, not an IP address, and none of the reserved prefixes and
    /// suffixes.
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        let allowed: (UInt8) -> Bool = { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 }
        let alnum: (UInt8) -> Bool = { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
        guard bytes.allSatisfy(allowed), alnum(bytes[0]), alnum(bytes[bytes.count - 1]) else { return false }
        guard !name.contains(".."), !name.contains(".-"), !name.contains("-.") else { return false }
        let parts = name.split(separator: ".")
        if parts.count == 4, parts.allSatisfy({ Int($0).map { (0...255).contains($0) } ?? false }) { return false }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) { return false }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(suffix) { return false }
        return true
    }
}

/// S3's rules for bucket tag sets.
enum TagRules {
    /// Throws `InvalidTag` as S3 does for a bad tag set; `invokedBy` is the AWS service making the call, which may
    /// set its own `aws:` tags (``ReservedTags``).
    static func validate(_ tags: [Bucket.Tag], invokedBy: String? = nil) throws(AWSError) {
        guard tags.count <= 50 else { throw AWSError("InvalidTag", "Bucket tag count cannot be greater than 50") }
        var seen: Set<String> = []
        for tag in tags {
            guard seen.insert(tag.key).inserted else {
                throw AWSError("InvalidTag", "Cannot provide multiple Tags with the same key", details: ["TagKey": tag.key])
            }
            guard (1...128).contains(tag.key.count) else {
                throw AWSError("InvalidTag", "The TagKey you have provided is invalid", details: ["TagKey": tag.key])
            }
            guard tag.value.count <= 256 else {
                throw AWSError("InvalidTag", "The TagValue you have provided is invalid", details: ["TagKey": tag.key, "TagValue": tag.value])
            }
            guard ReservedTags.allows(tag.key, invokedBy: invokedBy) else {
                throw AWSError("InvalidTag", "System tags cannot be added/updated by requester", details: ["TagKey": tag.key])
            }
        }
    }
}

/// S3's checks of a bucket policy document.
enum BucketPolicyRules {
    /// Throws `MalformedPolicy` with S3's message for a document S3 would refuse.
    static func validate(_ text: String, bucket: String) throws(AWSError) {
        let document: PolicyDocument
        do {
            document = try PolicyDocument(json: text)
        } catch {
            throw AWSError("MalformedPolicy", error.description)
        }
        for statement in document.statements {
            guard statement.principals != nil else { throw AWSError("MalformedPolicy", "Missing required field Principal") }
            for action in statement.actions + statement.notActions where !S3Actions.isValid(pattern: action) {
                throw AWSError("MalformedPolicy", "Policy has invalid action")
            }
            for resource in statement.resources + statement.notResources {
                let arn = "arn:aws:s3:::" + bucket
                guard resource == "*" || Glob.matches(resource, arn) || resource.hasPrefix(arn + "/") || Glob.matches(resource, arn + "/x")
                else { throw AWSError("MalformedPolicy", "Policy has invalid resource") }
            }
        }
    }
}

/// Removes insignificant whitespace from a JSON document, keeping member order (CloudTrail writes policies
/// compactly inside `requestParameters`).
enum JSONMinifier {
    /// The compact form, or `nil` when `bytes` is not a JSON object.
    static func minify(_ bytes: [UInt8]) -> [UInt8]? {
        guard (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)))?.object != nil else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for b in bytes {
            if inString {
                out.append(b)
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if b == UInt8(ascii: "\"") {
                inString = true
                out.append(b)
            } else if b != 32, b != 9, b != 10, b != 13 {
                out.append(b)
            }
        }
        return out
    }
}

/// The IAM action names of S3 (lower-cased), for checking the actions of a bucket policy.
enum S3Actions {
    static let names: [String] = [
        "AbortMultipartUpload", "BypassGovernanceRetention", "CreateAccessPoint", "CreateBucket", "CreateJob",
        "CreateMultiRegionAccessPoint", "DeleteAccessPoint", "DeleteAccessPointPolicy", "DeleteBucket",
        "DeleteBucketOwnershipControls", "DeleteBucketPolicy", "DeleteBucketWebsite", "DeleteJobTagging", "DeleteObject",
        "DeleteObjectTagging", "DeleteObjectVersion", "DeleteObjectVersionTagging", "DescribeJob", "GetAccelerateConfiguration",
        "GetAccessPoint", "GetAccessPointPolicy", "GetAccountPublicAccessBlock", "GetAnalyticsConfiguration", "GetBucketAcl",
        "GetBucketCORS", "GetBucketLocation", "GetBucketLogging", "GetBucketNotification", "GetBucketObjectLockConfiguration",
        "GetBucketOwnershipControls", "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
        "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
        "GetIntelligentTieringConfiguration", "GetInventoryConfiguration", "GetJobTagging", "GetLifecycleConfiguration",
        "GetMetricsConfiguration", "GetObject", "GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention",
        "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
        "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent", "GetReplicationConfiguration",
        "ListAccessPoints", "ListAllMyBuckets", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions", "ListJobs",
        "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner", "PutAccelerateConfiguration", "PutAccessPointPolicy",
        "PutAccountPublicAccessBlock", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS", "PutBucketLogging",
        "PutBucketNotification", "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls", "PutBucketPolicy",
        "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning", "PutBucketWebsite",
        "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration", "PutInventoryConfiguration", "PutJobTagging",
        "PutLifecycleConfiguration", "PutMetricsConfiguration", "PutObject", "PutObjectAcl", "PutObjectLegalHold",
        "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging", "PutReplicationConfiguration",
        "ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject", "UpdateJobPriority", "UpdateJobStatus",
    ].map { "s3:" + $0.lowercased() }

    /// Whether an action pattern (`s3:GetObject`, `s3:Get*`, `*`) names at least one S3 action.
    static func isValid(pattern: String) -> Bool {
        pattern == "*" || names.contains { Glob.matches(pattern, $0) }
    }
}
