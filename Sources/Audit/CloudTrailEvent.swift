package import AWSCore

/// A resource in an event's `resources` array.
package struct EventResource: Sendable, Hashable {
    /// `AWS::IAM::Role`, `AWS::S3::Bucket`, ...
    package var type: String
    /// The resource ARN.
    package var arn: String
    /// The owning account, when CloudTrail writes it.
    package var accountId: String?

    /// Creates a resource entry.
    package init(type: String, arn: String, accountId: String?) {
        self.type = type
        self.arn = arn
        self.accountId = accountId
    }
}

/// A resource as Event history (`LookupEvents`) summarises it: a type and a name.
package struct LookupResource: Sendable, Hashable, Codable {
    /// `AWS::CloudTrail::Trail`, `AWS::S3::Bucket`, ...
    package var type: String
    /// The name, id or ARN that identifies the resource.
    package var name: String

    /// Creates a summary entry.
    package init(type: String, name: String) {
        self.type = type
        self.name = name
    }
}

/// Management or data event.
package enum EventCategory: String, Sendable, Hashable, Codable {
    case management = "Management"
    case data = "Data"
}

/// One CloudTrail event record, with the facts Event history indexes.
///
/// ``render()`` writes the record exactly as CloudTrail writes it into log files and into `LookupEvents`'
/// `CloudTrailEvent` string: compact JSON in CloudTrail's field order, eventVersion 1.11.
package struct CloudTrailEvent: Sendable {
    /// The event format version Cairn writes.
    package static let eventVersion = "1.11"

    /// Who made the call.
    package var caller: Caller
    /// When the call completed, in epoch seconds.
    package var eventTime: Int64
    /// `cloudtrail.amazonaws.com`, `sts.amazonaws.com`, ...
    package var eventSource: String
    /// The operation name.
    package var eventName: String
    /// The region of the request.
    package var awsRegion: String
    /// The client's IP address.
    package var sourceIPAddress: String
    /// The User-Agent header, verbatim (CloudTrail truncates at 1 KB).
    package var userAgent: String?
    /// The error code of a failed call.
    package var errorCode: String?
    /// The error message of a failed call.
    package var errorMessage: String?
    /// Pre-rendered `requestParameters` JSON, or `nil` for `null`.
    package var requestParameters: [UInt8]?
    /// Pre-rendered `responseElements` JSON, or `nil` for `null`.
    package var responseElements: [UInt8]?
    /// Pre-rendered `additionalEventData` JSON, or `nil` when absent.
    package var additionalEventData: [UInt8]?
    /// The request id returned to the caller.
    package var requestID: String
    /// The event's unique id.
    package var eventID: String
    /// Whether the operation only reads.
    package var readOnly: Bool
    /// The `resources` array, or `nil` when CloudTrail writes none for this call.
    package var resources: [EventResource]?
    /// The API version, written only for services whose events carry it (S3).
    package var apiVersion: String?
    /// Management or data event.
    package var category: EventCategory
    /// The account that receives this copy of the event.
    package var recipientAccountId: String
    /// The GUID shared by per-account copies of a cross-account call.
    package var sharedEventID: String?
    /// The service principal that made the call on the caller's behalf.
    package var invokedBy: String?
    /// Whether `userIdentity` shows the caller as another account (`AWSAccount`), as in the copy of a cross-account
    /// call that the resource owner's account receives.
    package var identityAsOtherAccount = false
    /// Resources as Event history summarises them.
    package var lookupResources: [LookupResource]

    /// Creates an event.
    package init(
        caller: Caller, eventTime: Int64, eventSource: String, eventName: String, awsRegion: String,
        sourceIPAddress: String, userAgent: String?, errorCode: String? = nil, errorMessage: String? = nil,
        requestParameters: [UInt8]?, responseElements: [UInt8]?, additionalEventData: [UInt8]? = nil,
        requestID: String, eventID: String, readOnly: Bool, resources: [EventResource]? = nil,
        apiVersion: String? = nil, category: EventCategory, recipientAccountId: String, sharedEventID: String? = nil,
        invokedBy: String? = nil, lookupResources: [LookupResource] = []
    ) {
        self.caller = caller
        self.eventTime = eventTime
        self.eventSource = eventSource
        self.eventName = eventName
        self.awsRegion = awsRegion
        self.sourceIPAddress = sourceIPAddress
        self.userAgent = userAgent
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        // Bounded as CloudTrail bounds them, so that no event holds more than ``maxEventBytes`` whatever the call
        // carried (see ``render()`` for the whole-event limit).
        self.requestParameters = Self.bounded(requestParameters)
        self.responseElements = Self.bounded(responseElements)
        self.additionalEventData = Self.bounded(additionalEventData)
        self.requestID = requestID
        self.eventID = eventID
        self.readOnly = readOnly
        self.resources = resources
        self.apiVersion = apiVersion
        self.category = category
        self.recipientAccountId = recipientAccountId
        self.sharedEventID = sharedEventID
        self.invokedBy = invokedBy
        self.lookupResources = lookupResources.map { LookupResource(type: Self.capped($0.type), name: Self.capped($0.name)) }
    }

    /// The name Event history shows and looks up as `Username`.
    package var username: String { identityAsOtherAccount ? "" : caller.lookupUsername }

    /// The access key id Event history shows (none for another account's copy).
    package var accessKeyId: String { identityAsOtherAccount ? "" : caller.accessKeyId }

    /// The most bytes CloudTrail writes of `requestParameters`, `responseElements` or `additionalEventData`.
    package static let maxObjectBytes = 100 * 1024
    /// The most bytes one whole event may take (CloudTrail's limit since eventVersion 1.05).
    package static let maxEventBytes = 256 * 1024
    /// What CloudTrail writes in place of an object too large to record.
    ///
    /// AWS's record-contents page (the version 1.10 snapshot) says a field over its size limit is truncated and an
    /// `omitted` key with value `true` is present; no available capture shows the exact shape, so Cairn writes the
    /// marker alone in place of the object (see the spec's CloudTrail notes, §3.1).
    package static let omittedMarker: [UInt8] = Array(#"{"omitted":true}"#.utf8)

    /// `object`, or ``omittedMarker`` when it is larger than ``maxObjectBytes``.
    static func bounded(_ object: [UInt8]?) -> [UInt8]? {
        guard let object, object.count > maxObjectBytes else { return object }
        return omittedMarker
    }

    /// Writes `value`, cut to at most 1024 UTF-8 bytes at a character boundary (CloudTrail's field limit).
    package static func capped(_ value: String) -> String {
        if value.utf8.count <= 1024 { return value }
        var out = ""
        var used = 0
        for ch in value {
            let n = String(ch).utf8.count
            if used + n > 1024 { break }
            out.append(ch)
            used += n
        }
        return out
    }

    /// The record as compact JSON, in CloudTrail's field order, at most ``maxEventBytes`` long.
    ///
    /// Each of the three objects is already at most ``maxObjectBytes``; when together they would still take the
    /// event past the limit, the largest are written as ``omittedMarker`` until it fits. (Every other field is
    /// bounded: strings from the request are cut at 1024 bytes, and `resources` names at most an object and its
    /// bucket.)
    package func render() -> [UInt8] {
        let bytes = renderUnbounded()
        guard bytes.count > Self.maxEventBytes else { return bytes }
        var smaller = self
        var excess = bytes.count - Self.maxEventBytes
        let sizes: [(WritableKeyPath<CloudTrailEvent, [UInt8]?>, Int)] = [
            (\.requestParameters, requestParameters?.count ?? 0), (\.responseElements, responseElements?.count ?? 0),
            (\.additionalEventData, additionalEventData?.count ?? 0),
        ]
        for (field, size) in sizes.sorted(by: { $0.1 > $1.1 }) where excess > 0 && size > Self.omittedMarker.count {
            smaller[keyPath: field] = Self.omittedMarker
            excess -= size - Self.omittedMarker.count
        }
        return smaller.renderUnbounded()
    }

    /// The record as compact JSON, in CloudTrail's field order, whatever its size.
    private func renderUnbounded() -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.field("eventVersion", Self.eventVersion)
        w.key("userIdentity")
        if identityAsOtherAccount {
            UserIdentityRenderer.writeOtherAccount(caller, to: &w)
        } else {
            UserIdentityRenderer.write(caller, invokedBy: invokedBy, to: &w)
        }
        w.field("eventTime", Timestamp.iso8601(eventTime))
        w.field("eventSource", eventSource)
        w.field("eventName", eventName)
        w.field("awsRegion", awsRegion)
        w.field("sourceIPAddress", sourceIPAddress)
        if let userAgent { w.field("userAgent", Self.capped(userAgent)) }
        if let errorCode { w.field("errorCode", Self.capped(errorCode)) }
        if let errorMessage { w.field("errorMessage", Self.capped(errorMessage)) }
        w.key("requestParameters")
        if let requestParameters { w.raw(requestParameters) } else { w.null() }
        w.key("responseElements")
        if let responseElements { w.raw(responseElements) } else { w.null() }
        if let additionalEventData {
            w.key("additionalEventData")
            w.raw(additionalEventData)
        }
        w.field("requestID", requestID)
        w.field("eventID", eventID)
        w.field("readOnly", readOnly)
        if let resources {
            w.key("resources")
            w.beginArray()
            for r in resources {
                w.arrayElement()
                w.beginObject()
                if let accountId = r.accountId { w.field("accountId", accountId) }
                w.field("type", r.type)
                w.field("ARN", r.arn)
                w.endObject()
            }
            w.endArray()
        }
        w.field("eventType", "AwsApiCall")
        if let apiVersion { w.field("apiVersion", apiVersion) }
        w.field("managementEvent", category == .management)
        w.field("recipientAccountId", recipientAccountId)
        if let sharedEventID { w.field("sharedEventID", sharedEventID) }
        w.field("eventCategory", category.rawValue)
        w.endObject()
        return w.bytes
    }
}

