import AWSCore
import Foundation
import Storage

/// The resource types Cairn's Config records (the types of the services Cairn hosts).
let supportedResourceTypes: Set<String> = [
    "AWS::S3::Bucket", "AWS::SNS::Topic", "AWS::CloudTrail::Trail", "AWS::CloudFormation::Stack",
]

extension Recorder {
    /// Whether the recording group covers a resource type: all supported types, the listed ones, or all but the
    /// excluded ones.
    func records(_ type: String) -> Bool {
        let strategy = recordingGroup["recordingStrategy"]?["useOnly"]?.string ?? "ALL_SUPPORTED_RESOURCE_TYPES"
        switch strategy {
        case "INCLUSION_BY_RESOURCE_TYPES":
            return recordingGroup["resourceTypes"]?.array?.contains(.string(type)) ?? false
        case "EXCLUSION_BY_RESOURCE_TYPES":
            return !(recordingGroup["exclusionByResourceTypes"]?["resourceTypes"]?.array?.contains(.string(type)) ?? false)
        default:
            return true
        }
    }
}

/// An item just recorded, with the resource's item before it (for the notification's diff).
struct RecordedChange: Sendable {
    var item: ConfigurationItem
    var previous: ConfigurationItem?
}

extension ConfigStore: ResourceChangeListener {
    /// Records the configuration items of one call's resource changes.
    ///
    /// A failure (of the state store) reaches the feed, which logs it: the resource change itself is committed and
    /// its call succeeds. The item it missed is recorded by the discovery of the next recorder start.
    func record(_ changes: [ResourceChange]) async throws {
        let recorded = try await lock.withLock {
            try await recordLocked(changes.map { ($0.kind, $0.eventID) })
        }
        await afterRecording(recorded)
    }
}

/// Recording configuration items from change records and from discovery.
extension ConfigStore {
    /// Records items for changes, for the accounts and regions whose recorder is recording; returns the items
    /// recorded (with their configuration or as deletions). Must run under the store's lock.
    ///
    /// A change that leaves the resource as its latest item describes it records nothing; a type outside the
    /// recording group is noted once as `ResourceNotRecorded`.
    func recordLocked(_ changes: [(kind: ResourceChange.Kind, eventID: String?)]) async throws -> [RecordedChange] {
        var recorders: [String: Recorder?] = [:]
        var latest: [ResourceKey: ConfigurationItem?] = [:]
        var writes: [StateChange] = []
        var recorded: [RecordedChange] = []
        let now = (runtime.now() * 1000).rounded() / 1000
        let nowMillis = Int64((now * 1000).rounded())
        let encoder = JSONEncoder()
        for (kind, eventID) in changes {
            let key: ResourceKey
            switch kind {
            case .present(let state): key = state.key
            case .deleted(let k): key = k
            }
            let scope = Self.scope(key.accountId, key.region)
            if recorders[scope] == nil { recorders[scope] = .some(try await recorder(scope: scope)) }
            guard let recorder = recorders[scope] ?? nil, recorder.recording, supportedResourceTypes.contains(key.resourceType) else {
                continue
            }
            if latest[key] == nil { latest[key] = .some(try await currentItem(key)) }
            let previous = latest[key] ?? nil
            let item: ConfigurationItem
            let stateId = max(nowMillis, (previous?.stateId ?? 0) + 1)
            let related = eventID.map { [$0] } ?? []
            switch kind {
            case .present(let resource):
                if recorder.records(key.resourceType) {
                    if let previous, previous.hasConfiguration, previous.resource == resource { continue }
                    let status = (previous?.hasConfiguration ?? false) ? "OK" : "ResourceDiscovered"
                    item = ConfigurationItem(status: status, resource: resource, captureTime: now, stateId: stateId, relatedEvents: related)
                } else {
                    if previous?.status == "ResourceNotRecorded" { continue }
                    item = ConfigurationItem(
                        status: "ResourceNotRecorded", resource: resource, captureTime: now, stateId: stateId, relatedEvents: related)
                }
            case .deleted:
                guard let previous, !previous.isDeleted else { continue }
                let status = previous.hasConfiguration ? "ResourceDeleted" : "ResourceDeletedNotRecorded"
                item = ConfigurationItem(status: status, resource: previous.resource, captureTime: now, stateId: stateId, relatedEvents: related)
            }
            latest[key] = .some(item)
            let bytes = Array(try encoder.encode(item))
            let prefix = Self.resourcePrefix(key)
            writes.append(StateChange(Self.items, prefix + "\t" + Self.padded(stateId), bytes))
            writes.append(StateChange(Self.current, prefix, bytes))
            if item.hasConfiguration || item.status == "ResourceDeleted" {
                let pendingKey = Self.scopePrefix(key.accountId, key.region) + Self.padded(stateId) + "\t" + key.resourceType + "\t" + key.resourceId
                writes.append(StateChange(Self.pending, pendingKey, bytes))
                recorded.append(RecordedChange(item: item, previous: previous))
            }
        }
        if !writes.isEmpty { try await state.apply(writes) }
        return recorded
    }

    /// Brings the items of an account and region in line with what the hosted services hold: new and changed
    /// resources get items, resources gone since the last item get deletion items; returns the items recorded.
    /// Must run under the lock.
    func discoverLocked(account: String, region: String) async throws -> [RecordedChange] {
        var present: [ResourceState] = []
        for inventory in inventories { present += try await inventory.resources(account: account, region: region) }
        let seen = Set(present.map(\.key))
        var changes: [(kind: ResourceChange.Kind, eventID: String?)] = present.map { (.present($0), nil) }
        for item in try await currentItems(account: account, region: region) where !item.isDeleted && !seen.contains(item.resource.key) {
            changes.append((.deleted(item.resource.key), nil))
        }
        return try await recordLocked(changes)
    }
}
