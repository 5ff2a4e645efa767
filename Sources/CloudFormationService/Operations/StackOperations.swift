import OrderedCollections
import Storage
import Logging
import AWSCore
import Foundation
import Gateway
import HTTPTypes
import NIOCore

/// The stack operations that change stacks: CreateStack, DeleteStack, UpdateTerminationProtection; and
/// ValidateTemplate and ListExports, which read templates and outputs.
extension CloudFormationCore {
    /// `CreateStack`: checks everything that can be checked at once (B4 order), stores the stack with its plan and
    /// first event, and hands it to the worker; the resources are made after the answer.
    func createStack(_ call: OperationCall) async throws -> JSONValue {
        let input = call.input
        let name = input["StackName"]?.string ?? ""
        guard CloudFormationErrors.isValidStackName(name) else { throw CloudFormationErrors.invalidStackName(name) }
        let body = try await templateBody(call)
        let template = try Self.parse(body)
        let parameters = try Self.parameters(template, input["Parameters"], previous: [:])
        try Self.checkCapabilities(template, input["Capabilities"])
        let account = call.caller.accountId
        if store.stack(named: name, account: account, region: call.region) != nil {
            throw AWSError("AlreadyExistsException", "Stack [\(name)] already exists")
        }
        if input["DisableRollback"]?.bool != nil, input["OnFailure"]?.string != nil {
            throw AWSError(
                "ValidationError", "You can specify either DisableRollback or OnFailure, but not both.")
        }
        let id = "arn:aws:cloudformation:\(call.region):\(account):stack/\(name)/\(runtime.uuid().lowercased())"
        let notificationARNs = input["NotificationARNs"]?.array?.compactMap(\.string) ?? []
        let context = StackContext(accountId: account, region: call.region, stackName: name, stackId: id, notificationARNs: notificationARNs)
        let evaluation = try Self.evaluate(template, parameters, context)
        let time = now
        var stack = Stack(
            id: id, name: name, account: account, region: call.region, status: StackStatus.createInProgress,
            statusReason: "User Initiated", templateBody: body, description: template.description,
            parameters: parameters.values.values.map { Stack.ParameterValue(key: $0.name, value: $0.value, noEcho: $0.noEcho) },
            tags: (input["Tags"]?.array ?? []).map { Stack.Tag(key: $0["Key"]?.string ?? "", value: $0["Value"]?.string ?? "") },
            notificationARNs: notificationARNs, capabilities: input["Capabilities"]?.array?.compactMap(\.string) ?? [],
            roleARN: input["RoleARN"]?.string, disableRollback: input["DisableRollback"]?.bool ?? false,
            onFailure: input["OnFailure"]?.string ?? (input["DisableRollback"]?.bool == true ? "DO_NOTHING" : "ROLLBACK"),
            timeoutInMinutes: input["TimeoutInMinutes"]?.int, terminationProtection: input["EnableTerminationProtection"]?.bool ?? false,
            creationTime: time, outputs: [], resources: [],
            operation: StackOperation(kind: .create, pending: evaluation.creationOrder), actor: call.caller,
            clientRequestToken: input["ClientRequestToken"]?.string, eventCount: 0)
        stack.disableRollback = stack.onFailure == "DO_NOTHING"
        try await store.insert(stack, events: [stackEvent(stack, status: StackStatus.createInProgress, reason: "User Initiated", at: time)])
        submit(id)
        return ["StackId": .string(id)]
    }

