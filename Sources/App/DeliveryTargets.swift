import AWSCore
import CloudTrailService
import S3Service

/// CloudTrail's CreateTrail/UpdateTrail checks against the hosted S3 (and SNS) state.
///
/// The bucket must exist; with `--resource-policy-checks strict` its policy must also let
/// `cloudtrail.amazonaws.com` read the bucket ACL and write log files under `[prefix/]AWSLogs/<account>/`, evaluated
/// as IAM evaluates a bucket policy (explicit Deny wins; principal, action, resource and conditions must match).
struct DeliveryTargets: DeliveryTargetChecks {
    let s3: S3Service
    let checkPolicies: Bool

    func checkBucket(_ bucket: String, prefix: String?, trailARN: String, account: String) async throws {
        guard let facts = s3.bucketFacts(bucket) else {
            throw AWSError("S3BucketDoesNotExistException", "S3 bucket \(bucket) does not exist.")
        }
        guard checkPolicies else { return }
        let insufficient = AWSError("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: \(bucket)")
        guard let text = facts.policy, let policy = try? PolicyDocument(json: text) else { throw insufficient }
        let folder = (prefix.map { $0.isEmpty ? "" : $0 + "/" } ?? "") + "AWSLogs/\(account)/CloudTrail/"
        let context = [
            "aws:SourceArn": trailARN, "aws:SourceAccount": account, "s3:x-amz-acl": "bucket-owner-full-control",
        ]
        let readAcl = PolicyDocument.Request(
            servicePrincipal: "cloudtrail.amazonaws.com", action: "s3:GetBucketAcl", resource: "arn:aws:s3:::\(bucket)", context: context)
        let write = PolicyDocument.Request(
            servicePrincipal: "cloudtrail.amazonaws.com", action: "s3:PutObject",
            resource: "arn:aws:s3:::\(bucket)/\(folder)\(Self.regionPlaceholder)/log.json.gz", context: context)
        guard policy.allows(readAcl), policy.allows(write) else { throw insufficient }
    }

    /// A region folder for the sample log-file key checked against the policy.
    private static let regionPlaceholder = "us-east-1/2026/01/01"

    func checkTopic(_ topicARN: String, trailARN: String, account: String) async throws {}
}
