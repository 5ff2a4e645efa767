package import AWSCore

/// How one operation appears in CloudTrail: the audit half of an operation's declaration.
///
/// The gateway's audit step reads it to build every event of the operation; handlers never build events.
package struct AuditSpec: Sendable {
    /// What an operation's resource functions see.
    package struct Facts: Sendable {
        /// The decoded input.
        package var input: JSONValue
        /// The output, when the call succeeded.
        package var output: JSONValue?
        /// The caller.
        package var caller: Caller
        /// The request's region.
        package var region: String

        /// Creates the facts of one call.
        package init(input: JSONValue, output: JSONValue?, caller: Caller, region: String) {
            self.input = input
            self.output = output
            self.caller = caller
            self.region = region
        }
    }

    /// Whether the operation only reads (`readOnly`).
    package var readOnly: Bool
    /// Whether a successful call's output is written as `responseElements`. CloudTrail writes none for most
    /// read-only calls, but does for some (STS `AssumeRole` and `GetSessionToken` are read-only and record their
    /// credentials, less the secrets).
    package var recordsResponse: Bool
    /// Management or data event.
    package var category: EventCategory
    /// Request members (as `Member.Path`) never written to `requestParameters`, beyond sensitive shapes.
    package var omitRequest: Set<String>
    /// Request members (as `Member.Path`) written to `requestParameters` as `HIDDEN_DUE_TO_SECURITY_REASONS`
    /// (SNS `Publish` hides the message, subject and message attributes this way).
    package var redactRequest: Set<String>
    /// Response members never written to `responseElements`, beyond sensitive shapes.
    package var omitResponse: Set<String>
    /// The record's `resources` (nil: CloudTrail writes none for this call).
    package var resources: @Sendable (Facts) -> [EventResource]?
    /// Event history's `Resources` summary.
    package var lookupResources: @Sendable (Facts) -> [LookupResource]
    /// Other accounts that receive their own copy of a successful call's event (cross-account access, such as
    /// assuming another account's role); the copies share a `sharedEventID`.
    package var otherRecipients: @Sendable (Facts) -> [String]

    /// Declares an operation's audit behaviour.
    package init(
        readOnly: Bool, recordsResponse: Bool? = nil, category: EventCategory = .management, omitRequest: Set<String> = [],
        redactRequest: Set<String> = [], omitResponse: Set<String> = [], resources: @escaping @Sendable (Facts) -> [EventResource]? = { _ in nil },
        lookupResources: @escaping @Sendable (Facts) -> [LookupResource] = { _ in [] },
        otherRecipients: @escaping @Sendable (Facts) -> [String] = { _ in [] }
    ) {
        self.otherRecipients = otherRecipients
        self.readOnly = readOnly
        self.recordsResponse = recordsResponse ?? !readOnly
        self.category = category
        self.omitRequest = omitRequest
        self.redactRequest = redactRequest
        self.omitResponse = omitResponse
        self.resources = resources
        self.lookupResources = lookupResources
    }
}
