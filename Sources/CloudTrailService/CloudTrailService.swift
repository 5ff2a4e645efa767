package import AWSCore
import Audit
package import Gateway
package import Logging
package import Storage

/// AWS CloudTrail (JSON 1.1): trails, their status and selectors, tags, Event history, and the public keys of
/// digest signing.
///
/// Every operation of the model is declared: the ones Cairn implements run their handlers; the rest (CloudTrail
/// Lake, channels, dashboards, ...) answer `UnsupportedOperationException` and are still audited.
package struct CloudTrailService: AWSService {
    package let model = ServiceModel.cloudTrail
    package let eventSource = "cloudtrail.amazonaws.com"
    package let operations: [String: AWSOperation]
    /// Trail log-file delivery (run by the application's background services).
    package let delivery: TrailDelivery
    /// The digest-signing keys `ListPublicKeys` lists; trail delivery signs digests with the same instance.
    package let signingKeys: SigningKeys
    let registry: TrailRegistry

    /// Creates the service over the state and event stores.
    ///
    /// - Parameters:
    ///   - targets: the bucket and topic checks of CreateTrail and UpdateTrail.
    ///   - signingKeys: the per-region digest-signing keys (shared with trail delivery).
    ///   - destinations: where log files and notifications go (the hosted S3 and SNS).
    ///   - deliveryInterval: seconds between a trail's log-file deliveries.
    ///   - digestInterval: seconds between a validating trail's digest files.
    ///   - clock: the current time in epoch seconds.
    ///   - changes: where trail changes are published.
    package init(
        state: any StateStore, events: any EventStore, targets: any DeliveryTargetChecks = NoDeliveryTargetChecks(),
        signingKeys: SigningKeys, destinations: (any TrailDestinations)? = nil, deliveryInterval: Int = 60,
        digestInterval: Int = 3600, clock: @escaping @Sendable () -> Double, logger: Logger = Logger(label: "cairn.cloudtrail"),
        changes: ResourceChangeFeed = ResourceChangeFeed()
    ) async throws {
        self.signingKeys = signingKeys
        let registry = try await TrailRegistry(store: state, changes: changes)
        self.registry = registry
        let delivery = try await TrailDelivery(
            registry: registry, events: events, state: state, destinations: destinations, signingKeys: signingKeys,
            interval: deliveryInterval, digestInterval: digestInterval, clock: clock, logger: logger)
        self.delivery = delivery
        let trails = TrailOperations(registry: registry, targets: targets, delivery: delivery)
        let history = EventHistory(events: events, clock: clock)
        let publicKeys = PublicKeyOperations(keys: signingKeys)
        let trailResource: @Sendable (AuditSpec.Facts) -> [LookupResource] = { facts in
            for member in ["Name", "TrailName", "ResourceId"] {
                if let value = facts.input[member]?.string {
                    let arn = value.hasPrefix("arn:") ? value : Trail.arn(region: facts.region, account: facts.caller.accountId, name: value)
                    return [LookupResource(type: "AWS::CloudTrail::Trail", name: arn)]
                }
            }
            if let ids = facts.input["ResourceIdList"]?.array {
                return ids.compactMap { $0.string.map { LookupResource(type: "AWS::CloudTrail::Trail", name: $0) } }
            }
            return []
        }
        func read(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: true, lookupResources: trailResource), run: run)
        }
        func write(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: false, lookupResources: trailResource), run: run)
        }
        var ops: [String: AWSOperation] = [
            "CreateTrail": write(trails.createTrail),
            "UpdateTrail": write(trails.updateTrail),
            "DeleteTrail": write(trails.deleteTrail),
            "GetTrail": read(trails.getTrail),
            "DescribeTrails": read(trails.describeTrails),
            "ListTrails": read(trails.listTrails),
            "GetTrailStatus": read(trails.getTrailStatus),
            "StartLogging": write(trails.startLogging),
            "StopLogging": write(trails.stopLogging),
            "PutEventSelectors": write(trails.putEventSelectors),
            "GetEventSelectors": read(trails.getEventSelectors),
            "PutInsightSelectors": write(trails.putInsightSelectors),
            "GetInsightSelectors": read(trails.getInsightSelectors),
            "AddTags": write(trails.addTags),
            "RemoveTags": write(trails.removeTags),
            "ListTags": read(trails.listTags),
            "LookupEvents": AWSOperation(audit: AuditSpec(readOnly: true), run: history.lookupEvents),
            "ListPublicKeys": AWSOperation(audit: AuditSpec(readOnly: true), run: publicKeys.listPublicKeys),
        ]
        for name in ServiceModel.cloudTrail.operations.keys where ops[name] == nil {
            let readOnly = ["Get", "Describe", "List", "Lookup", "Search"].contains { name.hasPrefix($0) }
            ops[name] = AWSOperation(audit: AuditSpec(readOnly: readOnly)) { _ in
                throw AWSError("UnsupportedOperationException", "Cairn does not support the operation \(name).")
            }
        }
        operations = ops
    }
}

extension CloudTrailService: ResourceInventory {
    /// The account's trails whose home is the region, for Config's discovery.
    package func resources(account: String, region: String) async throws -> [ResourceState] {
        registry.all(account: account).filter { $0.homeRegion == region }.map { $0.resourceState() }
    }

    /// The trails the account sees in the region: its own and the multi-region trails of other regions.
    package func visibleResources(account: String, region: String) async throws -> [ResourceState] {
        registry.visible(account: account, region: region).map { $0.resourceState() }
    }
}
