import OrderedCollections

extension Template {
    /// The top-level sections CloudFormation knows (B6.1).
    static let sections: Set<String> = [
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions",
        "Transform", "Resources", "Outputs",
    ]

    /// The attributes a resource entry may have.
    static let resourceAttributes: Set<String> = [
        "Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata",
        "CreationPolicy", "UpdatePolicy", "Version",
    ]

    /// The properties a parameter declaration may have.
    static let parameterProperties: Set<String> = [
        "Type", "Default", "AllowedValues", "AllowedPattern", "ConstraintDescription", "Description", "MaxLength",
        "MaxValue", "MinLength", "MinValue", "NoEcho",
    ]

    /// Parses and validates a template body (JSON or YAML), as CreateStack, ValidateTemplate and the other
    /// operations taking a TemplateBody do synchronously.
    ///
    /// Checks, in order: the 51,200-byte limit, syntax, the shape of every section, logical ids, resource types,
    /// references (Ref, Fn::GetAtt, Fn::Sub, DependsOn, Condition, Fn::If), circular dependencies, and the outputs'
    /// export names. Errors carry AWS's messages (``TemplateError``).
    package static func parse(_ body: String) throws(TemplateError) -> Template {
        if body.utf8.count > TemplateError.maximumBodySize { throw .bodyTooLarge(body) }
        let document = try TemplateValue.read(body)
        let template = try Template(document)
        try template.validate()
        return template
    }

    /// Builds the typed model from a document, checking each section's shape.
    package init(_ document: TemplateValue) throws(TemplateError) {
        guard let root = document.object else { throw .format("unsupported structure.") }
        let unknown = root.keys.filter { !Template.sections.contains($0) }
        if !unknown.isEmpty { throw .invalidTemplateProperties(Array(unknown)) }
        guard let resourcesValue = root["Resources"], let resourceMap = resourcesValue.object, !resourceMap.isEmpty
        else {
            if let value = root["Resources"], value.object == nil, value != .null { throw .sectionNotObject("Resources") }
            throw .noResources
        }

        transforms = try Template.readTransforms(root["Transform"])
        let extensions = transforms.contains(Template.languageExtensions)

        if let version = root["AWSTemplateFormatVersion"] {
            guard let text = version.scalarText, text == "2010-09-09" else {
                throw .invalidFormatVersion(version.scalarText ?? "")
            }
            formatVersion = text
        } else {
            formatVersion = nil
        }
        if let value = root["Description"] {
            guard let text = value.scalarText, text.utf8.count <= 1024 else { throw .invalidDescription }
            description = text
        } else {
            description = nil
        }
        metadata = root["Metadata"]

        parameters = [:]
        for (name, value) in try Template.section(root, "Parameters") {
            parameters[name] = try ParameterDeclaration(name: name, value)
        }

        mappings = [:]
        for (name, value) in try Template.section(root, "Mappings") {
            guard let top = value.object else { throw .format("Mappings attribute \(name) must be a map") }
            var topLevel = OrderedDictionary<String, OrderedDictionary<String, TemplateValue>>()
            for (key, second) in top {
                guard let secondLevel = second.object else {
                    throw .format("Mappings attribute \(name).\(key) must be a map")
                }
                topLevel[key] = secondLevel
            }
            mappings[name] = topLevel
        }

        conditions = [:]
        for (name, value) in try Template.section(root, "Conditions") {
            conditions[name] = try Expression(value, in: .conditions(languageExtensions: extensions))
        }

        rules = [:]
        for (name, value) in try Template.section(root, "Rules") {
            rules[name] = try Rule(name: name, value)
        }

        resources = [:]
        for (logicalId, value) in resourceMap {
            if logicalId.hasPrefix("Fn::ForEach") { throw .unsupportedMacro("Fn::ForEach") }
            guard logicalId.isAlphanumeric else { throw .nonAlphanumeric(logicalId) }
            resources[logicalId] = try Resource(logicalId: logicalId, value, languageExtensions: extensions)
        }

        outputs = [:]
        for (name, value) in try Template.section(root, "Outputs") {
            outputs[name] = try Output(name: name, value, languageExtensions: extensions)
        }
    }

    /// A section that must be a map (absent or null counts as empty).
    private static func section(_ root: OrderedDictionary<String, TemplateValue>, _ name: String) throws(TemplateError)
        -> OrderedDictionary<String, TemplateValue>
    {
        guard let value = root[name], value != .null else { return [:] }
        guard let map = value.object else { throw .sectionNotObject(name) }
        return map
    }

    /// `Transform`: a name, a list of names, or `{Name, Parameters}` entries (AWS::Include).
    private static func readTransforms(_ value: TemplateValue?) throws(TemplateError) -> [String] {
        guard let value, value != .null else { return [] }
        let entries = value.array ?? [value]
        var names: [String] = []
        for entry in entries {
            if let name = entry.string {
                names.append(name)
            } else if let name = entry["Name"]?.string {
                names.append(name)
            } else {
                throw .format("Transform must be a string or a list of strings")
            }
        }
        return names
    }
}

