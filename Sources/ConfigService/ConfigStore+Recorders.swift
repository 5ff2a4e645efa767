import AWSCore
import Foundation
import Gateway
import Storage

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

/// The configuration recorder of each account and region (`config.recorders`, keyed `account/region`): at most one,
/// with its recording state.
extension ConfigStore {
    /// Stores the call's recorder (`nil` removes it).
    private func save(_ recorder: Recorder?, _ call: OperationCall) async throws {
        if let recorder {
            try await state.put(ConfigService.recorders, key(call), Array(try JSONEncoder().encode(recorder)))
        } else {
            try await state.delete(ConfigService.recorders, key(call))
        }
    }

    /// `NoSuchConfigurationRecorderException` for a name.
    private func noSuchRecorder(_ name: String) -> AWSError {
        AWSError("NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '\(name)'.")
    }

    /// A recorder's ARN.
    private func arn(_ r: Recorder, _ call: OperationCall) -> String {
        "arn:aws:config:\(call.region):\(call.caller.accountId):configuration-recorder/\(r.name)/\(r.arnSuffix)"
    }

    /// PutConfigurationRecorder: creates the recorder or changes its role, group and mode (one per account and region).
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

    /// DescribeConfigurationRecorders: the recorder, if any (or the named one).
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

    /// DescribeConfigurationRecorderStatus: whether the recorder records, and its last start, stop and status.
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

    /// DeleteConfigurationRecorder: removes the named recorder.
    func deleteRecorder(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["ConfigurationRecorderName"]?.string ?? ""
        return try await lock.withLock {
            guard let r = try await recorder(call), r.name == name else { throw noSuchRecorder(name) }
            try await save(nil, call)
            return .object([:])
        }
    }

    /// StartConfigurationRecorder and StopConfigurationRecorder; starting (it needs a channel) discovers what exists.
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
}
