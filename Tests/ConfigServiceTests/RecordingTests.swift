import AWSCore
import Foundation
import Gateway
import NIOCore
import Storage
import TestSupport
import Testing

@testable import ConfigService

/// Delivery targets that accept everything and remember what was written and sent.
private final class RecordingTargets: ConfigDeliveryTargets, @unchecked Sendable {
    private let lock = NSLock()
    private var _files: [String: [UInt8]] = [:]
    private var _notes: [(subject: String, message: String)] = []

    var files: [String: [UInt8]] { lock.withLock { _files } }
    var notes: [(subject: String, message: String)] { lock.withLock { _notes } }

    func checkBucket(_ bucket: String, prefix: String?, account: String) async throws {}
    func topicExists(_ arn: String) -> Bool { true }
    func putProbe(bucket: String, key: String, account: String) async throws {}
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, account: String) async throws {
        lock.withLock { _files[key] = Array(buffer: gzipped) }
    }
    func notify(topicARN: String, subject: String, message: String, account: String) async throws {
        lock.withLock { _notes.append((subject, message)) }
    }
}

/// An inventory tests change by hand, for discovery.
private final class FixedInventory: ResourceInventory, @unchecked Sendable {
    private let lock = NSLock()
    private var _states: [ResourceState]
    init(states: [ResourceState]) { _states = states }
    var states: [ResourceState] {
        get { lock.withLock { _states } }
        set { lock.withLock { _states = newValue } }
    }
    func resources(account: String, region: String) async throws -> [ResourceState] {
        states.filter { $0.accountId == account && $0.region == region }
    }
}

/// A clock tests move by hand.
private final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Double
    init(_ start: Double) { value = start }
    var now: Double { lock.withLock { value } }
    func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}

private let account = "123456789012"
private let region = "eu-west-1"

private func bucket(_ name: String, tags: [String: String] = [:], versioning: String = "Off") -> ResourceState {
    ResourceState(
        accountId: account, region: region, resourceType: "AWS::S3::Bucket", resourceId: name, resourceName: name,
        arn: "arn:aws:s3:::\(name)", availabilityZone: "Regional", creationTime: 1_700_000_000, tags: tags,
        configuration: .object(["name": .string(name)]),
        supplementaryConfiguration: ["BucketVersioningConfiguration": .object(["status": .string(versioning)])])
}

private func call(_ input: JSONValue, now: Int64 = 1_800_000_000) -> OperationCall {
    OperationCall(
        input: input, caller: Caller(kind: .iamUser, accountId: account, accessKeyId: "AKIATEST", name: "alice"), region: region,
        requestID: "req", now: now)
}

/// A Config service over a fresh SQLite store, with a recorder and channel already recording.
private func recordingService(
    inventory: [ResourceState] = [], group: JSONValue? = nil, clock: ManualClock = ManualClock(1_800_000_000),
    inventoryHandle: FixedInventory? = nil
) async throws -> (ConfigService, RecordingTargets, ResourceChangeFeed, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-config-\(UUID().uuidString)").path
    let storage = try SQLiteStorage(directory: dir)
    let targets = RecordingTargets()
    let feed = ResourceChangeFeed()
    let counter = Counter()
    let service = ConfigService(
        state: storage, targets: targets, inventories: [inventoryHandle ?? FixedInventory(states: inventory)], changes: feed,
        runtime: Runtime(now: { clock.now }, uuid: { "00000000-0000-4000-8000-\(String(format: "%012d", counter.next()))" }))
    var recorder: [String: JSONValue] = ["name": "default", "roleARN": "arn:aws:iam::123456789012:role/config"]
    if let group { recorder["recordingGroup"] = group }
    _ = try await service.operations["PutConfigurationRecorder"]!.run(call(.object(["ConfigurationRecorder": .object(recorder)])))
    _ = try await service.operations["PutDeliveryChannel"]!.run(
        call(
            .object(["DeliveryChannel": .object(["name": "default", "s3BucketName": "logs", "snsTopicARN": "arn:aws:sns:eu-west-1:123456789012:t"])]))
    )
    _ = try await service.operations["StartConfigurationRecorder"]!.run(call(.object(["ConfigurationRecorderName": "default"])))
    return (service, targets, feed, dir)
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int {
        lock.withLock {
            n += 1
            return n
        }
    }
}

