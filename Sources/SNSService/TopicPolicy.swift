import AWSCore

/// Topic access policies: the default one AWS writes for every new topic, validation of the ones users set, and
/// the resource-policy check for callers outside the topic's account and for AWS service principals.
enum TopicPolicy {
    /// The policy AWS gives a new topic, byte for byte as `GetTopicAttributes` returns it: every principal of the
    /// owning account (the `AWS:SourceOwner` condition) may use the topic's eight actions.
    ///
    /// Source: `GetTopicAttributes` output of topics created in 2024-2025 (the `SNS:Receive` action of older
    /// topics is no longer written); moto's `_create_default_topic_policy` has the same statement.
    static func defaultPolicy(topicARN: String, account: String) -> String {
        #"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":""#
            + topicARN + #"","Condition":{"StringEquals":{"AWS:SourceOwner":""# + account + #""}}}]}"#
    }

    /// Checks a policy document as `SetTopicAttributes` and `CreateTopic` do.
    ///
    /// - Throws: `InvalidParameter` "Invalid parameter: Policy Error: null" for a document that does not parse as
    ///   a policy (SNS's wording for malformed and empty documents alike), and "Invalid parameter: Policy statement
    ///   action out of service scope!" for an action of another service.
    static func validate(_ document: String) throws(AWSError) -> PolicyDocument {
        let policy: PolicyDocument
        do {
            policy = try PolicyDocument(json: document)
        } catch {
            throw SNSErrors.invalidParameter("Policy Error: null")
        }
        for statement in policy.statements {
            for action in statement.actions + statement.notActions where action != "*" && !action.hasPrefix("sns:") {
                throw SNSErrors.invalidParameter("Policy statement action out of service scope!")
            }
        }
        return policy
    }

    /// Whether the topic's policy lets a caller from another account perform `action` (`SNS:Publish`).
    static func allows(_ topic: Topic, caller: Caller, action: String) -> Bool {
        guard let policy = try? PolicyDocument(json: topic.policy) else { return false }
        return policy.allows(
            PolicyDocument.Request(awsPrincipal: caller.arn, awsAccount: caller.accountId, action: action, resource: topic.arn))
    }

    /// Whether the topic's policy lets an AWS service principal (`cloudtrail.amazonaws.com`) perform `action`.
    static func allows(_ topic: Topic, service: String, action: String, sourceArn: String?, sourceAccount: String?) -> Bool {
        guard let policy = try? PolicyDocument(json: topic.policy) else { return false }
        var context: [String: String] = [:]
        if let sourceArn { context["aws:SourceArn"] = sourceArn }
        if let sourceAccount { context["aws:SourceAccount"] = sourceAccount }
        return policy.allows(
            PolicyDocument.Request(servicePrincipal: service, action: action, resource: topic.arn, context: context))
    }
}