/// Writes `userIdentity` objects as CloudTrail does for each kind of principal.
package enum UserIdentityRenderer {
    /// Writes the `AWSAccount` identity the owner of a resource sees for a caller from another account.
    package static func writeOtherAccount(_ caller: Caller, to w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "AWSAccount")
        w.field("principalId", caller.principalId)
        w.field("accountId", caller.accountId)
        w.endObject()
    }

    /// Writes the `userIdentity` of a caller.
    package static func write(_ caller: Caller, invokedBy: String?, to w: inout JSONWriter) {
        w.beginObject()
        if caller.kind == .awsService {
            // A service principal's identity is its type and name alone, as in CloudTrail's records of its own
            // log-file deliveries: {"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}.
            w.field("type", caller.kind.rawValue)
            w.field("invokedBy", invokedBy ?? caller.name)
            w.endObject()
            return
        }
        w.field("type", caller.kind.rawValue)
        w.field("principalId", caller.principalId)
        w.field("arn", caller.arn)
        w.field("accountId", caller.accountId)
        w.field("accessKeyId", caller.accessKeyId)
        switch caller.kind {
        case .iamUser: w.field("userName", caller.name)
        case .root: if let alias = caller.accountAlias { w.field("userName", alias) }
        case .assumedRole, .awsService: break
        }
        if let issuedAt = caller.sessionIssuedAt {
            w.key("sessionContext")
            w.beginObject()
            w.key("sessionIssuer")
            w.beginObject()
            if caller.kind == .assumedRole {
                w.field("type", "Role")
                w.field("principalId", caller.uniqueId)
                w.field("arn", caller.roleArn)
                w.field("accountId", caller.accountId)
                w.field("userName", caller.name)
            }
            w.endObject()
            w.key("webIdFederationData")
            w.beginObject()
            w.endObject()
            w.key("attributes")
            w.beginObject()
            w.field("creationDate", Timestamp.iso8601(issuedAt))
            w.field("mfaAuthenticated", "false")
            w.endObject()
            w.endObject()
        }
        if let invokedBy { w.field("invokedBy", invokedBy) }
        w.endObject()
    }
}
