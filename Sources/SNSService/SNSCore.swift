import AWSCore
import Foundation
import Gateway
import Logging
import Synchronization

/// What SNS's operation handlers share: the registry, the outbox, the message signer, the endpoint URL Cairn is
/// reached at (for `SubscribeURL`, `UnsubscribeURL` and `SigningCertURL`), the clock and the id generator.
final class SNSCore: Sendable {
    let registry: SNSRegistry
    let outbox: Outbox
    let signer: MessageSigner
    let runtime: Runtime
    let logger: Logger
    /// Cairn's own base URL, `http://127.0.0.1:4566` (no trailing slash).
    let endpoint: @Sendable () -> String
    /// FIFO deduplication: `topic|scope|id` → the first message's id, sequence number and expiry. Kept in memory
    /// only (a restart forgets it, as a five-minute window allows).
    let deduplication = Mutex<[String: (messageId: String, sequence: String?, expires: Double)]>([:])
    /// Whether a topic policy must grant an AWS service principal what it does (`--resource-policy-checks strict`).
    let checksServicePrincipals: Bool

    /// Assembles the shared parts.
    init(
        registry: SNSRegistry, outbox: Outbox, signer: MessageSigner, runtime: Runtime, logger: Logger,
        endpoint: @escaping @Sendable () -> String, checksServicePrincipals: Bool = true
    ) {
        self.checksServicePrincipals = checksServicePrincipals
        self.registry = registry
        self.outbox = outbox
        self.signer = signer
        self.runtime = runtime
        self.logger = logger
        self.endpoint = endpoint
    }

    // MARK: URLs in messages

    /// `<endpoint>/_cairn/sns/SimpleNotificationService-<hex>.pem`: where subscribers fetch the certificate.
    var signingCertURL: String { endpoint() + "/_cairn/sns/" + signer.certificateName }

    /// The unsigned `ConfirmSubscription` link of a confirmation message (AWS: `https://sns.<region>.amazonaws.com/
    /// ?Action=ConfirmSubscription&TopicArn=...&Token=...`; Cairn points it at itself).
    func subscribeURL(topicArn: String, token: String) -> String {
        endpoint() + "/?Action=ConfirmSubscription&TopicArn=" + Self.queryEscape(topicArn) + "&Token=" + Self.queryEscape(token)
    }

    /// The unsigned `Unsubscribe` link of a notification.
    func unsubscribeURL(subscriptionArn: String) -> String {
        endpoint() + "/?Action=Unsubscribe&SubscriptionArn=" + Self.queryEscape(subscriptionArn)
    }

    /// Percent-encodes a query value, leaving `:` as AWS does in these links (ARNs stay readable).
    static func queryEscape(_ value: String) -> String {
        FormEncoding.uriEncode(value).replacingOccurrences(of: "%3A", with: ":")
    }

    // MARK: Resolving topics

    /// The topic a call names in `member`, checked as SNS checks it.
    ///
    /// - Throws: `InvalidParameter` "Invalid parameter: <member>" for a malformed ARN or one of another region;
    ///   `NotFound` "Topic does not exist"; `AuthorizationError` when the topic belongs to another account whose
    ///   topic policy does not grant `action` to the caller.
    func topic(_ call: OperationCall, member: String = "TopicArn", action: String) throws(AWSError) -> Topic {
        let arn = call.input[member]?.string ?? ""
        guard let parsed = SNSARN.parseTopic(arn), parsed.region == call.region else {
            throw SNSErrors.invalidParameter(member)
        }
        guard let topic = registry.topic(arn) else { throw SNSErrors.topicNotFound }
        try authorize(call, topic: topic, action: action)
        return topic
    }

    /// Same-account callers pass (Cairn has no IAM identity policies); others need the topic policy's grant. An
    /// AWS service principal (CloudTrail or Config notifying a topic) needs the policy's grant to the service, with
    /// the `aws:SourceArn` and `aws:SourceAccount` it sends, unless `--resource-policy-checks off`.
    func authorize(_ call: OperationCall, topic: Topic, action: String) throws(AWSError) {
        if call.caller.kind == .awsService {
            let service = call.caller.name
            guard
                !checksServicePrincipals
                    || TopicPolicy.allows(
                        topic, service: service, action: action, sourceArn: call.caller.sourceArn, sourceAccount: call.caller.accountId)
            else {
                throw AWSError(
                    "AuthorizationError", "Service: \(service) is not authorized to perform: \(action) on resource: \(topic.arn)", status: 403)
            }
            return
        }
        guard call.isSigned, topic.accountId != call.caller.accountId else { return }
        if !TopicPolicy.allows(topic, caller: call.caller, action: action) {
            throw SNSErrors.notAuthorized(call.caller, action: action, resource: topic.arn)
        }
    }

    /// Reads a string map member (`Attributes`) of the input.
    static func stringMap(_ value: JSONValue?) -> [String: String] {
        value?.object?.compactMapValues(\.string) ?? [:]
    }

    /// Reads a `Tags` list of the input.
    static func tags(_ value: JSONValue?) -> [TagPair] {
        (value?.array ?? []).compactMap { tag in
            guard let key = tag["Key"]?.string else { return nil }
            return TagPair(key: key, value: tag["Value"]?.string ?? "")
        }
    }

    /// A paging token naming the last item of a page.
    static func pageToken(after last: String) -> String {
        Base64URL.encode(Array(last.utf8))
    }

    /// The item a paging token names, or `InvalidParameter` "Invalid parameter: NextToken".
    static func pageStart(_ token: String?) throws(AWSError) -> String? {
        guard let token else { return nil }
        guard let bytes = Base64URL.decode(token), let text = String(validating: bytes, as: UTF8.self), text.hasPrefix("arn:") else {
            throw SNSErrors.invalidParameter("NextToken")
        }
        return text
    }

    /// Random lower-case hex (confirmation tokens are 256 hex digits in AWS).
    static func hexToken(_ length: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<length).map { _ in digits[Int(g.next(upperBound: UInt(16)))] })
    }
}
