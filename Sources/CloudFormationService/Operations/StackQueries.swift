import OrderedCollections
import Storage
import Logging
import AWSCore
import Foundation
import Gateway

/// The read-only stack operations: DescribeStacks, ListStacks, DescribeStackEvents, DescribeStackResource(s),
/// ListStackResources and GetTemplate.
extension CloudFormationCore {
    /// The most items one page of a paged answer holds.
    static let pageSize = 100

    /// `DescribeStacks`: one stack by name or id, or every stack of the region that is not deleted.
    func describeStacks(_ call: OperationCall) async throws -> JSONValue {
        if let name = call.input["StackName"]?.string {
            guard let stack = store.stack(named: name, account: call.caller.accountId, region: call.region) else {
                throw CloudFormationErrors.stackNotFound(name)
            }
            return ["Stacks": [Self.describe(stack)]]
        }
        let live = store.stacks(account: call.caller.accountId, region: call.region).filter { !$0.isDeleted }
        let (page, next) = try Self.page(live, token: call.input["NextToken"]?.string, id: \.id)
        var out: [String: JSONValue] = ["Stacks": .array(page.map(Self.describe))]
        if let next { out["NextToken"] = .string(next) }
        return .object(out)
    }

    /// `ListStacks`: summaries of every stack of the region, deleted ones included, filtered by status.
    func listStacks(_ call: OperationCall) async throws -> JSONValue {
        let filter = Set(call.input["StackStatusFilter"]?.array?.compactMap(\.string) ?? [])
        let stacks = store.stacks(account: call.caller.accountId, region: call.region).filter {
            filter.isEmpty || filter.contains($0.status)
        }
        let (page, next) = try Self.page(stacks, token: call.input["NextToken"]?.string, id: \.id)
        var out: [String: JSONValue] = [
            "StackSummaries": .array(
                page.map { stack in
                    var s: [String: JSONValue] = [
                        "StackId": .string(stack.id), "StackName": .string(stack.name), "CreationTime": .number(stack.creationTime),
                        "StackStatus": .string(stack.status), "DriftInformation": ["StackDriftStatus": "NOT_CHECKED"],
                    ]
                    if let d = stack.description { s["TemplateDescription"] = .string(d) }
                    if let t = stack.lastUpdatedTime { s["LastUpdatedTime"] = .number(t) }
                    if let t = stack.deletionTime { s["DeletionTime"] = .number(t) }
                    if let r = stack.statusReason { s["StackStatusReason"] = .string(r) }
                    return .object(s)
                })
        ]
        if let next { out["NextToken"] = .string(next) }
        return .object(out)
    }

    /// `DescribeStackEvents`: the stack's events, newest first.
    func describeStackEvents(_ call: OperationCall) async throws -> JSONValue {
        let name = call.input["StackName"]?.string ?? ""
        guard let stack = store.stack(named: name, account: call.caller.accountId, region: call.region) else {
            throw AWSError("ValidationError", "Stack [\(name)] does not exist")
        }
        let events = store.events(of: stack.id)
        let (page, next) = try Self.page(events, token: call.input["NextToken"]?.string, id: \.eventID)
        var out: [String: JSONValue] = [
            "StackEvents": .array(
                page.map { e in
                    var o: [String: JSONValue] = [
                        "StackId": .string(e.stackID), "EventId": .string(e.eventID), "StackName": .string(e.stackName),
                        "LogicalResourceId": .string(e.logicalID), "PhysicalResourceId": .string(e.physicalID),
                        "ResourceType": .string(e.resourceType), "Timestamp": .number(e.timestamp),
                        "ResourceStatus": .string(e.status),
                    ]
                    if let r = e.reason { o["ResourceStatusReason"] = .string(r) }
                    if let p = e.properties { o["ResourceProperties"] = .string(p) }
                    if let t = e.clientRequestToken { o["ClientRequestToken"] = .string(t) }
                    return .object(o)
                })
        ]
        if let next { out["NextToken"] = .string(next) }
        return .object(out)
    }