private func history(_ service: ConfigService, _ id: String, type: String = "AWS::S3::Bucket") async throws -> [JSONValue] {
    let out = try await service.operations["GetResourceConfigHistory"]!.run(
        call(.object(["resourceType": .string(type), "resourceId": .string(id), "chronologicalOrder": "Forward"]), now: 1_900_000_000))
    return out["configurationItems"]?.array ?? []
}

@Suite("AWS Config recording")
struct RecordingTests {
    @Test("starting a recorder discovers what exists; changes record OK items with their event id; no-op changes record nothing")
    func discoveryAndChanges() async throws {
        let clock = ManualClock(1_800_000_000)
        let (service, _, feed, _) = try await recordingService(inventory: [bucket("alpha")], clock: clock)
        var items = try await history(service, "alpha")
        #expect(items.map { $0["configurationItemStatus"]?.string } == ["ResourceDiscovered"])
        #expect(items[0]["relatedEvents"] == .array([]))
        clock.advance(1)
        await ResourceChangeFeed.$causingEventID.withValue("event-1") {
            await feed.publish([.present(bucket("alpha", tags: ["env": "prod"]))])
        }
        await feed.publish([.present(bucket("alpha", tags: ["env": "prod"]))])  // unchanged: no item
        items = try await history(service, "alpha")
        #expect(items.map { $0["configurationItemStatus"]?.string } == ["ResourceDiscovered", "OK"])
        #expect(items[1]["relatedEvents"] == .array(["event-1"]))
        #expect(items[1]["tags"] == .object(["env": "prod"]))
        #expect(items[1]["configurationStateId"]?.string == "1800000001000")
        clock.advance(1)
        await feed.publish([.deleted(bucket("alpha").key)])
        items = try await history(service, "alpha")
        #expect(items.last?["configurationItemStatus"]?.string == "ResourceDeleted")
        #expect(items.last?["configuration"] == nil && items.last?["resourceName"] == nil)
    }

    @Test("two changes in one millisecond still get increasing state ids")
    func stateIdsIncrease() async throws {
        let (service, _, feed, _) = try await recordingService()
        await feed.publish([.present(bucket("beta")), .present(bucket("beta", versioning: "Enabled"))])
        let ids = try await history(service, "beta").compactMap { $0["configurationStateId"]?.string.flatMap(Int64.init) }
        #expect(ids.count == 2 && ids[1] == ids[0] + 1)
    }

    @Test("types outside the recording group are noted once as ResourceNotRecorded")
    func recordingGroup() async throws {
        let group: JSONValue = .object(["allSupported": false, "resourceTypes": .array(["AWS::SNS::Topic"])])
        let (service, targets, feed, _) = try await recordingService(group: group)
        await feed.publish([.present(bucket("gamma"))])
        await feed.publish([.present(bucket("gamma", tags: ["a": "b"]))])
        let items = try await history(service, "gamma")
        #expect(items.map { $0["configurationItemStatus"]?.string } == ["ResourceNotRecorded"])
        #expect(items[0]["configuration"] == nil)
        #expect(!targets.notes.contains { $0.subject.contains("gamma") })
    }

    @Test("a stopped recorder records nothing; starting again catches up with what changed meanwhile")
    func stopAndCatchUp() async throws {
        let inventory = FixedInventory(states: [bucket("delta"), bucket("gone")])
        let (service, _, feed, _) = try await recordingService(inventoryHandle: inventory)
        _ = try await service.operations["StopConfigurationRecorder"]!.run(call(.object(["ConfigurationRecorderName": "default"])))
        await feed.publish([.present(bucket("delta", tags: ["x": "y"]))])
        #expect(try await history(service, "delta").count == 1)
        inventory.states = [bucket("delta", tags: ["x": "y"])]
        _ = try await service.operations["StartConfigurationRecorder"]!.run(call(.object(["ConfigurationRecorderName": "default"])))
        #expect(try await history(service, "delta").map { $0["configurationItemStatus"]?.string } == ["ResourceDiscovered", "OK"])
        #expect(try await history(service, "gone").last?["configurationItemStatus"] == "ResourceDeleted")
    }

