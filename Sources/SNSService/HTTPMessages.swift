import AWSCore

/// The JSON documents SNS POSTs to HTTP/HTTPS endpoints, laid out as AWS sends them: one `"Name" : value` pair a
/// line, two-space indent, fields in AWS's order (AWS docs "HTTP/HTTPS notification JSON format" and
/// "HTTP/HTTPS subscription confirmation JSON format").
enum HTTPMessages {
    /// One message attribute as a notification shows it: `{"Type":"String","Value":"v"}`.
    struct Attribute: Sendable, Equatable {
        var type: String
        var value: String
    }

    /// The signed fields of a message, before rendering.
    struct Signed: Sendable {
        /// The fields in document order, `Signature` included.
        var fields: [(String, String)]
        /// The message attributes of a notification, by name.
        var attributes: [String: Attribute]

        /// The document, as the endpoint receives it.
        func render() -> String {
            var lines: [String] = []
            for (name, value) in fields {
                var w = JSONWriter(capacity: value.utf8.count + 16)
                w.string(name)
                var v = JSONWriter(capacity: value.utf8.count + 16)
                v.string(value)
                lines.append("  " + w.string + " : " + v.string)
            }
            if !attributes.isEmpty {
                var block = "  \"MessageAttributes\" : {\n"
                let names = attributes.keys.sorted()
                for (index, name) in names.enumerated() {
                    let attribute = attributes[name]!
                    var w = JSONWriter(capacity: 64)
                    w.beginObject()
                    w.field("Type", attribute.type)
                    w.field("Value", attribute.value)
                    w.endObject()
                    var key = JSONWriter(capacity: name.utf8.count + 2)
                    key.string(name)
                    block += "    " + key.string + " : " + w.string + (index == names.count - 1 ? "\n" : ",\n")
                }
                block += "  }"
                lines.append(block)
            }
            return "{\n" + lines.joined(separator: ",\n") + "\n}"
        }
    }

    /// A `Notification`: `Type`, `MessageId`, `TopicArn`, `Subject` (when given), `Message`, `Timestamp`,
    /// `SignatureVersion`, `Signature`, `SigningCertURL`, `UnsubscribeURL`, then `MessageAttributes` (when any).
    static func notification(
        messageId: String, topicArn: String, subject: String?, message: String, timestamp: String, signatureVersion: String,
        signingCertURL: String, unsubscribeURL: String, attributes: [String: Attribute], signer: MessageSigner
    ) throws -> Signed {
        var signed: [String: String] = [
            "Type": "Notification", "MessageId": messageId, "TopicArn": topicArn, "Message": message, "Timestamp": timestamp,
        ]
        if let subject { signed["Subject"] = subject }
        let signature = try signer.sign(MessageSigner.stringToSign(signed), version: signatureVersion)
        var fields: [(String, String)] = [("Type", "Notification"), ("MessageId", messageId), ("TopicArn", topicArn)]
        if let subject { fields.append(("Subject", subject)) }
        fields += [
            ("Message", message), ("Timestamp", timestamp), ("SignatureVersion", signatureVersion), ("Signature", signature),
            ("SigningCertURL", signingCertURL), ("UnsubscribeURL", unsubscribeURL),
        ]
        return Signed(fields: fields, attributes: attributes)
    }

    /// A `SubscriptionConfirmation` or `UnsubscribeConfirmation`: `Type`, `MessageId`, `Token`, `TopicArn`,
    /// `Message`, `SubscribeURL`, `Timestamp`, `SignatureVersion`, `Signature`, `SigningCertURL`.
    static func confirmation(
        type: String, messageId: String, token: String, topicArn: String, message: String, subscribeURL: String,
        timestamp: String, signatureVersion: String, signingCertURL: String, signer: MessageSigner
    ) throws -> Signed {
        let signed: [String: String] = [
            "Type": type, "MessageId": messageId, "Token": token, "TopicArn": topicArn, "Message": message,
            "SubscribeURL": subscribeURL, "Timestamp": timestamp,
        ]
        let signature = try signer.sign(MessageSigner.stringToSign(signed), version: signatureVersion)
        return Signed(
            fields: [
                ("Type", type), ("MessageId", messageId), ("Token", token), ("TopicArn", topicArn), ("Message", message),
                ("SubscribeURL", subscribeURL), ("Timestamp", timestamp), ("SignatureVersion", signatureVersion),
                ("Signature", signature), ("SigningCertURL", signingCertURL),
            ], attributes: [:])
    }

    /// The text of a `SubscriptionConfirmation` (AWS's wording).
    static func subscribeText(topicArn: String) -> String {
        "You have chosen to subscribe to the topic \(topicArn).\nTo confirm the subscription, visit the SubscribeURL included in this message."
    }

    /// The text of an `UnsubscribeConfirmation` (AWS's wording).
    static func unsubscribeText(subscriptionArn: String) -> String {
        "You have chosen to deactivate subscription \(subscriptionArn).\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    }
}
