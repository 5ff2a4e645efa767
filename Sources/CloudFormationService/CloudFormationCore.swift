import OrderedCollections
import Storage
import AWSCore
import Crypto
import Foundation
import Gateway
import Logging

/// What CloudFormation's handlers and its worker share: the stacks, the in-process client and the runtime.
final class CloudFormationCore: Sendable {
    let store: StackStore
    let client: ServiceClient
    let runtime: Runtime
    let logger: Logger
    /// Hands a stack whose plan must be carried out to the worker.
    let submit: @Sendable (String) -> Void

    init(store: StackStore, client: ServiceClient, runtime: Runtime, logger: Logger, submit: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.client = client
        self.runtime = runtime
        self.logger = logger
        self.submit = submit
    }

    /// The current time in epoch seconds, with milliseconds.
    var now: Double { (runtime.now() * 1000).rounded(.down) / 1000 }

    /// Changes a stack, adds its events and stores or removes change sets in one transaction (``StackStore``), then
    /// sends the new events to the stack's notification topics.
    @discardableResult
    func change<T: Sendable>(
        _ stackID: String, changeSets: [String: ChangeSet?] = [:], _ body: (inout Stack) throws -> (events: [StackEvent], result: T)
    ) async throws -> T {
        let (result, stack, events) = try await store.change(stackID, changeSets: changeSets) {
            s -> (events: [StackEvent], result: (T, Stack, [StackEvent])) in
            let (events, result) = try body(&s)
            return (events, (result, s, events))
        }
        await notify(stack, events)
        return result
    }

    /// Stores a new stack with its first events (and the change set that made it), then sends the events to its
    /// notification topics.
    func insert(_ stack: Stack, events: [StackEvent], changeSet: ChangeSet? = nil) async throws {
        try await store.insert(stack, events: events, changeSet: changeSet)
        await notify(stack, events)
    }

    /// Publishes each event to each of the stack's `NotificationARNs`, as CloudFormation does (B7): subject `AWS
    /// CloudFormation Notification`, one `Key='Value'` line per field. The publish is made for the stack's caller;
    /// a topic that refuses it or is gone does not hold up the stack.
    func notify(_ stack: Stack, _ events: [StackEvent]) async {
        guard !stack.notificationARNs.isEmpty else { return }
        for event in events {
            let fields: [(String, String)] = [
                ("StackId", event.stackID), ("Timestamp", Timestamp.iso8601Millis(event.timestamp)), ("EventId", event.eventID),
                ("LogicalResourceId", event.logicalID), ("Namespace", stack.account), ("PhysicalResourceId", event.physicalID),
                ("PrincipalId", stack.actor.principalId), ("ResourceProperties", event.properties ?? "null"),
                ("ResourceStatus", event.status), ("ResourceStatusReason", event.reason ?? ""), ("ResourceType", event.resourceType),
                ("StackName", event.stackName), ("ClientRequestToken", event.clientRequestToken ?? "null"),
            ]
            let message = fields.map { "\($0.0)='\($0.1)'\n" }.joined()
            for topic in stack.notificationARNs {
                do {
                    _ = try await client.call(
                        "sns", "Publish",
                        ["TopicArn": .string(topic), "Subject": "AWS CloudFormation Notification", "Message": .string(message)],
                        as: Self.origin(stack))
                } catch {
                    logger.warning("stack notification not sent", metadata: ["topic": "\(topic)", "error": "\(error)"])
                }
            }
        }
    }

