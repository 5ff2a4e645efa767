import AWSCore

extension Topic {
    /// The topic's own attributes as GetTopicAttributes shows them (stored ones plus `TopicArn`, `Owner`, `Policy`,
    /// `DisplayName`, `EffectiveDeliveryPolicy` and the FIFO pair), without the subscription counters.
    var configurationAttributes: [String: String] {
        var attributes = self.attributes
        attributes["TopicArn"] = arn
        attributes["Owner"] = accountId
        attributes["Policy"] = policy
        attributes["DisplayName"] = self.attributes["DisplayName"] ?? ""
        attributes["EffectiveDeliveryPolicy"] = self.attributes["DeliveryPolicy"] ?? SNSCore.defaultTopicDeliveryPolicy
        if isFIFO {
            attributes["FifoTopic"] = "true"
            attributes["ContentBasedDeduplication"] = self.attributes["ContentBasedDeduplication"] ?? "false"
        }
        return attributes
    }

    /// The topic as an `AWS::SNS::Topic` Config resource: id is the ARN, name the topic name, and `configuration`
    /// carries the SNS attribute names.
    func resourceState() -> ResourceState {
        var tagMap: [String: String] = [:]
        for tag in tags { tagMap[tag.key] = tag.value }
        return ResourceState(
            accountId: accountId, region: region, resourceType: "AWS::SNS::Topic", resourceId: arn, resourceName: name, arn: arn,
            availabilityZone: "Regional", creationTime: nil, tags: tagMap,
            configuration: .object(configurationAttributes.mapValues(JSONValue.string)))
    }
}
