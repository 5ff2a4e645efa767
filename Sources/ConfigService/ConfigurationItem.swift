import AWSCore

/// One configuration item (version 1.3) as Cairn stores it; rendered two ways, as the API returns it
/// (``apiValue``) and as delivery files and notifications carry it (``writeFileForm(to:)``).
struct ConfigurationItem: Codable, Sendable, Equatable {
    /// `OK`, `ResourceDiscovered`, `ResourceNotRecorded`, `ResourceDeleted` or `ResourceDeletedNotRecorded`.
    var status: String
    /// The resource's facts (for a deleted or unrecorded resource: only its key, ARN and name are meaningful).
    var resource: ResourceState
    /// When the item was recorded, in epoch seconds (millisecond precision).
    var captureTime: Double
    /// The ordering key: the capture time in epoch milliseconds, made strictly increasing per resource.
    var stateId: Int64
    /// The CloudTrail `eventID`s of the calls that caused the change.
    var relatedEvents: [String]

    /// Whether the item carries the resource's configuration (recorded and not deleted).
    var hasConfiguration: Bool { status == "OK" || status == "ResourceDiscovered" }
    /// Whether the item says the resource is gone.
    var isDeleted: Bool { status == "ResourceDeleted" || status == "ResourceDeletedNotRecorded" }

    /// An item for a resource that exists.
    init(status: String, resource: ResourceState, captureTime: Double, stateId: Int64, relatedEvents: [String]) {
        self.status = status
        self.resource = resource
        self.captureTime = captureTime
        self.stateId = stateId
        self.relatedEvents = relatedEvents
        if !hasConfiguration {
            // Deleted and unrecorded items carry no configuration, as AWS's do.
            self.resource.configuration = .null
            self.resource.supplementaryConfiguration = [:]
            self.resource.relationships = []
            self.resource.tags = [:]
            if isDeleted {
                self.resource.resourceName = nil
                self.resource.creationTime = nil
                self.resource.availabilityZone = nil
            }
        }
    }

    /// The item as GetResourceConfigHistory returns it (`configuration` and each supplementary entry are JSON
    /// texts; timestamps epoch seconds).
    var apiValue: JSONValue {
        var o: [String: JSONValue] = [
            "version": "1.3",
            "accountId": .string(resource.accountId),
            "configurationItemCaptureTime": .number(captureTime),
            "configurationItemStatus": .string(status),
            "configurationStateId": .string(String(stateId)),
            "configurationItemMD5Hash": "",
            "arn": .string(resource.arn),
            "resourceType": .string(resource.resourceType),
            "resourceId": .string(resource.resourceId),
            "awsRegion": .string(resource.region),
            "tags": .object(resource.tags.mapValues(JSONValue.string)),
            "relatedEvents": .array(relatedEvents.map(JSONValue.string)),
            "relationships": .array(resource.relationships.map(Self.apiRelationship)),
            "supplementaryConfiguration": .object(resource.supplementaryConfiguration.mapValues { .string(Self.text($0)) }),
        ]
        if let name = resource.resourceName { o["resourceName"] = .string(name) }
        if let zone = resource.availabilityZone { o["availabilityZone"] = .string(zone) }
        if let created = resource.creationTime { o["resourceCreationTime"] = .number(created) }
        if hasConfiguration { o["configuration"] = .string(Self.text(resource.configuration)) }
        return .object(o)
    }

    /// The item as BatchGetResourceConfig returns it (`BaseConfigurationItem`: no tags, relationships, related
    /// events or hash).
    var baseValue: JSONValue {
        guard case .object(var o) = apiValue else { return apiValue }
        for key in ["tags", "relatedEvents", "relationships", "configurationItemMD5Hash"] { o[key] = nil }
        return .object(o)
    }

    /// The item as advanced queries see it: API field names, `configuration` and supplementary entries as
    /// objects, tags as a `{key, value}` list.
    var queryValue: JSONValue {
        guard case .object(var o) = apiValue else { return apiValue }
        o["configurationItemCaptureTime"] = .string(Timestamp.iso8601Millis(captureTime))
        if let created = resource.creationTime { o["resourceCreationTime"] = .string(Timestamp.iso8601Millis(created)) }
        o["configuration"] = resource.configuration
        o["supplementaryConfiguration"] = .object(resource.supplementaryConfiguration)
        o["tags"] = .array(resource.tags.keys.sorted().map { .object(["key": .string($0), "value": .string(resource.tags[$0] ?? "")]) })
        return .object(o)
    }

    /// Writes the item in the form of delivery files and SNS notifications: `ARN`, `awsAccountId`,
    /// `configurationItemVersion`, ISO-8601 times, a numeric `configurationStateId`, objects for configuration,
    /// in the key order of AWS's files.
    func writeFileForm(to w: inout JSONWriter) {
        w.beginObject()
        w.key("relatedEvents")
        JSONValue.array(relatedEvents.map(JSONValue.string)).write(to: &w)
        w.key("relationships")
        w.beginArray()
        for r in resource.relationships {
            w.arrayElement()
            w.beginObject()
            w.field("resourceId", r.resourceId)
            w.key("resourceName")
            if let name = r.resourceName { w.string(name) } else { w.null() }
            w.field("resourceType", r.resourceType)
            w.field("name", r.relationshipName)
            w.endObject()
        }
        w.endArray()
        w.key("configuration")
        resource.configuration.write(to: &w)
        w.key("supplementaryConfiguration")
        JSONValue.object(resource.supplementaryConfiguration).write(to: &w)
        w.key("tags")
        JSONValue.object(resource.tags.mapValues(JSONValue.string)).write(to: &w)
        w.field("configurationItemVersion", "1.3")
        w.field("configurationItemCaptureTime", Timestamp.iso8601Millis(captureTime))
        w.key("configurationStateId")
        w.integer(Int(stateId))
        w.field("awsAccountId", resource.accountId)
        w.field("configurationItemStatus", status)
        w.field("resourceType", resource.resourceType)
        w.field("resourceId", resource.resourceId)
        w.key("resourceName")
        if let name = resource.resourceName { w.string(name) } else { w.null() }
        w.field("ARN", resource.arn)
        w.field("awsRegion", resource.region)
        w.key("availabilityZone")
        if let zone = resource.availabilityZone { w.string(zone) } else { w.null() }
        w.field("configurationStateMd5Hash", "")
        w.key("resourceCreationTime")
        if let created = resource.creationTime { w.string(Timestamp.iso8601Millis(created)) } else { w.null() }
        w.endObject()
    }

    private static func apiRelationship(_ r: ResourceRelationship) -> JSONValue {
        var o: [String: JSONValue] = [
            "resourceType": .string(r.resourceType), "resourceId": .string(r.resourceId), "relationshipName": .string(r.relationshipName),
        ]
        if let name = r.resourceName { o["resourceName"] = .string(name) }
        return .object(o)
    }

    /// A value as compact JSON text (a string stays the text it already is, as Config keeps the ACL).
    static func text(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        var w = JSONWriter(capacity: 256)
        value.write(to: &w)
        return w.string
    }
}
