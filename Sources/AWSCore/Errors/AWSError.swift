/// An error in AWS's own terms: the error code a client sees, its message and the HTTP status.
///
/// Handlers throw `AWSError` anywhere; the gateway renders it in the wire shape of the request's protocol
/// (JSON 1.1 `__type`, Query `ErrorResponse`, or S3 `Error`) and the audit step records `code` and `message` as the
/// event's `errorCode` and `errorMessage`. Only `AWSError` text ever reaches a client: any other error becomes
/// ``internalFailure`` and its details go to the log alone.
package struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The error code exactly as AWS spells it (`TrailNotFoundException`, `InvalidClientTokenId`, ...).
    package var code: String
    /// The human-readable message.
    package var message: String
    /// The HTTP status code of the response.
    package var status: Int
    /// Whether the client (`Sender`) or the service (`Receiver`) is at fault; used by the Query error envelope.
    package var isSenderFault: Bool
    /// Extra elements of S3's `Error` document (`BucketName`, `Key`, `Condition`, ...), written in name order.
    package var details: [String: String]

    /// Creates an error with the given code, message and status (400 by default).
    package init(_ code: String, _ message: String, status: Int = 400, details: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.status = status
        self.isSenderFault = status < 500
        self.details = details
    }

    package var description: String { "\(code): \(message)" }

    /// The catch-all for unexpected failures: no detail leaks to the client.
    package static let internalFailure = AWSError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        status: 500
    )
}
