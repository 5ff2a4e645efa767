package import AWSCore
import Audit
package import Gateway
package import Logging
package import Storage

/// Amazon Simple Notification Service (Query protocol, signing name `sns`, API version 2010-03-31): topics,
/// subscriptions, and delivery of signed messages to HTTP/HTTPS endpoints.
///
/// State lives in the ``SNSRegistry`` (written through to the state store); messages for endpoints go through the
/// durable ``Outbox``, sent by ``deliveryService`` and by ``flush()``. The other protocols (e-mail, SQS, Lambda,
/// SMS, ...) are accepted and stored but nothing is sent to them.
///
/// In CloudTrail, `Publish` and `PublishBatch` are data events (message, subject and attributes hidden, as AWS
/// writes them); every other operation is a management event. Unsigned `ConfirmSubscription` and `Unsubscribe`
/// calls (the links in SNS's messages) are answered and, as in AWS, not recorded.
package struct SNSService: AWSService {
    package let model = ServiceModel.sns
    package let eventSource = "sns.amazonaws.com"
    package let operations: [String: AWSOperation]
    /// The background service that sends due deliveries and retries; the composition root adds it to the
    /// application.
    package let deliveryService: SNSDeliveryService
    /// What other services may ask of SNS (CloudTrail's topic checks and notifications).
    package let topics: SNSTopics
    private let core: SNSCore

    /// Creates the service, loading its state and outbox and its signing key and certificate.
    ///
    /// - Parameters:
    ///   - state: where topics, subscriptions and pending deliveries are kept.
    ///   - dataDirectory: Cairn's data directory; the signing key and certificate live in its `sns/` folder.
    ///   - endpoint: Cairn's base URL as subscribers reach it (`http://127.0.0.1:4566`), read when a message is
    ///     made, for its `SubscribeURL`, `UnsubscribeURL` and `SigningCertURL`.
    ///   - changes: where topic changes are published.
    ///   - checksServicePrincipals: whether calls of AWS service principals (CloudTrail and Config notifying a
    ///     topic) need the topic policy's grant, as on AWS (`--resource-policy-checks strict`).
    package init(
        state: any StateStore, dataDirectory: String, endpoint: @escaping @Sendable () -> String, runtime: Runtime,
        logger: Logger, changes: ResourceChangeFeed = ResourceChangeFeed(), checksServicePrincipals: Bool = true
    ) async throws {
        let registry = try await SNSRegistry(store: state, changes: changes)
        let outbox = try await Outbox(store: state, clock: runtime.now, logger: logger) { arn in
            registry.subscription(arn)?.confirmed == true
        }
        let signer = try await MessageSigner.load(directory: dataDirectory + "/sns", now: runtime.now())
        let core = SNSCore(
            registry: registry, outbox: outbox, signer: signer, runtime: runtime, logger: logger, endpoint: endpoint,
            checksServicePrincipals: checksServicePrincipals)
        self.core = core
        self.deliveryService = SNSDeliveryService(outbox: outbox, clock: runtime.now)
        self.topics = SNSTopics(core: core)
        self.operations = Self.declarations(core)
    }

    /// Sends every pending delivery now (for `POST /_cairn/flush`).
    package func flush() async {
        await core.outbox.flush()
    }

    /// The `/_cairn/sns/` route that serves the signing certificate at the messages' `SigningCertURL`.
    package var routes: [CairnRoute] {
        let signer = core.signer
        return [
            CairnRoute(prefix: "/_cairn/sns/") { path in
                guard path == "/_cairn/sns/" + signer.certificateName else { return nil }
                return ("application/x-x509-ca-cert", Array(signer.certificatePEM.utf8))
            }
        ]
    }

    // MARK: Declarations

    /// The topic an event is about, for Event history: `AWS::SNS::Topic` named by its ARN.
    private static func topicResource(_ facts: AuditSpec.Facts) -> [LookupResource] {
        if let arn = topicARN(facts) { return [LookupResource(type: "AWS::SNS::Topic", name: arn)] }
        return []
    }

    /// The topic ARN a call names: `TopicArn`, `ResourceArn`, a topic `TargetArn`, the topic of a
    /// `SubscriptionArn`, or (for `CreateTopic`) the ARN it made or would have made.
    static func topicARN(_ facts: AuditSpec.Facts) -> String? {
        if let arn = facts.output?["TopicArn"]?.string { return arn }
        for member in ["TopicArn", "ResourceArn", "TargetArn"] {
            if let arn = facts.input[member]?.string, SNSARN.parseTopic(arn) != nil { return arn }
        }
        if let arn = facts.input["SubscriptionArn"]?.string, let parsed = SNSARN.parseSubscription(arn) { return parsed.topicArn }
        if let name = facts.input["Name"]?.string, TopicNames.isValid(name) {
            return SNSARN.topic(region: facts.region, account: facts.caller.accountId, name: name)
        }
        return nil
    }

    /// The `resources` of a data event: the topic, with its account.
    private static func dataResources(_ facts: AuditSpec.Facts) -> [EventResource]? {
        guard let arn = topicARN(facts), let parsed = SNSARN.parseTopic(arn) else { return nil }
        return [EventResource(type: "AWS::SNS::Topic", arn: arn, accountId: parsed.account)]
    }

    /// Every operation of the model: the hosted ones with their handlers and audit declarations, the rest
    /// (platform applications, SMS settings, data protection) answering `InvalidAction` and still audited.
    private static func declarations(_ core: SNSCore) -> [String: AWSOperation] {
        /// A read-only operation about a topic.
        func read(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: true, lookupResources: topicResource), run: run)
        }
        /// A mutating operation about a topic, optionally callable unsigned.
        func write(_ run: @escaping @Sendable (OperationCall) async throws -> JSONValue, unsigned: UnsignedAccess? = nil) -> AWSOperation {
            AWSOperation(audit: AuditSpec(readOnly: false, lookupResources: topicResource), unsigned: unsigned, run: run)
        }
        let hidden: Set<String> = ["Message", "Subject", "MessageAttributes"]
        var ops: [String: AWSOperation] = [
            "CreateTopic": write(core.createTopic),
            "DeleteTopic": write(core.deleteTopic),
            "ListTopics": read(core.listTopics),
            "GetTopicAttributes": read(core.getTopicAttributes),
            "SetTopicAttributes": write(core.setTopicAttributes),
            "TagResource": write(core.tagResource),
            "UntagResource": write(core.untagResource),
            "ListTagsForResource": read(core.listTagsForResource),
            "Subscribe": write(core.subscribe),
            "ConfirmSubscription": write(
                core.confirmSubscription,
                unsigned: UnsignedAccess { input in
                    guard let arn = input["TopicArn"]?.string, let topic = SNSARN.parseTopic(arn) else { return nil }
                    return (topic.account, topic.region)
                }),
            "Unsubscribe": write(
                core.unsubscribe,
                unsigned: UnsignedAccess { input in
                    guard let arn = input["SubscriptionArn"]?.string, let s = SNSARN.parseSubscription(arn) else { return nil }
                    return (s.account, s.region)
                }),
            "ListSubscriptions": read(core.listSubscriptions),
            "ListSubscriptionsByTopic": read(core.listSubscriptionsByTopic),
            "GetSubscriptionAttributes": read(core.getSubscriptionAttributes),
            "SetSubscriptionAttributes": write(core.setSubscriptionAttributes),
            "Publish": AWSOperation(
                audit: AuditSpec(
                    readOnly: false, category: .data, redactRequest: hidden, resources: dataResources,
                    lookupResources: topicResource),
                run: core.publish),
            "PublishBatch": AWSOperation(
                audit: AuditSpec(
                    readOnly: false, category: .data,
                    redactRequest: Set(hidden.map { "PublishBatchRequestEntries." + $0 }), resources: dataResources,
                    lookupResources: topicResource),
                run: core.publishBatch),
        ]
        for name in ServiceModel.sns.operations.keys where ops[name] == nil {
            let readOnly = ["Get", "List", "Check"].contains { name.hasPrefix($0) }
            ops[name] = AWSOperation(audit: AuditSpec(readOnly: readOnly)) { _ in
                throw AWSError("InvalidAction", "Cairn does not support the operation \(name).")
            }
        }
        return ops
    }
}

extension SNSService: ResourceInventory {
    /// The account's topics in the region, for Config's discovery.
    package func resources(account: String, region: String) async throws -> [ResourceState] {
        core.registry.snapshot.topics.values.filter { $0.accountId == account && $0.region == region }.sorted { $0.arn < $1.arn }
            .map { $0.resourceState() }
    }
}
