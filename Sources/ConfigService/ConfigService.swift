package import AWSCore
import Audit
import Foundation
package import Gateway
package import NIOCore
package import Storage

/// What AWS Config needs to know about the bucket and topic of a delivery channel, and how it writes into the bucket;
/// the composition root answers it from the hosted S3 and SNS (services never import each other).
package protocol ConfigDeliveryTargets: Sendable {
    /// Throws `NoSuchBucketException` when the bucket does not exist, `InsufficientDeliveryPolicyException` when (with
    /// strict policy checks) its policy does not let `config.amazonaws.com` write under the prefix.
    func checkBucket(_ bucket: String, prefix: String?, account: String) async throws
    /// Whether the topic exists.
    func topicExists(_ arn: String) -> Bool
    /// Writes an object into the bucket as `config.amazonaws.com` (the channel's `ConfigWritabilityCheckFile`).
    func putProbe(bucket: String, key: String, account: String) async throws
    /// Writes a gzipped delivery file (snapshot or history) into the bucket as `config.amazonaws.com`.
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, account: String) async throws
    /// Publishes a Config notification to the channel's topic as `config.amazonaws.com`.
    func notify(topicARN: String, subject: String, message: String, account: String) async throws
}

/// A configuration recorder and its status.
struct Recorder: Codable, Sendable {
    var name: String
    var roleARN: String
    var recordingGroup: JSONValue
    var recordingMode: JSONValue
    var arnSuffix: String
    var recording: Bool = false
    var lastStartTime: Double?
    var lastStopTime: Double?
    var lastStatus: String?
    var lastStatusChangeTime: Double?
}

/// AWS Config (JSON 1.1, `StarlingDoveService`): the configuration recorder and the delivery channel of each account
/// and region, with the rules and errors AWS applies to them.
package struct ConfigService: AWSService {
    package let model = ServiceModel.config
    package let eventSource = "config.amazonaws.com"
    package let operations: [String: AWSOperation]

    /// Delivers what is due (history files on the cadence, periodic snapshots); `force` delivers the pending
    /// history now (`/_cairn/flush`).
    package func deliverDue(historyInterval: Int, force: Bool = false) async throws {
        try await store.deliverDue(historyInterval: Double(historyInterval), force: force)
    }

    static let recorders = "config.recorders"
    static let channels = "config.channels"
    let store: ConfigStore

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - state: where recorders, channels, configuration items and rules are kept.
    ///   - targets: the hosted S3 and SNS as Config reaches them.
    ///   - inventories: the services whose resources Config discovers when a recorder starts.
    ///   - changes: the feed of resource changes Config records items from.
    ///   - runtime: clock and ids.
    package init(
        state: any StateStore, targets: any ConfigDeliveryTargets, inventories: [any ResourceInventory] = [],
        changes: ResourceChangeFeed = ResourceChangeFeed(), runtime: Runtime = .live
    ) {
        let store = ConfigStore(state: state, targets: targets, inventories: inventories, runtime: runtime)
        changes.subscribe(store)
        self.store = store
        func read(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: true), run: run)
        }
        func write(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: false), run: run)
        }
        operations = [
            "PutConfigurationRecorder": write { call in try await store.putRecorder(call) },
            "DescribeConfigurationRecorders": read { call in try await store.describeRecorders(call) },
            "DescribeConfigurationRecorderStatus": read { call in try await store.describeRecorderStatus(call) },
            "DeleteConfigurationRecorder": write { call in try await store.deleteRecorder(call) },
            "StartConfigurationRecorder": write { call in try await store.setRecording(call, on: true) },
            "StopConfigurationRecorder": write { call in try await store.setRecording(call, on: false) },
            "PutDeliveryChannel": write { call in try await store.putChannel(call) },
            "DescribeDeliveryChannels": read { call in try await store.describeChannels(call) },
            "DescribeDeliveryChannelStatus": read { call in try await store.describeChannelStatus(call) },
            "DeleteDeliveryChannel": write { call in try await store.deleteChannel(call) },
            "DeliverConfigSnapshot": write { call in try await store.deliverSnapshot(call) },
            "GetResourceConfigHistory": read { call in try await store.resourceHistory(call) },
            "ListDiscoveredResources": read { call in try await store.listDiscovered(call) },
            "GetDiscoveredResourceCounts": read { call in try await store.discoveredCounts(call) },
            "BatchGetResourceConfig": read { call in try await store.batchGet(call) },
            "SelectResourceConfig": read { call in try await store.select(call) },
            "PutConfigRule": write { call in try await store.putRule(call) },
            "DescribeConfigRules": read { call in try await store.describeRules(call) },
            "DeleteConfigRule": write { call in try await store.deleteRule(call) },
            "StartConfigRulesEvaluation": write { call in try await store.startEvaluation(call) },
            "DescribeConfigRuleEvaluationStatus": read { call in try await store.describeEvaluationStatus(call) },
            "DescribeComplianceByConfigRule": read { call in try await store.describeComplianceByRule(call) },
            "DescribeComplianceByResource": read { call in try await store.describeComplianceByResource(call) },
            "GetComplianceDetailsByConfigRule": read { call in try await store.complianceDetailsByRule(call) },
            "GetComplianceDetailsByResource": read { call in try await store.complianceDetailsByResource(call) },
        ]
    }
}

