import AWSCore
import CompressNIO
import Foundation
import Gateway
import NIOCore
import Storage

/// A channel's delivery record: what DescribeDeliveryChannelStatus reports and when the next deliveries are due.
struct ChannelDeliveryStatus: Codable, Sendable {
    /// One `ConfigExportDeliveryInfo`.
    struct Export: Codable, Sendable {
        var lastStatus: String?
        var lastErrorCode: String?
        var lastErrorMessage: String?
        var lastAttemptTime: Double?
        var lastSuccessfulTime: Double?
        var nextDeliveryTime: Double?

        /// The info as the API shows it (members only when set).
        var value: JSONValue {
            var o: [String: JSONValue] = [:]
            if let lastStatus { o["lastStatus"] = .string(lastStatus) }
            if let lastErrorCode { o["lastErrorCode"] = .string(lastErrorCode) }
            if let lastErrorMessage { o["lastErrorMessage"] = .string(lastErrorMessage) }
            if let lastAttemptTime { o["lastAttemptTime"] = .number(lastAttemptTime) }
            if let lastSuccessfulTime { o["lastSuccessfulTime"] = .number(lastSuccessfulTime) }
            if let nextDeliveryTime { o["nextDeliveryTime"] = .number(nextDeliveryTime) }
            return .object(o)
        }

        /// Notes an attempt and its outcome.
        mutating func attempted(at time: Double, error: AWSError?) {
            lastAttemptTime = time
            if let error {
                lastStatus = "FAILURE"
                lastErrorCode = error.code
                lastErrorMessage = error.message
            } else {
                lastStatus = "SUCCESS"
                lastErrorCode = nil
                lastErrorMessage = nil
                lastSuccessfulTime = time
            }
        }
    }

    var snapshot = Export()
    var history = Export()
    /// The stream (SNS notifications): status and when it last changed.
    var streamStatus: String?
    var streamErrorCode: String?
    var streamErrorMessage: String?
    var streamStatusChangeTime: Double?
    /// When the history files were last delivered (the cadence counts from here).
    var lastHistoryDelivery: Double?
}

/// AWS Config's deliveries: change notifications, snapshots and history files to the channel's bucket and topic.
extension ConfigStore {
    static let deliveryStatus = "config.deliveryStatus"

    /// The delivery record of an account and region.
    func deliveryStatus(scope: String) async throws -> ChannelDeliveryStatus {
        try await state.entries(Self.deliveryStatus, prefix: scope).first { $0.key == scope }.map {
            try JSONDecoder().decode(ChannelDeliveryStatus.self, from: Data($0.value))
        } ?? ChannelDeliveryStatus()
    }

    func saveDeliveryStatus(_ status: ChannelDeliveryStatus, scope: String) async throws {
        try await state.put(Self.deliveryStatus, scope, Array(try JSONEncoder().encode(status)))
    }

    /// Updates a delivery record under the lock.
    func updateDeliveryStatus(scope: String, _ change: @Sendable (inout ChannelDeliveryStatus) -> Void) async throws {
        try await lock.withLock {
            var status = try await deliveryStatus(scope: scope)
            change(&status)
            try await saveDeliveryStatus(status, scope: scope)
        }
    }

    /// What follows a recording: each item's `ConfigurationItemChangeNotification` to the channel's topic, then the
    /// rules of the account and region evaluated against the new state. Failures are noted in the channel's
    /// status, never thrown back at the call that changed the resource.
    func afterRecording(_ items: [RecordedChange]) async {
        var scopes: [String] = []
        for change in items {
            let scope = Self.scope(change.item.resource.accountId, change.item.resource.region)
            if !scopes.contains(scope) { scopes.append(scope) }
            await notifyChange(change, scope: scope)
        }
        for scope in scopes {
            let parts = scope.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            do {
                try await evaluateRules(account: parts[0], region: parts[1], only: nil)
            } catch {}
        }
    }

