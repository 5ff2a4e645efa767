import AWSCore
import Crypto
import Foundation
import Gateway
import Synchronization

/// `Publish` and `PublishBatch`: message checks, fan-out to HTTP/HTTPS subscribers through the outbox, FIFO
/// sequence numbers and deduplication.
extension SNSCore {
    /// A checked message, ready to fan out.
    struct Message: Sendable {
        var body: String
        var subject: String?
        /// The per-protocol bodies of `MessageStructure=json` (`default` included), else `nil`.
        var structured: [String: String]?
        var attributes: [String: HTTPMessages.Attribute]
        var groupId: String?
        var deduplicationId: String?

        /// The body a subscriber of this protocol gets.
        func body(for protocolName: String) -> String {
            guard let structured else { return body }
            return structured[protocolName] ?? structured["default"] ?? body
        }
    }

    /// The most bytes one message may hold: its body plus every message attribute's name, data type and value.
    ///
    /// The API reference's `MessageAttributeValue` page: "All parts of the message attribute, including name, type,
    /// and value, are included in the message size restriction, which is currently 256 KB (262,144 bytes)."
    static let maximumMessageBytes = 262_144

    /// Checks the members of a `Publish` call or a `PublishBatch` entry, with SNS's errors.
    ///
    /// A message whose body and attributes together exceed ``maximumMessageBytes`` is refused with
    /// `InvalidParameter` "Invalid parameter: Message too long", the answer SNS gives (as quoted in SDK reports such
    /// as wellcomecollection/platform#1460).
    static func checkMessage(_ input: JSONValue) throws(AWSError) -> Message {
        let body = input["Message"]?.string ?? ""
        if body.isEmpty { throw SNSErrors.invalidParameter("Empty message") }
        if body.utf8.count > maximumMessageBytes { throw SNSErrors.invalidParameter("Message too long") }
        let subject = input["Subject"]?.string
        if let subject {
            if subject.isEmpty || subject.count >= 100 || subject.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw SNSErrors.invalidParameter("Subject")
            }
        }
        var structured: [String: String]?
        if let structure = input["MessageStructure"]?.string {
            guard structure == "json" else { throw SNSErrors.invalidParameter("MessageStructure") }
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)), let object = value.object else {
                throw SNSErrors.invalidParameter("Message Structure - JSON message body failed to parse")
            }
            guard object["default"]?.string != nil else {
                throw SNSErrors.invalidParameter("Message Structure - No default entry in JSON message body")
            }
            structured = object.compactMapValues(\.string)
        }
        let attributes = try checkAttributes(input["MessageAttributes"]?.object ?? [:])
        if messageBytes(body: body, attributes: attributes) > maximumMessageBytes {
            throw SNSErrors.invalidParameter("Message too long")
        }
        return Message(
            body: body, subject: subject, structured: structured, attributes: attributes,
            groupId: input["MessageGroupId"]?.string, deduplicationId: input["MessageDeduplicationId"]?.string)
    }

    /// Checks message attributes: at most 10, a `String`, `Number` or `Binary` type (with an optional
    /// `.custom` suffix), and a non-empty value of that type.
    static func checkAttributes(_ raw: [String: JSONValue]) throws(AWSError) -> [String: HTTPMessages.Attribute] {
        if raw.count > 10 {
            throw SNSErrors.parameterValueInvalid("Number of message attributes [\(raw.count)] exceeds the allowed maximum [10].")
        }
        var out: [String: HTTPMessages.Attribute] = [:]
        for name in raw.keys.sorted() {
            let value = raw[name]!
            let type = value["DataType"]?.string ?? ""
            let base = type.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            guard ["String", "Number", "Binary"].contains(base) else {
                throw SNSErrors.parameterValueInvalid(
                    "The message attribute '\(name)' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
                )
            }
            let text = base == "Binary" ? value["BinaryValue"]?.string : value["StringValue"]?.string
            guard let text, !text.isEmpty else {
                throw SNSErrors.parameterValueInvalid(
                    "The message attribute '\(name)' must contain non-empty message attribute value for message attribute type '\(type)'.")
            }
            if base == "Number", Double(text) == nil {
                throw SNSErrors.parameterValueInvalid("Could not cast message attribute '\(name)' value to number.")
            }
            out[name] = HTTPMessages.Attribute(type: type, value: text)
        }
        return out
    }

    /// The bytes a message counts toward SNS's size limit: the UTF-8 body plus, for each attribute, the UTF-8 name,
    /// the UTF-8 data type and the value (a `Binary` value by its decoded bytes, since its wire form is base64).
    static func messageBytes(body: String, attributes: [String: HTTPMessages.Attribute]) -> Int {
        var total = body.utf8.count
        for (name, attribute) in attributes {
            total += attributeBytes(name: name, type: attribute.type, value: attribute.value)
        }
        return total
    }

    /// The bytes one message attribute counts toward the size limit: its UTF-8 name and data type, and its value (a
    /// `Binary` value, base64 on the wire, by its decoded bytes).
    static func attributeBytes(name: String, type: String, value: String) -> Int {
        name.utf8.count + type.utf8.count + (type.hasPrefix("Binary") ? decodedBase64Count(value) : value.utf8.count)
    }

    /// The number of bytes a padded base64 text decodes to (its length when it is not whole base64 quanta).
    static func decodedBase64Count(_ text: String) -> Int {
        let utf8 = text.utf8
        guard utf8.count % 4 == 0 else { return utf8.count }
        let padding = utf8.reversed().prefix(2).prefix(while: { $0 == UInt8(ascii: "=") }).count
        return utf8.count / 4 * 3 - padding
    }

    /// Whether `number` is a phone number SNS publishes to: E.164, a `+` and then up to fifteen digits, the first
    /// not zero (the `PhoneNumber` member's documentation: "Use E.164 format").
    static func isE164(_ number: String) -> Bool {
        let utf8 = Array(number.utf8)
        guard utf8.count >= 3, utf8.count <= 16, utf8[0] == UInt8(ascii: "+"), utf8[1] != UInt8(ascii: "0") else { return false }
        return utf8.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `Publish`: to a topic (`TopicArn`, or a topic ARN in `TargetArn`); SMS (`PhoneNumber`) is accepted and
    /// not sent.
    func publish(_ call: OperationCall) async throws -> JSONValue {
        let topicArn = call.input["TopicArn"]?.string
        let targetArn = call.input["TargetArn"]?.string
        let phone = call.input["PhoneNumber"]?.string
        if topicArn == nil, targetArn == nil, phone == nil {
            throw SNSErrors.invalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
        }
        if let phone, !Self.isE164(phone) {
            // SNS's answer for a number it cannot send to, as quoted in SDK issues (aws/aws-sdk-js#1217 and #1368,
            // boto/boto3#2195): "Invalid parameter: PhoneNumber Reason: <number> is not valid to publish to".
            throw SNSErrors.invalidParameter("PhoneNumber Reason: \(phone) is not valid to publish to")
        }
        let message = try Self.checkMessage(call.input)
        if topicArn == nil, targetArn == nil {
            return .object(["MessageId": .string(runtime.uuid())])
        }
        if topicArn == nil, let targetArn, SNSARN.parseTopic(targetArn) == nil {
            throw SNSErrors.invalidParameter("TargetArn")
        }
        let topic = try topic(call, member: topicArn != nil ? "TopicArn" : "TargetArn", action: "SNS:Publish")
        let result = try await publish(message, to: topic)
        var out: [String: JSONValue] = ["MessageId": .string(result.messageId)]
        if let sequence = result.sequence { out["SequenceNumber"] = .string(sequence) }
        return .object(out)
    }

    /// Fans a checked message out to the topic's confirmed HTTP/HTTPS subscribers (one outbox transaction) and
    /// returns its id (and FIFO sequence number). A FIFO duplicate within five minutes returns the first
    /// message's id and is not sent again.
    func publish(_ message: Message, to topic: Topic) async throws -> (messageId: String, sequence: String?) {
        let (messageId, sequence, duplicate) = try await fifoAdmit(message, topic: topic)
        if duplicate { return (messageId, sequence) }
        let deliveries = try notificationDeliveries(message, messageId: messageId, topic: topic)
        try await outbox.enqueue(deliveries)
        return (messageId, sequence)
    }

    /// The FIFO rules: `MessageGroupId` required, a deduplication id given or derived (content-based), a new
    /// sequence number per message; on a standard topic, `MessageDeduplicationId` is refused.
    private func fifoAdmit(_ message: Message, topic: Topic) async throws -> (String, String?, Bool) {
        let messageId = runtime.uuid()
        guard topic.isFIFO else {
            if message.deduplicationId != nil {
                throw SNSErrors.invalidParameter(
                    "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
            }
            return (messageId, nil, false)
        }
        guard let group = message.groupId, !group.isEmpty else {
            throw SNSErrors.invalidParameter("The MessageGroupId parameter is required for FIFO topics")
        }
        let contentBased = topic.attributes["ContentBasedDeduplication"]?.lowercased() == "true"
        guard let dedup = message.deduplicationId ?? (contentBased ? Hex.encode(SHA256.hash(data: Array(message.body.utf8))) : nil) else {
            throw SNSErrors.invalidParameter(
                "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
        }
        let scope = topic.attributes["FifoThroughputScope"] == "MessageGroup" ? group : ""
        let key = topic.arn + "|" + scope + "|" + dedup
        let now = runtime.now()
        // Checked and recorded inside the serialized mutation, so two concurrent publishes of one deduplication
        // id cannot both pass.
        return try await registry.mutate { snapshot in
            let seen = deduplication.withLock { table -> (messageId: String, sequence: String?, expires: Double)? in
                table = table.filter { $0.value.expires > now }
                return table[key]
            }
            if let seen { return ((seen.messageId, seen.sequence, true), SNSRegistry.Changes()) }
            guard var current = snapshot.topics[topic.arn] else { throw SNSErrors.topicNotFound }
            current.sequence += 1
            var changes = SNSRegistry.Changes()
            changes.topics[topic.arn] = current
            let digits = String(current.sequence)
            let sequence = "1" + String(repeating: "0", count: max(0, 19 - digits.count)) + digits
            deduplication.withLock { $0[key] = (messageId, sequence, now + 300) }
            return ((messageId, sequence, false), changes)
        }
    }

    /// One signed `Notification` (or raw message) per confirmed HTTP/HTTPS subscriber.
    private func notificationDeliveries(_ message: Message, messageId: String, topic: Topic) throws -> [Delivery] {
        let now = runtime.now()
        let timestamp = Timestamp.iso8601Millis(now)
        let version = topic.attributes["SignatureVersion"] ?? "1"
        var deliveries: [Delivery] = []
        for subscription in registry.snapshot.subscriptions(ofTopic: topic.arn) where subscription.confirmed {
            guard subscription.isHTTP else { continue }  // e-mail, SQS, Lambda, ... are not hosted: nothing is sent
            let body = message.body(for: subscription.protocol)
            guard
                FilterPolicy.matches(
                    policy: subscription.attributes["FilterPolicy"], scope: subscription.attributes["FilterPolicyScope"],
                    attributes: message.attributes, body: body)
            else { continue }
            let document: String
            if subscription.rawDelivery {
                document = body
            } else {
                document = try HTTPMessages.notification(
                    messageId: messageId, topicArn: topic.arn, subject: message.subject, message: body, timestamp: timestamp,
                    signatureVersion: version, signingCertURL: signingCertURL,
                    unsubscribeURL: unsubscribeURL(subscriptionArn: subscription.arn), attributes: message.attributes, signer: signer
                ).render()
            }
            deliveries.append(
                Delivery(
                    id: Outbox.key(now: now, uuid: runtime.uuid()), kind: "Notification", messageId: messageId, topicArn: topic.arn,
                    subscriptionArn: subscription.arn, endpoint: subscription.endpoint, body: document,
                    raw: subscription.rawDelivery, attempts: 0, nextAttempt: now,
                    retry: Self.retryPolicy(topic: topic, subscription: subscription), needsSubscription: true))
        }
        return deliveries
    }

    /// The bytes an unchecked `PublishBatch` entry counts toward the batch's limit: its message and the name, data
    /// type and value of each of its message attributes.
    static func rawMessageBytes(_ entry: JSONValue) -> Int {
        var total = entry["Message"]?.string?.utf8.count ?? 0
        for (name, value) in entry["MessageAttributes"]?.object ?? [:] {
            let type = value["DataType"]?.string ?? ""
            let text = (type.hasPrefix("Binary") ? value["BinaryValue"]?.string : value["StringValue"]?.string) ?? ""
            total += attributeBytes(name: name, type: type, value: text)
        }
        return total
    }

    /// `PublishBatch`: up to ten messages; each entry succeeds or fails on its own.
    func publishBatch(_ call: OperationCall) async throws -> JSONValue {
        let topic = try topic(call, action: "SNS:Publish")
        let entries = call.input["PublishBatchRequestEntries"]?.array ?? []
        if entries.isEmpty { throw AWSError("EmptyBatchRequest", "The batch request doesn't contain any entries.") }
        if entries.count > 10 {
            throw AWSError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
        }
        let ids = entries.map { $0["Id"]?.string ?? "" }
        if Set(ids).count != ids.count {
            throw AWSError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
        }
        let idCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        for id in ids where id.isEmpty || id.count > 80 || !id.allSatisfy({ idCharacters.contains($0) }) {
            throw AWSError("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification.")
        }
        // "The maximum total payload size (the sum of the individual lengths of all of the batched messages)" is
        // 256 KiB (PublishBatch's API reference); a message's length includes its attributes (see `messageBytes`).
        let total = entries.reduce(0) { $0 + Self.rawMessageBytes($1) }
        if total > Self.maximumMessageBytes {
            throw AWSError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
        }
        var successful: [JSONValue] = []
        var failed: [JSONValue] = []
        for (entry, id) in zip(entries, ids) {
            do {
                let message = try Self.checkMessage(entry)
                let result = try await publish(message, to: topic)
                var item: [String: JSONValue] = ["Id": .string(id), "MessageId": .string(result.messageId)]
                if let sequence = result.sequence { item["SequenceNumber"] = .string(sequence) }
                successful.append(.object(item))
            } catch let error as AWSError {
                failed.append(
                    .object([
                        "Id": .string(id), "Code": .string(error.code), "Message": .string(error.message),
                        "SenderFault": .bool(error.isSenderFault),
                    ]))
            }
        }
        return .object(["Successful": .array(successful), "Failed": .array(failed)])
    }
}
