import AWSCore

/// A trail as Cairn keeps it: its configuration, logging state, selectors and tags.
struct Trail: Codable, Sendable, Equatable {
    var name: String
    var accountId: String
    var homeRegion: String
    var s3BucketName: String
    var s3KeyPrefix: String?
    var snsTopicARN: String?
    var includeGlobalServiceEvents: Bool
    var isMultiRegionTrail: Bool
    var logFileValidationEnabled: Bool
    var cloudWatchLogsLogGroupArn: String?
    var cloudWatchLogsRoleArn: String?
    var kmsKeyId: String?
    var isOrganizationTrail: Bool
    var isLogging: Bool = false
    var startLoggingTime: Int64?
    var stopLoggingTime: Int64?
    /// Basic selectors as stored (defaults filled); `nil` with `advancedEventSelectors` set, or for the default.
    var eventSelectors: [JSONValue]?
    /// Advanced selectors, when the trail uses them.
    var advancedEventSelectors: [JSONValue]?
    /// Whether PutEventSelectors was ever called.
    var hasCustomEventSelectors: Bool = false
    /// Insight selectors; empty when Insights are off.
    var insightSelectors: [JSONValue] = []
    /// Tags in the order they were added.
    var tags: [Tag] = []

    /// A tag; the value may be absent.
    struct Tag: Codable, Sendable, Equatable {
        var key: String
        var value: String?
    }

    /// `arn:aws:cloudtrail:<home>:<account>:trail/<name>`.
    var arn: String { Self.arn(region: homeRegion, account: accountId, name: name) }

    /// The trail ARN for a region, account and name.
    static func arn(region: String, account: String, name: String) -> String {
        "arn:aws:cloudtrail:\(region):\(account):trail/\(name)"
    }

    /// The storage key: account, home region and name.
    var key: String { "\(accountId)/\(homeRegion)/\(name)" }

    /// The SNS topic's name, the deprecated `SnsTopicName` member.
    var snsTopicName: String? { snsTopicARN.map { String($0.split(separator: ":").last ?? "") } }

    /// Whether the trail can be seen (as itself or as a shadow) from a region.
    func isVisible(in region: String) -> Bool { homeRegion == region || isMultiRegionTrail }

    /// The default basic selector of a trail created through the API.
    static let defaultEventSelectors: [JSONValue] = [
        .object([
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": .array([]),
            "ExcludeManagementEventSources": .array([]),
        ])
    ]

    /// The members shared by CreateTrail's and UpdateTrail's responses, in the model's vocabulary.
    func writeResponse() -> JSONValue {
        var o: [String: JSONValue] = [
            "Name": .string(name),
            "S3BucketName": .string(s3BucketName),
            "IncludeGlobalServiceEvents": .bool(includeGlobalServiceEvents),
            "IsMultiRegionTrail": .bool(isMultiRegionTrail),
            "TrailARN": .string(arn),
            "LogFileValidationEnabled": .bool(logFileValidationEnabled),
            "IsOrganizationTrail": .bool(isOrganizationTrail),
        ]
        if let s3KeyPrefix { o["S3KeyPrefix"] = .string(s3KeyPrefix) }
        if let snsTopicARN {
            o["SnsTopicName"] = .string(snsTopicName ?? "")
            o["SnsTopicARN"] = .string(snsTopicARN)
        }
        if let cloudWatchLogsLogGroupArn { o["CloudWatchLogsLogGroupArn"] = .string(cloudWatchLogsLogGroupArn) }
        if let cloudWatchLogsRoleArn { o["CloudWatchLogsRoleArn"] = .string(cloudWatchLogsRoleArn) }
        if let kmsKeyId { o["KmsKeyId"] = .string(kmsKeyId) }
        return .object(o)
    }

    /// The `Trail` structure of GetTrail and DescribeTrails.
    func describe() -> JSONValue {
        guard case .object(var o) = writeResponse() else { return .null }
        o["HomeRegion"] = .string(homeRegion)
        o["HasCustomEventSelectors"] = .bool(hasCustomEventSelectors)
        o["HasInsightSelectors"] = .bool(!insightSelectors.isEmpty)
        return .object(o)
    }
}
