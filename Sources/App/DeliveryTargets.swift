import AWSCore
import CloudTrailService
import SNSService

/// CloudTrail's delivery-target checks, answered by the hosted services: the composition root is where CloudTrail
/// meets SNS (neither imports the other).
///
/// - Topics: the topic must exist; with `--resource-policy-checks strict` its policy must also let
///   `cloudtrail.amazonaws.com` publish (with the trail's ARN and account as `aws:SourceArn` and
///   `aws:SourceAccount`). Otherwise CreateTrail and UpdateTrail fail with CloudTrail's
///   `InsufficientSnsTopicPolicyException`.
/// - Buckets: not checked until S3 is hosted.
struct HostedDeliveryTargets: DeliveryTargetChecks {
    let topics: SNSTopics
    let policyChecks: AppConfiguration.ResourcePolicyChecks

    /// Nothing to check until S3 is hosted.
    func checkBucket(_ bucket: String, prefix: String?, trailARN: String, account: String) async throws {}

    /// Throws `InsufficientSnsTopicPolicyException` for a missing topic, or (strict) one CloudTrail may not publish to.
    func checkTopic(_ topicARN: String, trailARN: String, account: String) async throws {
        // CloudTrail's one message for both cases (shared/spec/cloudtrail.md, error table).
        let insufficient = AWSError("InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!")
        guard
            let allowed = topics.allowsPublish(
                toTopic: topicARN, service: "cloudtrail.amazonaws.com", sourceArn: trailARN, sourceAccount: account)
        else { throw insufficient }
        if policyChecks == .strict, !allowed { throw insufficient }
    }
}
