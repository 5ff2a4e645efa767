import AWSCore
import Foundation
import Gateway

/// The topic handlers: create, delete, list, attributes and tags.
extension SNSCore {
    /// What `EffectiveDeliveryPolicy` shows for a topic without a `DeliveryPolicy`, as AWS returns it.
    static let defaultTopicDeliveryPolicy =
        #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#

    /// The attributes `SetTopicAttributes` accepts (and `CreateTopic`, plus `FifoTopic`).
    static let settableTopicAttributes: Set<String> = [
        "Policy", "DisplayName", "DeliveryPolicy", "SignatureVersion", "TracingConfig", "KmsMasterKeyId",
        "ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy", "DataProtectionPolicy",
        "HTTPSuccessFeedbackRoleArn", "HTTPSuccessFeedbackSampleRate", "HTTPFailureFeedbackRoleArn",
        "FirehoseSuccessFeedbackRoleArn", "FirehoseSuccessFeedbackSampleRate", "FirehoseFailureFeedbackRoleArn",
        "LambdaSuccessFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate", "LambdaFailureFeedbackRoleArn",
        "ApplicationSuccessFeedbackRoleArn", "ApplicationSuccessFeedbackSampleRate", "ApplicationFailureFeedbackRoleArn",
        "SQSSuccessFeedbackRoleArn", "SQSSuccessFeedbackSampleRate", "SQSFailureFeedbackRoleArn",
    ]

