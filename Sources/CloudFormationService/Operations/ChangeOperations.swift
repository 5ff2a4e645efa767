import AWSCore
import Foundation
import Gateway
import OrderedCollections
import Storage

/// Updates and change sets: UpdateStack, CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
/// ListChangeSets, and GetTemplateSummary (which `aws cloudformation deploy` reads before an update).
extension CloudFormationCore {
    /// How long ExecuteChangeSet waits for the stack operation it starts before it answers. `aws cloudformation
    /// deploy` polls DescribeStacks right after the answer and then only every 30 seconds, so a stack that is done
    /// by the answer saves its user half a minute; the stack still passes through every IN_PROGRESS state.
    static let executeWait: Duration = .seconds(5)

    /// `UpdateStack` (B4): the status gate, the template and parameters (UsePreviousTemplate, UsePreviousValue),
    /// `No updates are to be performed.` when nothing would change, then the update plan.
    func updateStack(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        try Self.checkUpdatable(stack)
        let request = try await stackRequest(call, stack: stack)
        let changes = try plannedChanges(stack, request)
        if changes.isEmpty, !changesStack(stack, request) {
            throw AWSError("ValidationError", "No updates are to be performed.")
        }
        let newPolicy = try await policy(call, body: "StackPolicyBody", url: "StackPolicyURL")
        let duringUpdate = try await policy(call, body: "StackPolicyDuringUpdateBody", url: "StackPolicyDuringUpdateURL")
        try await startUpdate(
            stack.id, request: request, token: call.input["ClientRequestToken"]?.string, caller: call.caller,
            policy: (during: duringUpdate, new: newPolicy))
        submit(stack.id)
        return ["StackId": .string(stack.id)]
    }

    /// `CancelUpdateStack`: an update in progress stops taking new steps and rolls back ("Stack update cancelled").
    func cancelUpdateStack(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        guard stack.status == StackStatus.updateInProgress, stack.operation?.kind == .update else {
            throw AWSError("ValidationError", "CancelUpdateStack cannot be called from current stack status")
        }
        try await change(stack.id) { s in
            if s.operation?.kind == .update, s.operation?.cleaningUp == false { s.operation?.failure = "Stack update cancelled" }
            return ([], ())
        }
        return [:]
    }

    /// `Stack:<arn> is in <STATUS> state and can not be updated.` unless the stack may be updated (B3.2).
    static func checkUpdatable(_ stack: Stack) throws {
        let failedWithoutRollback =
            stack.disableRollback && [StackStatus.createFailed, StackStatus.updateFailed].contains(stack.status)
        guard StackStatus.updatable.contains(stack.status) || failedWithoutRollback, stack.operation == nil else {
            throw AWSError("ValidationError", "Stack:\(stack.id) is in \(stack.status) state and can not be updated.")
        }
    }

    /// Whether a request changes the stack beyond its resources: parameters, tags or notification topics.
    func changesStack(_ stack: Stack, _ request: StackRequest) -> Bool {
        Self.values(request.parameters) != stack.parameters || (request.tags ?? stack.tags) != stack.tags
            || (request.notificationARNs ?? stack.notificationARNs) != stack.notificationARNs
    }

