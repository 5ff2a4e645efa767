import AWSCore
import Audit

/// The audit step: turns an operation's declaration and the facts of one call into a CloudTrail event.
enum Auditor {
    /// Builds the events of a call: the caller's account's event (with `eventID`), and a copy for every other
    /// account the call reached (all sharing one `sharedEventID`).
    static func events(
        service: any AWSService, operation: String, spec: AuditSpec, call: OperationCall, output: JSONValue?,
        failure: AWSError?, sourceIP: String, userAgent: String?, eventID: String, newID: @Sendable () -> String
    ) -> [CloudTrailEvent] {
        let primary = event(
            service: service, operation: operation, spec: spec, call: call, output: output, failure: failure,
            sourceIP: sourceIP, userAgent: userAgent, eventID: eventID)
        guard failure == nil else { return [primary] }
        let facts = AuditSpec.Facts(input: call.input, output: output, caller: call.caller, region: call.region)
        return withCopies(primary, for: spec.otherRecipients(facts), newID: newID)
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

    /// Builds the event of a call.
    static func event(
        service: any AWSService, operation: String, spec: AuditSpec, call: OperationCall, output: JSONValue?,
        failure: AWSError?, sourceIP: String, userAgent: String?, eventID: String
    ) -> CloudTrailEvent {
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
        return CloudTrailEvent(
            caller: call.caller, eventTime: call.now, eventSource: service.eventSource, eventName: operation,
            awsRegion: call.region, sourceIPAddress: sourceIP, userAgent: userAgent, errorCode: failure?.code,
            errorMessage: failure.map { $0.message.isEmpty ? $0.code : $0.message }, requestParameters: requestParameters,
            responseElements: responseElements, requestID: call.requestID, eventID: eventID, readOnly: spec.readOnly,
            resources: failure == nil ? spec.resources(facts) : nil, category: spec.category,
            recipientAccountId: call.caller.accountId, lookupResources: spec.lookupResources(facts)
        )
    }
}