extension ParameterDeclaration {
    /// Reads one `Parameters` entry.
    init(name: String, _ value: TemplateValue) throws(TemplateError) {
        guard name.isAlphanumeric else { throw .nonAlphanumericParameter(name) }
        guard let props = value.object else { throw .parameterWithoutType }
        if let unknown = props.keys.first(where: { !Template.parameterProperties.contains($0) }) {
            throw .invalidParameterProperty(unknown)
        }
        guard let typeName = props["Type"]?.scalarText else { throw .parameterWithoutType }
        guard let type = ParameterType(typeName) else { throw .unrecognizedParameterType(typeName) }
        self.name = name
        self.type = type
        switch props["Default"] {
        case nil, .null?: defaultValue = nil
        case .array(let items)?: defaultValue = items.compactMap(\.scalarText).joined(separator: ",")
        case let other?:
            guard let text = other.scalarText else { throw .format("Default member must be a string") }
            defaultValue = text
        }
        if let allowed = props["AllowedValues"] {
            guard let items = allowed.array else { throw .allowedValuesNotList }
            allowedValues = items.compactMap(\.scalarText)
        } else {
            allowedValues = nil
        }
        allowedPattern = props["AllowedPattern"]?.scalarText
        constraintDescription = props["ConstraintDescription"]?.scalarText
        description = props["Description"]?.scalarText
        minLength = props["MinLength"]?.scalarText
        maxLength = props["MaxLength"]?.scalarText
        minValue = props["MinValue"]?.scalarText
        maxValue = props["MaxValue"]?.scalarText
        switch props["NoEcho"] {
        case .boolean(let b, _)?: noEcho = b
        case .string(let s)?: noEcho = s.lowercased() == "true"
        default: noEcho = false
        }
    }
}

extension Resource {
    /// Reads one `Resources` entry.
    init(logicalId: String, _ value: TemplateValue, languageExtensions: Bool) throws(TemplateError) {
        guard let attributes = value.object else { throw .malformedResource(logicalId) }
        guard let type = attributes["Type"]?.string, !type.isEmpty else { throw .resourceWithoutType }
        if let unknown = attributes.keys.first(where: { !Template.resourceAttributes.contains($0) }) {
            throw .invalidResourceProperty(unknown)
        }
        let context = Expression.Context.values(languageExtensions: languageExtensions)
        self.logicalId = logicalId
        self.type = type
        switch attributes["Properties"] {
        case nil, .null?:
            properties = .object([:])
            rawProperties = [:]
        case .object(let map)?:
            properties = try Expression(.object(map), in: context)
            rawProperties = map
        case let other?:
            // `Properties: !If [...]` is legal: the whole map may come from a function.
            properties = try Expression(other, in: context)
            guard case .if = properties else { throw .malformedResource(logicalId) }
            rawProperties = [:]
        }
        switch attributes["DependsOn"] {
        case nil, .null?: dependsOn = []
        case .string(let name)?: dependsOn = [name]
        case .array(let names)?:
            var list: [String] = []
            for name in names {
                guard let s = name.string else { throw .format("DependsOn must be a string or list of strings") }
                list.append(s)
            }
            dependsOn = list
        default: throw .format("DependsOn must be a string or list of strings")
        }
        if let condition = attributes["Condition"] {
            guard let name = condition.string else { throw .format("Condition must be a string") }
            self.condition = name
        } else {
            self.condition = nil
        }
        deletionPolicy = attributes["DeletionPolicy"]?.scalarText
        updateReplacePolicy = attributes["UpdateReplacePolicy"]?.scalarText
        metadata = try attributes["Metadata"].map { v throws(TemplateError) in try Expression(v, in: context) }
        creationPolicy = attributes["CreationPolicy"]
        updatePolicy = try attributes["UpdatePolicy"].map { v throws(TemplateError) in try Expression(v, in: context) }
    }
}

extension Output {
    /// Reads one `Outputs` entry.
    init(name: String, _ value: TemplateValue, languageExtensions: Bool) throws(TemplateError) {
        guard let attributes = value.object, let valueAttribute = attributes["Value"], valueAttribute != .null else {
            throw .outputWithoutValue(name)
        }
        let context = Expression.Context.values(languageExtensions: languageExtensions)
        self.name = name
        self.value = try Expression(valueAttribute, in: context)
        description = attributes["Description"]?.scalarText
        if let export = attributes["Export"] {
            guard let exportName = export["Name"], exportName != .null else { throw .invalidExportName(name) }
            self.exportName = try Expression(exportName, in: context)
        } else {
            exportName = nil
        }
        if let condition = attributes["Condition"] {
            guard let conditionName = condition.string else { throw .format("Condition must be a string") }
            self.condition = conditionName
        } else {
            self.condition = nil
        }
    }
}

extension Rule {
    /// Reads one `Rules` entry.
    init(name: String, _ value: TemplateValue) throws(TemplateError) {
        guard let attributes = value.object, let assertions = attributes["Assertions"]?.array else {
            throw .format("Every Rules member must contain an Assertions list")  // ⚠ wording
        }
        self.name = name
        condition = try attributes["RuleCondition"].map { v throws(TemplateError) in try Expression(v, in: .rules) }
        var list: [Assertion] = []
        for entry in assertions {
            guard let assert = entry["Assert"] else {
                throw .format("Every Assertions member must contain an Assert")  // ⚠ wording
            }
            list.append(Assertion(assert: try Expression(assert, in: .rules), description: entry["AssertDescription"]?.scalarText))
        }
        self.assertions = list
    }
}

extension String {
    /// Whether the string is a non-empty run of ASCII letters and digits (logical id rule).
    var isAlphanumeric: Bool {
        !isEmpty && utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
    }
}
