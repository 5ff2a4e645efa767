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
    /// Whether the request was signed. Only operations declared with ``UnsignedAccess`` ever see `false`; their
    /// `caller` is then the root of the account the input names, a stand-in that no signature vouches for.
    package var isSigned: Bool
    /// The AWS service that makes the call for `caller` (`cloudformation.amazonaws.com`), for in-process calls.
    package var invokedBy: String? = nil

    /// Creates a call.
    package init(input: JSONValue, caller: Caller, region: String, requestID: String, now: Int64, isSigned: Bool = true) {
        self.input = input
        self.caller = caller
        self.region = region
        self.requestID = requestID
        self.now = now
        self.isSigned = isSigned
    }
}

/// How an operation may be called without a signature, as AWS allows for a few (SNS's `ConfirmSubscription` and
/// `Unsubscribe`, reached through the `SubscribeURL` and `UnsubscribeURL` links in the messages SNS sends).
///
/// AWS does not record such unauthenticated calls in CloudTrail, and neither does the gateway.
package struct UnsignedAccess: Sendable {
    /// The account and region an unsigned call acts in, read from its decoded input (the topic or subscription
    /// ARN); `nil` when the input names none, and the call is then refused like any unsigned request.
    package var scope: @Sendable (JSONValue) -> (account: String, region: String)?

    /// Declares an operation callable without a signature.
    package init(scope: @escaping @Sendable (JSONValue) -> (account: String, region: String)?) {
        self.scope = scope
    }
}

/// One operation's declaration: how it is audited and what runs it.
package struct AWSOperation: Sendable {
    /// How the operation appears in CloudTrail.
    package var audit: AuditSpec
    /// The handler: returns the output value (shaped like the model's output) or throws an ``AWSError``.
    package var run: @Sendable (OperationCall) async throws -> JSONValue
    /// Whether, and in which account, the operation may also be called without a signature (`nil`: never).
    package var unsigned: UnsignedAccess?

    /// Declares an operation.
    package init(
        audit: AuditSpec, unsigned: UnsignedAccess? = nil, run: @escaping @Sendable (OperationCall) async throws -> JSONValue
    ) {
        self.audit = audit
        self.unsigned = unsigned
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
    var operations: [String: AWSOperation] { get }
}

/// An extra `GET` endpoint under `/_cairn/` that a module serves (SNS's message-signing certificate), handed to the
/// ``Gateway`` by the composition root.
///
/// Like every `/_cairn/` endpoint it needs no signature and is never recorded as a CloudTrail event. The gateway
/// does not know what the routes are for: it only matches the path prefix and writes what `serve` returns.
package struct CairnRoute: Sendable {
    /// The path prefix served, starting with `/_cairn/` and ending with `/` (`/_cairn/sns/`).
    package var prefix: String
    /// Answers a `GET` of a full path under the prefix: content type and body, or `nil` for a 404.
    package var serve: @Sendable (_ path: String) async throws -> (contentType: String, body: [UInt8])?

    /// Declares a route.
    package init(prefix: String, serve: @escaping @Sendable (_ path: String) async throws -> (contentType: String, body: [UInt8])?) {
        precondition(prefix.hasPrefix("/_cairn/") && prefix.hasSuffix("/"), "a Cairn route lives under /_cairn/ and ends with /")
        self.prefix = prefix
        self.serve = serve
    }
}