    /// The session of a stack's service role: CloudFormation assumes `roleARN` as its own principal, with the
    /// session name `AWSCloudFormation` (B10.2), and acts as that role. `nil` without a role.
    ///
    /// - Throws: `Role <arn> is invalid or cannot be assumed` when STS refuses.
    func roleSession(_ roleARN: String?, account: String, region: String) async throws -> Caller? {
        guard let roleARN else { return nil }
        let refused = AWSError("ValidationError", "Role \(roleARN) is invalid or cannot be assumed")
        let answer: JSONValue
        do {
            answer = try await client.call(
                "sts", "AssumeRole", ["RoleArn": .string(roleARN), "RoleSessionName": "AWSCloudFormation"],
                as: .service("cloudformation.amazonaws.com", account: account, region: region))
        } catch is AWSError {
            throw refused
        }
        // arn:aws:iam::<account>:role/<path><name>
        let resource = roleARN.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).last.map(String.init) ?? ""
        guard resource.hasPrefix("role/"), let key = answer["Credentials"]?["AccessKeyId"]?.string else { throw refused }
        let pathAndName = resource.dropFirst("role".count)
        let name = String(pathAndName.split(separator: "/").last ?? "")
        let path = String(pathAndName.dropLast(name.count))
        let roleAccount = roleARN.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init) ?? account
        return Caller(
            kind: .assumedRole, accountId: roleAccount, accessKeyId: key, name: name, path: path, sessionName: "AWSCloudFormation",
            sessionIssuedAt: Int64(runtime.now()))
    }

    /// A stack-level event (its id is a UUID; B2).
    func stackEvent(_ stack: Stack, status: String, reason: String?, at time: Double) -> StackEvent {
        StackEvent(
            stackID: stack.id, stackName: stack.name, eventID: runtime.uuid().lowercased(), logicalID: stack.name,
            physicalID: stack.id, resourceType: "AWS::CloudFormation::Stack", timestamp: time, status: status, reason: reason,
            properties: nil, clientRequestToken: stack.clientRequestToken)
    }

    /// A resource event: its id is `<LogicalId>-<STATUS>-<ISO 8601 time with milliseconds>` (B2).
    func resourceEvent(
        _ stack: Stack, _ resource: StackResource, status: String, reason: String?, physicalID: String? = nil, at time: Double
    ) -> StackEvent {
        StackEvent(
            stackID: stack.id, stackName: stack.name, eventID: "\(resource.logicalID)-\(status)-\(Timestamp.iso8601Millis(time))",
            logicalID: resource.logicalID, physicalID: physicalID ?? "", resourceType: resource.type, timestamp: time, status: status,
            reason: reason, properties: resource.properties.map { Self.maskedProperties($0, stack: stack) },
            clientRequestToken: stack.clientRequestToken)
    }

    /// The resolved properties as DescribeStackEvents' `ResourceProperties` writes them: NoEcho parameter values
    /// replaced by `****` wherever they appear (B6.2).
    static func maskedProperties(_ properties: JSONValue, stack: Stack) -> String {
        String(decoding: CallPipeline.mask(stack.secrets, in: Array(properties.jsonText.utf8)), as: UTF8.self)
    }

    /// The origin of the calls a stack's operation makes: its actor, marked as invoked by CloudFormation, with the
    /// stack's NoEcho values masked in their records.
    ///
    /// CloudFormation acts with forward-access credentials of its caller: the records show the caller's identity
    /// with a temporary (`ASIA`) access key and a session context, even for an IAM user or root (B10.2, real records).
    /// The key is derived from the stack and the operation, so a plan resumed after a restart acts with the same one.
    static func origin(_ stack: Stack) -> CallOrigin {
        if let session = stack.roleSession {
            var origin = CallOrigin.onBehalf(of: session, region: stack.region, by: "cloudformation.amazonaws.com")
            origin.masked = stack.secrets
            return origin
        }
        var caller = stack.actor
        let seed = SHA256.hash(data: Data((stack.id + "|" + caller.accessKeyId + "|" + (stack.clientRequestToken ?? "")).utf8))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        caller.accessKeyId = "ASIA" + String(seed.prefix(16).map { alphabet[Int($0) % alphabet.count] })
        if caller.sessionIssuedAt == nil { caller.sessionIssuedAt = Int64(stack.lastUpdatedTime ?? stack.creationTime) }
        var origin = CallOrigin.onBehalf(of: caller, region: stack.region, by: "cloudformation.amazonaws.com")
        origin.masked = stack.secrets
        return origin
    }
}

/// CloudFormation's errors that are not template errors.
enum CloudFormationErrors {
    /// `Stack with id <x> does not exist` (DescribeStacks and most stack calls; B4).
    static func stackNotFound(_ name: String) -> AWSError {
        AWSError("ValidationError", "Stack with id \(name) does not exist")
    }

    /// A name that is not `[a-zA-Z][-a-zA-Z0-9]*` (or an ARN), in the Coral form of B1.
    static func invalidStackName(_ name: String) -> AWSError {
        AWSError(
            "ValidationError",
            "1 validation error detected: Value '\(name)' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
        )
    }

    /// Whether a stack name is valid: a letter, then letters, digits and hyphens, at most 128 characters (B2).
    static func isValidStackName(_ name: String) -> Bool {
        func letter(_ c: Unicode.Scalar) -> Bool { ("A"..."Z").contains(c) || ("a"..."z").contains(c) }
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 128, letter(first) else { return false }
        return scalars.allSatisfy { letter($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