    /// `DeleteStack`: a missing stack is a success (B3.2); otherwise the stack's resources are deleted in the
    /// reverse order of their creation, after the answer.
    func deleteStack(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["StackName"]?.string ?? ""
        guard let stack = store.stack(named: name, account: call.caller.accountId, region: call.region), !stack.isDeleted else {
            return [:]
        }
        if stack.terminationProtection {
            throw AWSError("ValidationError", "Stack [\(stack.name)] cannot be deleted while TerminationProtection is enabled")
        }
        if stack.status == StackStatus.deleteInProgress { return [:] }
        let retain = call.input["RetainResources"]?.array?.compactMap(\.string) ?? []
        if !retain.isEmpty, stack.status != StackStatus.deleteFailed {
            throw AWSError(
                "ValidationError",
                "Invalid operation on stack [\(stack.id)]. RetainResources can only be specified when the stack is in the DELETE_FAILED state.")
        }
        if stack.operation != nil {
            throw AWSError("ValidationError", "Stack [\(stack.name)] cannot be deleted while in status \(stack.status)")
        }
        let time = now
        let token = call.input["ClientRequestToken"]?.string
        try await store.change(stack.id) { s in
            s.status = StackStatus.deleteInProgress
            s.statusReason = "User Initiated"
            s.clientRequestToken = token
            s.actor = call.caller
            let remaining = s.resources.reversed().filter { $0.status != StackStatus.deleteComplete && $0.status != StackStatus.deleteSkipped }
            s.operation = StackOperation(kind: .delete, pending: remaining.map(\.logicalID), retain: retain)
            return ([stackEvent(s, status: StackStatus.deleteInProgress, reason: "User Initiated", at: time)], ())
        }
        submit(stack.id)
        return [:]
    }

    /// `UpdateTerminationProtection`.
    func updateTerminationProtection(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        let enable = call.input["EnableTerminationProtection"]?.bool ?? false
        try await store.change(stack.id) { s in
            s.terminationProtection = enable
            return ([], ())
        }
        return ["StackId": .string(stack.id)]
    }

    /// `ValidateTemplate`: the template's parameters, description, capabilities and transforms.
    func validateTemplate(_ call: OperationCall) async throws -> JSONValue {
        let template = try Self.parse(try await templateBody(call))
        let summary = template.summary
        var out: [String: JSONValue] = [
            "Parameters": .array(
                template.parameters.values.map { p in
                    var o: [String: JSONValue] = ["ParameterKey": .string(p.name), "NoEcho": .bool(p.noEcho)]
                    if let d = p.defaultValue { o["DefaultValue"] = .string(p.noEcho ? "****" : d) }
                    if let d = p.description { o["Description"] = .string(d) }
                    return .object(o)
                }),
            "Capabilities": .array(summary.capabilities.map(JSONValue.string)),
            "DeclaredTransforms": .array(template.transforms.map(JSONValue.string)),
        ]
        if let d = template.description { out["Description"] = .string(d) }
        if let reason = summary.capabilitiesReason { out["CapabilitiesReason"] = .string(reason) }
        return .object(out)
    }

    /// `ListExports`: the exports of the region's stacks.
    func listExports(_ call: OperationCall) async throws -> JSONValue {
        let exports = store.stacks(account: call.caller.accountId, region: call.region).filter { !$0.isDeleted }.flatMap { stack in
            stack.outputs.compactMap { o in
                o.exportName.map { JSONValue.object(["ExportingStackId": .string(stack.id), "Name": .string($0), "Value": .string(o.value)]) }
            }
        }
        return ["Exports": .array(exports)]
    }

    // MARK: Templates

    /// The template a call names: `TemplateBody`, or the object `TemplateURL` points at in Cairn's S3, read as the
    /// caller (B4 CreateStack 2).
    func templateBody(_ call: OperationCall) async throws -> String {
        let body = call.input["TemplateBody"]?.string
        let url = call.input["TemplateURL"]?.string
        switch (body, url) {
        case (let body?, nil):
            guard body.utf8.count <= 51_200 else {
                throw AWSError(
                    "ValidationError",
                    "1 validation error detected: Value '\(body)' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200")
            }
            return body
        case (nil, let url?):
            return try await read(templateURL: url, call: call)
        case (nil, nil):
            throw AWSError("ValidationError", "Either Template URL or Template Body must be specified.")
        default:
            throw AWSError("ValidationError", "You cannot specify both Template URL and Template Body.")
        }
    }

