import AWSCore

/// What other services, wired together in the composition root, may ask of SNS: whether a topic exists and what
/// its access policy is (CloudTrail's `CreateTrail`/`UpdateTrail` checks), and publishing to a topic as an AWS
/// service principal (trail log-file notifications as `cloudtrail.amazonaws.com`).
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

    /// Publishes a message to a topic on behalf of an AWS service, as that service's principal: the topic policy
    /// must allow `SNS:Publish` to it (unless `checkPolicy` is false: `--resource-policy-checks off`). Returns the
    /// message id; the message goes out like any published message.
    ///
    /// The call is not recorded as a CloudTrail event (a data event, which Event history never shows).
    /// - Throws: `NotFound` "Topic does not exist", `AuthorizationError` when the policy does not allow the
    ///   service, `InvalidParameter` for an empty or oversized message or subject.
    package func publish(
        toTopic arn: String, message: String, subject: String? = nil, asService service: String, sourceArn: String? = nil,
        sourceAccount: String? = nil, checkPolicy: Bool = true
    ) async throws -> String {
        guard let topic = core.registry.topic(arn) else { throw SNSErrors.topicNotFound }
        guard !checkPolicy || TopicPolicy.allows(topic, service: service, action: "SNS:Publish", sourceArn: sourceArn, sourceAccount: sourceAccount)
        else {
            throw AWSError(
                "AuthorizationError", "Service: \(service) is not authorized to perform: SNS:Publish on resource: \(arn)",
                status: 403)
        }
        var input: [String: JSONValue] = ["Message": .string(message)]
        if let subject { input["Subject"] = .string(subject) }
        let checked = try SNSCore.checkMessage(.object(input))
        return try await core.publish(checked, to: topic).messageId
    }
}
