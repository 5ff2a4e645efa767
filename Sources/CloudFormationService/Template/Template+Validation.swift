import OrderedCollections

extension Template {
    /// The pseudo parameters `Ref` may name (B6.6).
    package static let pseudoParameters: Set<String> = [
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region", "AWS::StackId",
        "AWS::StackName", "AWS::URLSuffix",
    ]

    /// The structural checks ValidateTemplate makes (no parameter values needed): resource types, references from
    /// every section, conditions, circular dependencies and export names.
    package func validate() throws(TemplateError) {
        try validateResourceTypes()
        try validateConditions()
        try validateResourceReferences()
        _ = try staticGraph()
        try validateOutputs()
    }

    /// Whether `type` names a type AWS has (or a custom resource, or a SAM type under the SAM transform).
    package func isRecognizedResourceType(_ type: String) -> Bool {
        if ResourceTypeCatalog.all.contains(type) { return true }
        if let name = type.unwrapped(prefix: "Custom::", suffix: "") {
            return !name.isEmpty && name.count <= 60
                && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "-") || String(UnicodeScalar($0)).isAlphanumeric }
        }
        if type.hasPrefix("AWS::Serverless::") { return transforms.contains(Template.serverless) }
        return false
    }

    /// Lists every type AWS does not have, in template order.
    private func validateResourceTypes() throws(TemplateError) {
        var unknown: OrderedSet<String> = []
        for resource in resources.values where !isRecognizedResourceType(resource.type) {
            unknown.append(resource.type)
        }
        if !unknown.isEmpty { throw .unrecognizedResourceTypes(Array(unknown)) }
    }

    /// Conditions may use parameters, pseudo parameters, mappings and other conditions, never resources.
    private func validateConditions() throws(TemplateError) {
        var unresolved: OrderedSet<String> = []
        for expression in conditions.values {
            for reference in expression.references() {
                switch reference {
                case .name(let name):
                    if !Template.pseudoParameters.contains(name), parameters[name] == nil { unresolved.append(name) }
                case .attribute(let resource): unresolved.append(resource)
                case .dottedVariable(let name): unresolved.append(name)
                case .condition(let name), .ifCondition(let name):
                    if conditions[name] == nil { unresolved.append(name) }
                case .importValue, .getAZs: continue
                }
            }
        }
        if !unresolved.isEmpty { throw .unresolvedConditionsDependencies(Array(unresolved)) }
        _ = try conditionOrder()
    }

    /// The conditions in an order where each comes after those it names; a loop is an error.
    func conditionOrder() throws(TemplateError) -> [String] {
        var edges: [String: Set<String>] = [:]
        for (name, expression) in conditions {
            var names = Set<String>()
            for case .condition(let other) in expression.references() { names.insert(other) }
            edges[name] = names
        }
        let (order, blocked) = DependencyGraph(nodes: Array(conditions.keys), edges: edges).order()
        if !blocked.isEmpty { throw .circularConditionDependency(blocked) }
        return order
    }

    /// Checks that every name a resource uses exists; throws the first kind of failure found, listing all names.
    private func validateResourceReferences() throws(TemplateError) {
        var unresolved: OrderedSet<String> = []
        var unresolvedConditions: OrderedSet<String> = []
        for resource in resources.values {
            if let condition = resource.condition, conditions[condition] == nil { unresolvedConditions.append(condition) }
            for name in resource.dependsOn where resources[name] == nil { unresolved.append(name) }
            for expression in resource.expressions {
                for reference in expression.references() {
                    if let missing = try missingName(reference) { unresolved.append(missing) }
                }
                try checkImportValues(in: expression, conditions: nil)
            }
        }
        if !unresolvedConditions.isEmpty { throw .unresolvedConditionDependencies(Array(unresolvedConditions)) }
        if !unresolved.isEmpty { throw .unresolvedResourceDependencies(Array(unresolved)) }
    }

    /// The name a reference fails to find (`nil` when it resolves); throws for GetAtt and Fn::If failures.
    func missingName(_ reference: Reference, active: ((String) -> Bool)? = nil) throws(TemplateError) -> String? {
        let isResource: (String) -> Bool = { name in resources[name] != nil && (active?(name) ?? true) }
        switch reference {
        case .name(let name):
            if Template.pseudoParameters.contains(name) || parameters[name] != nil || isResource(name) { return nil }
            return name
        case .attribute(let resource):
            if resources[resource] == nil { throw .getAttUndefinedResource(resource) }
            return isResource(resource) ? nil : resource
        case .dottedVariable(let name):
            let resource = String(name.prefix { $0 != "." })
            return isResource(resource) ? nil : name
        case .ifCondition(let name), .condition(let name):
            if conditions[name] == nil { throw .unresolvedConditionInIf(name) }
            return nil
        case .importValue, .getAZs:
            return nil
        }
    }

    /// An `Fn::ImportValue` name may use parameters and mappings, never resources or other imports.
    func checkImportValues(in expression: Expression, conditions: [String: Bool]?) throws(TemplateError) {
        for argument in expression.importValueArguments(conditions: conditions) {
            for reference in argument.references(conditions: conditions) where dependsOnResources(reference) {
                throw .importValueDependsOnResources
            }
        }
    }

    /// Whether a reference names a resource, an import or Fn::GetAZs (forbidden in export and import names).
    func dependsOnResources(_ reference: Reference) -> Bool {
        switch reference {
        case .name(let name): return resources[name] != nil
        case .attribute, .dottedVariable, .importValue, .getAZs: return true
        case .ifCondition, .condition: return false
        }
    }

    /// The dependency graph over every resource, counting every Fn::If branch (ValidateTemplate's view).
    func staticGraph() throws(TemplateError) -> DependencyGraph {
        let graph = DependencyGraph(nodes: Array(resources.keys), edges: dependencyEdges(conditions: nil, active: nil))
        let blocked = graph.order().blocked
        if !blocked.isEmpty { throw .circularDependency(blocked) }
        return graph
    }

    /// Explicit DependsOn plus the resources named by Ref, Fn::GetAtt and Fn::Sub in Properties and Metadata.
    func dependencyEdges(conditions: [String: Bool]?, active: Set<String>?) -> [String: Set<String>] {
        var edges: [String: Set<String>] = [:]
        for resource in resources.values where active?.contains(resource.logicalId) ?? true {
            var names = Set(resource.dependsOn)
            for expression in [resource.properties, resource.metadata].compactMap({ $0 }) {
                for reference in expression.references(conditions: conditions) {
                    switch reference {
                    case .name(let name), .attribute(resource: let name): names.insert(name)
                    case .dottedVariable(let name): names.insert(String(name.prefix { $0 != "." }))
                    default: continue
                    }
                }
            }
            edges[resource.logicalId] = names.filter { resources[$0] != nil }
        }
        return edges
    }

    /// Outputs may name parameters and resources; export names may not depend on resources, imports or GetAZs.
    private func validateOutputs() throws(TemplateError) {
        var unresolved: OrderedSet<String> = []
        var unresolvedConditions: OrderedSet<String> = []
        for output in outputs.values {
            if let condition = output.condition, conditions[condition] == nil { unresolvedConditions.append(condition) }
            for reference in output.value.references() {
                if let missing = try missingName(reference) { unresolved.append(missing) }
            }
            try checkImportValues(in: output.value, conditions: nil)
            if let exportName = output.exportName {
                if exportName.references().contains(where: dependsOnResources) {
                    throw .exportNameDependsOnResources(output.name)
                }
                if let literal = exportName.literalText, !Template.isValidExportName(literal) {
                    throw .invalidExportName(output.name)
                }
            }
        }
        if !unresolvedConditions.isEmpty {
            throw .unresolvedConditionDependencies(Array(unresolvedConditions), block: "Outputs")
        }
        if !unresolved.isEmpty { throw .unresolvedResourceDependencies(Array(unresolved), block: "Outputs") }
    }

    /// Export names: non-empty, letters, digits, colons and hyphens (B6.8).
    package static func isValidExportName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy {
                $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") || String(UnicodeScalar($0)).isAlphanumeric
            }
    }
}

extension Resource {
    /// The attributes that may contain intrinsic functions.
    var expressions: [Expression] {
        [properties, metadata, updatePolicy].compactMap { $0 }
    }
}

extension Expression {
    /// The text of a literal scalar, or `nil` for anything computed.
    var literalText: String? {
        switch self {
        case .string(let s), .number(let s): return s
        case .boolean(_, let text): return text
        default: return nil
        }
    }
}
