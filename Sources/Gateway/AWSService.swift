package import AWSCore
package import Audit

/// What an operation handler is given: the decoded input and the facts of the call.
package struct OperationCall: Sendable {
    /// The input, decoded and type-checked against the operation's input shape.
    package var input: JSONValue
    /// Who is calling.
    package var caller: Caller
    /// The region of the request (the SigV4 credential scope's region).
    package var region: String
    /// The request id sent back to the caller and recorded in the event.
    package var requestID: String
    /// The request time in epoch seconds (from the injected clock).
    package var now: Int64

    /// Creates a call.
    package init(input: JSONValue, caller: Caller, region: String, requestID: String, now: Int64) {
        self.input = input
        self.caller = caller
        self.region = region
        self.requestID = requestID
        self.now = now
    }
}

/// One operation's declaration: how it is audited and what runs it.
package struct Operation: Sendable {
    /// How the operation appears in CloudTrail.
    package var audit: AuditSpec
    /// The handler: returns the output value (shaped like the model's output) or throws an ``AWSError``.
    package var run: @Sendable (OperationCall) async throws -> JSONValue

    /// Declares an operation.
    package init(audit: AuditSpec, run: @escaping @Sendable (OperationCall) async throws -> JSONValue) {
        self.audit = audit
        self.run = run
    }
}

/// An AWS API hosted on Cairn's endpoint: its model and its operation declarations.
///
/// The gateway routes a request to a service by `X-Amz-Target` (JSON 1.1) or by the credential scope's service
/// (Query), decodes it with the service's model, runs the operation and audits the call.
package protocol AWSService: Sendable {
    /// The service's API model.
    var model: ServiceModel { get }
    /// The CloudTrail `eventSource` (`cloudtrail.amazonaws.com`).
    var eventSource: String { get }
    /// The operations this service implements, by name.
    var operations: [String: Operation] { get }
}
