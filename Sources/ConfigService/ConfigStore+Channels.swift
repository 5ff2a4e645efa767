import AWSCore
import Foundation
import Gateway
import Storage

/// The delivery channel of each account and region (`config.channels`, keyed `account/region`): at most one, and
/// only beside a recorder.
extension ConfigStore {
    /// PutDeliveryChannel: checks the channel's bucket, prefix, topic, key and frequency, stores it, and writes the
    /// bucket's writability probe.
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

    /// DescribeDeliveryChannels: the channel, if any (or the named one).
    func describeChannels(_ call: OperationCall) async throws -> JSONValue {
        let names = call.input["DeliveryChannelNames"]?.array?.compactMap(\.string) ?? []
        let current = try await channel(call)
        for name in names where current?["name"]?.string != name {
            throw AWSError("NoSuchDeliveryChannelException", "Cannot find delivery channel with specified name '\(name)'.")
        }
        return .object(["DeliveryChannels": .array(current.map { [$0] } ?? [])])
    }

    /// DescribeDeliveryChannelStatus: the snapshot, history and stream deliveries' last outcomes.
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

    /// DeleteDeliveryChannel: removes the named channel, unless the recorder is recording.
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