    /// Sends one item's change notification, when the channel has a topic.
    private func notifyChange(_ change: RecordedChange, scope: String) async {
        let item = change.item
        guard let channel = try? await channel(scope: scope), let topic = channel["snsTopicARN"]?.string else { return }
        let verb: String
        let changeType: String
        switch item.status {
        case "ResourceDeleted": (verb, changeType) = ("Deleted", "DELETE")
        case "ResourceDiscovered": (verb, changeType) = ("Created", "CREATE")
        default: (verb, changeType) = ("Updated", "UPDATE")
        }
        var w = JSONWriter(capacity: 2048)
        w.beginObject()
        w.key("configurationItemDiff")
        if changeType == "DELETE" {
            w.null()
        } else {
            w.beginObject()
            w.key("changedProperties")
            Self.changedProperties(from: change.previous, to: item).write(to: &w)
            w.field("changeType", changeType)
            w.endObject()
        }
        w.key("configurationItem")
        item.writeFileForm(to: &w)
        w.field("notificationCreationTime", Timestamp.iso8601Millis(runtime.now()))
        w.field("messageType", "ConfigurationItemChangeNotification")
        w.field("recordVersion", "1.3")
        w.endObject()
        let subject =
            "[AWS Config:\(item.resource.region)] \(item.resource.resourceType) \(item.resource.resourceId) \(verb) in Account \(item.resource.accountId)"
        await send(topic: topic, subject: subject, message: w.string, scope: scope)
    }

    /// Publishes a Config message to the channel's topic and notes the stream's status.
    func send(topic: String, subject: String, message: String, scope: String) async {
        let account = String(scope.prefix { $0 != "/" })
        var failure: AWSError?
        do {
            try await targets.notify(topicARN: topic, subject: Self.subject(subject), message: message, account: account)
        } catch let error as AWSError {
            failure = error
        } catch {
            failure = AWSError("InternalFailure", "\(error)")
        }
        let now = runtime.now()
        let outcome = failure
        try? await updateDeliveryStatus(scope: scope) { status in
            let failure = outcome
            let new = failure == nil ? "SUCCESS" : "FAILURE"
            if status.streamStatus != new { status.streamStatusChangeTime = now }
            status.streamStatus = new
            status.streamErrorCode = failure?.code
            status.streamErrorMessage = failure?.message
        }
    }

    /// Sends one of Config's delivery notifications: `fields` in order, then `notificationCreationTime`,
    /// `messageType` and `recordVersion`, as Config writes them.
    func sendNotice(
        topic: String, subject: String, fields: [(String, JSONValue)], messageType: String, recordVersion: String = "1.1",
        scope: String
    ) async {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        for (key, value) in fields {
            w.key(key)
            value.write(to: &w)
        }
        w.field("notificationCreationTime", Timestamp.iso8601Millis(runtime.now()))
        w.field("messageType", messageType)
        w.field("recordVersion", recordVersion)
        w.endObject()
        await send(topic: topic, subject: subject, message: w.string, scope: scope)
    }

    /// A subject cut to SNS's 100 characters the way Config cuts it (ending in `...`).
    static func subject(_ text: String) -> String {
        text.count <= 100 ? text : String(text.prefix(97)) + "..."
    }

    /// The `changedProperties` of an update: each top-level member of `configuration` and
    /// `supplementaryConfiguration`, each tag and relationship that differs, with its previous and updated value.
    static func changedProperties(from previous: ConfigurationItem?, to item: ConfigurationItem) -> JSONValue {
        guard let previous, previous.hasConfiguration else { return .object([:]) }
        var changed: [String: JSONValue] = [:]
        func compare(_ prefix: String, _ old: [String: JSONValue], _ new: [String: JSONValue]) {
            for key in Set(old.keys).union(new.keys) where old[key] != new[key] {
                var entry: [String: JSONValue] = [:]
                if let o = old[key] { entry["previousValue"] = o }
                if let n = new[key] { entry["updatedValue"] = n }
                entry["changeType"] = .string(old[key] == nil ? "CREATE" : new[key] == nil ? "DELETE" : "UPDATE")
                changed[prefix + key] = .object(entry)
            }
        }
        compare("Configuration.", previous.resource.configuration.object ?? [:], item.resource.configuration.object ?? [:])
        compare("SupplementaryConfiguration.", previous.resource.supplementaryConfiguration, item.resource.supplementaryConfiguration)
        compare("Tags.", previous.resource.tags.mapValues(JSONValue.string), item.resource.tags.mapValues(JSONValue.string))
        return .object(changed)
    }

    // MARK: Files

    /// `[prefix/]AWSLogs/<account>/Config/<region>/<YYYY>/<M>/<D>/<kind>/`: month and day not zero-padded.
    static func folder(prefix: String?, account: String, region: String, time: Double, kind: String) -> String {
        let date = Date(timeIntervalSince1970: time)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let base = (prefix.map { $0 + "/" } ?? "") + "AWSLogs/\(account)/Config/\(region)/"
        return base + "\(c.year ?? 1970)/\(c.month ?? 1)/\(c.day ?? 1)/\(kind)/"
    }

