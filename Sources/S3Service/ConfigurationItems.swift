package import AWSCore

/// How AWS Config sees a bucket: the configuration item facts of `AWS::S3::Bucket`.
extension Bucket {
    /// The bucket as a Config resource: `configuration` is `{name, owner, creationDate}` and the bucket's
    /// subresources are `supplementaryConfiguration` entries, named and shaped as in Config's items for S3.
    func resourceState() -> ResourceState {
        let canonical = S3Service.canonicalID(owner)
        let owner: JSONValue = .object(["displayName": .null, "id": .string(canonical)])
        var supplementary: [String: JSONValue] = [:]
        // Config keeps the ACL as a JSON text even in its file form.
        var acl = JSONWriter(capacity: 256)
        JSONValue.object([
            "grantSet": .null,
            "grantList": .array([.object(["grantee": .object(["id": .string(canonical), "displayName": .null]), "permission": "FullControl"])]),
            "owner": owner, "isRequesterCharged": false,
        ]).write(to: &acl)
        supplementary["AccessControlList"] = .string(acl.string)
        supplementary["BucketAccelerateConfiguration"] = .object(["status": .null])
        supplementary["BucketLoggingConfiguration"] = .object(["destinationBucketName": .null, "logFilePrefix": .null])
        supplementary["BucketNotificationConfiguration"] = .object(["configurations": .object([:])])
        supplementary["BucketPolicy"] = .object(["policyText": policy.map(JSONValue.string) ?? .null])
        if let tags, !tags.isEmpty {
            var set: [String: JSONValue] = [:]
            for tag in tags { set[tag.key] = .string(tag.value) }
            supplementary["BucketTaggingConfiguration"] = .object(["tagSets": .array([.object(["tags": .object(set)])])])
        }
        supplementary["BucketVersioningConfiguration"] = .object([
            "status": .string(versioning ?? "Off"),
            "isMfaDeleteEnabled": mfaDelete.map { .bool($0 == "Enabled") } ?? .null,
        ])
        supplementary["IsRequesterPaysEnabled"] = false
        // Every bucket has SSE-S3 as its default encryption since January 2023.
        let rule = encryption ?? .init(algorithm: "AES256", kmsKeyID: nil, bucketKeyEnabled: false)
        supplementary["ServerSideEncryptionConfiguration"] = .object([
            "rules": .array([
                .object([
                    "applyServerSideEncryptionByDefault": .object([
                        "sseAlgorithm": .string(rule.algorithm), "kmsMasterKeyID": rule.kmsKeyID.map(JSONValue.string) ?? .null,
                    ]),
                    "bucketKeyEnabled": .bool(rule.bucketKeyEnabled ?? false),
                ])
            ])
        ])
        var tagMap: [String: String] = [:]
        for tag in tags ?? [] { tagMap[tag.key] = tag.value }
        let created = Double(createdMillis) / 1000
        return ResourceState(
            accountId: self.owner, region: region, resourceType: "AWS::S3::Bucket", resourceId: name, resourceName: name, arn: arn,
            availabilityZone: "Regional", creationTime: created, tags: tagMap,
            configuration: .object(["name": .string(name), "owner": owner, "creationDate": .string(Timestamp.iso8601Millis(created))]),
            supplementaryConfiguration: supplementary)
    }
}

extension S3Service: ResourceInventory {
    /// The account's buckets in the region, for Config's discovery.
    package func resources(account: String, region: String) async throws -> [ResourceState] {
        buckets.owned(by: account).filter { $0.region == region }.map { $0.resourceState() }
    }
}
