import AWSCore

extension Trail {
    /// The trail as an `AWS::CloudTrail::Trail` Config resource: `configuration` mirrors DescribeTrails' `Trail`
    /// in lower camel case (the property names of Config's resource schema), id and name are the trail name.
    ///
    /// Config's schema publishes no supplementary keys for trails; Cairn records the logging status and the
    /// selectors there (`IsLogging`, `EventSelectors`, `AdvancedEventSelectors`), so that StartLogging,
    /// StopLogging and PutEventSelectors show up in the trail's history.
    func resourceState() -> ResourceState {
        var configuration: [String: JSONValue] = [:]
        if case .object(let described) = describe() {
            for (key, value) in described {
                let lower = key == "SnsTopicARN" ? "snsTopicARN" : key.prefix(1).lowercased() + key.dropFirst()
                configuration[lower == "trailARN" || lower == "trailArn" ? "trailARN" : lower] = value
            }
        }
        var supplementary: [String: JSONValue] = ["IsLogging": .bool(isLogging)]
        if let advancedEventSelectors {
            supplementary["AdvancedEventSelectors"] = .array(advancedEventSelectors)
        } else {
            supplementary["EventSelectors"] = .array(eventSelectors ?? Self.defaultEventSelectors)
        }
        var tagMap: [String: String] = [:]
        for tag in tags { tagMap[tag.key] = tag.value ?? "" }
        return ResourceState(
            accountId: accountId, region: homeRegion, resourceType: "AWS::CloudTrail::Trail", resourceId: name, resourceName: name,
            arn: arn, availabilityZone: "Not Applicable", creationTime: nil, tags: tagMap, configuration: .object(configuration),
            supplementaryConfiguration: supplementary)
    }
}
