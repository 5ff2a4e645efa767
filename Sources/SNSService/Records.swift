import AWSCore

/// A topic as Cairn keeps it: its identity, its settable attributes and its tags.
struct Topic: Codable, Sendable, Equatable {
    /// `arn:aws:sns:<region>:<account>:<name>`.
    var arn: String
    /// The topic name (`.fifo` included for FIFO topics).
    var name: String
    /// The owning account.
    var accountId: String
    /// The topic's region.
    var region: String
    /// The attributes set at creation or with `SetTopicAttributes` (`DisplayName`, `Policy`, `DeliveryPolicy`,
    /// `SignatureVersion`, `FifoTopic`, ...), exactly as given. Computed attributes are not stored.
    var attributes: [String: String]
    /// The tags, in the order they were first added.
    var tags: [TagPair]
    /// How many subscriptions were deleted (`SubscriptionsDeleted`).
    var subscriptionsDeleted: Int
    /// The last `SequenceNumber` a FIFO topic handed out.
    var sequence: UInt64

    /// Whether the topic is a FIFO topic.
    var isFIFO: Bool { attributes["FifoTopic"]?.lowercased() == "true" }

    /// The `Policy` document in force: the one set, or the default AWS gives every new topic.
    var policy: String { attributes["Policy"] ?? TopicPolicy.defaultPolicy(topicARN: arn, account: accountId) }
}

/// One tag of a topic.
struct TagPair: Codable, Sendable, Equatable {
    var key: String
    var value: String
}

/// A subscription: pending until its endpoint confirms it (http, https, email), confirmed at once otherwise.
struct Subscription: Codable, Sendable, Equatable {
    /// `<topicArn>:<uuid>`, assigned at `Subscribe` even while pending.
    var arn: String
    /// The topic's ARN.
    var topicArn: String
    /// The subscriber's account (`Owner`).
    var owner: String
    /// The ARN of the principal that subscribed (`SubscriptionPrincipal`).
    var principal: String
    /// `http`, `https`, `email`, `email-json`, `sms`, `sqs`, `application`, `lambda` or `firehose`.
    var `protocol`: String
    /// The endpoint: a URL, an address, a phone number or an ARN.
    var endpoint: String
    /// Whether the subscription is confirmed.
    var confirmed: Bool
    /// The confirmation token while pending.
    var token: String?
    /// When the token stops being accepted (epoch seconds): three days after `Subscribe`, as in AWS.
    var tokenExpires: Int64?
    /// Whether the confirmation was a signed call (`ConfirmationWasAuthenticated`), and so whether unsubscribing
    /// may require a signature.
    var confirmationWasAuthenticated: Bool
    /// Whether `ConfirmSubscription` set `AuthenticateOnUnsubscribe` to `true`.
    var authenticateOnUnsubscribe: Bool
    /// The attributes set at `Subscribe` or with `SetSubscriptionAttributes` (`RawMessageDelivery`,
    /// `FilterPolicy`, `DeliveryPolicy`, ...).
    var attributes: [String: String]

    /// Whether Cairn delivers to this endpoint itself (HTTP and HTTPS); other protocols are stored only.
    var isHTTP: Bool { self.protocol == "http" || self.protocol == "https" }

    /// Whether notifications go out as the bare message, without the JSON envelope.
    var rawDelivery: Bool { attributes["RawMessageDelivery"]?.lowercased() == "true" }
}

/// Parsing and building SNS ARNs.
enum SNSARN {
    /// `arn:aws:sns:<region>:<account>:<name>`.
    static func topic(region: String, account: String, name: String) -> String {
        "arn:aws:sns:\(region):\(account):\(name)"
    }

    /// The region, account and name of a topic ARN, or `nil` when it is not one.
    static func parseTopic(_ arn: String) -> (region: String, account: String, name: String)? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1] == "aws", parts[2] == "sns", !parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy(\.isASCIIDigit), TopicNames.isValid(String(parts[5]))
        else { return nil }
        return (String(parts[3]), String(parts[4]), String(parts[5]))
    }

    /// The topic ARN and region/account of a subscription ARN (`<topicArn>:<id>`), or `nil` when it is not one.
    static func parseSubscription(_ arn: String) -> (topicArn: String, region: String, account: String)? {
        guard let colon = arn.lastIndex(of: ":") else { return nil }
        let topicArn = String(arn[..<colon])
        let id = arn[arn.index(after: colon)...]
        guard !id.isEmpty, id.allSatisfy({ $0.isHexDigit || $0 == "-" }), let topic = parseTopic(topicArn) else { return nil }
        return (topicArn, topic.region, topic.account)
    }
}

/// SNS's topic-name rules.
enum TopicNames {
    private static let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

    /// 1 to 256 characters of `[A-Za-z0-9_-]`, or such a stem followed by `.fifo` (256 characters in all).
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 256 else { return false }
        let stem = name.hasSuffix(".fifo") ? String(name.dropLast(5)) : name
        return !stem.isEmpty && stem.allSatisfy { allowed.contains($0) }
    }
}