    /// Checks one topic attribute value; `reason` prefixes the message (`Attributes Reason: ` for `CreateTopic`).
    static func checkTopicAttribute(_ name: String, _ value: String, fifo: Bool, reason: String) throws(AWSError) {
        switch name {
        case "Policy":
            _ = try TopicPolicy.validate(value)
        case "DisplayName":
            // AWS: at most 100 characters ("Invalid parameter: Attributes Reason: DisplayName" in CreateTopic).
            if value.count > 100 { throw SNSErrors.invalidParameter(reason + "DisplayName") }
        case "DeliveryPolicy":
            guard (try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8)))?.object != nil else {
                throw SNSErrors.invalidParameter(reason + "DeliveryPolicy: Invalid JSON")
            }
        case "SignatureVersion":
            if value != "1", value != "2" { throw SNSErrors.invalidParameter(reason + "SignatureVersion") }
        case "TracingConfig":
            if value != "PassThrough", value != "Active" { throw SNSErrors.invalidParameter(reason + "TracingConfig") }
        case "ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy":
            if !fifo {
                throw SNSErrors.invalidParameter(reason + "\(name) Reason: \(name) can only be set for FIFO topics")
            }
            if name == "ContentBasedDeduplication", value.lowercased() != "true", value.lowercased() != "false" {
                throw SNSErrors.invalidParameter(reason + name)
            }
        default:
            break
        }
    }

    /// `CreateTopic`: idempotent for the same name and attributes.
    func createTopic(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["Name"]?.string ?? ""
        let attributes = Self.stringMap(call.input["Attributes"])
        let tags = Self.tags(call.input["Tags"])
        let fifoValue = attributes["FifoTopic"]?.lowercased()
        if let fifoValue, fifoValue != "true", fifoValue != "false" {
            throw SNSErrors.invalidParameter("Attributes Reason: FifoTopic")
        }
        let fifo = fifoValue == "true"
        if fifo {
            guard name.hasSuffix(".fifo"), TopicNames.isValid(name) else {
                throw SNSErrors.invalidParameter(
                    "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
                )
            }
        } else if !TopicNames.isValid(name) || name.hasSuffix(".fifo") {
            throw SNSErrors.invalidParameter("Topic Name")
        }
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) where key != "FifoTopic" {
            guard Self.settableTopicAttributes.contains(key) else {
                throw SNSErrors.invalidParameter("Attributes Reason: Unknown attribute \(key)")
            }
            try Self.checkTopicAttribute(key, value, fifo: fifo, reason: "Attributes Reason: ")
        }
        try Self.checkTags(tags, existing: [])
        let arn = SNSARN.topic(region: call.region, account: call.caller.accountId, name: name)
        var given = attributes
        if !fifo { given["FifoTopic"] = nil }
        let stored = given
        let newTopic = Topic(
            arn: arn, name: name, accountId: call.caller.accountId, region: call.region, attributes: stored, tags: tags,
            subscriptionsDeleted: 0, sequence: 0)
        try await registry.mutate { snapshot in
            guard let existing = snapshot.topics[arn] else {
                var changes = SNSRegistry.Changes()
                changes.topics[arn] = newTopic
                return ((), changes)
            }
            for (key, value) in stored where Self.topicAttribute(existing, key) != value {
                throw SNSErrors.invalidParameter("Attributes Reason: Topic already exists with different attributes")
            }
            for tag in tags where !existing.tags.contains(tag) {
                throw SNSErrors.invalidParameter("Tags Reason: Topic already exists with different tags")
            }
            return ((), SNSRegistry.Changes())
        }
        return .object(["TopicArn": .string(arn)])
    }

    /// The value `GetTopicAttributes` would show for one attribute of a topic.
    static func topicAttribute(_ topic: Topic, _ name: String) -> String? {
        switch name {
        case "Policy": topic.policy
        case "DisplayName": topic.attributes["DisplayName"] ?? ""
        case "FifoTopic": topic.isFIFO ? "true" : "false"
        default: topic.attributes[name]
        }
    }

    /// Checks tags as SNS does: at most 50 per topic, keys of 1–128 and values of 0–256 characters.
    static func checkTags(_ tags: [TagPair], existing: [TagPair]) throws(AWSError) {
        for tag in tags {
            if tag.key.isEmpty || tag.key.count > 128 { throw SNSErrors.invalidParameter("Tags Reason: Tag key") }
            if tag.value.count > 256 { throw SNSErrors.invalidParameter("Tags Reason: Tag value") }
        }
        let keys = Set(existing.map(\.key)).union(tags.map(\.key))
        if keys.count > 50 {
            throw AWSError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded")
        }
    }

    /// `DeleteTopic`: removes the topic and its subscriptions; deleting a topic that does not exist succeeds.
    func deleteTopic(_ call: OperationCall) async throws -> JSONValue {
        let arn = call.input["TopicArn"]?.string ?? ""
        guard let parsed = SNSARN.parseTopic(arn), parsed.region == call.region else {
            throw SNSErrors.invalidParameter("TopicArn")
        }
        guard let topic = registry.topic(arn) else { return .object([:]) }
        try authorize(call, topic: topic, action: "SNS:DeleteTopic")
        try await registry.mutate { snapshot in
            var changes = SNSRegistry.Changes()
            guard snapshot.topics[arn] != nil else { return ((), changes) }
            changes.topics[arn] = .some(nil)
            for subscription in snapshot.subscriptions(ofTopic: arn) { changes.subscriptions[subscription.arn] = .some(nil) }
            return ((), changes)
        }
        return .object([:])
    }

    /// `ListTopics`: the caller's topics in the region, by ARN, 100 a page.
    func listTopics(_ call: OperationCall) async throws -> JSONValue {
        let start = try Self.pageStart(call.input["NextToken"]?.string)
        let all = registry.snapshot.topics.values
            .filter { $0.accountId == call.caller.accountId && $0.region == call.region }
            .map(\.arn).sorted()
        let page = Array(all.filter { start == nil || $0 > start! }.prefix(100))
        var out: [String: JSONValue] = ["Topics": .array(page.map { .object(["TopicArn": .string($0)]) })]
        if page.count == 100, let last = page.last, last != all.last { out["NextToken"] = .string(Self.pageToken(after: last)) }
        return .object(out)
    }

    /// `GetTopicAttributes`: the stored attributes plus the computed ones (`Owner`, `Policy`, subscription counts,
    /// `EffectiveDeliveryPolicy`, ...).
    func getTopicAttributes(_ call: OperationCall) async throws -> JSONValue {
        let topic = try topic(call, action: "SNS:GetTopicAttributes")
        let subscriptions = registry.snapshot.subscriptions(ofTopic: topic.arn)
        var attributes = topic.configurationAttributes
        attributes["SubscriptionsPending"] = String(subscriptions.filter { !$0.confirmed }.count)
        attributes["SubscriptionsConfirmed"] = String(subscriptions.filter(\.confirmed).count)
        attributes["SubscriptionsDeleted"] = String(topic.subscriptionsDeleted)
        return .object(["Attributes": .object(attributes.mapValues { .string($0) })])
    }

    /// `SetTopicAttributes`: one attribute at a time; an empty value removes an optional attribute (and restores
    /// the default `Policy`).
    func setTopicAttributes(_ call: OperationCall) async throws -> JSONValue {
        let topic = try topic(call, action: "SNS:SetTopicAttributes")
        let name = call.input["AttributeName"]?.string ?? ""
        let value = call.input["AttributeValue"]?.string ?? ""
        guard Self.settableTopicAttributes.contains(name) else { throw SNSErrors.invalidParameter("AttributeName") }
        if !value.isEmpty || name == "Policy" {
            try Self.checkTopicAttribute(name, value, fifo: topic.isFIFO, reason: "")
        }
        try await registry.mutate { snapshot in
            guard var current = snapshot.topics[topic.arn] else { throw SNSErrors.topicNotFound }
            current.attributes[name] = value.isEmpty && name != "DisplayName" ? nil : value
            var changes = SNSRegistry.Changes()
            changes.topics[topic.arn] = current
            return ((), changes)
        }
        return .object([:])
    }

    /// The topic a tagging call names in `ResourceArn`.
    private func taggedTopic(_ call: OperationCall) throws(AWSError) -> Topic {
        let arn = call.input["ResourceArn"]?.string ?? ""
        guard let parsed = SNSARN.parseTopic(arn), parsed.region == call.region else {
            throw SNSErrors.invalidParameter("ResourceArn")
        }
        guard let topic = registry.topic(arn), topic.accountId == call.caller.accountId else {
            throw SNSErrors.resourceNotFound
        }
        return topic
    }

    /// `TagResource`: adds or replaces tags.
    func tagResource(_ call: OperationCall) async throws -> JSONValue {
        let topic = try taggedTopic(call)
        let tags = Self.tags(call.input["Tags"])
        try Self.checkTags(tags, existing: topic.tags)
        try await registry.mutate { snapshot in
            guard var current = snapshot.topics[topic.arn] else { throw SNSErrors.resourceNotFound }
            for tag in tags {
                if let i = current.tags.firstIndex(where: { $0.key == tag.key }) {
                    current.tags[i].value = tag.value
                } else {
                    current.tags.append(tag)
                }
            }
            var changes = SNSRegistry.Changes()
            changes.topics[topic.arn] = current
            return ((), changes)
        }
        return .object([:])
    }

    /// `UntagResource`: removes tags by key (keys without a tag are ignored).
    func untagResource(_ call: OperationCall) async throws -> JSONValue {
        let topic = try taggedTopic(call)
        let keys = Set((call.input["TagKeys"]?.array ?? []).compactMap(\.string))
        try await registry.mutate { snapshot in
            guard var current = snapshot.topics[topic.arn] else { throw SNSErrors.resourceNotFound }
            current.tags.removeAll { keys.contains($0.key) }
            var changes = SNSRegistry.Changes()
            changes.topics[topic.arn] = current
            return ((), changes)
        }
        return .object([:])
    }

    /// `ListTagsForResource`: the topic's tags in the order they were added.
    func listTagsForResource(_ call: OperationCall) async throws -> JSONValue {
        let topic = try taggedTopic(call)
        return .object([
            "Tags": .array(topic.tags.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) })
        ])
    }
}