/// AWS Config's state for every account and region: recorders, channels, configuration items, rules, written
/// through to the state store. Changes are serialized by one lock.
final class ConfigStore: Sendable {
    let state: any StateStore
    let targets: any ConfigDeliveryTargets
    let inventories: [any ResourceInventory]
    let runtime: Runtime
    let lock = AsyncLock()

    init(state: any StateStore, targets: any ConfigDeliveryTargets, inventories: [any ResourceInventory], runtime: Runtime) {
        self.state = state
        self.targets = targets
        self.inventories = inventories
        self.runtime = runtime
    }

    private func key(_ call: OperationCall) -> String { Self.scope(call.caller.accountId, call.region) }

    /// The state-store key of an account and region (`account/region`).
    static func scope(_ account: String, _ region: String) -> String { account + "/" + region }

    private func recorder(_ call: OperationCall) async throws -> Recorder? {
        try await recorder(scope: key(call))
    }

    /// The recorder of an account and region.
    func recorder(scope: String) async throws -> Recorder? {
        try await state.entries(ConfigService.recorders, prefix: scope).first { $0.key == scope }.map {
            try JSONDecoder().decode(Recorder.self, from: Data($0.value))
        }
    }

    private func channel(_ call: OperationCall) async throws -> JSONValue? {
        try await channel(scope: key(call))
    }

