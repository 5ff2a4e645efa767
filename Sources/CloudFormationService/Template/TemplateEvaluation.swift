package import AWSCore
import OrderedCollections

/// A template evaluated for one stack operation: conditions decided, the resources that exist, their dependency
/// graph and the order to create them in; and the resolution of properties and outputs as resources get made.
///
/// Creating it performs the checks that need parameter values: a resource or output that refers to a resource
/// whose condition is false fails with `Unresolved resource dependencies`, and cycles among the existing resources
/// with `Circular dependency between resources`.
package struct TemplateEvaluation: Sendable {
    /// The template.
    package let template: Template
    /// The operation's parameter values.
    package let parameters: ResolvedParameters
    /// The stack facts behind the pseudo parameters.
    package let context: StackContext
    /// Every condition's value.
    package let conditions: [String: Bool]
    /// The resources that exist in this operation (no condition, or a true one), in template order.
    package let activeResources: [String]
    private let active: Set<String>
    private let graph: DependencyGraph

    /// Decides conditions and builds the dependency graph; throws the reference and cycle errors of B6.3/B6.7.
    package init(template: Template, parameters: ResolvedParameters, context: StackContext) throws(TemplateError) {
        self.template = template
        self.parameters = parameters
        self.context = context

        var evaluator = Evaluator(
            template: template, parameters: parameters, context: context, conditions: [:], active: [],
            lookup: NoResourceLookup())
        for name in try template.conditionOrder() {
            evaluator.conditions[name] = try evaluator.bool(template.conditions[name]!, name)
        }
        let conditions = evaluator.conditions
        self.conditions = conditions

        let activeResources = template.resources.values.filter { r in r.condition.map { conditions[$0] ?? false } ?? true }
            .map(\.logicalId)
        self.activeResources = activeResources
        let active = Set(activeResources)
        self.active = active

        var unresolved: [String] = []
        func note(_ name: String) { if !unresolved.contains(name) { unresolved.append(name) } }
        for id in activeResources {
            let resource = template.resources[id]!
            for name in resource.dependsOn where !active.contains(name) { note(name) }
            for expression in resource.expressions {
                for reference in expression.references(conditions: conditions) {
                    if let missing = try template.missingName(reference, active: active.contains) { note(missing) }
                }
            }
        }
        if !unresolved.isEmpty { throw .unresolvedResourceDependencies(unresolved) }
        for output in template.outputs.values where output.condition.map({ conditions[$0] ?? false }) ?? true {
            for reference in output.value.references(conditions: conditions) {
                if let missing = try template.missingName(reference, active: active.contains) { note(missing) }
            }
        }
        if !unresolved.isEmpty { throw .unresolvedResourceDependencies(unresolved, block: "Outputs") }

        graph = DependencyGraph(
            nodes: activeResources, edges: template.dependencyEdges(conditions: conditions, active: active))
        let blocked = graph.order().blocked
        if !blocked.isEmpty { throw .circularDependency(blocked) }
    }

    // MARK: Ordering

    /// Whether the resource exists in this operation.
    package func isActive(_ logicalId: String) -> Bool { active.contains(logicalId) }

    /// The resources `logicalId` waits for (DependsOn, Ref, Fn::GetAtt, Fn::Sub), in template order.
    package func dependencies(of logicalId: String) -> [String] { graph.dependencies[logicalId] ?? [] }

    /// The resources that wait for `logicalId`, in template order.
    package func dependents(of logicalId: String) -> [String] { graph.dependents(of: logicalId) }

    /// The creation order: each resource after its dependencies, ties broken by template order.
    package var creationOrder: [String] { graph.order().order }

    /// Groups of resources that may be created together; each group depends only on earlier groups.
    package var creationWaves: [[String]] { graph.waves() }

    /// The deletion order: the reverse of the creation order.
    package var deletionOrder: [String] { creationOrder.reversed() }

    // MARK: Resolution

    /// Resolves a resource's Properties with the made resources in `lookup`; `AWS::NoValue` entries are removed.
    package func resolveProperties(of logicalId: String, lookup: some ResourceLookup) throws(TemplateError) -> JSONValue {
        guard let resource = template.resources[logicalId] else { return .object([:]) }
        return try resolve(resource.properties, lookup: lookup).map(TemplateEvaluation.stringifyingBooleans)
            ?? .object([:])
    }

    /// Resolves a resource's Metadata, if it has any.
    package func resolveMetadata(of logicalId: String, lookup: some ResourceLookup) throws(TemplateError) -> JSONValue? {
        guard let metadata = template.resources[logicalId]?.metadata else { return nil }
        return try resolve(metadata, lookup: lookup).map(TemplateEvaluation.stringifyingBooleans)
    }

    /// Resolves any expression of this template; `nil` is `AWS::NoValue`.
    package func resolve(_ expression: Expression, lookup: some ResourceLookup) throws(TemplateError) -> JSONValue? {
        try evaluator(lookup).value(expression)
    }

    /// The outputs whose condition holds, resolved, in template order.
    package func resolveOutputs(lookup: some ResourceLookup) throws(TemplateError) -> [ResolvedOutput] {
        let evaluator = evaluator(lookup)
        var resolved: [ResolvedOutput] = []
        for output in template.outputs.values where isActive(output: output) {
            guard let value = try evaluator.value(output.value), let text = scalarText(value) else {
                throw .format("The Value field of every Outputs member must evaluate to a String and not a List.")  // ⚠
            }
            var exportName: String?
            if let nameExpression = output.exportName {
                exportName = try exportNameText(output, nameExpression)
            }
            resolved.append(ResolvedOutput(key: output.name, value: text, description: output.description, exportName: exportName))
        }
        return resolved
    }

    /// The export names this operation would create (known before any resource is made).
    package func exportNames() throws(TemplateError) -> [String] {
        var names: [String] = []
        for output in template.outputs.values where isActive(output: output) {
            if let expression = output.exportName { names.append(try exportNameText(output, expression)) }
        }
        return names
    }

    /// The names of the exports that this operation's resources and outputs import (`Fn::ImportValue`), in
    /// template order, for the "export in use" checks.
    package func importedExportNames() throws(TemplateError) -> [String] {
        let evaluator = evaluator(NoResourceLookup())
        var names: [String] = []
        var expressions: [Expression] = []
        for id in activeResources { expressions += template.resources[id]!.expressions }
        for output in template.outputs.values where isActive(output: output) { expressions.append(output.value) }
        for expression in expressions {
            for argument in expression.importValueArguments(conditions: conditions) {
                let name = try evaluator.string(argument, "Fn::ImportValue")
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// Whether an output's condition holds (or it has none).
    private func isActive(output: Output) -> Bool {
        output.condition.map { conditions[$0] ?? false } ?? true
    }

    /// An export name resolved (it may use parameters, never resources) and checked against the charset.
    private func exportNameText(_ output: Output, _ expression: Expression) throws(TemplateError) -> String {
        guard let value = try evaluator(NoResourceLookup()).value(expression), let name = scalarText(value),
            Template.isValidExportName(name)
        else { throw .invalidExportName(output.name) }
        return name
    }

    /// An evaluator over this operation's facts and `lookup`.
    private func evaluator<Lookup: ResourceLookup>(_ lookup: Lookup) -> Evaluator<Lookup> {
        Evaluator(
            template: template, parameters: parameters, context: context, conditions: conditions, active: active,
            lookup: lookup)
    }

    /// Condition results inside properties reach providers as `"true"`/`"false"`, like every other scalar.
    private static func stringifyingBooleans(_ value: JSONValue) -> JSONValue {
        switch value {
        case .bool(let b): return .string(b ? "true" : "false")
        case .array(let items): return .array(items.map(stringifyingBooleans))
        case .object(let members): return .object(members.mapValues(stringifyingBooleans))
        default: return value
        }
    }
}

/// An output as DescribeStacks shows it.
package struct ResolvedOutput: Sendable, Hashable {
    /// `OutputKey`.
    package var key: String
    /// `OutputValue`.
    package var value: String
    /// `Description`.
    package var description: String?
    /// `ExportName`, when exported.
    package var exportName: String?
}