    @Test("change notifications name the change and carry the item in its file form")
    func notifications() async throws {
        let (_, targets, feed, _) = try await recordingService(inventory: [bucket("eps")])
        await feed.publish([.present(bucket("eps", versioning: "Enabled"))])
        let updates = targets.notes.filter { $0.subject.hasSuffix("Updated in Account \(account)") }
        #expect(updates.map(\.subject) == ["[AWS Config:eu-west-1] AWS::S3::Bucket eps Updated in Account \(account)"])
        let message = try JSONDecoder().decode(JSONValue.self, from: Data(updates[0].message.utf8))
        #expect(message["messageType"] == "ConfigurationItemChangeNotification")
        #expect(message["configurationItemDiff"]?["changeType"] == "UPDATE")
        let diff = message["configurationItemDiff"]?["changedProperties"]?["SupplementaryConfiguration.BucketVersioningConfiguration"]
        #expect(diff?["previousValue"]?["status"] == "Off" && diff?["updatedValue"]?["status"] == "Enabled")
        #expect(message["configurationItem"]?["ARN"] == "arn:aws:s3:::eps")
        #expect(message["configurationItem"]?["configurationItemVersion"] == "1.3")
    }

    @Test("history delivery writes one file per type, once; a second run finds nothing pending")
    func historyDelivery() async throws {
        let (service, targets, feed, _) = try await recordingService(inventory: [bucket("zeta")])
        await feed.publish([.present(bucket("zeta", tags: ["t": "1"]))])
        try await service.deliverDue(historyInterval: 21600, force: true)
        let keys = targets.files.keys.filter { $0.contains("/ConfigHistory/") }
        #expect(keys.count == 1)
        #expect(
            keys.first?.hasPrefix(
                "AWSLogs/\(account)/Config/\(region)/2027/1/15/ConfigHistory/\(account)_Config_\(region)_ConfigHistory_AWS::S3::Bucket_") == true)
        try await service.deliverDue(historyInterval: 21600, force: true)
        #expect(targets.files.keys.filter { $0.contains("/ConfigHistory/") }.count == 1)
    }
}

@Suite("configuration item rendering")
struct ItemRenderingTests {
    @Test("the file form uses AWS's key names and order")
    func fileForm() throws {
        let item = ConfigurationItem(
            status: "OK", resource: bucket("eta"), captureTime: 1_800_000_000.5, stateId: 1_800_000_000_500, relatedEvents: ["e"])
        var w = JSONWriter()
        item.writeFileForm(to: &w)
        let keys = JSONKeys.topLevel(w.bytes)
        #expect(
            keys == [
                "relatedEvents", "relationships", "configuration", "supplementaryConfiguration", "tags", "configurationItemVersion",
                "configurationItemCaptureTime", "configurationStateId", "awsAccountId", "configurationItemStatus", "resourceType",
                "resourceId", "resourceName", "ARN", "awsRegion", "availabilityZone", "configurationStateMd5Hash", "resourceCreationTime",
            ])
        #expect(w.string.contains(#""configurationItemCaptureTime":"2027-01-15T08:00:00.500Z""#))
        #expect(w.string.contains(#""configurationStateId":1800000000500"#))
    }

    @Test("a deleted item keeps only its identity")
    func deleted() {
        let item = ConfigurationItem(
            status: "ResourceDeleted", resource: bucket("theta", tags: ["a": "b"]), captureTime: 1, stateId: 1, relatedEvents: [])
        #expect(item.resource.configuration == .null && item.resource.tags.isEmpty && item.resource.resourceName == nil)
        #expect(item.apiValue["configuration"] == nil && item.apiValue["arn"] == "arn:aws:s3:::theta")
    }

    @Test("Config's subject lines are cut at 100 characters with an ellipsis")
    func subjects() {
        let long = String(repeating: "x", count: 120)
        #expect(ConfigStore.subject(long).count == 100 && ConfigStore.subject(long).hasSuffix("..."))
        #expect(ConfigStore.subject("short") == "short")
    }
}