    /// The delivery channel of an account and region.
    func channel(scope: String) async throws -> JSONValue? {
        try await state.entries(ConfigService.channels, prefix: scope).first { $0.key == scope }.map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.value))
        }
    }

    private func save(_ recorder: Recorder?, _ call: OperationCall) async throws {
        if let recorder {
            try await state.put(ConfigService.recorders, key(call), Array(try JSONEncoder().encode(recorder)))
        } else {
            try await state.delete(ConfigService.recorders, key(call))
        }
    }

    private func noSuchRecorder(_ name: String) -> AWSError {
        AWSError("NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '\(name)'.")
    }

    private func arn(_ r: Recorder, _ call: OperationCall) -> String {
        "arn:aws:config:\(call.region):\(call.caller.accountId):configuration-recorder/\(r.name)/\(r.arnSuffix)"
    }

    // MARK: Recorder

    func putRecorder(_ call: OperationCall) async throws -> JSONValue {
        let input = call.input["ConfigurationRecorder"] ?? .object([:])
        let name = input["name"]?.string ?? "default"
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw AWSError("InvalidConfigurationRecorderNameException", "The configuration recorder name '\(name)' is not valid, blank string.")
        }
        if name.hasPrefix("AWSConfigurationRecorderFor") {
            throw AWSError(
                "InvalidConfigurationRecorderNameException",
                "The configuration recorder name '\(name)' is reserved for service-linked configuration recorders.")
        }
        guard let role = input["roleARN"]?.string, !role.isEmpty else {
            throw AWSError("InvalidRoleException", "The role ARN provided is null or empty.")
        }
        let group = try Self.normalizedGroup(input["recordingGroup"])
        let mode = input["recordingMode"] ?? .object(["recordingFrequency": "CONTINUOUS", "recordingModeOverrides": .array([])])
        return try await lock.withLock {
            if var existing = try await recorder(call) {
                guard existing.name == name else {
                    throw AWSError(
                        "MaxNumberOfConfigurationRecordersExceededException",
                        "Failed to put configuration recorder '\(name)' because the maximum number of configuration recorders: 1 is reached.")
                }
                existing.roleARN = role
                existing.recordingGroup = group
                existing.recordingMode = mode
                try await save(existing, call)
            } else {
                let suffix = String(IDs.alphanumeric(16).lowercased())
                try await save(Recorder(name: name, roleARN: role, recordingGroup: group, recordingMode: mode, arnSuffix: suffix), call)
            }
            return .object([:])
        }
    }

    /// The recording group as AWS stores it (every member filled), or `InvalidRecordingGroupException`.
    static func normalizedGroup(_ value: JSONValue?) throws(AWSError) -> JSONValue {
        let invalid = AWSError("InvalidRecordingGroupException", "The recording group provided is not valid")
        guard let value else {
            return .object([
                "allSupported": true, "includeGlobalResourceTypes": false, "resourceTypes": .array([]),
                "exclusionByResourceTypes": .object(["resourceTypes": .array([])]),
                "recordingStrategy": .object(["useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"]),
            ])
        }
        let all = value["allSupported"]?.bool ?? false
        let global = value["includeGlobalResourceTypes"]?.bool ?? false
        let types = value["resourceTypes"]?.array ?? []
        let excluded = value["exclusionByResourceTypes"]?["resourceTypes"]?.array ?? []
        let strategy = value["recordingStrategy"]?["useOnly"]?.string
        let useOnly: String
        if all {
            guard types.isEmpty, excluded.isEmpty, strategy == nil || strategy == "ALL_SUPPORTED_RESOURCE_TYPES" else { throw invalid }
            useOnly = "ALL_SUPPORTED_RESOURCE_TYPES"
        } else if !types.isEmpty {
            guard excluded.isEmpty, !global, strategy == nil || strategy == "INCLUSION_BY_RESOURCE_TYPES" else { throw invalid }
            useOnly = "INCLUSION_BY_RESOURCE_TYPES"
        } else if !excluded.isEmpty {
            guard strategy == "EXCLUSION_BY_RESOURCE_TYPES", !global else { throw invalid }
            useOnly = "EXCLUSION_BY_RESOURCE_TYPES"
        } else {
            throw invalid
        }
        return .object([
            "allSupported": .bool(all), "includeGlobalResourceTypes": .bool(global), "resourceTypes": .array(types),
            "exclusionByResourceTypes": .object(["resourceTypes": .array(excluded)]),
            "recordingStrategy": .object(["useOnly": .string(useOnly)]),
        ])
    }

    /// The recorder a Describe call names (at most one name), or every recorder (0 or 1).
    private func named(_ call: OperationCall, member: String) async throws -> Recorder? {
        let names = call.input[member]?.array?.compactMap(\.string) ?? []
        guard names.count <= 1 else {
            throw AWSError("ValidationException", "Only one configuration recorder name may be specified.")
        }
        let current = try await recorder(call)
        if let name = names.first {
            guard let current, current.name == name else { throw noSuchRecorder(name) }
        }
        return current
    }

    func describeRecorders(_ call: OperationCall) async throws -> JSONValue {
        guard let r = try await named(call, member: "ConfigurationRecorderNames") else {
            return .object(["ConfigurationRecorders": .array([])])
        }
        return .object([
            "ConfigurationRecorders": .array([
                .object([
                    "arn": .string(arn(r, call)), "name": .string(r.name), "roleARN": .string(r.roleARN),
                    "recordingGroup": r.recordingGroup, "recordingMode": r.recordingMode, "recordingScope": "PAID",
                ])
            ])
        ])
    }

    func describeRecorderStatus(_ call: OperationCall) async throws -> JSONValue {
        guard let r = try await named(call, member: "ConfigurationRecorderNames") else {
            return .object(["ConfigurationRecordersStatus": .array([])])
        }
        var o: [String: JSONValue] = ["arn": .string(arn(r, call)), "name": .string(r.name), "recording": .bool(r.recording)]
        if let t = r.lastStartTime { o["lastStartTime"] = .number(t) }
        if let t = r.lastStopTime { o["lastStopTime"] = .number(t) }
        if let s = r.lastStatus { o["lastStatus"] = .string(s) }
        if let t = r.lastStatusChangeTime { o["lastStatusChangeTime"] = .number(t) }
        return .object(["ConfigurationRecordersStatus": .array([.object(o)])])
    }

    func deleteRecorder(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["ConfigurationRecorderName"]?.string ?? ""
        return try await lock.withLock {
            guard let r = try await recorder(call), r.name == name else { throw noSuchRecorder(name) }
            try await save(nil, call)
            return .object([:])
        }
    }

    func setRecording(_ call: OperationCall, on: Bool) async throws -> JSONValue {
        let name = call.input["ConfigurationRecorderName"]?.string ?? ""
        let discovered = try await lock.withLock { () -> [RecordedChange] in
            guard var r = try await recorder(call), r.name == name else { throw noSuchRecorder(name) }
            let now = Double(call.now)
            if on {
                guard try await channel(call) != nil else {
                    throw AWSError("NoAvailableDeliveryChannelException", "Delivery channel is not available to start configuration recorder.")
                }
                let wasRecording = r.recording
                if !r.recording {
                    r.lastStartTime = now
                    r.lastStatusChangeTime = now
                }
                r.recording = true
                // Cairn records synchronously, so the first recording cycle succeeds at once.
                r.lastStatus = "SUCCESS"
                try await save(r, call)
                // Starting a recorder records what already exists (and what changed while it was stopped).
                return wasRecording ? [] : try await discoverLocked(account: call.caller.accountId, region: call.region)
            } else {
                if r.recording {
                    r.lastStopTime = now
                    r.lastStatusChangeTime = now
                }
                r.recording = false
                try await save(r, call)
                return []
            }
        }
        await afterRecording(discovered)
        return .object([:])
    }

    // MARK: Delivery channel

    func putChannel(_ call: OperationCall) async throws -> JSONValue {
        guard try await recorder(call) != nil else {
            throw AWSError("NoAvailableConfigurationRecorderException", "Configuration recorder is not available to put delivery channel.")
        }
        var input = call.input["DeliveryChannel"]?.object ?? [:]
        let name = input["name"]?.string ?? "default"
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw AWSError("InvalidDeliveryChannelNameException", "The delivery channel name '\(name)' is not valid, blank string.")
        }
        input["name"] = .string(name)
        guard let bucket = input["s3BucketName"]?.string, !bucket.isEmpty else {
            throw AWSError("NoSuchBucketException", "Cannot find a S3 bucket with an empty bucket name.")
        }
        let prefix = input["s3KeyPrefix"]?.string
        if let prefix, prefix.isEmpty || prefix.hasPrefix("/") || prefix.hasSuffix("/") || prefix.contains("AWSLogs") {
            throw AWSError(
                "InvalidS3KeyPrefixException", "The s3 key prefix '\(prefix)' is not valid" + (prefix.isEmpty ? ", empty s3 key prefix." : "."))
        }
        if let topic = input["snsTopicARN"]?.string {
            guard topic.hasPrefix("arn:aws:sns:"), targets.topicExists(topic) else {
                throw AWSError("InvalidSNSTopicARNException", "The sns topic arn '\(topic)' is not valid.")
            }
        }
        if let key = input["s3KmsKeyArn"]?.string, !key.hasPrefix("arn:aws:kms:") {
            throw AWSError("InvalidS3KmsKeyArnException", "The s3 kms key arn '\(key)' is not valid.")
        }
        if let frequency = input["configSnapshotDeliveryProperties"]?["deliveryFrequency"]?.string,
            !["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"].contains(frequency)
        {
            throw AWSError(
                "ValidationException",
                "1 validation error detected: Value '\(frequency)' at 'deliveryChannel.configSnapshotDeliveryProperties.deliveryFrequency' failed to satisfy constraint: Member must satisfy enum value set: [One_Hour, TwentyFour_Hours, Six_Hours, Three_Hours, Twelve_Hours]"
            )
        }
        if let existing = try await channel(call), existing["name"]?.string != name {
            throw AWSError(
                "MaxNumberOfDeliveryChannelsExceededException",
                "Failed to put delivery channel '\(name)' because the maximum number of delivery channels: 1 is reached.")
        }
        do {
            try await targets.checkBucket(bucket, prefix: prefix, account: call.caller.accountId)
        } catch let error as AWSError where error.code == "InsufficientDeliveryPolicyException" {
            throw AWSError(
                error.code,
                "Insufficient delivery policy to s3 bucket: \(bucket), unable to write to bucket, provided s3 key prefix is '\(prefix ?? "null")', provided kms key is '\(input["s3KmsKeyArn"]?.string ?? "null")'."
            )
        }
        try await lock.withLock {
            try await state.put(ConfigService.channels, key(call), Array(try JSONEncoder().encode(JSONValue.object(input))))
        }
        // Config writes an empty probe object as soon as the channel is saved.
        let probe = (prefix.map { $0 + "/" } ?? "") + "AWSLogs/\(call.caller.accountId)/Config/ConfigWritabilityCheckFile"
        try await targets.putProbe(bucket: bucket, key: probe, account: call.caller.accountId)
        return .object([:])
    }

    func describeChannels(_ call: OperationCall) async throws -> JSONValue {
        let names = call.input["DeliveryChannelNames"]?.array?.compactMap(\.string) ?? []
        let current = try await channel(call)
        for name in names where current?["name"]?.string != name {
            throw AWSError("NoSuchDeliveryChannelException", "Cannot find delivery channel with specified name '\(name)'.")
        }
        return .object(["DeliveryChannels": .array(current.map { [$0] } ?? [])])
    }

    func describeChannelStatus(_ call: OperationCall) async throws -> JSONValue {
        let names = call.input["DeliveryChannelNames"]?.array?.compactMap(\.string) ?? []
        let current = try await channel(call)
        for name in names where current?["name"]?.string != name {
            throw AWSError("NoSuchDeliveryChannelException", "Cannot find delivery channel with specified name '\(name)'.")
        }
        guard let current, let name = current["name"]?.string else { return .object(["DeliveryChannelsStatus": .array([])]) }
        let status = try await deliveryStatus(scope: key(call))
        var stream: [String: JSONValue] = ["lastStatus": .string(current["snsTopicARN"] == nil ? "NOT_APPLICABLE" : status.streamStatus ?? "SUCCESS")]
        if current["snsTopicARN"] != nil {
            if let code = status.streamErrorCode { stream["lastErrorCode"] = .string(code) }
            if let message = status.streamErrorMessage { stream["lastErrorMessage"] = .string(message) }
            if let time = status.streamStatusChangeTime { stream["lastStatusChangeTime"] = .number(time) }
        }
        return .object([
            "DeliveryChannelsStatus": .array([
                .object([
                    "name": .string(name), "configSnapshotDeliveryInfo": status.snapshot.value,
                    "configHistoryDeliveryInfo": status.history.value, "configStreamDeliveryInfo": .object(stream),
                ])
            ])
        ])
    }

    func deleteChannel(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["DeliveryChannelName"]?.string ?? ""
        return try await lock.withLock {
            guard let current = try await channel(call), current["name"]?.string == name else {
                throw AWSError("NoSuchDeliveryChannelException", "Cannot find delivery channel with specified name '\(name)'.")
            }
            if try await recorder(call)?.recording == true {
                throw AWSError(
                    "LastDeliveryChannelDeleteFailedException",
                    "Failed to delete last specified delivery channel with name '\(name)', because there, because there is a running configuration recorder."
                )
            }
            try await state.delete(ConfigService.channels, key(call))
            return .object([:])
        }
    }
}
