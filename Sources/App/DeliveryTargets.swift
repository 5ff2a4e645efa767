import AWSCore
import CloudTrailService
import ConfigService
import Gateway
import HTTPTypes
import NIOCore
import S3Service
import SNSService

/// Where CloudTrail and AWS Config meet S3 and SNS (services never import each other): their CreateTrail,
/// UpdateTrail and PutDeliveryChannel checks, answered from S3's and SNS's state, and their deliveries, made as
/// S3 and SNS calls through the in-process client.
///
/// - Buckets: the bucket must exist (`S3BucketDoesNotExistException`); with `--resource-policy-checks strict` its
///   policy must also let `cloudtrail.amazonaws.com` read the bucket ACL and write log files under
///   `[prefix/]AWSLogs/<account>/`, evaluated as IAM evaluates a bucket policy (explicit Deny wins; principal,
///   action, resource and conditions must match), else `InsufficientS3BucketPolicyException`.
/// - Topics: the topic must exist; with strict checks its policy must also let `cloudtrail.amazonaws.com` publish
///   (with the trail's ARN and account as `aws:SourceArn` and `aws:SourceAccount`), else
///   `InsufficientSnsTopicPolicyException`.
struct DeliveryTargets: DeliveryTargetChecks, TrailDestinations, ConfigDeliveryTargets {
    /// How deliveries reach S3 and SNS: their operations, through the same audited path as any call.
    let client: ServiceClient
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

    /// Writes a log or digest file into the trail's bucket: a `PutObject` through the in-process client as
    /// `cloudtrail.amazonaws.com` acting for the trail, with the object attributes CloudTrail's deliveries carry
    /// (JSON, gzip-encoded, `bucket-owner-full-control`, the bucket's default encryption). The call is recorded as
    /// the S3 data event AWS writes for it, in the bucket's region and the bucket owner's account.
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, metadata: [(String, String)], trailARN: String, account: String)
        async throws
    {
        try await put(
            bucket: bucket, key: key, body: gzipped, gzipped: true, metadata: metadata, service: "cloudtrail.amazonaws.com",
            account: account, sourceArn: trailARN)
    }

    /// Publishes a delivery notification to the trail's topic: an SNS `Publish` through the in-process client as
    /// `cloudtrail.amazonaws.com`, recorded as SNS's data event.
    func notify(topicARN: String, message: String, trailARN: String, account: String) async throws {
        try await publish(
            topicARN: topicARN, input: ["Message": .string(message)], service: "cloudtrail.amazonaws.com", account: account,
            sourceArn: trailARN)
    }

    /// `PutObject` of a delivered file as an AWS service principal.
    ///
    /// The request carries what the real deliveries' records show in `requestParameters` (the spec's CloudTrail
    /// notes §4.3, from a real record of a log-file delivery): `x-amz-acl: bucket-owner-full-control` and
    /// `x-amz-server-side-encryption` with the bucket's default algorithm. A bucket that does not exist fails the
    /// call with `NoSuchBucket` (also recorded, in the delivering service's region).
    private func put(
        bucket: String, key: String, body: ByteBuffer, gzipped: Bool, metadata: [(String, String)], service: String, account: String,
        sourceArn: String?
    ) async throws {
        let facts = buckets.bucketFacts(bucket)
        var headers: HTTPFields = [.contentType: gzipped ? "application/json" : "binary/octet-stream"]
        if gzipped { headers[.contentEncoding] = "gzip" }
        headers[HTTPField.Name("x-amz-acl")!] = "bucket-owner-full-control"
        if let encryption = facts?.encryption, encryption == "AES256" {
            headers[HTTPField.Name("x-amz-server-side-encryption")!] = encryption
        }
        for (name, value) in metadata {
            if let field = HTTPField.Name("x-amz-meta-" + name) { headers[field] = value }
        }
        let origin = CallOrigin.service(service, account: account, region: facts?.region ?? "us-east-1", sourceArn: sourceArn)
        _ = try await client.s3(.putObject(bucket: bucket, key: key, body: body, headers: headers), as: origin)
    }

    /// SNS `Publish` to a topic as an AWS service principal, in the topic's region.
    private func publish(topicARN: String, input: [String: JSONValue], service: String, account: String, sourceArn: String?) async throws {
        var input = input
        input["TopicArn"] = .string(topicARN)
        let region = topicARN.split(separator: ":", omittingEmptySubsequences: false).dropFirst(3).first.map(String.init) ?? "us-east-1"
        let origin = CallOrigin.service(service, account: account, region: region, sourceArn: sourceArn)
        _ = try await client.call("sns", "Publish", .object(input), as: origin)
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

    /// Config's `ConfigWritabilityCheckFile`: an empty object Config writes when a delivery channel is set up, as
    /// `config.amazonaws.com`.
    func putProbe(bucket: String, key: String, account: String) async throws {
        try await put(
            bucket: bucket, key: key, body: ByteBuffer(), gzipped: false, metadata: [], service: "config.amazonaws.com", account: account,
            sourceArn: nil)
    }

    /// A snapshot or history file, as `config.amazonaws.com`.
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, account: String) async throws {
        try await put(
            bucket: bucket, key: key, body: gzipped, gzipped: true, metadata: [], service: "config.amazonaws.com", account: account,
            sourceArn: nil)
    }

    /// A configuration change or delivery notification, as `config.amazonaws.com`.
    func notify(topicARN: String, subject: String, message: String, account: String) async throws {
        try await publish(
            topicARN: topicARN, input: ["Message": .string(message), "Subject": .string(subject)], service: "config.amazonaws.com",
            account: account, sourceArn: nil)
    }
}
