import Storage
import AWSCore
import Foundation
import Gateway

/// `AWS::CloudFormation::Stack`: a nested stack, made by a CreateStack call as the parent's caller (recorded with
/// `invokedBy: cloudformation.amazonaws.com`) and followed until it ends. Ref is the nested stack's id; its outputs
/// are the attributes `Outputs.<name>`.
extension ResourceTypes {
    static let nestedStack = ResourceType(
        name: "AWS::CloudFormation::Stack",
        create: { context, properties, name in
            var input = nestedInput(context, properties)
            input["StackName"] = .string(name!)
            let id: String
            do {
                id = try await context.call("cloudformation", "CreateStack", .object(input))["StackId"]?.string ?? ""
            } catch let error as AWSError where error.code == "AlreadyExistsException" && context.resumed {
                // Made before a restart: follow it.
                guard let found = context.store?.stack(named: name!, account: context.account, region: context.region) else { throw error }
                id = found.id
            }
            try await context.store?.adopt(id, parent: context.stackID)
            let stack = try await waitForNested(context, id)
            guard stack.status == StackStatus.createComplete else {
                throw ResourceFailure(reason: "Embedded stack \(id) was not successfully created: \(stack.statusReason ?? stack.status)")
            }
            return provisioned(stack)
        },
        delete: { context, resource in
            guard let id = resource.physicalID else { return }
            _ = try await context.call("cloudformation", "DeleteStack", ["StackName": .string(id)])
            let stack = try await waitForNested(context, id)
            guard stack.status == StackStatus.deleteComplete else {
                throw ResourceFailure(reason: "Embedded stack \(id) was not successfully deleted: \(stack.statusReason ?? stack.status)")
            }
        },
        naming: ("", 128, false), replacing: [],
        update: { context, resource, properties in
            let id = resource.physicalID ?? ""
            var input = nestedInput(context, properties)
            input["StackName"] = .string(id)
            do {
                _ = try await context.call("cloudformation", "UpdateStack", .object(input))
            } catch let error as AWSError where error.message == "No updates are to be performed." {
                guard let stack = context.store?.stacks[id] else { throw error }
                return provisioned(stack)
            }
            let stack = try await waitForNested(context, id)
            guard stack.status == StackStatus.updateComplete else {
                throw ResourceFailure(reason: "Embedded stack \(id) was not successfully updated: \(stack.statusReason ?? stack.status)")
            }
            return provisioned(stack)
        })

    /// CreateStack's or UpdateStack's input for a nested stack's properties: its template URL, parameters (a map in
    /// the template), notification topics, timeout and tags.
    static func nestedInput(_ context: ResourceContext, _ properties: JSONValue) -> [String: JSONValue] {
        var input: [String: JSONValue] = ["TemplateURL": properties["TemplateURL"] ?? ""]
        if let parameters = properties["Parameters"]?.object {
            input["Parameters"] = .array(
                parameters.keys.sorted().map { ["ParameterKey": .string($0), "ParameterValue": .string(parameters[$0]?.propertyText ?? "")] })
        }
        if let arns = properties["NotificationARNs"] { input["NotificationARNs"] = arns }
        if let timeout = properties["TimeoutInMinutes"] { input["TimeoutInMinutes"] = timeout }
        var tags = context.stackTags.map { JSONValue.object(["Key": .string($0.key), "Value": .string($0.value)]) }
        tags += properties["Tags"]?.array ?? []
        if !tags.isEmpty { input["Tags"] = .array(tags) }
        return input
    }

    /// The nested stack once its operation has ended.
    static func waitForNested(_ context: ResourceContext, _ id: String) async throws -> Stack {
        guard let store = context.store else { throw ResourceFailure(reason: "Embedded stack \(id) cannot be followed") }
        while true {
            guard let stack = store.stacks[id] else { throw ResourceFailure(reason: "Embedded stack \(id) does not exist") }
            if stack.operation == nil { return stack }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// What a nested stack's Ref and `Outputs.<name>` attributes return.
    static func provisioned(_ stack: Stack) -> Provisioned {
        var attributes: [String: JSONValue] = [:]
        for output in stack.outputs { attributes["Outputs." + output.key] = .string(output.value) }
        return Provisioned(physicalID: stack.id, ref: stack.id, attributes: attributes)
    }
}

extension StackStore {
    /// Records that a stack is nested in another (`ParentId`, and `RootId`: the parent's root, or the parent).
    func adopt(_ stackID: String, parent: String) async throws {
        let root = stacks[parent]?.rootID ?? parent
        try await change(stackID) { s in
            s.parentID = parent
            s.rootID = root
            return ([], ())
        }
    }
}
