import AWSCore
import Gateway
import Storage

/// The handlers of the trail API: create, update, delete, describe, status, logging, selectors and tags.
struct TrailOperations: Sendable {
    let registry: TrailRegistry
    let targets: any DeliveryTargetChecks
    let delivery: TrailDelivery

    // MARK: Resolving names and ARNs

    /// How a `Name`, `TrailName` or `ResourceId` parameter designates a trail.
    private enum Reference {
        case name(String)
        case arn(String)
    }

    private func reference(_ value: String) throws(AWSError) -> Reference {
        if value.hasPrefix("arn:") {
            let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[2] == "cloudtrail", !parts[3].isEmpty, parts[4].count == 12,
                parts[4].allSatisfy(\.isASCIIDigit), parts[5].hasPrefix("trail/"), parts[5].count > 6
            else {
                throw AWSError(
                    "CloudTrailARNInvalidException",
                    "Invalid trail ARN: \(value). The ARN must be in the format arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail.")
            }
            return .arn(value)
        }
        try TrailRules.checkName(value)
        return .name(value)
    }

    /// Finds the trail a parameter designates, as seen from the call's region.
    ///
    /// Names match trails homed in this region; ARNs also reach shadows of multi-region trails. When `mutating`,
    /// a shadow is refused with `InvalidHomeRegionException`.
    private func resolve(_ value: String?, _ call: OperationCall, mutating: Bool, arnInMessage: Bool = false) throws(AWSError) -> Trail {
        let given = value ?? ""
        let ref = try reference(given)
        let visible = registry.visible(account: call.caller.accountId, region: call.region)
        let found: Trail?
        switch ref {
        case .name(let name): found = visible.first { $0.name == name && $0.homeRegion == call.region }
        case .arn(let arn): found = visible.first { $0.arn == arn }
        }
        guard let trail = found else {
            var shown = given
            if arnInMessage, case .name(let name) = ref {
                shown = Trail.arn(region: call.region, account: call.caller.accountId, name: name)
            }
            throw AWSError("TrailNotFoundException", "Unknown trail: \(shown) for the user: \(call.caller.accountId)")
        }
        if mutating, trail.homeRegion != call.region {
            throw AWSError(
                "InvalidHomeRegionException",
                "This operation must be called from the trail's home region, \(trail.homeRegion). Trail: \(trail.arn)")
        }
        return trail
    }

    private func checkLimit(_ trails: [Trail], account: String, region: String) throws(AWSError) {
        let own = trails.filter { $0.accountId == account }
        let regions = Set(own.map(\.homeRegion)).union([region])
        for r in regions.sorted() where own.filter({ $0.isVisible(in: r) }).count > 5 {
            throw AWSError("MaximumNumberOfTrailsExceededException", "User: \(account) already has 5 trails in \(r).")
        }
    }

    // MARK: Create, update, delete