@Suite("managed rules")
struct ManagedRuleTests {
    private func item(_ state: ResourceState) -> ConfigurationItem {
        ConfigurationItem(status: "OK", resource: state, captureTime: 1, stateId: 1, relatedEvents: [])
    }

    private func trail(multiRegion: Bool, logging: Bool, validation: Bool = false, selectors: JSONValue? = nil) -> ResourceState {
        ResourceState(
            accountId: account, region: region, resourceType: "AWS::CloudTrail::Trail", resourceId: "t", resourceName: "t",
            arn: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/t", availabilityZone: nil, creationTime: nil, tags: [:],
            configuration: .object([
                "isMultiRegionTrail": .bool(multiRegion), "logFileValidationEnabled": .bool(validation), "s3BucketName": "logs",
            ]),
            supplementaryConfiguration: [
                "IsLogging": .bool(logging),
                "EventSelectors": selectors ?? .array([.object(["ReadWriteType": "All", "IncludeManagementEvents": true])]),
            ])
    }

    @Test("REQUIRED_TAGS checks keys and allowed values")
    func requiredTags() {
        let items = [item(bucket("a", tags: ["env": "prod"])), item(bucket("b", tags: ["env": "dev"])), item(bucket("c"))]
        let verdicts = ManagedRules.evaluate(
            "REQUIRED_TAGS", parameters: ["tag1Key": "env", "tag1Value": "prod, qa"], scope: nil, account: account, items: items, trails: [])
        #expect(verdicts.map(\.compliance) == ["COMPLIANT", "NON_COMPLIANT", "NON_COMPLIANT"])
    }

    @Test("MULTI_REGION_CLOUD_TRAIL_ENABLED wants a logging multi-region trail with all management events")
    func multiRegion() {
        func verdict(_ t: ResourceState, _ parameters: [String: String] = [:]) -> String? {
            ManagedRules.evaluate("MULTI_REGION_CLOUD_TRAIL_ENABLED", parameters: parameters, scope: nil, account: account, items: [], trails: [t])
                .first?.compliance
        }
        #expect(verdict(trail(multiRegion: true, logging: true)) == "COMPLIANT")
        #expect(verdict(trail(multiRegion: false, logging: true)) == "NON_COMPLIANT")
        #expect(verdict(trail(multiRegion: true, logging: false)) == "NON_COMPLIANT")
        let readOnly: JSONValue = .array([.object(["ReadWriteType": "ReadOnly", "IncludeManagementEvents": true])])
        #expect(verdict(trail(multiRegion: true, logging: true, selectors: readOnly)) == "NON_COMPLIANT")
        #expect(verdict(trail(multiRegion: true, logging: true, selectors: readOnly), ["readWriteType": "ReadOnly"]) == "COMPLIANT")
        #expect(verdict(trail(multiRegion: true, logging: true), ["s3BucketName": "other"]) == "NON_COMPLIANT")
    }

    @Test("CLOUD_TRAIL_ENABLED judges the account; log-file validation judges each trail")
    func trailRules() {
        let none = ManagedRules.evaluate("CLOUD_TRAIL_ENABLED", parameters: [:], scope: nil, account: account, items: [], trails: [])
        #expect(none == [Verdict(resourceType: "AWS::::Account", resourceId: account, compliance: "NON_COMPLIANT")])
        let validation = ManagedRules.evaluate(
            "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", parameters: [:], scope: nil, account: account, items: [],
            trails: [trail(multiRegion: false, logging: false, validation: true)])
        #expect(validation.map(\.compliance) == ["COMPLIANT"] && validation.map(\.resourceType) == ["AWS::CloudTrail::Trail"])
    }
}
