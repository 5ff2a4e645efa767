import AWSCore
import Foundation
import Gateway

/// The subscription handlers: subscribe, confirm, unsubscribe, list, attributes.
extension SNSCore {
    /// The protocols SNS knows.
    static let protocols: Set<String> = ["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"]

    /// The attributes `Subscribe` and `SetSubscriptionAttributes` accept.
    static let subscriptionAttributes: Set<String> = [
        "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn",
        "ReplayPolicy",
    ]

    /// What `EffectiveDeliveryPolicy` shows for an HTTP/HTTPS subscription without its own policy, as AWS returns it.
    static let defaultSubscriptionDeliveryPolicy =
        #"{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/plain; charset=UTF-8"},"guaranteed":false}"#

    /// How long a confirmation token is accepted: three days, as in AWS.
    static let tokenLifetime: Int64 = 3 * 86400

    /// Whether a subscription of this protocol waits for its endpoint to confirm it (AWS confirms SQS, Lambda,
    /// Firehose, SMS and application subscriptions of the topic's account at once).
    static func needsConfirmation(_ protocolName: String) -> Bool {
        ["http", "https", "email", "email-json"].contains(protocolName)
    }

    /// Checks an endpoint against its protocol, with SNS's messages.
    static func checkEndpoint(_ endpoint: String?, protocol p: String) throws(AWSError) {
        let e = endpoint ?? ""
        switch p {
        case "http": if !e.lowercased().hasPrefix("http://") { throw SNSErrors.invalidParameter("Endpoint must match the specified protocol") }
        case "https": if !e.lowercased().hasPrefix("https://") { throw SNSErrors.invalidParameter("Endpoint must match the specified protocol") }
        case "email", "email-json": if !e.contains("@") || e.hasPrefix("@") || e.hasSuffix("@") { throw SNSErrors.invalidParameter("Email address") }
        case "sms":
            let digits = e.hasPrefix("+") ? e.dropFirst() : Substring(e)
            if digits.isEmpty || digits.count > 15 || !digits.allSatisfy(\.isASCIIDigit) {
                throw SNSErrors.invalidParameter("Invalid SMS endpoint: \(e)")
            }
        case "sqs": if !e.hasPrefix("arn:aws:sqs:") { throw SNSErrors.invalidParameter("SQS endpoint ARN") }
        case "lambda": if !e.hasPrefix("arn:aws:lambda:") { throw SNSErrors.invalidParameter("Lambda endpoint ARN") }
        case "firehose": if !e.hasPrefix("arn:aws:firehose:") { throw SNSErrors.invalidParameter("Firehose endpoint ARN") }
        default: if !e.hasPrefix("arn:aws:sns:") { throw SNSErrors.invalidParameter("Application endpoint ARN") }
        }
    }

