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
        // A representative log-file key: the policy must cover every region folder and date under the prefix.
        let logFile = (prefix.map { $0.isEmpty ? "" : $0 + "/" } ?? "") + "AWSLogs/\(account)/CloudTrail/us-east-1/2026/01/01/log.json.gz"
        guard
            Self.allowsDelivery(
                policy: facts.policy, bucket: bucket, object: logFile, service: "cloudtrail.amazonaws.com",
                context: ["aws:SourceArn": trailARN, "aws:SourceAccount": account])
        else {
            throw AWSError("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: \(bucket)")
        }
    }

    /// Whether a bucket policy lets an AWS service deliver into the bucket as CloudTrail and Config do: read the
    /// bucket ACL, and put `object` with `x-amz-acl: bucket-owner-full-control` (IAM's evaluation: explicit Deny wins;
    /// principal, action, resource and conditions must match).
    static func allowsDelivery(policy text: String?, bucket: String, object: String, service: String, context: [String: String]) -> Bool {
        guard let text, let policy = try? PolicyDocument(json: text) else { return false }
        var context = context
        context["s3:x-amz-acl"] = "bucket-owner-full-control"
        let readAcl = PolicyDocument.Request(
            servicePrincipal: service, action: "s3:GetBucketAcl", resource: "arn:aws:s3:::\(bucket)", context: context)
        let write = PolicyDocument.Request(
            servicePrincipal: service, action: "s3:PutObject", resource: "arn:aws:s3:::\(bucket)/\(object)", context: context)
        return policy.allows(readAcl) && policy.allows(write)
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
        let probe = (prefix.map { $0 + "/" } ?? "") + "AWSLogs/\(account)/Config/ConfigWritabilityCheckFile"
        guard
            Self.allowsDelivery(
                policy: facts.policy, bucket: bucket, object: probe, service: "config.amazonaws.com",
                context: ["aws:SourceAccount": account])
        else {
            throw AWSError("InsufficientDeliveryPolicyException", "Insufficient delivery policy to s3 bucket: \(bucket)")
        }
    }

    func topicExists(_ arn: String) -> Bool {
        topics.policy(ofTopic: arn) != nil
    }

    func putProbe(bucket: String, key: String, account: String) async throws {
        try await buckets.putServiceObject(
            bucket: bucket, key: key, body: ByteBuffer(), contentType: "binary/octet-stream", contentEncoding: nil, metadata: [],
            servicePrincipal: "config.amazonaws.com", sourceArn: "", sourceAccount: account, checkPolicy: false)
    }

    func putFile(bucket: String, key: String, gzipped: ByteBuffer, account: String) async throws {
        try await buckets.putServiceObject(
            bucket: bucket, key: key, body: gzipped, contentType: "application/json", contentEncoding: "gzip", metadata: [],
            servicePrincipal: "config.amazonaws.com", sourceArn: "", sourceAccount: account, checkPolicy: policyChecks == .strict)
    }

    func notify(topicARN: String, subject: String, message: String, account: String) async throws {
        _ = try await topics.publish(
            toTopic: topicARN, message: message, subject: subject, asService: "config.amazonaws.com", sourceAccount: account,
            checkPolicy: policyChecks == .strict)
    }
}
