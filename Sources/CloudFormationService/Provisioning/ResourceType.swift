import OrderedCollections
import Storage
import Logging
import AWSCore
import Foundation
import Gateway

/// What a resource handler is given: the in-process client, the identity it acts as, and the stack's facts.
struct ResourceContext: Sendable {
    /// How the handler reaches the hosted services.
    var client: ServiceClient
    /// The caller the stack acts as, marked `invokedBy: cloudformation.amazonaws.com` (B10.2).
    var origin: CallOrigin
    var stackName: String
    var stackID: String
    var account: String
    var region: String
    var logicalID: String
    /// The stack's tags (applied to every taggable resource, with CloudFormation's own `aws:cloudformation:*`).
    var stackTags: [Stack.Tag]
    /// CloudFormation's own stacks, for the nested-stack type, which follows the stack it made.
    var store: StackStore? = nil
    /// Whether this creation was started before (and interrupted by a restart): a named resource that exists
    /// already is then the one it made.
    var resumed = false

    /// CloudFormation's tags of a resource it makes: the stack's tags, then `aws:cloudformation:stack-name`,
    /// `stack-id` and `logical-id` (B6.7).
    var tags: [Stack.Tag] {
        stackTags + [
            Stack.Tag(key: "aws:cloudformation:stack-name", value: stackName),
            Stack.Tag(key: "aws:cloudformation:stack-id", value: stackID),
            Stack.Tag(key: "aws:cloudformation:logical-id", value: logicalID),
        ]
    }

    /// A name for a resource whose template gives none: `<stack>-<logical id>-<random>`, the random part 12 or
    /// 13 upper-case letters and digits, shortened to `maxLength` (lower-cased for S3 buckets) (B2).
    static func generatedName(stack stackName: String, logicalID: String, maxLength: Int, lowercase: Bool, random: String) -> String {
        let suffix = "-" + random
        var base = "\(stackName)-\(logicalID)"
        if base.count + suffix.count > maxLength { base = String(base.prefix(max(0, maxLength - suffix.count))) }
        let name = base + suffix
        return lowercase ? name.lowercased() : name
    }

    /// Runs the steps that follow a resource's creation; when one fails, `undo` removes the resource (errors of
    /// the removal are ignored) and the failure is thrown.
    func completing<T>(_ steps: () async throws -> T, undo: () async throws -> Void) async throws -> T {
        do {
            return try await steps()
        } catch {
            try? await undo()
            throw error
        }
    }

    /// Calls an operation of a modeled service (`sns`, `cloudtrail`, `config`) as the stack's caller.
    func call(_ service: String, _ operation: String, _ input: JSONValue) async throws -> JSONValue {
        try await client.call(service, operation, input, as: origin, coercingScalars: true)
    }
}

/// What a handler made: the physical id, what `Ref` returns, and the attributes `Fn::GetAtt` reads.
struct Provisioned: Sendable {
    var physicalID: String
    var ref: String
    var attributes: [String: JSONValue]
}

/// One resource type CloudFormation can make in Cairn: how to create and delete it, by calls to the hosted
/// services through the in-process client (design: "Adding a type is adding one declaration").
struct ResourceType: Sendable {
    /// The type name (`AWS::S3::Bucket`).
    var name: String
    /// Makes the resource from its resolved properties. `name` is the physical name chosen before the call (so
    /// that a creation resumed after a crash makes the same resource), for types that are named. A handler that
    /// fails part-way removes what it made before it throws.
    var create: @Sendable (_ context: ResourceContext, _ properties: JSONValue, _ name: String?) async throws -> Provisioned
    /// Deletes the resource; a resource already gone counts as deleted.
    var delete: @Sendable (_ context: ResourceContext, _ resource: StackResource) async throws -> Void
    /// How a name is generated for the type when the template names none (`nil`: the type is not named).
    var naming: (property: String, maxLength: Int, lowercase: Bool)?
    /// The properties whose change replaces the resource (AWS's "Update requires: Replacement").
    var replacing: Set<String> = []
    /// Changes the resource in place from its stored state to new resolved properties (`nil`: every change
    /// replaces the resource).
    var update: (@Sendable (_ context: ResourceContext, _ resource: StackResource, _ properties: JSONValue) async throws -> Provisioned)? = nil

    /// Whether changing the resource from `old` to `new` properties replaces it.
    func replaces(from old: JSONValue?, to new: JSONValue) -> Bool {
        guard update != nil else { return true }
        let before = old?.object ?? [:]
        let after = new.object ?? [:]
        return replacing.contains { before[$0] != after[$0] }
    }

    /// The top-level properties that differ between `old` and `new`, in name order.
    static func changedProperties(from old: JSONValue?, to new: JSONValue) -> [String] {
        let before = old?.object ?? [:]
        let after = new.object ?? [:]
        return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
    }
}

/// A handler's failure as CloudFormation reports it in the resource's status reason.
struct ResourceFailure: Error, Sendable {
    var reason: String
}

extension ResourceFailure {
    /// A service's error as CloudFormation's resource handlers word it (B3.3, B6.9):
    /// `Resource handler returned message: "<message> (Service: <S>, Status Code: <n>, Request ID: <id>)"
    /// (RequestToken: <uuid>, HandlerErrorCode: <code>)`.
    static func handler(_ error: AWSError, service: String, requestID: String, token: String) -> ResourceFailure {
        let handlerCode: String =
            switch (error.status, error.code) {
            case (_, "BucketAlreadyExists"), (_, "BucketAlreadyOwnedByYou"), (_, "TrailAlreadyExistsException"), (_, "AlreadyExists"):
                "AlreadyExists"
            case (_, "BucketNotEmpty"): "GeneralServiceException"
            case (404, _), (_, "NotFound"), (_, "TrailNotFoundException"): "NotFound"
            case (403, _), (_, "AuthorizationError"): "AccessDenied"
            case (500..., _): "ServiceInternalError"
            case (409, _): "ResourceConflict"
            default: "InvalidRequest"
            }
        return ResourceFailure(
            reason: "Resource handler returned message: \"\(error.message) (Service: \(service), Status Code: \(error.status), "
                + "Request ID: \(requestID))\" (RequestToken: \(token), HandlerErrorCode: \(handlerCode))")
    }
}

extension JSONValue {
    /// A property value as the text a service receives: strings as they are, numbers and booleans written out,
    /// lists and maps as JSON.
    var propertyText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return nil
        case .array, .object: return jsonText
        }
    }

    /// A property value as a boolean (`true`, `"true"`, `"True"`).
    var propertyBool: Bool? {
        switch self {
        case .bool(let b): return b
        case .string(let s): return s.lowercased() == "true" ? true : s.lowercased() == "false" ? false : nil
        default: return nil
        }
    }

    /// A policy document property: a JSON object, or a string holding one, as text.
    var policyText: String? {
        if case .string(let s) = self { return s }
        return object == nil ? nil : jsonText
    }
}
