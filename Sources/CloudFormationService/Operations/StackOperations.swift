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
        let request = try await stackRequest(call, stack: nil)
        let account = call.caller.accountId
        if store.stack(named: name, account: account, region: call.region) != nil {
            throw AWSError("AlreadyExistsException", "Stack [\(name)] already exists")
        }
        if input["DisableRollback"]?.bool != nil, input["OnFailure"]?.string != nil {
            throw AWSError("ValidationError", "You can specify either DisableRollback or OnFailure, but not both.")
        }
        let id = "arn:aws:cloudformation:\(call.region):\(account):stack/\(name)/\(runtime.uuid().lowercased())"
        var stack = newStack(id: id, name: name, call: call)
        stack.onFailure = input["OnFailure"]?.string ?? (input["DisableRollback"]?.bool == true ? "DO_NOTHING" : "ROLLBACK")
        stack.disableRollback = stack.onFailure == "DO_NOTHING"
        stack.timeoutInMinutes = input["TimeoutInMinutes"]?.int
        stack.terminationProtection = input["EnableTerminationProtection"]?.bool ?? false
        try start(creationOf: &stack, request: request, token: input["ClientRequestToken"]?.string)
        stack.roleSession = try await roleSession(stack.roleARN, account: account, region: call.region)
        stack.stackPolicy = try await policy(call, body: "StackPolicyBody", url: "StackPolicyURL")
        try await insert(stack, events: [stackEvent(stack, status: StackStatus.createInProgress, reason: "User Initiated", at: stack.creationTime)])
        submit(id)
        return ["StackId": .string(id)]
    }

    /// What a CreateStack, UpdateStack or CreateChangeSet call asks for: the template, checked, and the values
    /// it is evaluated with.
    struct StackRequest {
        var body: String
        var template: Template
        var parameters: ResolvedParameters
        /// `nil`: the call leaves the stack's tags (or notification topics) as they are.
        var tags: [Stack.Tag]?
        var notificationARNs: [String]?
        var capabilities: [String]
        var roleARN: String?
        var description: String?
    }

    /// Reads and checks a call's template and parameters (previous values from `stack`), capabilities and rules.
    func stackRequest(_ call: OperationCall, stack: Stack?) async throws -> StackRequest {
        let input = call.input
        let body: String
        if input["UsePreviousTemplate"]?.bool == true {
            if input["TemplateBody"] != nil || input["TemplateURL"] != nil {
                throw AWSError("ValidationError", "You cannot specify both usePreviousTemplate and Template Body/Template URL.")
            }
            guard let stack, stack.status != StackStatus.reviewInProgress else {
                throw AWSError("ValidationError", "UsePreviousTemplate cannot be used on a stack that has no template.")
            }
            body = stack.templateBody
        } else {
            body = try await templateBody(call)
        }
        let template = try Self.parse(body)
        let previous = Dictionary((stack?.parameters ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let parameters = try Self.parameters(template, input["Parameters"], previous: previous)
        let capabilities = input["Capabilities"]?.array?.compactMap(\.string) ?? []
        do {
            try template.checkCapabilities(capabilities)
            let context = StackContext(
                accountId: call.caller.accountId, region: call.region, stackName: stack?.name ?? input["StackName"]?.string ?? "",
                stackId: stack?.id ?? "")
            try template.checkRules(parameters: parameters, context: context)
        } catch {
            throw error.awsError
        }
        return StackRequest(
            body: body, template: template, parameters: parameters,
            tags: input["Tags"]?.array.map { $0.map { Stack.Tag(key: $0["Key"]?.string ?? "", value: $0["Value"]?.string ?? "") } },
            notificationARNs: input["NotificationARNs"]?.array?.compactMap(\.string), capabilities: capabilities,
            roleARN: input["RoleARN"]?.string, description: template.description)
    }

    /// A stack that is about to be created (or reviewed), not yet stored, without a template
    /// (``start(creationOf:request:token:)`` gives it one).
    func newStack(id: String, name: String, call: OperationCall) -> Stack {
        Stack(
            id: id, name: name, account: call.caller.accountId, region: call.region, status: StackStatus.createInProgress,
            statusReason: "User Initiated", templateBody: "", description: nil, parameters: [], tags: [], notificationARNs: [],
            capabilities: [], roleARN: nil, disableRollback: false, onFailure: "ROLLBACK",
            timeoutInMinutes: nil, terminationProtection: false, creationTime: now, outputs: [], resources: [], operation: nil,
            actor: call.caller, clientRequestToken: nil, eventCount: 0)
    }

    /// Sets a stack up for its creation from a request: template, values, and the creation plan in dependency order
    /// (the template's references and cycles are checked here, before anything is stored).
    func start(creationOf stack: inout Stack, request: StackRequest, token: String?) throws {
        let context = StackContext(
            accountId: stack.account, region: stack.region, stackName: stack.name, stackId: stack.id,
            notificationARNs: request.notificationARNs ?? stack.notificationARNs)
        let evaluation = try Self.evaluate(request.template, request.parameters, context)
        Self.apply(request, to: &stack)
        stack.status = StackStatus.createInProgress
        stack.statusReason = "User Initiated"
        stack.clientRequestToken = token
        stack.operation = StackOperation(kind: .create, pending: evaluation.creationOrder)
        stack.imports = try Self.imports(evaluation)
    }

    /// Gives a stack what a request asks for: its template, values, tags and notification topics (those the request
    /// leaves out stay), capabilities and role.
    static func apply(_ request: StackRequest, to stack: inout Stack) {
        stack.templateBody = request.body
        stack.description = request.description
        stack.parameters = values(request.parameters)
        if let tags = request.tags { stack.tags = tags }
        if let arns = request.notificationARNs { stack.notificationARNs = arns }
        stack.capabilities = request.capabilities
        if let role = request.roleARN { stack.roleARN = role }
    }

    /// The export names an operation's template imports.
    static func imports(_ evaluation: TemplateEvaluation) throws -> [String] {
        do {
            return try evaluation.importedExportNames()
        } catch {
            throw error.awsError
        }
    }

    /// The first of a stack's exports that another stack imports, with the importing stack, if any; `keeping`
    /// are the exports an update leaves as they are.
    func exportInUse(_ stack: Stack, keeping: [Stack.Output] = []) -> (export: String, importer: String)? {
        for output in stack.outputs {
            guard let name = output.exportName, !keeping.contains(output),
                let importer = store.importers(of: name, account: stack.account, region: stack.region).first(where: { $0 != stack.name })
            else { continue }
            return (name, importer)
        }
        return nil
    }

    /// Resolved parameters as a stack stores them.
    static func values(_ parameters: ResolvedParameters) -> [Stack.ParameterValue] {
        parameters.values.values.map { Stack.ParameterValue(key: $0.name, value: $0.value, noEcho: $0.noEcho) }
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
        if let (export, importer) = exportInUse(stack) {
            // The answer is a success; the refusal shows as a stack event, and the stack keeps its status (B3.2,
            // the spec's recommended reading of real listings).
            let reason = "Export \(export) cannot be deleted as it is in use by \(importer)"
            try await change(stack.id) { s in
                ([stackEvent(s, status: StackStatus.deleteFailed, reason: reason, at: time)], ())
            }
            return [:]
        }
        let role = call.input["RoleARN"]?.string ?? stack.roleARN
        let session = try await roleSession(role, account: stack.account, region: stack.region)
        try await change(stack.id) { s in
            s.roleARN = role
            s.roleSession = session
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
        try await change(stack.id) { s in
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

    /// `ListImports`: the stacks that import an export.
    func listImports(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["ExportName"]?.string ?? ""
        let importers = store.importers(of: name, account: call.caller.accountId, region: call.region)
        guard !importers.isEmpty else { throw AWSError("ValidationError", "Export '\(name)' is not imported by any stack.") }
        return ["Imports": .array(importers.map(JSONValue.string))]
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
            return try await read(
                url: url, call: call, refused: AWSError("ValidationError", "TemplateURL must reference a valid S3 object to which you have access."))
        case (nil, nil):
            throw AWSError("ValidationError", "Either Template URL or Template Body must be specified.")
        default:
            throw AWSError("ValidationError", "You cannot specify both Template URL and Template Body.")
        }
    }

    /// A stack policy a call gives in `body` or `url` (checked), or `nil`.
    func policy(_ call: OperationCall, body: String, url: String) async throws -> String? {
        let text: String
        switch (call.input[body]?.string, call.input[url]?.string) {
        case (nil, nil): return nil
        case (let given?, nil): text = given
        case (nil, let location?):
            text = try await read(
                url: location, call: call, refused: AWSError("ValidationError", "\(url) must reference a valid S3 object to which you have access."))
        default: throw AWSError("ValidationError", "You cannot specify both \(body) and \(url)")
        }
        _ = try StackPolicy(text)
        return text
    }

    /// `SetStackPolicy`.
    func setStackPolicy(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        guard let text = try await policy(call, body: "StackPolicyBody", url: "StackPolicyURL") else {
            throw AWSError("ValidationError", "Either StackPolicyBody or StackPolicyURL must be specified.")
        }
        try await change(stack.id) { s in
            s.stackPolicy = text
            return ([], ())
        }
        return [:]
    }

    /// `GetStackPolicy`: the policy as it was given, or nothing.
    func getStackPolicy(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        return stack.stackPolicy.map { ["StackPolicyBody": .string($0)] } ?? [:]
    }

    /// Reads a template from an S3 URL (`https://s3.amazonaws.com/bucket/key`, `https://bucket.s3.amazonaws.com/key`,
    /// regional and path-style forms, or Cairn's own endpoint) with an S3 GetObject as the caller.
    func read(url: String, call: OperationCall, refused: AWSError) async throws -> String {
        guard let location = Self.s3Location(url) else { throw refused }
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
            throw error.awsError
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
            throw error.awsError
        }
    }

    /// Evaluates a template for an operation (conditions, references, cycles).
    static func evaluate(_ template: Template, _ parameters: ResolvedParameters, _ context: StackContext) throws -> TemplateEvaluation {
        do {
            return try TemplateEvaluation(template: template, parameters: parameters, context: context)
        } catch {
            throw error.awsError
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