    /// `20160927T183939Z`: the compact UTC time of Config's file names.
    static func compact(_ time: Double) -> String {
        Timestamp.iso8601(Int64(time)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }

    /// Gzips and writes one file into the channel's bucket.
    func writeFile(channel: JSONValue, key: String, json: [UInt8], account: String) async throws {
        guard let bucket = channel["s3BucketName"]?.string else { return }
        var plain = ByteBuffer(bytes: json)
        let gzipped = try plain.compress(with: .gzip())
        try await targets.putFile(bucket: bucket, key: key, gzipped: gzipped, account: account)
    }

    /// `DeliverConfigSnapshot`: writes the current item of every recorded resource of the account and region
    /// into one snapshot file, with the Started/Completed notifications, and returns the snapshot id.
    func deliverSnapshot(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["deliveryChannelName"]?.string ?? ""
        let scope = Self.scope(call.caller.accountId, call.region)
        guard let recorder = try await recorder(scope: scope) else {
            throw AWSError(
                "NoAvailableConfigurationRecorderException", "There are no configuration recorders available to provide the configuration snapshot.")
        }
        guard let channel = try await channel(scope: scope), channel["name"]?.string == name else {
            throw AWSError("NoSuchDeliveryChannelException", "Cannot find delivery channel with specified name '\(name)'.")
        }
        guard recorder.recording else {
            throw AWSError(
                "NoRunningConfigurationRecorderException", "There is no configuration recorder running to provide the configuration snapshot.")
        }
        let id = runtime.uuid()
        try await writeSnapshot(id: id, channel: channel, account: call.caller.accountId, region: call.region)
        return .object(["configSnapshotId": .string(id)])
    }

    /// Writes one snapshot with its notifications and notes the outcome in the channel's status.
    func writeSnapshot(id: String, channel: JSONValue, account: String, region: String) async throws {
        let scope = Self.scope(account, region)
        let topic = channel["snsTopicARN"]?.string
        let account = account
        let started = runtime.now()
        if let topic {
            await sendNotice(
                topic: topic, subject: "[AWS Config:\(region)] Configuration Snapshot Delivery Started for Account \(account)",
                fields: [("configSnapshotId", .string(id))], messageType: "ConfigurationSnapshotDeliveryStarted", scope: scope)
        }
        let items = try await currentItems(account: account, region: region).filter(\.hasConfiguration)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("fileVersion", "1.0")
        w.field("configSnapshotId", id)
        w.key("configurationItems")
        w.beginArray()
        for item in items {
            w.arrayElement()
            item.writeFileForm(to: &w)
        }
        w.endArray()
        w.endObject()
        let key =
            Self.folder(prefix: channel["s3KeyPrefix"]?.string, account: account, region: region, time: started, kind: "ConfigSnapshot")
            + "\(account)_Config_\(region)_ConfigSnapshot_\(Self.compact(started))_\(id).json.gz"
        var failure: AWSError?
        do {
            try await writeFile(channel: channel, key: key, json: w.bytes, account: account)
        } catch let error as AWSError {
            failure = error
        }
        let finished = runtime.now()
        let frequency = Self.frequencySeconds(channel["configSnapshotDeliveryProperties"]?["deliveryFrequency"]?.string)
        let outcome = failure
        try await updateDeliveryStatus(scope: scope) { status in
            status.snapshot.attempted(at: finished, error: outcome)
            status.snapshot.nextDeliveryTime = frequency.map { finished + $0 }
        }
        if let topic {
            var fields: [(String, JSONValue)] = [("configSnapshotId", .string(id))]
            if failure == nil {
                fields += [("s3ObjectKey", .string(key)), ("s3Bucket", .string(channel["s3BucketName"]?.string ?? ""))]
            }
            let outcome = failure == nil ? "Completed" : "Failed"
            await sendNotice(
                topic: topic, subject: "[AWS Config:\(region)] Configuration Snapshot Delivery \(outcome) for Account \(account)",
                fields: fields, messageType: "ConfigurationSnapshotDelivery\(outcome)", scope: scope)
        }
        if let failure { throw failure }
    }

    /// Seconds of a `deliveryFrequency` value.
    static func frequencySeconds(_ value: String?) -> Double? {
        switch value {
        case "One_Hour": 3600
        case "Three_Hours": 3 * 3600
        case "Six_Hours": 6 * 3600
        case "Twelve_Hours": 12 * 3600
        case "TwentyFour_Hours": 24 * 3600
        default: nil
        }
    }

    /// Delivers what is due: each channel's history files once `historyInterval` has passed since the last ones
    /// (`force`: now, for `/_cairn/flush`), and periodic snapshots whose `nextDeliveryTime` has come.
    func deliverDue(historyInterval: Double, force: Bool) async throws {
        let now = runtime.now()
        var scopes: Set<String> = []
        for (key, _) in try await state.all(Self.pending) {
            let parts = key.split(separator: "\t", maxSplits: 2)
            if parts.count == 3 { scopes.insert(parts[0] + "/" + parts[1]) }
        }
        for (scope, _) in try await state.all(ConfigService.channels) { scopes.insert(scope) }
        for scope in scopes.sorted() {
            guard let channel = try await channel(scope: scope) else { continue }
            let parts = scope.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let status = try await deliveryStatus(scope: scope)
            guard force || status.lastHistoryDelivery != nil else {
                // The cadence starts with the first look at a channel.
                try await updateDeliveryStatus(scope: scope) { $0.lastHistoryDelivery = now }
                continue
            }
            if force || now >= (status.lastHistoryDelivery ?? now) + historyInterval {
                try await deliverHistory(channel: channel, account: parts[0], region: parts[1], now: now)
            }
            if let next = status.snapshot.nextDeliveryTime, now >= next, try await recorder(scope: scope)?.recording == true {
                try? await writeSnapshot(id: runtime.uuid(), channel: channel, account: parts[0], region: parts[1])
            }
        }
    }

    /// Writes one history file per resource type from the pending items of an account and region, then removes
    /// them from the pending set. A file's key follows from its items, so a retry after a crash rewrites the same
    /// file instead of adding a second one.
    private func deliverHistory(channel: JSONValue, account: String, region: String, now: Double) async throws {
        let scope = Self.scope(account, region)
        let pending = try await state.entries(Self.pending, prefix: Self.scopePrefix(account, region))
        guard !pending.isEmpty else {
            try await updateDeliveryStatus(scope: scope) { $0.lastHistoryDelivery = now }
            return
        }
        var byType: [String: [(key: String, item: ConfigurationItem)]] = [:]
        for (key, value) in pending {
            let item = try Self.decode(value)
            byType[item.resource.resourceType, default: []].append((key, item))
        }
        var failure: AWSError?
        var delivered: [StateChange] = []
        var files: [String] = []
        for type in byType.keys.sorted() {
            let entries = byType[type] ?? []
            let start = entries.map(\.item.captureTime).min() ?? now
            let end = entries.map(\.item.captureTime).max() ?? now
            var w = JSONWriter(capacity: 4096)
            w.beginObject()
            w.field("fileVersion", "1.0")
            w.key("configurationItems")
            w.beginArray()
            for entry in entries {
                w.arrayElement()
                entry.item.writeFileForm(to: &w)
            }
            w.endArray()
            w.endObject()
            let key =
                Self.folder(prefix: channel["s3KeyPrefix"]?.string, account: account, region: region, time: end, kind: "ConfigHistory")
                + "\(account)_Config_\(region)_ConfigHistory_\(type)_\(Self.compact(start))_\(Self.compact(end))_1.json.gz"
            do {
                try await writeFile(channel: channel, key: key, json: w.bytes, account: account)
                delivered += entries.map { StateChange(Self.pending, $0.key, nil) }
                files.append(key)
            } catch let error as AWSError {
                failure = error
            }
        }
        if !delivered.isEmpty { try await state.apply(delivered) }
        let outcome = failure
        try await updateDeliveryStatus(scope: scope) { status in
            status.history.attempted(at: now, error: outcome)
            status.lastHistoryDelivery = now
        }
        if let topic = channel["snsTopicARN"]?.string {
            for key in files {
                await sendNotice(
                    topic: topic, subject: "[AWS Config:\(region)] Configuration History Delivery Completed for Account \(account)",
                    fields: [("s3ObjectKey", .string(key)), ("s3Bucket", .string(channel["s3BucketName"]?.string ?? ""))],
                    messageType: "ConfigurationHistoryDeliveryCompleted", scope: scope)
            }
        }
    }
}
