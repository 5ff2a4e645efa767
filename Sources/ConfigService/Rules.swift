import AWSCore
import Foundation
import Gateway
import Storage

/// A Config rule as stored: the `ConfigRule` of the API plus its evaluation record.
struct StoredRule: Codable, Sendable {
    var rule: [String: JSONValue]
    var firstActivated: Double
    var lastInvoked: Double?

    var name: String { rule["ConfigRuleName"]?.string ?? "" }
    var identifier: String? { rule["Source"]?["Owner"]?.string == "AWS" ? rule["Source"]?["SourceIdentifier"]?.string : nil }
    /// The rule's `InputParameters`, decoded (a JSON text on the wire).
    var parameters: [String: String] {
        guard let text = rule["InputParameters"]?.string, let data = text.data(using: .utf8),
            let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let o) = value
        else { return [:] }
        return o.compactMapValues { v in
            switch v {
            case .string(let s): s
            case .bool(let b): b ? "true" : "false"
            case .number(let n): n.rounded() == n ? String(Int(n)) : String(n)
            default: nil
            }
        }
    }
}

/// One evaluation result of a rule for a resource.
struct StoredEvaluation: Codable, Sendable, Equatable {
    var ruleName: String
    var resourceType: String
    var resourceId: String
    var compliance: String
    var annotation: String?
    var orderingTimestamp: Double
    var recordedTime: Double
    var invokedTime: Double

    /// The `EvaluationResult` of the API.
    var value: JSONValue {
        var o: [String: JSONValue] = [
            "EvaluationResultIdentifier": .object([
                "EvaluationResultQualifier": .object([
                    "ConfigRuleName": .string(ruleName), "ResourceType": .string(resourceType), "ResourceId": .string(resourceId),
                    "EvaluationMode": "DETECTIVE",
                ]),
                "OrderingTimestamp": .number(orderingTimestamp),
            ]),
            "ComplianceType": .string(compliance),
            "ResultRecordedTime": .number(recordedTime),
            "ConfigRuleInvokedTime": .number(invokedTime),
        ]
        if let annotation { o["Annotation"] = .string(annotation) }
        return .object(o)
    }
}

/// One resource's verdict from a managed rule.
struct Verdict: Sendable, Equatable {
    var resourceType: String
    var resourceId: String
    var compliance: String
    var annotation: String?
    var orderingTimestamp: Double?
}

/// The AWS managed rules Cairn evaluates for real, over the recorded items (change-triggered rules) and the
/// trails the account sees (periodic CloudTrail rules).
enum ManagedRules {
    /// The identifiers Cairn evaluates.
    static let supported: Set<String> = [
        "CLOUD_TRAIL_ENABLED", "MULTI_REGION_CLOUD_TRAIL_ENABLED", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
        "S3_BUCKET_VERSIONING_ENABLED", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "REQUIRED_TAGS",
    ]

    /// The resource types REQUIRED_TAGS checks when the rule's scope names none (those of its documented default
    /// scope that Cairn hosts).
    static let requiredTagsDefaultTypes: Set<String> = ["AWS::S3::Bucket", "AWS::CloudFormation::Stack"]

