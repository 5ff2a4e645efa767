import AWSCore
import CloudTrailService
import ConfigService
import NIOCore
import S3Service
import SNSService

/// CloudTrail's CreateTrail/UpdateTrail checks, answered by the hosted S3 and SNS: the composition root is where
/// CloudTrail meets them (services never import each other).
///
/// - Buckets: the bucket must exist (`S3BucketDoesNotExistException`); with `--resource-policy-checks strict` its
///   policy must also let `cloudtrail.amazonaws.com` read the bucket ACL and write log files under
///   `[prefix/]AWSLogs/<account>/`, evaluated as IAM evaluates a bucket policy (explicit Deny wins; principal,
///   action, resource and conditions must match), else `InsufficientS3BucketPolicyException`.
/// - Topics: the topic must exist; with strict checks its policy must also let `cloudtrail.amazonaws.com` publish
///   (with the trail's ARN and account as `aws:SourceArn` and `aws:SourceAccount`), else
///   `InsufficientSnsTopicPolicyException`.
struct DeliveryTargets: DeliveryTargetChecks, TrailDestinations, ConfigDeliveryTargets {
    let buckets: S3Service
    let topics: SNSTopics
    let policyChecks: AppConfiguration.ResourcePolicyChecks

    func checkBucket(_ bucket: String, prefix: String?, trailARN: String, account: String) async throws {
        // AWS's exact wording is not documented; this follows the form other emulators use.
        guard let facts = buckets.bucketFacts(bucket) else {
            throw AWSError("S3BucketDoesNotExistException", "S3 bucket \(bucket) does not exist.")
        }
        guard policyChecks == .strict else { return }
        let insufficient = AWSError("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: \(bucket)")
        guard let text = facts.policy, let policy = try? PolicyDocument(json: text) else { throw insufficient }
        let folder = (prefix.map { $0.isEmpty ? "" : $0 + "/" } ?? "") + "AWSLogs/\(account)/CloudTrail/"
        let context = ["aws:SourceArn": trailARN, "aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"]
        let readAcl = PolicyDocument.Request(
            servicePrincipal: "cloudtrail.amazonaws.com", action: "s3:GetBucketAcl", resource: "arn:aws:s3:::\(bucket)", context: context)
        // A representative log-file key: the policy must cover every region folder and date under the prefix.
        let write = PolicyDocument.Request(
            servicePrincipal: "cloudtrail.amazonaws.com", action: "s3:PutObject",
            resource: "arn:aws:s3:::\(bucket)/\(folder)us-east-1/2026/01/01/log.json.gz", context: context)
        guard policy.allows(readAcl), policy.allows(write) else { throw insufficient }
    }

    func checkTopic(_ topicARN: String, trailARN: String, account: String) async throws {
        // CloudTrail's one message for both cases (shared/spec/cloudtrail.md, error table).
        let insufficient = AWSError("InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!")
        guard
            let allowed = topics.allowsPublish(
                toTopic: topicARN, service: "cloudtrail.amazonaws.com", sourceArn: trailARN, sourceAccount: account)
        else { throw insufficient }
        if policyChecks == .strict, !allowed { throw insufficient }
    }

    // MARK: Deliveries

    /// Writes a log or digest file into the trail's bucket as `cloudtrail.amazonaws.com`, with the object attributes
    /// CloudTrail's deliveries carry (JSON, gzip-encoded, bucket-owner-full-control).
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, metadata: [(String, String)], trailARN: String, account: String)
        async throws
    {
        try await buckets.putServiceObject(
            bucket: bucket, key: key, body: gzipped, contentType: "application/json", contentEncoding: "gzip", metadata: metadata,
            servicePrincipal: "cloudtrail.amazonaws.com", sourceArn: trailARN, sourceAccount: account,
            checkPolicy: policyChecks == .strict)
    }

    /// Publishes a delivery notification to the trail's topic as `cloudtrail.amazonaws.com`.
    func notify(topicARN: String, message: String, trailARN: String, account: String) async throws {
        _ = try await topics.publish(
            toTopic: topicARN, message: message, asService: "cloudtrail.amazonaws.com", sourceArn: trailARN, sourceAccount: account,
            checkPolicy: policyChecks == .strict)
    }

    // MARK: AWS Config

    /// A delivery channel's bucket must exist; with strict checks its policy must let `config.amazonaws.com` read
    /// the bucket ACL and write under `[prefix/]AWSLogs/<account>/Config/`.
    func checkBucket(_ bucket: String, prefix: String?, account: String) async throws {
        guard let facts = buckets.bucketFacts(bucket) else {
            throw AWSError("NoSuchBucketException", "Cannot find a S3 bucket with name '\(bucket)'.")
        }
        guard policyChecks == .strict else { return }
        let insufficient = AWSError("InsufficientDeliveryPolicyException", "Insufficient delivery policy to s3 bucket: \(bucket)")
        guard let text = facts.policy, let policy = try? PolicyDocument(json: text) else { throw insufficient }
        let folder = (prefix.map { $0 + "/" } ?? "") + "AWSLogs/\(account)/Config/"
        let context = ["aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control"]
        let readAcl = PolicyDocument.Request(
            servicePrincipal: "config.amazonaws.com", action: "s3:GetBucketAcl", resource: "arn:aws:s3:::\(bucket)", context: context)
        let write = PolicyDocument.Request(
            servicePrincipal: "config.amazonaws.com", action: "s3:PutObject",
            resource: "arn:aws:s3:::\(bucket)/\(folder)ConfigWritabilityCheckFile", context: context)
        guard policy.allows(readAcl), policy.allows(write) else { throw insufficient }
    }

    func topicExists(_ arn: String) -> Bool {
        topics.policy(ofTopic: arn) != nil
    }

    func putProbe(bucket: String, key: String, account: String) async throws {
        try await buckets.putServiceObject(
            bucket: bucket, key: key, body: ByteBuffer(), contentType: "binary/octet-stream", contentEncoding: nil, metadata: [],
            servicePrincipal: "config.amazonaws.com", sourceArn: "", sourceAccount: account, checkPolicy: false)
    }
}
