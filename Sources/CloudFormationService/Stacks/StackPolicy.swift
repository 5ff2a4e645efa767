import AWSCore
import Foundation

/// A stack policy: which update actions (`Update:Modify`, `Update:Replace`, `Update:Delete`) a stack update may take
/// on which resources. Once a stack has a policy, every resource is protected unless a statement allows the action;
/// a matching `Deny` wins over any `Allow` (CloudFormation User Guide, "Prevent updates to stack resources").
struct StackPolicy: Sendable {
    /// One statement, as written.
    struct Statement: Sendable {
        var allows: Bool
        var actions: [String]
        var notActions: [String]
        var resources: [String]
        var notResources: [String]
        /// `StringEquals` / `StringLike` on `ResourceType`.
        var resourceTypes: (equals: [String], like: [String])
    }

    var statements: [Statement]

    /// Reads a policy document.
    ///
    /// - Throws: `ValidationError` for a document that is not a policy (⚠ the exact wording of AWS's messages for
    ///   each malformation is unverified; this one names the problem).
    init(_ text: String) throws {
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), let list = document["Statement"] else {
            throw AWSError("ValidationError", "Error validating stack policy: Invalid stack policy")
        }
        let items = list.array ?? [list]
        func strings(_ value: JSONValue?) -> [String] {
            if let s = value?.string { return [s] }
            return value?.array?.compactMap(\.string) ?? []
        }
        statements = try items.map { item in
            guard let effect = item["Effect"]?.string, effect == "Allow" || effect == "Deny" else {
                throw AWSError("ValidationError", "Error validating stack policy: Statement Effect must be Allow or Deny")
            }
            let actions = strings(item["Action"]) + strings(item["NotAction"])
            guard !actions.isEmpty, actions.allSatisfy({ $0.hasPrefix("Update:") }) else {
                throw AWSError("ValidationError", "Error validating stack policy: Statement Action must be one of Update:*, Update:Modify, Update:Replace, Update:Delete")
            }
            var condition: (equals: [String], like: [String]) = ([], [])
            if let c = item["Condition"] {
                condition = (strings(c["StringEquals"]?["ResourceType"]), strings(c["StringLike"]?["ResourceType"]))
            }
            return Statement(
                allows: effect == "Allow", actions: strings(item["Action"]), notActions: strings(item["NotAction"]),
                resources: strings(item["Resource"]), notResources: strings(item["NotResource"]), resourceTypes: condition)
        }
    }

    /// Why the action on the resource is refused, or `nil` when the policy allows it.
    ///
    /// The texts follow what real stack events show: `Action denied by stack policy: Statement [#n] does not allow
    /// [Update:Replace] for resource [LogicalResourceId/X];` for a matching Deny (a published listing), and `Action
    /// not allowed by stack policy` when no statement allows it (⚠ the rest of that sentence is unverified).
    func refusal(_ action: String, logicalID: String, type: String) -> String? {
        let resource = "LogicalResourceId/" + logicalID
        var allowed = false
        for (index, statement) in statements.enumerated() where statement.matches(action, resource: resource, type: type) {
            guard statement.allows else {
                return "Action denied by stack policy: Statement [#\(index + 1)] does not allow [\(action)] for resource [\(resource)];"
            }
            allowed = true
        }
        return allowed ? nil : "Action not allowed by stack policy: No statement allows [\(action)] for resource [\(resource)];"
    }
}

extension StackPolicy.Statement {
    /// Whether the statement covers an action on a resource of a type.
    func matches(_ action: String, resource: String, type: String) -> Bool {
        let actionMatches = notActions.isEmpty ? actions.contains { Glob.matches($0, action) } : !notActions.contains { Glob.matches($0, action) }
        let resourceMatches =
            notResources.isEmpty ? resources.contains { Glob.matches($0, resource) } : !notResources.contains { Glob.matches($0, resource) }
        let typeMatches =
            (resourceTypes.equals.isEmpty || resourceTypes.equals.contains(type))
            && (resourceTypes.like.isEmpty || resourceTypes.like.contains { Glob.matches($0, type) })
        return actionMatches && resourceMatches && typeMatches
    }
}