    /// The trail settings CreateTrail and UpdateTrail share, applied to `trail`.
    private func apply(_ input: JSONValue, to trail: inout Trail, call: OperationCall, creating: Bool) async throws {
        if let bucket = input["S3BucketName"]?.string {
            try TrailRules.checkBucketName(bucket)
            trail.s3BucketName = bucket
        }
        if let prefix = input["S3KeyPrefix"]?.string {
            try TrailRules.checkPrefix(prefix)
            trail.s3KeyPrefix = prefix.isEmpty ? nil : prefix
        }
        if let topic = input["SnsTopicName"]?.string {
            trail.snsTopicARN = topic.isEmpty ? nil : try TrailRules.topicARN(topic, region: trail.homeRegion, account: trail.accountId)
        }
        let wasMultiRegion = trail.isMultiRegionTrail
        if let multi = input["IsMultiRegionTrail"]?.bool { trail.isMultiRegionTrail = multi }
        if let gse = input["IncludeGlobalServiceEvents"]?.bool {
            trail.includeGlobalServiceEvents = gse
        } else if !creating, trail.isMultiRegionTrail != wasMultiRegion {
            // Turning a trail multi-region switches global service events on; back to single-region, off.
            trail.includeGlobalServiceEvents = trail.isMultiRegionTrail
        }
        if trail.isMultiRegionTrail, !trail.includeGlobalServiceEvents {
            throw AWSError("InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
        }
        if let validation = input["EnableLogFileValidation"]?.bool { trail.logFileValidationEnabled = validation }
        if input["IsOrganizationTrail"]?.bool == true {
            throw AWSError(
                "OrganizationsNotInUseException",
                "This account is not a member of an organization. Create an organization with AWS Organizations first.")
        }
        let group = input["CloudWatchLogsLogGroupArn"]?.string
        let role = input["CloudWatchLogsRoleArn"]?.string
        if let group {
            guard group.hasPrefix("arn:aws:logs:"), group.contains(":log-group:") else {
                throw AWSError("InvalidCloudWatchLogsLogGroupArnException", "CloudWatch Logs log group ARN is invalid: \(group)")
            }
            trail.cloudWatchLogsLogGroupArn = group
        }
        if let role {
            guard role.hasPrefix("arn:aws:iam::"), role.contains(":role/") else {
                throw AWSError("InvalidCloudWatchLogsRoleArnException", "CloudWatch Logs role ARN is invalid: \(role)")
            }
            trail.cloudWatchLogsRoleArn = role
        }
        if (trail.cloudWatchLogsLogGroupArn == nil) != (trail.cloudWatchLogsRoleArn == nil) {
            throw AWSError(
                trail.cloudWatchLogsRoleArn == nil ? "InvalidCloudWatchLogsRoleArnException" : "InvalidCloudWatchLogsLogGroupArnException",
                "You must specify both a CloudWatch Logs log group ARN and a role ARN.")
        }
        if let key = input["KmsKeyId"]?.string {
            if key.isEmpty {
                trail.kmsKeyId = nil
            } else if key.hasPrefix("arn:aws:kms:") {
                trail.kmsKeyId = key
            } else if key.hasPrefix("alias/") || key.count == 36 {
                trail.kmsKeyId = "arn:aws:kms:\(trail.homeRegion):\(trail.accountId):\(key.hasPrefix("alias/") ? key : "key/" + key)"
            } else {
                throw AWSError("InvalidKmsKeyIdException", "KMS key ID \(key) is not valid.")
            }
        }
        if creating || input["S3BucketName"] != nil || input["S3KeyPrefix"] != nil {
            try await targets.checkBucket(trail.s3BucketName, prefix: trail.s3KeyPrefix, trailARN: trail.arn, account: trail.accountId)
        }
        if let topic = trail.snsTopicARN, creating || input["SnsTopicName"] != nil {
            try await targets.checkTopic(topic, trailARN: trail.arn, account: trail.accountId)
        }
    }

    /// CreateTrail: validates the name, uniqueness and the per-region limit, then the settings and delivery targets.
    @Sendable func createTrail(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["Name"]?.string ?? ""
        try TrailRules.checkName(name)
        let account = call.caller.accountId
        return try await registry.mutate { current in
            let mine = current.values.filter { $0.accountId == account }
            if mine.contains(where: { $0.name == name && $0.isVisible(in: call.region) }) {
                throw AWSError("TrailAlreadyExistsException", "Trail \(name) already exists for customer: \(account)")
            }
            var trail = Trail(
                name: name, accountId: account, homeRegion: call.region, s3BucketName: "", s3KeyPrefix: nil,
                snsTopicARN: nil, includeGlobalServiceEvents: true, isMultiRegionTrail: false,
                logFileValidationEnabled: false, cloudWatchLogsLogGroupArn: nil, cloudWatchLogsRoleArn: nil, kmsKeyId: nil,
                isOrganizationTrail: false)
            var probe = trail
            probe.isMultiRegionTrail = call.input["IsMultiRegionTrail"]?.bool ?? false
            try checkLimit(mine + [probe], account: account, region: call.region)
            try await apply(call.input, to: &trail, call: call, creating: true)
            trail.tags = try TrailRules.tags(call.input["TagsList"], invokedBy: call.invokedBy)
            return (trail.writeResponse(), [trail.key: trail])
        }
    }

    /// UpdateTrail: changes only the members sent; home region only; turning a trail multi-region checks the limit.
    @Sendable func updateTrail(_ call: OperationCall) async throws -> JSONValue {
        let found = try resolve(call.input["Name"]?.string, call, mutating: true)
        return try await registry.mutate { current in
            guard var trail = current[found.key] else {
                throw AWSError("TrailNotFoundException", "Unknown trail: \(call.input["Name"]?.string ?? "") for the user: \(call.caller.accountId)")
            }
            try await apply(call.input, to: &trail, call: call, creating: false)
            if trail.isMultiRegionTrail, !found.isMultiRegionTrail {
                var others = current.values.filter { $0.accountId == trail.accountId && $0.key != trail.key }
                others.append(trail)
                try checkLimit(others, account: trail.accountId, region: call.region)
            }
            return (trail.writeResponse(), [trail.key: trail])
        }
    }

    /// DeleteTrail: removes the trail (home region only); its bucket, topic and delivered files stay, and what it
    /// captured until now is still delivered.
    @Sendable func deleteTrail(_ call: OperationCall) async throws -> JSONValue {
        let trail = try resolve(call.input["Name"]?.string, call, mutating: true)
        try await delivery.changeLogging(of: trail.key, .delete, at: call.now)
        return .object([:])
    }

    // MARK: Reads

    /// GetTrail: the trail by name (homed here) or ARN (shadows too).
    @Sendable func getTrail(_ call: OperationCall) async throws -> JSONValue {
        let trail = try resolve(call.input["Name"]?.string, call, mutating: false)
        return .object(["Trail": trail.describe()])
    }

    /// DescribeTrails: the named trails, or all visible ones; shadows unless `includeShadowTrails` is false.
    @Sendable func describeTrails(_ call: OperationCall) async throws -> JSONValue {
        let includeShadows = call.input["includeShadowTrails"]?.bool ?? true
        let visible = registry.visible(account: call.caller.accountId, region: call.region)
            .filter { includeShadows || $0.homeRegion == call.region }
        let names = call.input["trailNameList"]?.array?.compactMap(\.string) ?? []
        var result: [Trail]
        if names.isEmpty {
            result = visible
        } else {
            result = []
            for value in names {
                let match: Trail?
                switch try reference(value) {
                case .name(let name): match = visible.first { $0.name == name && $0.homeRegion == call.region }
                case .arn(let arn): match = visible.first { $0.arn == arn }
                }
                if let match, !result.contains(match) { result.append(match) }
            }
        }
        return .object(["trailList": .array(result.map { $0.describe() })])
    }

    /// ListTrails: ARN, name and home region of every trail visible in this region.
    @Sendable func listTrails(_ call: OperationCall) async throws -> JSONValue {
        let trails = registry.visible(account: call.caller.accountId, region: call.region)
        return .object([
            "Trails": .array(
                trails.map {
                    .object(["TrailARN": .string($0.arn), "Name": .string($0.name), "HomeRegion": .string($0.homeRegion)])
                })
        ])
    }

    /// GetTrailStatus: logging state and times; delivery times appear only once something was delivered.
    @Sendable func getTrailStatus(_ call: OperationCall) async throws -> JSONValue {
        let trail = try resolve(call.input["Name"]?.string, call, mutating: false, arnInMessage: true)
        var o: [String: JSONValue] = ["IsLogging": .bool(trail.isLogging)]
        if let start = trail.startLoggingTime { o["StartLoggingTime"] = .number(Double(start)) }
        if let stop = trail.stopLoggingTime { o["StopLoggingTime"] = .number(Double(stop)) }
        // Deliveries are per region: a shadow trail reports its region's.
        let s = delivery.status(trailKey: trail.key, region: call.region)
        let time: (Int64?) -> JSONValue? = { $0.map { .number(Double($0)) } }
        let text: (Int64?) -> JSONValue = { .string($0.map { Timestamp.iso8601($0) } ?? "") }
        o["LatestDeliveryTime"] = time(s.latestDeliveryTime)
        o["LatestDeliveryError"] = s.latestDeliveryError.map { .string($0) }
        o["LatestNotificationTime"] = time(s.latestNotificationTime)
        o["LatestNotificationError"] = s.latestNotificationError.map { .string($0) }
        o["LatestDigestDeliveryTime"] = time(s.latestDigestDeliveryTime)
        o["LatestDigestDeliveryError"] = s.latestDigestDeliveryError.map { .string($0) }
        // The deprecated string members are always present, empty until they have a value.
        o["TimeLoggingStarted"] = .string(trail.startLoggingTime.map { Timestamp.iso8601($0) } ?? "")
        o["TimeLoggingStopped"] = .string(trail.stopLoggingTime.map { Timestamp.iso8601($0) } ?? "")
        o["LatestDeliveryAttemptTime"] = text(s.latestDeliveryAttemptTime)
        o["LatestDeliveryAttemptSucceeded"] = text(s.latestDeliveryAttemptSucceeded)
        o["LatestNotificationAttemptTime"] = text(s.latestNotificationAttemptTime)
        o["LatestNotificationAttemptSucceeded"] = text(s.latestNotificationAttemptSucceeded)
        return .object(o)
    }

    // MARK: Logging

    /// StartLogging: sets `IsLogging` and `StartLoggingTime` (home region only).
    @Sendable func startLogging(_ call: OperationCall) async throws -> JSONValue {
        try await setLogging(call, on: true)
    }

    /// StopLogging: clears `IsLogging` and sets `StopLoggingTime` (home region only).
    @Sendable func stopLogging(_ call: OperationCall) async throws -> JSONValue {
        try await setLogging(call, on: false)
    }

    private func setLogging(_ call: OperationCall, on: Bool) async throws -> JSONValue {
        let found = try resolve(call.input["Name"]?.string, call, mutating: true)
        try await delivery.changeLogging(of: found.key, on ? .start : .stop, at: call.now)
        return .object([:])
    }

    // MARK: Selectors

    /// PutEventSelectors: replaces the trail's selectors with validated basic or advanced ones.
    @Sendable func putEventSelectors(_ call: OperationCall) async throws -> JSONValue {
        let found = try resolve(call.input["TrailName"]?.string, call, mutating: true)
        let basic = call.input["EventSelectors"]?.array
        let advanced = call.input["AdvancedEventSelectors"]?.array
        if (basic == nil) == (advanced == nil) {
            throw AWSError(
                "InvalidParameterCombinationException",
                "You must specify either EventSelectors or AdvancedEventSelectors, but not both.")
        }
        let normalizedBasic = try basic.map(SelectorRules.normalizeBasic)
        let normalizedAdvanced = try advanced.map(SelectorRules.normalizeAdvanced)
        return try await registry.mutate { current in
            guard var trail = current[found.key] else { return (.object([:]), [:]) }
            trail.eventSelectors = normalizedBasic
            trail.advancedEventSelectors = normalizedAdvanced
            trail.hasCustomEventSelectors = true
            var out: [String: JSONValue] = ["TrailARN": .string(trail.arn)]
            if let normalizedBasic { out["EventSelectors"] = .array(normalizedBasic) }
            if let normalizedAdvanced { out["AdvancedEventSelectors"] = .array(normalizedAdvanced) }
            return (.object(out), [trail.key: trail])
        }
    }

    /// GetEventSelectors: the stored selectors, or the default basic selector of an API-created trail.
    @Sendable func getEventSelectors(_ call: OperationCall) async throws -> JSONValue {
        let trail = try resolve(call.input["TrailName"]?.string, call, mutating: false)
        var out: [String: JSONValue] = ["TrailARN": .string(trail.arn)]
        if let advanced = trail.advancedEventSelectors {
            out["AdvancedEventSelectors"] = .array(advanced)
        } else {
            out["EventSelectors"] = .array(trail.eventSelectors ?? Trail.defaultEventSelectors)
        }
        return .object(out)
    }

    /// PutInsightSelectors: sets (or, with an empty list, clears) the Insights selectors.
    @Sendable func putInsightSelectors(_ call: OperationCall) async throws -> JSONValue {
        guard call.input["TrailName"] != nil else {
            throw AWSError("InvalidParameterCombinationException", "You must specify a trail name.")
        }
        let found = try resolve(call.input["TrailName"]?.string, call, mutating: true)
        let selectors = try SelectorRules.normalizeInsights(call.input["InsightSelectors"]?.array ?? [], trail: found)
        return try await registry.mutate { current in
            guard var trail = current[found.key] else { return (.object([:]), [:]) }
            trail.insightSelectors = selectors
            return (.object(["TrailARN": .string(trail.arn), "InsightSelectors": .array(selectors)]), [trail.key: trail])
        }
    }

    /// GetInsightSelectors: the Insights selectors; `InsightNotEnabledException` when there are none.
    @Sendable func getInsightSelectors(_ call: OperationCall) async throws -> JSONValue {
        let trail = try resolve(call.input["TrailName"]?.string, call, mutating: false)
        guard !trail.insightSelectors.isEmpty else {
            throw AWSError(
                "InsightNotEnabledException", "Trail \(trail.name) does not have Insights enabled. Enable Insights on the trail, and then try again.")
        }
        return .object(["TrailARN": .string(trail.arn), "InsightSelectors": .array(trail.insightSelectors)])
    }

    // MARK: Tags

    private func taggable(_ value: String?, _ call: OperationCall, mutating: Bool) throws(AWSError) -> Trail {
        let arn = value ?? ""
        guard arn.hasPrefix("arn:"), case .arn = try reference(arn) else {
            throw AWSError(
                "CloudTrailARNInvalidException",
                "Invalid trail ARN: \(arn). The ARN must be in the format arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail.")
        }
        guard let trail = registry.visible(account: call.caller.accountId, region: call.region).first(where: { $0.arn == arn }) else {
            throw AWSError("ResourceNotFoundException", "Resource not found: \(arn)")
        }
        if mutating, trail.homeRegion != call.region {
            throw AWSError("InvalidHomeRegionException", "Tags of trail \(arn) can be changed only in its home region, \(trail.homeRegion).")
        }
        return trail
    }

    /// AddTags: adds or overwrites tags of a trail given by ARN (home region only, at most 50).
    @Sendable func addTags(_ call: OperationCall) async throws -> JSONValue {
        let found = try taggable(call.input["ResourceId"]?.string, call, mutating: true)
        return try await registry.mutate { current in
            guard var trail = current[found.key] else { return (.object([:]), [:]) }
            trail.tags = try TrailRules.tags(call.input["TagsList"], existing: trail.tags, invokedBy: call.invokedBy)
            return (.object([:]), [trail.key: trail])
        }
    }

    /// RemoveTags: removes tags by key.
    @Sendable func removeTags(_ call: OperationCall) async throws -> JSONValue {
        let found = try taggable(call.input["ResourceId"]?.string, call, mutating: true)
        let keys = Set((call.input["TagsList"]?.array ?? []).compactMap { $0["Key"]?.string })
        return try await registry.mutate { current in
            guard var trail = current[found.key] else { return (.object([:]), [:]) }
            trail.tags.removeAll { keys.contains($0.key) }
            return (.object([:]), [trail.key: trail])
        }
    }

    /// ListTags: the tags of up to 20 trails given by ARN.
    @Sendable func listTags(_ call: OperationCall) async throws -> JSONValue {
        let ids = call.input["ResourceIdList"]?.array?.compactMap(\.string) ?? []
        if ids.count > 20 {
            throw AWSError("InvalidParameterException", "ResourceIdList cannot contain more than 20 resource ids.")
        }
        var list: [JSONValue] = []
        for id in ids {
            let trail = try taggable(id, call, mutating: false)
            list.append(
                .object([
                    "ResourceId": .string(id),
                    "TagsList": .array(
                        trail.tags.map { tag in
                            var o: [String: JSONValue] = ["Key": .string(tag.key)]
                            if let v = tag.value { o["Value"] = .string(v) }
                            return .object(o)
                        }),
                ]))
        }
        return .object(["ResourceTagList": .array(list)])
    }
}