    /// `DescribeStackResource`: one resource of a stack, in detail.
    func describeStackResource(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        let logicalID = call.input["LogicalResourceId"]?.string ?? ""
        guard let resource = stack.resource(logicalID) else {
            throw AWSError("ValidationError", "Resource \(logicalID) does not exist for stack \(stack.name)")
        }
        var detail = Self.row(resource, of: stack, timeKey: "LastUpdatedTimestamp")
        if let metadata = resource.metadata { detail["Metadata"] = .string(metadata.jsonText) }
        return ["StackResourceDetail": .object(detail)]
    }

    /// `DescribeStackResources`: the resources of a stack (by name, or the stack owning a physical id), at most 100.
    func describeStackResources(_ call: OperationCall) async throws -> JSONValue {
        let account = call.caller.accountId
        let stack: Stack
        if let name = call.input["StackName"]?.string {
            guard let found = store.stack(named: name, account: account, region: call.region) else {
                throw CloudFormationErrors.stackNotFound(name)
            }
            stack = found
        } else if let physical = call.input["PhysicalResourceId"]?.string {
            guard
                let found = store.stacks(account: account, region: call.region).first(where: { s in
                    !s.isDeleted && s.resources.contains { $0.physicalID == physical }
                })
            else { throw CloudFormationErrors.stackNotFound(physical) }
            stack = found
        } else {
            throw AWSError("ValidationError", "Either StackName or PhysicalResourceId must be specified.")
        }
        let logicalID = call.input["LogicalResourceId"]?.string
        let rows = stack.resources.filter { $0.physicalID != nil || $0.status != "" }
            .filter { logicalID == nil || $0.logicalID == logicalID }
            .prefix(100)
            .map { JSONValue.object(Self.row($0, of: stack, timeKey: "Timestamp")) }
        return ["StackResources": .array(Array(rows))]
    }

    /// `ListStackResources`: summaries of a stack's resources.
    func listStackResources(_ call: OperationCall) async throws -> JSONValue {
        let stack = try existing(call)
        let (page, next) = try Self.page(stack.resources, token: call.input["NextToken"]?.string, id: \.logicalID)
        var out: [String: JSONValue] = [
            "StackResourceSummaries": .array(
                page.map { r in
                    var o: [String: JSONValue] = [
                        "LogicalResourceId": .string(r.logicalID), "ResourceType": .string(r.type),
                        "LastUpdatedTimestamp": .number(r.updated), "ResourceStatus": .string(r.status),
                        "DriftInformation": ["StackResourceDriftStatus": "NOT_CHECKED"],
                    ]
                    if let p = r.physicalID { o["PhysicalResourceId"] = .string(p) }
                    if let reason = r.statusReason { o["ResourceStatusReason"] = .string(reason) }
                    return .object(o)
                })
        ]
        if let next { out["NextToken"] = .string(next) }
        return .object(out)
    }

    /// `GetTemplate`: the template as submitted (no transform is expanded, so `Processed` is the same text).
    func getTemplate(_ call: OperationCall) async throws -> JSONValue {
        if call.input["ChangeSetName"]?.string != nil {
            throw AWSError("ChangeSetNotFound", "ChangeSet [\(call.input["ChangeSetName"]?.string ?? "")] does not exist", status: 404)
        }
        let stack = try existing(call)
        return ["TemplateBody": .string(stack.templateBody), "StagesAvailable": ["Original", "Processed"]]
    }

    /// The stack the call's `StackName` names, or `Stack with id <x> does not exist`.
    func existing(_ call: OperationCall) throws -> Stack {
        let name = call.input["StackName"]?.string ?? ""
        guard let stack = store.stack(named: name, account: call.caller.accountId, region: call.region) else {
            throw CloudFormationErrors.stackNotFound(name)
        }
        return stack
    }

