import AWSCore
import Audit

/// The audit step: turns what an operation's declaration says about one call, and who made the call, into
/// CloudTrail events.
///
/// Every call is recorded by the same two steps, whatever its protocol: the declaration renders a ``CallRecord``
/// (modeled services from their ``AuditSpec`` and the model, S3 from its ``S3Outcome``), then ``events(_:origin:requestID:eventID:now:failure:newID:)``
/// adds the caller's side and decides which accounts receive the event.
enum Auditor {
    /// What the declaration of an operation says about one call: everything in its event but who made it.
    struct CallRecord {
        /// CloudTrail's `eventSource` (`s3.amazonaws.com`).
        var eventSource: String
        /// CloudTrail's `eventName`.
        var eventName: String
        /// Whether the operation only reads.
        var readOnly: Bool
        /// Management or data event.
        var category: EventCategory
        /// Rendered `requestParameters`, or `nil` for `null`.
        var requestParameters: [UInt8]?
        /// Rendered `responseElements`, or `nil` for `null`.
        var responseElements: [UInt8]?
        /// Rendered `additionalEventData`, when the service writes it (S3).
        var additionalEventData: [UInt8]?
        /// The record's `resources`.
        var resources: [EventResource]?
        /// Event history's `Resources` summary.
        var lookupResources: [LookupResource]
        /// Other accounts the call reached, which receive their own copy (cross-account access).
        var otherRecipients: [String]
    }

    /// The record of a call of a modeled service, rendered from its declaration and the model.
    static func record(
        service: any AWSService, operation: String, spec: AuditSpec, call: OperationCall, output: JSONValue?, failure: AWSError?
    ) -> CallRecord {
        let codec = ShapeCodec(model: service.model)
        let opModel = service.model.operations[operation]
        var requestParameters: [UInt8]?
        if let shape = opModel?.input, let members = call.input.object, !members.isEmpty {
            var w = JSONWriter(capacity: 256)
            codec.writeCloudTrail(call.input, shape: shape, omit: spec.omitRequest, redact: spec.redactRequest, to: &w)
            requestParameters = w.bytes
        }
        var responseElements: [UInt8]?
        if failure == nil, spec.recordsResponse, let output, let shape = opModel?.output, let members = output.object,
            !members.isEmpty
        {
            var w = JSONWriter(capacity: 256)
            codec.writeCloudTrail(output, shape: shape, omit: spec.omitResponse, to: &w)
            responseElements = w.bytes
        }
        let facts = AuditSpec.Facts(input: call.input, output: failure == nil ? output : nil, caller: call.caller, region: call.region)
        return CallRecord(
            eventSource: service.eventSource, eventName: operation, readOnly: spec.readOnly, category: spec.category,
            requestParameters: requestParameters, responseElements: responseElements,
            resources: failure == nil ? spec.resources(facts) : nil, lookupResources: spec.lookupResources(facts),
            otherRecipients: failure == nil ? spec.otherRecipients(facts) : [])
    }

    /// The record of an S3 call from the S3 service's outcome, or `nil` when the request named no operation (such
    /// requests are not recorded).
    ///
    /// S3 events carry `additionalEventData` (signature version, bytes in and out, authentication method and the
    /// `x-amz-id-2` host id); no `CipherSuite` or `tlsDetails` is written because Cairn is reached over plain HTTP.
    /// A call on another account's bucket is recorded for the bucket owner too.
    static func record(s3 outcome: S3Outcome, request: S3Request, hostID: String) -> CallRecord? {
        guard let eventName = outcome.eventName else { return nil }
        var extra = JSONWriter(capacity: 192)
        extra.beginObject()
        extra.field("SignatureVersion", request.auth.scopeDate.isEmpty ? "SigV2" : "SigV4")
        extra.key("bytesTransferredIn")
        extra.integer(outcome.bytesIn)
        extra.field("AuthenticationMethod", request.auth.isPresigned ? "QueryString" : "AuthHeader")
        extra.field("x-amz-id-2", hostID)
        extra.key("bytesTransferredOut")
        extra.integer(outcome.bytesOut)
        extra.endObject()
        let failed: Bool =
            switch outcome.response {
            case .success: false
            case .failure: true
            }
        let owner = outcome.resources?.last(where: { $0.type == "AWS::S3::Bucket" })?.accountId
        return CallRecord(
            eventSource: "s3.amazonaws.com", eventName: eventName, readOnly: outcome.readOnly, category: outcome.category,
            requestParameters: outcome.requestParameters, responseElements: failed ? nil : outcome.responseElements,
            additionalEventData: extra.bytes, resources: outcome.resources, lookupResources: outcome.lookupResources,
            otherRecipients: owner.map { [$0] } ?? [])
    }

    /// The events of a call: the caller's account's event (with `eventID`), and a copy for every other account
    /// the call reached (all sharing one `sharedEventID`).
    ///
    /// A call an AWS service makes as its own principal belongs to no caller account: it is recorded once, for
    /// the account that owns the resource it reached (the bucket a trail delivers into, the topic it notifies), as
    /// CloudTrail records its deliveries in the bucket owner's account.
    static func events(
        _ record: CallRecord, origin: CallOrigin, requestID: String, eventID: String, now: Int64, failure: AWSError?,
        newID: @Sendable () -> String
    ) -> [CloudTrailEvent] {
        var event = CloudTrailEvent(
            caller: origin.caller, eventTime: now, eventSource: record.eventSource, eventName: record.eventName,
            awsRegion: origin.region, sourceIPAddress: origin.sourceIPAddress, userAgent: origin.userAgent,
            errorCode: failure?.code, errorMessage: failure.map { $0.message.isEmpty ? $0.code : $0.message },
            requestParameters: record.requestParameters, responseElements: record.responseElements,
            additionalEventData: record.additionalEventData, requestID: requestID, eventID: eventID, readOnly: record.readOnly,
            resources: record.resources, category: record.category, recipientAccountId: origin.caller.accountId,
            invokedBy: origin.invokedBy, lookupResources: record.lookupResources)
        if origin.caller.kind == .awsService {
            if let owner = record.resources?.last(where: { $0.accountId != nil })?.accountId { event.recipientAccountId = owner }
            return [event]
        }
        return withCopies(event, for: record.otherRecipients, newID: newID)
    }

    /// The event plus a copy for every other account the call reached (cross-account access: assuming another
    /// account's role, reading another account's bucket). The copies show the caller as an `AWSAccount` identity
    /// and all share one `sharedEventID`.
    static func withCopies(_ event: CloudTrailEvent, for accounts: [String], newID: @Sendable () -> String) -> [CloudTrailEvent] {
        var primary = event
        let others = accounts.filter { $0 != primary.recipientAccountId }
        guard !others.isEmpty else { return [primary] }
        let shared = newID()
        primary.sharedEventID = shared
        var all = [primary]
        for account in others {
            var copy = primary
            copy.eventID = newID()
            copy.recipientAccountId = account
            copy.identityAsOtherAccount = true
            all.append(copy)
        }
        return all
    }

    /// The user agent as S3's CloudTrail records write it: in square brackets (`[aws-cli/2.15.0 Python/3.11 ...]`),
    /// as every real S3 record shows, from AWS's own examples (2016) to captures of 2026; other services' records
    /// keep it verbatim.
    static func s3UserAgent(_ userAgent: String) -> String {
        "[" + userAgent + "]"
    }
}