    /// Checks one subscription attribute; `reason` prefixes the message (`Attributes Reason: ` for `Subscribe`).
    static func checkSubscriptionAttribute(_ name: String, _ value: String, protocol p: String, reason: String) throws(AWSError) {
        switch name {
        case "RawMessageDelivery":
            guard value.lowercased() == "true" || value.lowercased() == "false" else {
                throw SNSErrors.invalidParameter(reason + "RawMessageDelivery: Invalid value [\(value)]. Must be true or false.")
            }
            if !["http", "https", "sqs", "firehose"].contains(p) {
                throw SNSErrors.invalidParameter(reason + "Delivery protocol [\(p)] does not support raw message delivery.")
            }
        case "FilterPolicy", "DeliveryPolicy", "RedrivePolicy", "ReplayPolicy":
            guard value.isEmpty || (try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8)))?.object != nil else {
                throw SNSErrors.invalidParameter(reason + "\(name): failed to parse JSON.")
            }
            if name == "DeliveryPolicy", p != "http", p != "https" {
                throw SNSErrors.invalidParameter(reason + "DeliveryPolicy: Delivery policy is only supported for HTTP/S protocol")
            }
        case "FilterPolicyScope":
            if value != "MessageAttributes", value != "MessageBody" { throw SNSErrors.invalidParameter(reason + "FilterPolicyScope") }
        default:
            break
        }
    }

    /// `Subscribe`: pending until confirmed for HTTP/HTTPS (a signed `SubscriptionConfirmation` is POSTed to the
    /// endpoint) and e-mail (stored only: Cairn sends no e-mail); confirmed at once for the other protocols.
    func subscribe(_ call: OperationCall) async throws -> JSONValue {
        let topic = try topic(call, action: "SNS:Subscribe")
        let p = call.input["Protocol"]?.string ?? ""
        guard Self.protocols.contains(p) else {
            throw SNSErrors.invalidParameter("Amazon SNS does not support this protocol string: \(p)")
        }
        let endpoint = call.input["Endpoint"]?.string
        try Self.checkEndpoint(endpoint, protocol: p)
        let attributes = Self.stringMap(call.input["Attributes"])
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            guard Self.subscriptionAttributes.contains(name) else {
                throw SNSErrors.invalidParameter("Attributes Reason: Unknown attribute \(name)")
            }
            try Self.checkSubscriptionAttribute(name, value, protocol: p, reason: "Attributes Reason: ")
        }
        let returnArn = call.input["ReturnSubscriptionArn"]?.bool ?? false
        let now = call.now
        let newArn = topic.arn + ":" + runtime.uuid()
        let newToken = Self.hexToken(256)
        let caller = call.caller
        let subscription = try await registry.mutate { snapshot in
            if let existing = snapshot.subscriptions(ofTopic: topic.arn).first(where: { $0.protocol == p && $0.endpoint == (endpoint ?? "") }) {
                for (name, value) in attributes where existing.attributes[name] != value {
                    throw SNSErrors.invalidParameter("Attributes Reason: Subscription already exists with different attributes")
                }
                guard !existing.confirmed else { return (existing, SNSRegistry.Changes()) }
                // A pending subscription gets a fresh confirmation (and token lifetime), as AWS resends it.
                var renewed = existing
                renewed.token = existing.token ?? newToken
                renewed.tokenExpires = now + Self.tokenLifetime
                var changes = SNSRegistry.Changes()
                changes.subscriptions[renewed.arn] = renewed
                return (renewed, changes)
            }
            let pending = Self.needsConfirmation(p)
            let created = Subscription(
                arn: newArn, topicArn: topic.arn, owner: caller.accountId, principal: caller.arn, protocol: p,
                endpoint: endpoint ?? "", confirmed: !pending, token: pending ? newToken : nil,
                tokenExpires: pending ? now + Self.tokenLifetime : nil, confirmationWasAuthenticated: !pending,
                authenticateOnUnsubscribe: false, attributes: attributes)
            var changes = SNSRegistry.Changes()
            changes.subscriptions[newArn] = created
            return (created, changes)
        }
        if !subscription.confirmed, subscription.isHTTP, let token = subscription.token {
            try await sendConfirmation(
                type: "SubscriptionConfirmation", topic: topic, subscription: subscription, token: token,
                message: HTTPMessages.subscribeText(topicArn: topic.arn), subscriptionHeader: false)
        }
        let shown = subscription.confirmed || returnArn ? subscription.arn : "pending confirmation"
        return .object(["SubscriptionArn": .string(shown)])
    }

    /// Writes a signed `SubscriptionConfirmation` or `UnsubscribeConfirmation` for the endpoint to the outbox.
    func sendConfirmation(
        type: String, topic: Topic, subscription: Subscription, token: String, message: String, subscriptionHeader: Bool
    ) async throws {
        let now = runtime.now()
        let messageId = runtime.uuid()
        let signed = try HTTPMessages.confirmation(
            type: type, messageId: messageId, token: token, topicArn: topic.arn, message: message,
            subscribeURL: subscribeURL(topicArn: topic.arn, token: token), timestamp: Timestamp.iso8601Millis(now),
            signatureVersion: topic.attributes["SignatureVersion"] ?? "1", signingCertURL: signingCertURL, signer: signer)
        let delivery = Delivery(
            id: Outbox.key(now: now, uuid: runtime.uuid()), kind: type, messageId: messageId, topicArn: topic.arn,
            subscriptionArn: subscriptionHeader ? subscription.arn : nil, endpoint: subscription.endpoint, body: signed.render(),
            raw: false, attempts: 0, nextAttempt: now, retry: Self.retryPolicy(topic: topic, subscription: subscription),
            needsSubscription: false)
        try await outbox.enqueue([delivery])
    }

    /// The retry schedule of deliveries to a subscription: its own `DeliveryPolicy`, else the topic's.
    static func retryPolicy(topic: Topic, subscription: Subscription) -> RetryPolicy {
        RetryPolicy.from(deliveryPolicy: subscription.attributes["DeliveryPolicy"] ?? topic.attributes["DeliveryPolicy"])
    }

    /// `ConfirmSubscription`, signed or through the unsigned `SubscribeURL`.
    func confirmSubscription(_ call: OperationCall) async throws -> JSONValue {
        let topicArn = call.input["TopicArn"]?.string ?? ""
        guard let parsed = SNSARN.parseTopic(topicArn), parsed.region == call.region else {
            throw SNSErrors.invalidParameter("TopicArn")
        }
        guard registry.topic(topicArn) != nil else { throw SNSErrors.topicNotFound }
        let token = call.input["Token"]?.string ?? ""
        let authenticate = call.input["AuthenticateOnUnsubscribe"]?.string?.lowercased() == "true"
        if authenticate, !call.isSigned { throw SNSErrors.signatureRequired }
        let now = call.now
        let signed = call.isSigned
        let subscription = try await registry.mutate { snapshot in
            guard !token.isEmpty,
                var found = snapshot.subscriptions(ofTopic: topicArn).first(where: { $0.token == token }),
                (found.tokenExpires ?? 0) > now
            else { throw SNSErrors.invalidParameter("Token") }
            var changes = SNSRegistry.Changes()
            if !found.confirmed {
                found.confirmed = true
                found.confirmationWasAuthenticated = signed
                found.authenticateOnUnsubscribe = authenticate
                changes.subscriptions[found.arn] = found
            }
            return (found, changes)
        }
        return .object(["SubscriptionArn": .string(subscription.arn)])
    }

    /// The subscription a call names in `SubscriptionArn`, or `InvalidParameter`/`NotFound`.
    private func namedSubscription(_ call: OperationCall) throws(AWSError) -> Subscription? {
        let arn = call.input["SubscriptionArn"]?.string ?? ""
        guard let parsed = SNSARN.parseSubscription(arn), parsed.region == call.region else {
            throw SNSErrors.invalidParameter("SubscriptionArn")
        }
        return registry.subscription(arn)
    }

    /// Whether the caller owns the subscription or its topic.
    private func mayManage(_ call: OperationCall, _ subscription: Subscription) -> Bool {
        subscription.owner == call.caller.accountId || SNSARN.parseTopic(subscription.topicArn)?.account == call.caller.accountId
    }

    /// `Unsubscribe`, signed or through the unsigned `UnsubscribeURL`; unsubscribing twice succeeds, as in AWS.
    /// An unsigned unsubscribe of an HTTP/HTTPS subscription sends the endpoint an `UnsubscribeConfirmation`.
    func unsubscribe(_ call: OperationCall) async throws -> JSONValue {
        guard let subscription = try namedSubscription(call) else { return .object([:]) }
        if call.isSigned {
            guard mayManage(call, subscription) else {
                throw SNSErrors.notAuthorized(call.caller, action: "SNS:Unsubscribe", resource: subscription.arn)
            }
        } else if subscription.authenticateOnUnsubscribe {
            throw SNSErrors.signatureRequired
        }
        try await registry.mutate { snapshot in
            var changes = SNSRegistry.Changes()
            guard snapshot.subscriptions[subscription.arn] != nil else { return ((), changes) }
            changes.subscriptions[subscription.arn] = .some(nil)
            if var topic = snapshot.topics[subscription.topicArn] {
                topic.subscriptionsDeleted += 1
                changes.topics[topic.arn] = topic
            }
            return ((), changes)
        }
        if !call.isSigned, subscription.isHTTP, let topic = registry.topic(subscription.topicArn) {
            try await sendConfirmation(
                type: "UnsubscribeConfirmation", topic: topic, subscription: subscription, token: Self.hexToken(256),
                message: HTTPMessages.unsubscribeText(subscriptionArn: subscription.arn), subscriptionHeader: true)
        }
        return .object([:])
    }

    /// One entry of a subscription list (`PendingConfirmation` stands for a pending subscription's ARN).
    private static func listEntry(_ s: Subscription) -> JSONValue {
        .object([
            "SubscriptionArn": .string(s.confirmed ? s.arn : "PendingConfirmation"), "Owner": .string(s.owner),
            "Protocol": .string(s.protocol), "Endpoint": .string(s.endpoint), "TopicArn": .string(s.topicArn),
        ])
    }

    /// A page of subscriptions, 100 at a time, by ARN.
    private static func page(_ all: [Subscription], token: String?) throws(AWSError) -> JSONValue {
        let start = try pageStart(token)
        let sorted = all.sorted { $0.arn < $1.arn }
        let page = Array(sorted.filter { start == nil || $0.arn > start! }.prefix(100))
        var out: [String: JSONValue] = ["Subscriptions": .array(page.map(listEntry))]
        if page.count == 100, let last = page.last, last.arn != sorted.last?.arn {
            out["NextToken"] = .string(pageToken(after: last.arn))
        }
        return .object(out)
    }

    /// `ListSubscriptions`: the caller's subscriptions in the region.
    func listSubscriptions(_ call: OperationCall) async throws -> JSONValue {
        let mine = registry.snapshot.subscriptions.values.filter {
            $0.owner == call.caller.accountId && SNSARN.parseTopic($0.topicArn)?.region == call.region
        }
        return try Self.page(Array(mine), token: call.input["NextToken"]?.string)
    }

    /// `ListSubscriptionsByTopic`: every subscription of a topic.
    func listSubscriptionsByTopic(_ call: OperationCall) async throws -> JSONValue {
        let topic = try topic(call, action: "SNS:ListSubscriptionsByTopic")
        return try Self.page(registry.snapshot.subscriptions(ofTopic: topic.arn), token: call.input["NextToken"]?.string)
    }

    /// `GetSubscriptionAttributes`: the stored attributes plus the computed ones, as AWS lists them.
    func getSubscriptionAttributes(_ call: OperationCall) async throws -> JSONValue {
        guard let s = try namedSubscription(call) else { throw SNSErrors.subscriptionNotFound }
        guard registry.topic(s.topicArn) != nil else { throw SNSErrors.topicNotFound }
        guard mayManage(call, s) else {
            throw SNSErrors.notAuthorized(call.caller, action: "SNS:GetSubscriptionAttributes", resource: s.arn)
        }
        var attributes = s.attributes
        attributes["SubscriptionArn"] = s.arn
        attributes["TopicArn"] = s.topicArn
        attributes["Owner"] = s.owner
        attributes["Protocol"] = s.protocol
        attributes["Endpoint"] = s.endpoint
        attributes["SubscriptionPrincipal"] = s.principal
        attributes["PendingConfirmation"] = s.confirmed ? "false" : "true"
        attributes["ConfirmationWasAuthenticated"] = s.confirmationWasAuthenticated ? "true" : "false"
        attributes["RawMessageDelivery"] = s.attributes["RawMessageDelivery"] ?? "false"
        if s.attributes["FilterPolicy"] != nil, s.attributes["FilterPolicyScope"] == nil {
            attributes["FilterPolicyScope"] = "MessageAttributes"
        }
        if s.isHTTP {
            attributes["EffectiveDeliveryPolicy"] = s.attributes["DeliveryPolicy"] ?? Self.defaultSubscriptionDeliveryPolicy
        }
        return .object(["Attributes": .object(attributes.mapValues { .string($0) })])
    }

    /// `SetSubscriptionAttributes`: one attribute at a time; an empty value removes it.
    func setSubscriptionAttributes(_ call: OperationCall) async throws -> JSONValue {
        guard let s = try namedSubscription(call) else { throw SNSErrors.subscriptionNotFound }
        guard mayManage(call, s) else {
            throw SNSErrors.notAuthorized(call.caller, action: "SNS:SetSubscriptionAttributes", resource: s.arn)
        }
        let name = call.input["AttributeName"]?.string ?? ""
        let value = call.input["AttributeValue"]?.string ?? ""
        guard Self.subscriptionAttributes.contains(name) else { throw SNSErrors.invalidParameter("AttributeName") }
        try Self.checkSubscriptionAttribute(name, value, protocol: s.protocol, reason: "")
        try await registry.mutate { snapshot in
            guard var current = snapshot.subscriptions[s.arn] else { throw SNSErrors.subscriptionNotFound }
            current.attributes[name] = value.isEmpty ? nil : value
            var changes = SNSRegistry.Changes()
            changes.subscriptions[s.arn] = current
            return ((), changes)
        }
        return .object([:])
    }
}