    /// Evaluates a managed rule.
    /// - Parameters:
    ///   - items: the current items (with configuration) of the account and region.
    ///   - trails: the trails visible in the region, as Config resources (periodic rules read them through the API).
    static func evaluate(
        _ identifier: String, parameters: [String: String], scope: JSONValue?, account: String, items: [ConfigurationItem],
        trails: [ResourceState]
    ) -> [Verdict] {
        func inScope(_ item: ConfigurationItem, defaultTypes: Set<String>) -> Bool {
            let types = scope?["ComplianceResourceTypes"]?.array?.compactMap(\.string) ?? []
            if types.isEmpty ? !defaultTypes.contains(item.resource.resourceType) : !types.contains(item.resource.resourceType) {
                return false
            }
            if let id = scope?["ComplianceResourceId"]?.string, id != item.resource.resourceId { return false }
            if let tagKey = scope?["TagKey"]?.string {
                guard let value = item.resource.tags[tagKey] else { return false }
                if let wanted = scope?["TagValue"]?.string, wanted != value { return false }
            }
            return true
        }
        func verdict(_ item: ConfigurationItem, _ ok: Bool, _ annotation: String? = nil) -> Verdict {
            Verdict(
                resourceType: item.resource.resourceType, resourceId: item.resource.resourceId,
                compliance: ok ? "COMPLIANT" : "NON_COMPLIANT", annotation: ok ? nil : annotation, orderingTimestamp: item.captureTime)
        }
        switch identifier {
        case "S3_BUCKET_VERSIONING_ENABLED":
            return items.filter { inScope($0, defaultTypes: ["AWS::S3::Bucket"]) }.map { item in
                let versioning = item.resource.supplementaryConfiguration["BucketVersioningConfiguration"]
                var ok = versioning?["status"]?.string == "Enabled"
                if ok, parameters["isMfaDeleteEnabled"]?.lowercased() == "true" {
                    ok = versioning?["isMfaDeleteEnabled"]?.bool == true
                }
                return verdict(item, ok)
            }
        case "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED":
            return items.filter { inScope($0, defaultTypes: ["AWS::S3::Bucket"]) }.map { item in
                let rules = item.resource.supplementaryConfiguration["ServerSideEncryptionConfiguration"]?["rules"]?.array ?? []
                let ok = rules.contains { $0["applyServerSideEncryptionByDefault"]?["sseAlgorithm"]?.string != nil }
                return verdict(item, ok)
            }
        case "REQUIRED_TAGS":
            return items.filter { inScope($0, defaultTypes: requiredTagsDefaultTypes) }.map { item in
                var ok = true
                for n in 1...6 {
                    guard let key = parameters["tag\(n)Key"], !key.isEmpty else { continue }
                    guard let value = item.resource.tags[key] else {
                        ok = false
                        break
                    }
                    if let allowed = parameters["tag\(n)Value"], !allowed.isEmpty {
                        let values = allowed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                        if !values.contains(value) {
                            ok = false
                            break
                        }
                    }
                }
                return verdict(item, ok)
            }
        case "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED":
            return trails.map { trail in
                let ok = trail.configuration["logFileValidationEnabled"]?.bool == true
                return Verdict(resourceType: trail.resourceType, resourceId: trail.resourceId, compliance: ok ? "COMPLIANT" : "NON_COMPLIANT")
            }
        case "CLOUD_TRAIL_ENABLED":
            let ok = trails.contains { isLogging($0) && matches($0, parameters) }
            return [Verdict(resourceType: "AWS::::Account", resourceId: account, compliance: ok ? "COMPLIANT" : "NON_COMPLIANT")]
        case "MULTI_REGION_CLOUD_TRAIL_ENABLED":
            let ok = trails.contains { trail in
                trail.configuration["isMultiRegionTrail"]?.bool == true && isLogging(trail) && matches(trail, parameters)
                    && recordsManagementEvents(trail, parameters)
            }
            return [Verdict(resourceType: "AWS::::Account", resourceId: account, compliance: ok ? "COMPLIANT" : "NON_COMPLIANT")]
        default:
            return []
        }
    }

    private static func isLogging(_ trail: ResourceState) -> Bool {
        trail.supplementaryConfiguration["IsLogging"]?.bool == true
    }

    /// Whether a trail matches the rule's optional bucket, topic and log-group parameters.
    private static func matches(_ trail: ResourceState, _ parameters: [String: String]) -> Bool {
        for (parameter, member) in [
            ("s3BucketName", "s3BucketName"), ("snsTopicArn", "snsTopicARN"), ("cloudWatchLogsLogGroupArn", "cloudWatchLogsLogGroupArn"),
        ] {
            if let wanted = parameters[parameter], !wanted.isEmpty, trail.configuration[member]?.string != wanted { return false }
        }
        return true
    }

    /// Whether a trail's selectors log management events as the rule asks: all of them by default, or the
    /// `readWriteType` given; with no excluded event sources.
    private static func recordsManagementEvents(_ trail: ResourceState, _ parameters: [String: String]) -> Bool {
        let wantedType = parameters["readWriteType"].map { $0.uppercased() == "ALL" ? "All" : $0 } ?? "All"
        let wantManagement = parameters["includeManagementEvents"].map { $0.lowercased() != "false" } ?? true
        if let advanced = trail.supplementaryConfiguration["AdvancedEventSelectors"]?.array {
            return advanced.contains { selector in
                let fields = selector["FieldSelectors"]?.array ?? []
                let management = fields.contains { $0["Field"]?.string == "eventCategory" && $0["Equals"]?.array == [.string("Management")] }
                guard management == wantManagement else { return false }
                let readOnly = fields.first { $0["Field"]?.string == "readOnly" }?["Equals"]?.array?.first?.string
                let type = readOnly == nil ? "All" : readOnly == "true" ? "ReadOnly" : "WriteOnly"
                let excludes = fields.contains { $0["Field"]?.string == "eventSource" && $0["NotEquals"] != nil }
                return type == wantedType && !excludes
            }
        }
        let basic = trail.supplementaryConfiguration["EventSelectors"]?.array ?? []
        return basic.contains { selector in
            (selector["IncludeManagementEvents"]?.bool ?? true) == wantManagement
                && (selector["ReadWriteType"]?.string ?? "All") == wantedType
                && (selector["ExcludeManagementEventSources"]?.array ?? []).isEmpty
        }
    }
}

