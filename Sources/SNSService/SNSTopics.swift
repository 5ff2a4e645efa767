import AWSCore

/// What other services, wired together in the composition root, may ask of SNS beyond its API: whether a topic
/// exists and what its access policy is (CloudTrail's `CreateTrail`/`UpdateTrail` checks). Services publish to
/// topics through the in-process client, like any caller.
///
/// Services never import `SNSService`; the composition root adapts this struct to their own protocols.
package struct SNSTopics: Sendable {
    let core: SNSCore

    /// The topic's `Policy` document (the default one when none was set), or `nil` when no topic has this ARN.
    package func policy(ofTopic arn: String) -> String? {
        core.registry.topic(arn)?.policy
    }

    /// Whether the topic's policy lets `service` publish to it (with the `aws:SourceArn` and `aws:SourceAccount`
    /// condition keys a service sends), or `nil` when no topic has this ARN.
    package func allowsPublish(toTopic arn: String, service: String, sourceArn: String? = nil, sourceAccount: String? = nil) -> Bool? {
        guard let topic = core.registry.topic(arn) else { return nil }
        return TopicPolicy.allows(topic, service: service, action: "SNS:Publish", sourceArn: sourceArn, sourceAccount: sourceAccount)
    }
}