    /// Starts an update: the stack as it is becomes the plan's `previous`, the request's template and values become
    /// the stack's, and every resource of the new template is a step.
    func startUpdate(
        _ stackID: String, request: StackRequest, token: String?, caller: Caller, changeSet: String? = nil,
        policy: (during: String?, new: String?) = (nil, nil)
    ) async throws {
        let time = now
        guard let stack = store.stacks[stackID] else { throw CloudFormationErrors.stackNotFound(stackID) }
        let context = StackContext(
            accountId: stack.account, region: stack.region, stackName: stack.name, stackId: stack.id,
            notificationARNs: request.notificationARNs ?? stack.notificationARNs)
        let evaluation = try Self.evaluate(request.template, request.parameters, context)
        let session = try await roleSession(request.roleARN ?? stack.roleARN, account: stack.account, region: stack.region)
        let imports = try Self.imports(evaluation)
        var updates: [String: ChangeSet?] = [:]
        for other in store.changeSets(of: stackID) where other.id != changeSet { updates.updateValue(nil, forKey: other.id) }
        if let changeSet, var executed = store.changeSets[changeSet] {
            executed.executionStatus = "EXECUTE_IN_PROGRESS"
            updates[changeSet] = executed
        }
        try await change(stackID, changeSets: updates) { s in
            let previous = s.snapshot
            Self.apply(request, to: &s)
            s.actor = caller
            s.roleSession = session
            s.status = StackStatus.updateInProgress
            s.statusReason = "User Initiated"
            s.lastUpdatedTime = time
            s.clientRequestToken = token
            s.changeSetID = changeSet
            s.operation = StackOperation(kind: .update, pending: evaluation.creationOrder, previous: previous)
            // The update is checked against the policy it started under (or the one given for its duration); a
            // new policy applies to later updates.
            s.operation?.policy = policy.during ?? s.stackPolicy
            if let new = policy.new { s.stackPolicy = new }
            s.imports = imports
            return ([stackEvent(s, status: StackStatus.updateInProgress, reason: "User Initiated", at: time)], ())
        }
    }

    /// The resource changes a request would make to a stack, as DescribeChangeSet's `Changes` (B5): `Add` for new
    /// resources, `Modify` (with `Replacement` and the changed properties) for resources whose resolved properties
    /// differ, `Remove` for resources the template no longer has.
    func plannedChanges(_ stack: Stack, _ request: StackRequest) throws -> [JSONValue] {
        let context = StackContext(
            accountId: stack.account, region: stack.region, stackName: stack.name, stackId: stack.id,
            notificationARNs: request.notificationARNs ?? stack.notificationARNs)
        let evaluation = try Self.evaluate(request.template, request.parameters, context)
        let lookup = self.lookup(stack)
        let tagsChanged = (request.tags ?? stack.tags) != stack.tags
        var changes: [JSONValue] = []
        func change(_ fields: [String: JSONValue]) -> JSONValue { ["Type": "Resource", "ResourceChange": .object(fields)] }
        for id in evaluation.activeResources {
            guard let declared = request.template.resources[id] else { continue }
            guard let existing = stack.resource(id) else {
                changes.append(
                    change([
                        "Action": "Add", "LogicalResourceId": .string(id), "ResourceType": .string(declared.type), "Scope": [],
                        "Details": [],
                    ]))
                continue
            }
            let type = ResourceTypes.all[declared.type]
            let resolved = try? evaluation.resolveProperties(of: id, lookup: lookup)
            if existing.type == declared.type, let resolved, resolved == existing.properties, !tagsChanged { continue }
            let changed = resolved.map { ResourceType.changedProperties(from: existing.properties, to: $0) } ?? []
            let replacement: String =
                if existing.type != declared.type { "True" } else if let resolved {
                    type?.replaces(from: existing.properties, to: resolved) ?? true ? "True" : "False"
                } else { "Conditional" }
            var scope: [JSONValue] = changed.isEmpty && resolved != nil ? [] : ["Properties"]
            if tagsChanged { scope.append("Tags") }
            let details: [JSONValue] = changed.map { name in
                [
                    "Target": [
                        "Attribute": "Properties", "Name": .string(name),
                        "RequiresRecreation": (type?.update == nil || type?.replacing.contains(name) == true) ? "Always" : "Never",
                    ],
                    "Evaluation": "Static", "ChangeSource": "DirectModification",
                ]
            }
            var fields: [String: JSONValue] = [
                "Action": "Modify", "LogicalResourceId": .string(id), "ResourceType": .string(declared.type),
                "Replacement": .string(replacement), "Scope": .array(scope), "Details": .array(details),
            ]
            if let physical = existing.physicalID { fields["PhysicalResourceId"] = .string(physical) }
            changes.append(change(fields))
        }
        for existing in stack.resources where !evaluation.isActive(existing.logicalID) {
            var fields: [String: JSONValue] = [
                "Action": "Remove", "LogicalResourceId": .string(existing.logicalID), "ResourceType": .string(existing.type),
                "Scope": [], "Details": [],
            ]
            if let physical = existing.physicalID { fields["PhysicalResourceId"] = .string(physical) }
            changes.append(change(fields))
        }
        return changes
    }