    /// Reads a template from an S3 URL (`https://s3.amazonaws.com/bucket/key`, `https://bucket.s3.amazonaws.com/key`,
    /// regional and path-style forms, or Cairn's own endpoint) with an S3 GetObject as the caller.
    func read(templateURL: String, call: OperationCall) async throws -> String {
        let refused = AWSError("ValidationError", "TemplateURL must reference a valid S3 object to which you have access.")
        guard let location = Self.s3Location(templateURL) else { throw refused }
        let origin = CallOrigin.onBehalf(of: call.caller, region: call.region, by: "cloudformation.amazonaws.com")
        do {
            let response = try await client.s3(
                S3ClientRequest(method: .get, bucket: location.bucket, key: location.key), as: origin)
            let body = String(buffer: response.body)
            guard body.utf8.count <= 1_000_000 else { throw refused }
            return body
        } catch is AWSError {
            throw refused
        }
    }

    /// The bucket and key of an S3 object URL, or `nil`.
    static func s3Location(_ url: String) -> (bucket: String, key: String)? {
        guard let parsed = URLComponents(string: url), let host = parsed.host?.lowercased() else { return nil }
        let path = parsed.percentEncodedPath.removingPercentEncoding ?? parsed.path
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).map(String.init)
        // Virtual-hosted style: bucket.s3[.-region].amazonaws.com/key.
        if let range = host.range(of: ".s3"), host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") {
            let bucket = String(host[..<range.lowerBound])
            guard !bucket.isEmpty, parts.count >= 1 else { return nil }
            return (bucket, parts.joined(separator: "/"))
        }
        // Path style: s3[.-region].amazonaws.com/bucket/key, or any other host (Cairn's endpoint).
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        return (parts[0], parts[1])
    }

    /// Parses and validates a template; its errors are `ValidationError`s with AWS's text.
    static func parse(_ body: String) throws -> Template {
        do {
            let template = try Template.parse(body)
            try template.validate()
            return template
        } catch {
            throw AWSError(error.code, error.message)
        }
    }

    /// The parameter values of an operation (B6.2).
    static func parameters(_ template: Template, _ input: JSONValue?, previous: [String: String]) throws -> ResolvedParameters {
        let inputs = (input?.array ?? []).map { p in
            ParameterInput(
                key: p["ParameterKey"]?.string ?? "", value: p["ParameterValue"]?.string,
                usePreviousValue: p["UsePreviousValue"]?.bool ?? false)
        }
        do {
            return try template.resolveParameters(inputs, previous: previous)
        } catch {
            throw AWSError(error.code, error.message)
        }
    }

    /// `InsufficientCapabilitiesException` when the template needs capabilities the call does not acknowledge.
    static func checkCapabilities(_ template: Template, _ input: JSONValue?) throws {
        let given = Set(input?.array?.compactMap(\.string) ?? [])
        let needed = template.summary.capabilities
        if needed.contains("CAPABILITY_NAMED_IAM") {
            if !given.contains("CAPABILITY_NAMED_IAM") {
                throw AWSError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
            }
        } else if needed.contains("CAPABILITY_IAM"), !given.contains("CAPABILITY_IAM"), !given.contains("CAPABILITY_NAMED_IAM") {
            throw AWSError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
        }
        if needed.contains("CAPABILITY_AUTO_EXPAND"), !given.contains("CAPABILITY_AUTO_EXPAND") {
            throw AWSError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_AUTO_EXPAND]")
        }
    }

    /// Evaluates a template for an operation (conditions, references, cycles).
    static func evaluate(_ template: Template, _ parameters: ResolvedParameters, _ context: StackContext) throws -> TemplateEvaluation {
        do {
            return try TemplateEvaluation(template: template, parameters: parameters, context: context)
        } catch {
            throw AWSError(error.code, error.message)
        }
    }

    /// A stored stack's template evaluated again with its stored parameter values (to resume or continue a plan).
    func evaluate(_ stack: Stack) throws -> TemplateEvaluation {
        let template = try Self.parse(stack.templateBody)
        let inputs = stack.parameters.map { JSONValue.object(["ParameterKey": .string($0.key), "ParameterValue": .string($0.value)]) }
        let parameters = try Self.parameters(template, inputs.isEmpty ? nil : .array(inputs), previous: [:])
        let context = StackContext(
            accountId: stack.account, region: stack.region, stackName: stack.name, stackId: stack.id, notificationARNs: stack.notificationARNs)
        return try Self.evaluate(template, parameters, context)
    }
}
