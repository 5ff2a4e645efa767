import AWSCore

/// SNS's errors, with the codes, messages and HTTP statuses AWS answers.
///
/// The codes are the model's `error.code` values, not its shape names (`NotFoundException` is sent as `NotFound`).
/// Messages follow what AWS returns, as seen in SDK reports of real responses: "Invalid parameter: Topic Name",
/// "Topic does not exist", "Invalid parameter: Policy Error: null", and so on.
enum SNSErrors {
    /// `InvalidParameter` (400): "Invalid parameter: <detail>".
    static func invalidParameter(_ detail: String) -> AWSError {
        AWSError("InvalidParameter", "Invalid parameter: \(detail)")
    }

    /// `ParameterValueInvalid` (400), the code of `InvalidParameterValueException` (message attribute problems).
    static func parameterValueInvalid(_ message: String) -> AWSError {
        AWSError("ParameterValueInvalid", message)
    }

    /// `NotFound` (404) "Topic does not exist".
    static let topicNotFound = AWSError("NotFound", "Topic does not exist", status: 404)

    /// `NotFound` (404) "Subscription does not exist".
    static let subscriptionNotFound = AWSError("NotFound", "Subscription does not exist", status: 404)

    /// `ResourceNotFound` (404) "Resource does not exist", for the tagging operations.
    static let resourceNotFound = AWSError("ResourceNotFound", "Resource does not exist", status: 404)

    /// `AuthorizationError` (403) for a caller the topic's policy does not admit.
    static func notAuthorized(_ caller: Caller, action: String, resource: String) -> AWSError {
        AWSError(
            "AuthorizationError",
            "User: \(caller.arn) is not authorized to perform: \(action) on resource: \(resource) because no resource-based policy allows the \(action) action",
            status: 403)
    }

    /// `MissingAuthenticationToken` (403): an unsigned call where SNS requires a signature (a subscription
    /// confirmed with `AuthenticateOnUnsubscribe`).
    static let signatureRequired = AWSError("MissingAuthenticationToken", "Request is missing Authentication Token", status: 403)
}