    // MARK: Change sets

    /// `CreateChangeSet` (B5): a CREATE change set of a new stack makes it in `REVIEW_IN_PROGRESS`; an UPDATE one
    /// needs an updatable stack. The changes are computed at once; a change set without any is `FAILED`.
    func createChangeSet(_ call: OperationCall) async throws -> JSONValue {
        let input = call.input
        let stackName = input["StackName"]?.string ?? ""
        let name = input["ChangeSetName"]?.string ?? ""
        guard CloudFormationErrors.isValidStackName(name) else {
            throw AWSError(
                "ValidationError",
                "1 validation error detected: Value '\(name)' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )
        }
        let type = input["ChangeSetType"]?.string ?? "UPDATE"
        let existing = store.stack(named: stackName, account: call.caller.accountId, region: call.region)
        var created: Stack?
        let stack: Stack
        switch type {
        case "CREATE":
            if let existing, existing.status != StackStatus.reviewInProgress {
                throw AWSError("AlreadyExistsException", "Stack [\(existing.name)] already exists")
            }
            if let existing {
                stack = existing
            } else {
                guard CloudFormationErrors.isValidStackName(stackName) else { throw CloudFormationErrors.invalidStackName(stackName) }
                let id = "arn:aws:cloudformation:\(call.region):\(call.caller.accountId):stack/\(stackName)/\(runtime.uuid().lowercased())"
                var review = newStack(id: id, name: stackName, call: call)
                review.status = StackStatus.reviewInProgress
                review.statusReason = "User Initiated"
                created = review
                stack = review
            }
        case "UPDATE":
            guard let existing else { throw AWSError("ValidationError", "Stack [\(stackName)] does not exist") }
            try Self.checkUpdatable(existing)
            stack = existing
        default:
            throw AWSError("ValidationError", "ChangeSetType \(type) is not supported by Cairn")
        }
        if store.changeSets(of: stack.id).contains(where: { $0.name == name }) {
            throw AWSError("AlreadyExistsException", "ChangeSet \(name) already exists")
        }
        let request = try await stackRequest(call, stack: type == "UPDATE" ? stack : nil)
        // A CREATE change set adds every resource (a stack in review has none).
        let changes = try plannedChanges(type == "CREATE" ? Self.emptied(stack) : stack, request)
        let empty = type == "UPDATE" && changes.isEmpty && !changesStack(stack, request)
        let id = "arn:aws:cloudformation:\(call.region):\(call.caller.accountId):changeSet/\(name)/\(runtime.uuid().lowercased())"
        let changeSet = ChangeSet(
            id: id, name: name, stackID: stack.id, stackName: stack.name, type: type, templateBody: request.body,
            description: input["Description"]?.string, parameters: Self.values(request.parameters),
            tags: request.tags ?? (type == "UPDATE" ? stack.tags : []),
            notificationARNs: request.notificationARNs ?? (type == "UPDATE" ? stack.notificationARNs : []),
            capabilities: request.capabilities, roleARN: request.roleARN, onStackFailure: input["OnStackFailure"]?.string,
            status: empty ? "FAILED" : "CREATE_COMPLETE", executionStatus: empty ? "UNAVAILABLE" : "AVAILABLE",
            statusReason: empty ? "The submitted information didn't contain changes. Submit different information to create a change set." : nil,
            creationTime: now, changes: changes)
        if let created {
            try await insert(
                created, events: [stackEvent(created, status: StackStatus.reviewInProgress, reason: "User Initiated", at: created.creationTime)],
                changeSet: changeSet)
        } else {
            try await change(stack.id, changeSets: [id: changeSet]) { _ in ([], ()) }
        }
        return ["Id": .string(id), "StackId": .string(stack.id)]
    }

    /// A stack as a CREATE change set sees it: no resources.
    static func emptied(_ stack: Stack) -> Stack {
        var s = stack
        s.resources = []
        return s
    }

    /// The change set a call names: by ARN, or by name with its stack.
    func changeSet(_ call: OperationCall) throws -> ChangeSet {
        let name = call.input["ChangeSetName"]?.string ?? ""
        let notFound = AWSError("ChangeSetNotFound", "ChangeSet [\(name)] does not exist", status: 404)
        if name.hasPrefix("arn:") {
            guard let found = store.changeSets[name], found.id.contains(":\(call.caller.accountId):") else { throw notFound }
            return found
        }
        guard let stackName = call.input["StackName"]?.string else {
            throw AWSError("ValidationError", "StackName must be specified if ChangeSetName is not specified as an ARN.")
        }
        guard let stack = store.stack(named: stackName, account: call.caller.accountId, region: call.region),
            let found = store.changeSets(of: stack.id).first(where: { $0.name == name })
        else { throw notFound }
        return found
    }

    /// `DescribeChangeSet`.
    func describeChangeSet(_ call: OperationCall) async throws -> JSONValue {
        let c = try changeSet(call)
        var out: [String: JSONValue] = [
            "ChangeSetName": .string(c.name), "ChangeSetId": .string(c.id), "StackId": .string(c.stackID),
            "StackName": .string(c.stackName),
            "Parameters": .array(
                c.parameters.map { ["ParameterKey": .string($0.key), "ParameterValue": .string($0.noEcho ? "****" : $0.value)] }),
            "CreationTime": .number(c.creationTime), "ExecutionStatus": .string(c.executionStatus), "Status": .string(c.status),
            "NotificationARNs": .array(c.notificationARNs.map(JSONValue.string)), "RollbackConfiguration": [:],
            "Capabilities": .array(c.capabilities.map(JSONValue.string)),
            "Tags": .array(c.tags.map { ["Key": .string($0.key), "Value": .string($0.value)] }),
            "Changes": .array(c.changes), "IncludeNestedStacks": false,
        ]
        if let d = c.description { out["Description"] = .string(d) }
        if let r = c.statusReason { out["StatusReason"] = .string(r) }
        if let f = c.onStackFailure { out["OnStackFailure"] = .string(f) }
        return .object(out)
    }

    /// `ListChangeSets`: the stack's change sets, oldest first.
    func listChangeSets(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        return [
            "Summaries": .array(
                store.changeSets(of: stack.id).map { c in
                    var o: [String: JSONValue] = [
                        "StackId": .string(c.stackID), "StackName": .string(c.stackName), "ChangeSetId": .string(c.id),
                        "ChangeSetName": .string(c.name), "ExecutionStatus": .string(c.executionStatus), "Status": .string(c.status),
                        "CreationTime": .number(c.creationTime), "IncludeNestedStacks": false,
                    ]
                    if let r = c.statusReason { o["StatusReason"] = .string(r) }
                    if let d = c.description { o["Description"] = .string(d) }
                    return .object(o)
                })
        ]
    }

    /// `DeleteChangeSet`: not while it is being executed.
    func deleteChangeSet(_ call: OperationCall) async throws -> JSONValue {
        let c = try changeSet(call)
        if c.executionStatus == "EXECUTE_IN_PROGRESS" {
            throw AWSError("InvalidChangeSetStatus", "Cannot delete ChangeSet in status EXECUTE_IN_PROGRESS")
        }
        let removal: [String: ChangeSet?] = [c.id: nil]
        try await change(c.stackID, changeSets: removal) { _ in ([], ()) }
        return [:]
    }

    /// `ExecuteChangeSet`: runs the change set's creation or update (the stack's other change sets are deleted),
    /// and answers once the stack is done or ``executeWait`` has passed.
    func executeChangeSet(_ call: OperationCall) async throws -> JSONValue {
        let c = try changeSet(call)
        guard c.status == "CREATE_COMPLETE", c.executionStatus == "AVAILABLE", let stack = store.stacks[c.stackID] else {
            throw AWSError(
                "InvalidChangeSetStatus", "ChangeSet [\(c.id)] cannot be executed in its current status of [\(c.status)]")
        }
        let template = try Self.parse(c.templateBody)
        let inputs: [JSONValue] = c.parameters.map { ["ParameterKey": .string($0.key), "ParameterValue": .string($0.value)] }
        let parameters = try Self.parameters(template, inputs.isEmpty ? nil : .array(inputs), previous: [:])
        let request = StackRequest(
            body: c.templateBody, template: template, parameters: parameters, tags: c.tags, notificationARNs: c.notificationARNs,
            capabilities: c.capabilities, roleARN: c.roleARN, description: template.description)
        let token = call.input["ClientRequestToken"]?.string
        if c.type == "CREATE" {
            guard stack.status == StackStatus.reviewInProgress else {
                throw AWSError("InvalidChangeSetStatus", "ChangeSet [\(c.id)] cannot be executed in its current status of [\(c.status)]")
            }
            let time = now
            let session = try await roleSession(c.roleARN, account: stack.account, region: stack.region)
            var others: [String: ChangeSet?] = [:]
            for other in store.changeSets(of: stack.id) where other.id != c.id { others.updateValue(nil, forKey: other.id) }
            var executed = c
            executed.executionStatus = "EXECUTE_IN_PROGRESS"
            others[c.id] = executed
            try await change(stack.id, changeSets: others) { s in
                try start(creationOf: &s, request: request, token: token)
                s.actor = call.caller
                s.roleSession = session
                s.changeSetID = c.id
                s.lastUpdatedTime = time
                let disable = call.input["DisableRollback"]?.bool ?? false
                s.onFailure = disable ? "DO_NOTHING" : (c.onStackFailure ?? "ROLLBACK")
                s.disableRollback = s.onFailure == "DO_NOTHING"
                return ([stackEvent(s, status: StackStatus.createInProgress, reason: "User Initiated", at: time)], ())
            }
        } else {
            try Self.checkUpdatable(stack)
            try await startUpdate(stack.id, request: request, token: token, caller: call.caller, changeSet: c.id)
        }
        submit(stack.id)
        let deadline = ContinuousClock.now + Self.executeWait
        while store.stacks[stack.id]?.operation != nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return [:]
    }

    /// Marks the change set a stack operation came from as executed, once the stack reached a terminal state.
    func noteExecution(_ stackID: String) async {
        guard let stack = store.stacks[stackID], stack.operation == nil, let id = stack.changeSetID,
            var c = store.changeSets[id], c.executionStatus == "EXECUTE_IN_PROGRESS"
        else { return }
        c.executionStatus = [StackStatus.createComplete, StackStatus.updateComplete].contains(stack.status) ? "EXECUTE_COMPLETE" : "EXECUTE_FAILED"
        _ = try? await change(stackID, changeSets: [id: c]) { _ in ([], ()) }
    }

    /// `GetTemplateSummary`: of a template (body or URL) or of a stack's template.
    func getTemplateSummary(_ call: OperationCall) async throws -> JSONValue {
        let body: String
        if call.input["TemplateBody"] != nil || call.input["TemplateURL"] != nil {
            body = try await templateBody(call)
        } else if call.input["StackName"] != nil {
            let stack = try existing(call)
            if stack.status == StackStatus.reviewInProgress {
                throw AWSError("ValidationError", "GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks.")
            }
            body = stack.templateBody
        } else {
            throw AWSError("ValidationError", "Either Template URL or Template Body or StackName must be specified.")
        }
        let summary = try Self.parse(body).summary
        var out: [String: JSONValue] = [
            "Parameters": .array(
                summary.parameters.map { p in
                    var o: [String: JSONValue] = [
                        "ParameterKey": .string(p.name), "ParameterType": .string(p.type.description), "NoEcho": .bool(p.noEcho),
                        "ParameterConstraints": p.allowedValues.map { ["AllowedValues": .array($0.map(JSONValue.string))] } ?? [:],
                    ]
                    if let d = p.defaultValue { o["DefaultValue"] = .string(p.noEcho ? "****" : d) }
                    if let d = p.description { o["Description"] = .string(d) }
                    return .object(o)
                }),
            "Capabilities": .array(summary.capabilities.map(JSONValue.string)),
            "ResourceTypes": .array(summary.resourceTypes.map(JSONValue.string)),
            "DeclaredTransforms": .array(summary.declaredTransforms.map(JSONValue.string)),
        ]
        if let d = summary.description { out["Description"] = .string(d) }
        if let r = summary.capabilitiesReason { out["CapabilitiesReason"] = .string(r) }
        if let v = summary.version { out["Version"] = .string(v) }
        if let m = summary.metadata { out["Metadata"] = .string(m) }
        return .object(out)
    }
}