    // MARK: Rendering

    /// A `Stack` of DescribeStacks (B3.4).
    static func describe(_ stack: Stack) -> JSONValue {
        var s: [String: JSONValue] = [
            "StackId": .string(stack.id), "StackName": .string(stack.name),
            "Parameters": .array(
                stack.parameters.map { p in
                    ["ParameterKey": .string(p.key), "ParameterValue": .string(p.noEcho ? "****" : p.value)]
                }),
            "CreationTime": .number(stack.creationTime), "RollbackConfiguration": [:], "StackStatus": .string(stack.status),
            "DisableRollback": .bool(stack.disableRollback), "NotificationARNs": .array(stack.notificationARNs.map(JSONValue.string)),
            "Capabilities": .array(stack.capabilities.map(JSONValue.string)),
            "Tags": .array(stack.tags.map { ["Key": .string($0.key), "Value": .string($0.value)] }),
            "EnableTerminationProtection": .bool(stack.terminationProtection),
            "DriftInformation": ["StackDriftStatus": "NOT_CHECKED"],
        ]
        if let d = stack.description { s["Description"] = .string(d) }
        if let r = stack.statusReason { s["StackStatusReason"] = .string(r) }
        if let t = stack.lastUpdatedTime { s["LastUpdatedTime"] = .number(t) }
        if let t = stack.deletionTime { s["DeletionTime"] = .number(t) }
        if let t = stack.timeoutInMinutes { s["TimeoutInMinutes"] = .number(Double(t)) }
        if let role = stack.roleARN { s["RoleARN"] = .string(role) }
        if let changeSet = stack.changeSetID { s["ChangeSetId"] = .string(changeSet) }
        if let parent = stack.parentID { s["ParentId"] = .string(parent) }
        if let root = stack.rootID { s["RootId"] = .string(root) }
        if stack.status.hasSuffix("_COMPLETE"), stack.status != StackStatus.rollbackComplete, !stack.outputs.isEmpty {
            s["Outputs"] = .array(
                stack.outputs.map { o in
                    var out: [String: JSONValue] = ["OutputKey": .string(o.key), "OutputValue": .string(o.value)]
                    if let d = o.description { out["Description"] = .string(d) }
                    if let e = o.exportName { out["ExportName"] = .string(e) }
                    return .object(out)
                })
        }
        return .object(s)
    }

    /// A `StackResource` (or the shared part of a `StackResourceDetail`), with its time under `timeKey`.
    static func row(_ r: StackResource, of stack: Stack, timeKey: String) -> [String: JSONValue] {
        var o: [String: JSONValue] = [
            "StackName": .string(stack.name), "StackId": .string(stack.id), "LogicalResourceId": .string(r.logicalID),
            "ResourceType": .string(r.type), timeKey: .number(r.updated), "ResourceStatus": .string(r.status),
            "DriftInformation": ["StackResourceDriftStatus": "NOT_CHECKED"],
        ]
        if let p = r.physicalID { o["PhysicalResourceId"] = .string(p) }
        if let reason = r.statusReason { o["ResourceStatusReason"] = .string(reason) }
        return o
    }

    /// One page of `items` after the item a token names (the token is the last item's id, base64url-encoded).
    static func page<T>(_ items: [T], token: String?, id: (T) -> String) throws -> (page: [T], next: String?) {
        var start = 0
        if let token {
            guard let data = Data(base64Encoded: token), let after = String(data: data, encoding: .utf8),
                let index = items.firstIndex(where: { id($0) == after })
            else { throw AWSError("ValidationError", "Invalid NextToken") }
            start = index + 1
        }
        let end = min(items.count, start + pageSize)
        let page = Array(items[start..<end])
        let next = end < items.count ? page.last.map { Data(id($0).utf8).base64EncodedString() } : nil
        return (page, next)
    }
}
