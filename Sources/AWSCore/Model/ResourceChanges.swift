package import Logging
import Synchronization

/// A resource as AWS Config records it: the facts of one configuration item that come from the resource's own
/// service (everything but the item's status, capture time and state id, which Config adds).
///
/// Services describe their resources in this one shape, so Config never needs to know their internals.
package struct ResourceState: Sendable, Hashable, Codable {
    /// The owning account.
    package var accountId: String
    /// The region the resource lives in (`global` for global types).
    package var region: String
    /// The Config resource type (`AWS::S3::Bucket`).
    package var resourceType: String
    /// The resource id (a bucket's name, a topic's ARN).
    package var resourceId: String
    /// The resource's name, when it has one.
    package var resourceName: String?
    /// The resource's ARN.
    package var arn: String
    /// `Regional`, `Not Applicable` or a zone.
    package var availabilityZone: String?
    /// When the resource was created, in epoch seconds, when known.
    package var creationTime: Double?
    /// The resource's tags.
    package var tags: [String: String]
    /// The resources this one refers to.
    package var relationships: [ResourceRelationship]
    /// The resource-type specific configuration (the item's `configuration`).
    package var configuration: JSONValue
    /// Further configuration by name (the item's `supplementaryConfiguration`).
    package var supplementaryConfiguration: [String: JSONValue]

    /// Creates a description.
    package init(
        accountId: String, region: String, resourceType: String, resourceId: String, resourceName: String?, arn: String,
        availabilityZone: String?, creationTime: Double?, tags: [String: String], relationships: [ResourceRelationship] = [],
        configuration: JSONValue, supplementaryConfiguration: [String: JSONValue] = [:]
    ) {
        self.accountId = accountId
        self.region = region
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.resourceName = resourceName
        self.arn = arn
        self.availabilityZone = availabilityZone
        self.creationTime = creationTime
        self.tags = tags
        self.relationships = relationships
        self.configuration = configuration
        self.supplementaryConfiguration = supplementaryConfiguration
    }

    /// The key that names the resource.
    package var key: ResourceKey {
        ResourceKey(accountId: accountId, region: region, resourceType: resourceType, resourceId: resourceId)
    }
}

/// One relationship of a configuration item (`Is associated with Topic`).
package struct ResourceRelationship: Sendable, Hashable, Codable {
    /// The related resource's type.
    package var resourceType: String
    /// The related resource's id.
    package var resourceId: String
    /// The related resource's name, when it has one.
    package var resourceName: String?
    /// How the two relate, in Config's words.
    package var relationshipName: String

    /// Creates a relationship.
    package init(resourceType: String, resourceId: String, resourceName: String?, relationshipName: String) {
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.resourceName = resourceName
        self.relationshipName = relationshipName
    }
}

/// What names a resource across services: account, region, type and id.
package struct ResourceKey: Sendable, Hashable, Codable {
    /// The owning account.
    package var accountId: String
    /// The resource's region.
    package var region: String
    /// The Config resource type.
    package var resourceType: String
    /// The resource id.
    package var resourceId: String

    /// Creates a key.
    package init(accountId: String, region: String, resourceType: String, resourceId: String) {
        self.accountId = accountId
        self.region = region
        self.resourceType = resourceType
        self.resourceId = resourceId
    }
}

/// A typed change record: a resource was created or changed (its new state), or deleted.
package struct ResourceChange: Sendable {
    /// What happened.
    package enum Kind: Sendable {
        /// The resource exists with this state (created or changed).
        case present(ResourceState)
        /// The resource was deleted.
        case deleted(ResourceKey)

        /// The change from one state of a resource to the next (`nil`: absent): `present` when it is new or
        /// different, `deleted` when it is gone, `nil` when nothing Config sees changed.
        package static func between(_ before: ResourceState?, _ after: ResourceState?) -> Kind? {
            if let after { return before == after ? nil : .present(after) }
            return before.map { .deleted($0.key) }
        }
    }

    /// What happened.
    package var kind: Kind
    /// The CloudTrail `eventID` of the call that caused the change, when an audited call did.
    package var eventID: String?

    /// Creates a record.
    package init(_ kind: Kind, eventID: String?) {
        self.kind = kind
        self.eventID = eventID
    }
}

/// Receives the change records services publish (AWS Config records configuration items from them).
package protocol ResourceChangeListener: Sendable {
    /// Takes the changes of one call; returns once they are recorded.
    func record(_ changes: [ResourceChange]) async throws
}

/// Lists the resources a service holds, for AWS Config's discovery of what already exists when a recorder starts.
package protocol ResourceInventory: Sendable {
    /// The resources of an account in a region.
    func resources(account: String, region: String) async throws -> [ResourceState]
    /// The resources an account sees from a region through the service's API, which for some types includes
    /// resources living elsewhere (a multi-region trail is seen from every region).
    func visibleResources(account: String, region: String) async throws -> [ResourceState]
}

extension ResourceInventory {
    /// By default, the resources of the region.
    package func visibleResources(account: String, region: String) async throws -> [ResourceState] {
        try await resources(account: account, region: region)
    }
}

/// Where services publish resource changes, once, for whoever listens (the design's change records).
///
/// The composition root makes one feed, hands it to every service that owns resources and subscribes AWS Config.
/// The gateway binds ``causingEventID`` around each operation, so a service publishing from deep in its write
/// path still names the CloudTrail event of the call that caused the change.
///
/// A change record describes a change that is already committed (services publish after the durable write, as
/// `StateRegistry` does), so a listener that fails cannot undo it, and its failure is not the caller's: the call
/// that made the change succeeds. ``publish(_:)`` therefore never throws. A failing listener is logged as an error
/// (the listener, the error, the event id and the resources) and the other listeners still get the records; what
/// the listener missed is its own to catch up on (AWS Config's discovery, when a recorder starts, records what its
/// items do not show).
package final class ResourceChangeFeed: Sendable {
    private let listeners = Mutex<[any ResourceChangeListener]>([])
    private let logger: Logger

    /// The `eventID` of the audited call being run by the current task, if any.
    @TaskLocal package static var causingEventID: String?

    /// Creates a feed with no listeners; listener failures are logged to `logger`.
    package init(logger: Logger = Logger(label: "cairn.changes")) {
        self.logger = logger
    }

    /// Adds a listener.
    package func subscribe(_ listener: any ResourceChangeListener) {
        listeners.withLock { $0.append(listener) }
    }

    /// Publishes the changes of one call to every listener, in the order they subscribed, tagged with the current
    /// call's event id; returns once every listener has taken them. A listener's failure is logged, not thrown
    /// (see the type's documentation).
    package func publish(_ kinds: [ResourceChange.Kind]) async {
        guard !kinds.isEmpty else { return }
        let current = listeners.withLock { $0 }
        guard !current.isEmpty else { return }
        let eventID = Self.causingEventID
        let changes = kinds.map { ResourceChange($0, eventID: eventID) }
        for listener in current {
            do {
                try await listener.record(changes)
            } catch {
                logger.error(
                    "a resource change listener failed; the change itself is committed",
                    metadata: [
                        "listener": "\(type(of: listener))", "error": "\(error)", "eventID": "\(eventID ?? "-")",
                        "resources": "\(changes.map(\.kind.resourceDescription).joined(separator: ", "))",
                    ])
            }
        }
    }
}

extension ResourceChange.Kind {
    /// `type id` of the resource, for log messages.
    fileprivate var resourceDescription: String {
        switch self {
        case .present(let state): state.resourceType + " " + state.resourceId
        case .deleted(let key): key.resourceType + " " + key.resourceId + " (deleted)"
        }
    }
}