/// The rule operations and their evaluation.
extension ConfigStore {
    static let rules = "config.rules"
    static let evaluations = "config.evaluations"

    private func ruleKey(_ scope: String, _ name: String) -> String { scope + "\t" + name }

    /// The rules of an account and region, by name order.
    func rules(scope: String) async throws -> [StoredRule] {
        try await state.entries(Self.rules, prefix: scope + "\t").map { try JSONDecoder().decode(StoredRule.self, from: Data($0.value)) }
    }

    /// The stored results of a rule.
    func evaluations(scope: String, rule: String) async throws -> [StoredEvaluation] {
        try await state.entries(Self.evaluations, prefix: ruleKey(scope, rule) + "\t").map {
            try JSONDecoder().decode(StoredEvaluation.self, from: Data($0.value))
        }
    }

    private func noSuchRule(_ name: String) -> AWSError {
        AWSError("NoSuchConfigRuleException", "The ConfigRule '\(name)' provided in the request is invalid. Please check the configRule name")
    }

    /// `PutConfigRule`: creates a rule (named, with a generated id and ARN) or updates the one named; then
    /// evaluates it.
    func putRule(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        guard var input = call.input["ConfigRule"]?.object else { throw AWSError("InvalidParameterValueException", "ConfigRule is required.") }
        let owner = input["Source"]?["Owner"]?.string
        if owner == "AWS", try await recorder(scope: scope) == nil {
            throw AWSError(
                "NoAvailableConfigurationRecorderException", "You must create a configuration recorder before you can create or update a Config rule."
            )
        }
        if let text = input["InputParameters"]?.string, let data = text.data(using: .utf8),
            (try? JSONDecoder().decode(JSONValue.self, from: data))?.object == nil
        {
            throw AWSError("InvalidParameterValueException", "Invalid InputParameters: \(text)")
        }
        if input["Scope"]?["TagValue"] != nil, input["Scope"]?["TagKey"] == nil {
            throw AWSError("InvalidParameterValueException", "Scope TagValue requires a TagKey.")
        }
        if input["Scope"]?["ComplianceResourceId"] != nil, input["Scope"]?["ComplianceResourceTypes"]?.array?.count != 1 {
            throw AWSError("InvalidParameterValueException", "A ComplianceResourceId requires exactly one ComplianceResourceType.")
        }
        let existingRules = try await rules(scope: scope)
        let byName = input["ConfigRuleName"]?.string
        let byArn = input["ConfigRuleArn"]?.string
        let byId = input["ConfigRuleId"]?.string
        let existing = existingRules.first { rule in
            (byName != nil && rule.name == byName) || (byArn != nil && rule.rule["ConfigRuleArn"]?.string == byArn)
                || (byId != nil && rule.rule["ConfigRuleId"]?.string == byId)
        }
        guard let name = input["ConfigRuleName"]?.string ?? existing?.name, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw AWSError("InvalidParameterValueException", "The ConfigRuleName is required.")
        }
        if existing == nil, input["ConfigRuleArn"] != nil || input["ConfigRuleId"] != nil {
            throw noSuchRule(name)
        }
        if existing == nil, existingRules.count >= 1000 {
            throw AWSError(
                "MaxNumberOfConfigRulesExceededException",
                "Failed to put config rule '\(name)' because the maximum number of config rules: 1000 is reached.")
        }
        let id = existing?.rule["ConfigRuleId"]?.string ?? "config-rule-" + IDs.alphanumeric(6).lowercased()
        input["ConfigRuleName"] = .string(name)
        input["ConfigRuleId"] = .string(id)
        input["ConfigRuleArn"] = .string("arn:aws:config:\(call.region):\(call.caller.accountId):config-rule/\(id)")
        input["ConfigRuleState"] = "ACTIVE"
        if input["EvaluationModes"] == nil { input["EvaluationModes"] = .array([.object(["Mode": "DETECTIVE"])]) }
        if owner == "AWS", input["MaximumExecutionFrequency"] == nil,
            ["CLOUD_TRAIL_ENABLED", "MULTI_REGION_CLOUD_TRAIL_ENABLED", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED"].contains(
                input["Source"]?["SourceIdentifier"]?.string ?? "")
        {
            input["MaximumExecutionFrequency"] = "TwentyFour_Hours"
        }
        let stored = StoredRule(rule: input, firstActivated: existing?.firstActivated ?? Double(call.now), lastInvoked: existing?.lastInvoked)
        try await lock.withLock {
            try await state.put(Self.rules, ruleKey(scope, name), Array(try JSONEncoder().encode(stored)))
        }
        try await evaluateRules(account: call.caller.accountId, region: call.region, only: [name])
        return .object([:])
    }

    /// The rules a call's `ConfigRuleNames` names (each must exist), or all of the account's rules in the region.
    private func namedRules(_ call: OperationCall) async throws -> [StoredRule] {
        let names = call.input["ConfigRuleNames"]?.array?.compactMap(\.string) ?? []
        let all = try await rules(scope: Self.scope(call.caller.accountId, call.region))
        for name in names where !all.contains(where: { $0.name == name }) { throw noSuchRule(name) }
        return names.isEmpty ? all : all.filter { names.contains($0.name) }
    }

    /// `DescribeConfigRules`: the named rules (each must exist) or all.
    func describeRules(_ call: OperationCall) async throws -> JSONValue {
        let chosen = try await namedRules(call)
        return .object(["ConfigRules": .array(chosen.map { .object($0.rule) })])
    }

    /// `DeleteConfigRule`: removes the rule and its results.
    func deleteRule(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let name = call.input["ConfigRuleName"]?.string ?? ""
        try await lock.withLock {
            guard try await rules(scope: scope).contains(where: { $0.name == name }) else { throw noSuchRule(name) }
            var changes = [StateChange(Self.rules, ruleKey(scope, name), nil)]
            for (key, _) in try await state.entries(Self.evaluations, prefix: ruleKey(scope, name) + "\t") {
                changes.append(StateChange(Self.evaluations, key, nil))
            }
            try await state.apply(changes)
        }
        return .object([:])
    }

    /// `StartConfigRulesEvaluation`: evaluates the named rules now and sends `ConfigRulesEvaluationStarted`.
    func startEvaluation(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let chosen = try await namedRules(call).map(\.name)
        if let topic = try await channel(scope: scope)?["snsTopicARN"]?.string {
            await sendNotice(
                topic: topic, subject: "[AWS Config:\(call.region)] Config Rules Evaluation Started for Account \(call.caller.accountId)",
                fields: [
                    ("awsAccountId", .string(call.caller.accountId)), ("awsRegion", .string(call.region)),
                    ("configRuleNames", .array(chosen.map(JSONValue.string))),
                ], messageType: "ConfigRulesEvaluationStarted", recordVersion: "1.0", scope: scope)
        }
        try await evaluateRules(account: call.caller.accountId, region: call.region, only: chosen)
        return .object([:])
    }

    /// `DescribeConfigRuleEvaluationStatus`.
    func describeEvaluationStatus(_ call: OperationCall) async throws -> JSONValue {
        let chosen = try await namedRules(call)
        return .object([
            "ConfigRulesEvaluationStatus": .array(
                chosen.map { r in
                    var o: [String: JSONValue] = [
                        "ConfigRuleName": .string(r.name), "ConfigRuleArn": r.rule["ConfigRuleArn"] ?? .null,
                        "ConfigRuleId": r.rule["ConfigRuleId"] ?? .null, "FirstActivatedTime": .number(r.firstActivated),
                        "FirstEvaluationStarted": .bool(r.lastInvoked != nil),
                    ]
                    if let t = r.lastInvoked {
                        o["LastSuccessfulInvocationTime"] = .number(t)
                        o["LastSuccessfulEvaluationTime"] = .number(t)
                    }
                    return .object(o)
                })
        ])
    }

    /// A rule's aggregate compliance: NON_COMPLIANT if any result is, COMPLIANT if all are, else INSUFFICIENT_DATA.
    private static func compliance(of results: [StoredEvaluation]) -> JSONValue {
        let failing = results.filter { $0.compliance == "NON_COMPLIANT" }.count
        if failing > 0 {
            return .object([
                "ComplianceType": "NON_COMPLIANT",
                "ComplianceContributorCount": .object(["CappedCount": .number(Double(min(failing, 100))), "CapExceeded": .bool(failing > 100)]),
            ])
        }
        if results.contains(where: { $0.compliance == "COMPLIANT" }) { return .object(["ComplianceType": "COMPLIANT"]) }
        return .object(["ComplianceType": "INSUFFICIENT_DATA"])
    }

    /// `DescribeComplianceByConfigRule`.
    func describeComplianceByRule(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let types = call.input["ComplianceTypes"]?.array?.compactMap(\.string) ?? []
        var out: [JSONValue] = []
        for rule in try await namedRules(call) {
            let compliance = Self.compliance(of: try await evaluations(scope: scope, rule: rule.name))
            if !types.isEmpty, !types.contains(compliance["ComplianceType"]?.string ?? "") { continue }
            out.append(.object(["ConfigRuleName": .string(rule.name), "Compliance": compliance]))
        }
        return .object(["ComplianceByConfigRules": .array(out)])
    }

    /// `DescribeComplianceByResource`: each evaluated resource's compliance across rules.
    func describeComplianceByResource(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let type = call.input["ResourceType"]?.string
        let id = call.input["ResourceId"]?.string
        let types = call.input["ComplianceTypes"]?.array?.compactMap(\.string) ?? []
        var byResource: [String: (type: String, id: String, results: [StoredEvaluation])] = [:]
        for rule in try await rules(scope: scope) {
            for result in try await evaluations(scope: scope, rule: rule.name) {
                if let type, type != result.resourceType { continue }
                if let id, id != result.resourceId { continue }
                byResource[result.resourceType + "\t" + result.resourceId, default: (result.resourceType, result.resourceId, [])].results.append(
                    result)
            }
        }
        var out: [JSONValue] = []
        for key in byResource.keys.sorted() {
            guard let entry = byResource[key] else { continue }
            let compliance = Self.compliance(of: entry.results)
            if !types.isEmpty, !types.contains(compliance["ComplianceType"]?.string ?? "") { continue }
            out.append(.object(["ResourceType": .string(entry.type), "ResourceId": .string(entry.id), "Compliance": compliance]))
        }
        return .object(["ComplianceByResources": .array(out)])
    }

    /// `GetComplianceDetailsByConfigRule`: the rule's results, filtered by compliance type.
    func complianceDetailsByRule(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let name = call.input["ConfigRuleName"]?.string ?? ""
        guard try await rules(scope: scope).contains(where: { $0.name == name }) else { throw noSuchRule(name) }
        let types = call.input["ComplianceTypes"]?.array?.compactMap(\.string) ?? []
        let results = try await evaluations(scope: scope, rule: name).filter { types.isEmpty || types.contains($0.compliance) }
        return .object(["EvaluationResults": .array(results.map(\.value))])
    }

    /// `GetComplianceDetailsByResource`: one resource's results across rules.
    func complianceDetailsByResource(_ call: OperationCall) async throws -> JSONValue {
        let scope = Self.scope(call.caller.accountId, call.region)
        let type = call.input["ResourceType"]?.string
        let id = call.input["ResourceId"]?.string
        let types = call.input["ComplianceTypes"]?.array?.compactMap(\.string) ?? []
        var out: [JSONValue] = []
        for rule in try await rules(scope: scope) {
            for result in try await evaluations(scope: scope, rule: rule.name)
            where result.resourceType == type && result.resourceId == id && (types.isEmpty || types.contains(result.compliance)) {
                out.append(result.value)
            }
        }
        return .object(["EvaluationResults": .array(out)])
    }

    /// Evaluates the managed rules of an account and region (or the named ones) against the current state, stores
    /// changed results, and sends a `ComplianceChangeNotification` for each change.
    func evaluateRules(account: String, region: String, only names: [String]?) async throws {
        let scope = Self.scope(account, region)
        var notifications: [(StoredEvaluation, StoredEvaluation?, StoredRule)] = []
        try await lock.withLock {
            let all = try await rules(scope: scope).filter { names?.contains($0.name) ?? true }
            guard !all.isEmpty else { return }
            let items = try await currentItems(account: account, region: region).filter(\.hasConfiguration)
            var trails: [ResourceState]?
            let now = runtime.now()
            var changes: [StateChange] = []
            let encoder = JSONEncoder()
            for var rule in all {
                guard let identifier = rule.identifier, ManagedRules.supported.contains(identifier) else { continue }
                if identifier.hasPrefix("CLOUD_TRAIL") || identifier.hasPrefix("MULTI_REGION"), trails == nil {
                    var visible: [ResourceState] = []
                    for inventory in inventories {
                        visible += try await inventory.visibleResources(account: account, region: region).filter {
                            $0.resourceType == "AWS::CloudTrail::Trail"
                        }
                    }
                    trails = visible
                }
                let verdicts = ManagedRules.evaluate(
                    identifier, parameters: rule.parameters, scope: rule.rule["Scope"], account: account, items: items, trails: trails ?? [])
                var previous: [String: StoredEvaluation] = [:]
                for result in try await evaluations(scope: scope, rule: rule.name) {
                    previous[result.resourceType + "\t" + result.resourceId] = result
                }
                var kept: Set<String> = []
                for verdict in verdicts {
                    let key = verdict.resourceType + "\t" + verdict.resourceId
                    kept.insert(key)
                    let old = previous[key]
                    if let old, old.compliance == verdict.compliance, old.annotation == verdict.annotation { continue }
                    let result = StoredEvaluation(
                        ruleName: rule.name, resourceType: verdict.resourceType, resourceId: verdict.resourceId, compliance: verdict.compliance,
                        annotation: verdict.annotation, orderingTimestamp: verdict.orderingTimestamp ?? now, recordedTime: now, invokedTime: now)
                    changes.append(StateChange(Self.evaluations, ruleKey(scope, rule.name) + "\t" + key, Array(try encoder.encode(result))))
                    if old?.compliance != result.compliance { notifications.append((result, old, rule)) }
                }
                for (key, _) in previous where !kept.contains(key) {
                    changes.append(StateChange(Self.evaluations, ruleKey(scope, rule.name) + "\t" + key, nil))
                }
                rule.lastInvoked = now
                changes.append(StateChange(Self.rules, ruleKey(scope, rule.name), Array(try encoder.encode(rule))))
            }
            if !changes.isEmpty { try await state.apply(changes) }
        }
        guard !notifications.isEmpty, let topic = try await channel(scope: scope)?["snsTopicARN"]?.string else { return }
        for (result, old, rule) in notifications {
            await sendComplianceChange(result, old: old, rule: rule, topic: topic, account: account, region: region)
        }
    }

    /// Sends one `ComplianceChangeNotification`.
    private func sendComplianceChange(
        _ result: StoredEvaluation, old: StoredEvaluation?, rule: StoredRule, topic: String, account: String, region: String
    ) async {
        func write(_ r: StoredEvaluation, _ w: inout JSONWriter) {
            w.beginObject()
            w.key("evaluationResultIdentifier")
            w.beginObject()
            w.key("evaluationResultQualifier")
            w.beginObject()
            w.field("configRuleName", r.ruleName)
            w.field("resourceType", r.resourceType)
            w.field("resourceId", r.resourceId)
            w.endObject()
            w.field("orderingTimestamp", Timestamp.iso8601Millis(r.orderingTimestamp))
            w.endObject()
            w.field("complianceType", r.compliance)
            w.field("resultRecordedTime", Timestamp.iso8601Millis(r.recordedTime))
            w.field("configRuleInvokedTime", Timestamp.iso8601Millis(r.invokedTime))
            w.key("annotation")
            if let a = r.annotation { w.string(a) } else { w.null() }
            w.key("resultToken")
            w.null()
            w.endObject()
        }
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.field("awsAccountId", account)
        w.field("configRuleName", rule.name)
        w.field("configRuleARN", rule.rule["ConfigRuleArn"]?.string ?? "")
        w.field("resourceType", result.resourceType)
        w.field("resourceId", result.resourceId)
        w.field("awsRegion", region)
        w.key("newEvaluationResult")
        write(result, &w)
        w.key("oldEvaluationResult")
        if let old { write(old, &w) } else { w.null() }
        w.field("notificationCreationTime", Timestamp.iso8601Millis(runtime.now()))
        w.field("messageType", "ComplianceChangeNotification")
        w.field("recordVersion", "1.0")
        w.endObject()
        let subject =
            "[AWS Config:\(region)] \(result.resourceType) \(result.resourceId) is \(result.compliance) with \(rule.name) in Account \(account)"
        await send(topic: topic, subject: subject, message: w.string, scope: Self.scope(account, region))
    }
}
