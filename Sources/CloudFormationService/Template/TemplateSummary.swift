import AWSCore
import OrderedCollections

/// What ValidateTemplate and GetTemplateSummary report about a template.
package struct TemplateSummary: Sendable, Hashable {
    /// The parameter declarations in template order (NoEcho flagged; defaults as written).
    package var parameters: [ParameterDeclaration]
    /// `Description`.
    package var description: String?
    /// `AWSTemplateFormatVersion` (GetTemplateSummary's `Version`).
    package var version: String?
    /// The template's `Metadata` as a JSON string (keys in template order).
    package var metadata: String?
    /// The distinct resource types, in template order.
    package var resourceTypes: [String]
    /// The capabilities a stack operation must acknowledge (B6.7).
    package var capabilities: [String]
    /// `CapabilitiesReason`, when capabilities are required.
    package var capabilitiesReason: String?
    /// `DeclaredTransforms`.
    package var declaredTransforms: [String]
}

extension Template {
    /// The IAM resource types that need `CAPABILITY_IAM`, and the properties that make them need
    /// `CAPABILITY_NAMED_IAM` when set (B6.7).
    static let iamTypes: [String: String?] = [
        "AWS::IAM::AccessKey": nil, "AWS::IAM::Group": "GroupName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
        "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::Policy": nil, "AWS::IAM::Role": "RoleName",
        "AWS::IAM::User": "UserName", "AWS::IAM::UserToGroupAddition": nil,
    ]

    /// The summary facts of ValidateTemplate and GetTemplateSummary.
    package var summary: TemplateSummary {
        let (capabilities, reason) = requiredCapabilities
        var types: OrderedSet<String> = []
        for resource in resources.values { types.append(resource.type) }
        return TemplateSummary(
            parameters: Array(parameters.values), description: description, version: formatVersion,
            metadata: metadata.map(\.jsonText), resourceTypes: Array(types), capabilities: capabilities,
            capabilitiesReason: reason, declaredTransforms: transforms)
    }

    /// The capabilities this template needs and AWS's `CapabilitiesReason` for them.
    ///
    /// IAM types need `CAPABILITY_IAM`, or `CAPABILITY_NAMED_IAM` when one sets its name; a declared transform
    /// (macro) needs `CAPABILITY_AUTO_EXPAND`. The reason lists the IAM resource types (sorted, distinct) and the
    /// transforms: `The following resource(s) require capabilities: [AWS::IAM::InstanceProfile, AWS::IAM::Role]`
    /// (⚠ the order of the list and the inclusion of transform names are not verified).
    package var requiredCapabilities: (capabilities: [String], reason: String?) {
        var iam: Set<String> = []
        var named = false
        for resource in resources.values {
            guard let nameProperty = Template.iamTypes[resource.type] else { continue }
            iam.insert(resource.type)
            if let nameProperty, resource.rawProperties[nameProperty] != nil { named = true }
        }
        var capabilities: [String] = []
        if !iam.isEmpty { capabilities.append(named ? "CAPABILITY_NAMED_IAM" : "CAPABILITY_IAM") }
        if !transforms.isEmpty { capabilities.append("CAPABILITY_AUTO_EXPAND") }
        if capabilities.isEmpty { return ([], nil) }
        let reasons = iam.sorted() + transforms
        return (capabilities, "The following resource(s) require capabilities: \(TemplateError.list(reasons))")
    }

    /// Throws `InsufficientCapabilitiesException` unless `granted` covers the required capabilities
    /// (`CAPABILITY_NAMED_IAM` covers `CAPABILITY_IAM`).
    package func checkCapabilities(_ granted: [String]) throws(TemplateError) {
        let missing = requiredCapabilities.capabilities.filter { required in
            if granted.contains(required) { return false }
            return !(required == "CAPABILITY_IAM" && granted.contains("CAPABILITY_NAMED_IAM"))
        }
        if !missing.isEmpty { throw .insufficientCapabilities(missing) }
    }
}

extension TemplateValue {
    /// Compact JSON with keys in document order; numbers that are not JSON numbers (`0x1F`) are written as strings.
    package var jsonText: String {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.string
    }

    private func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .string(let s): writer.string(s)
        case .number(let text):
            if let n = Double(text), !text.contains("_"), !text.hasPrefix("0x"), n.isFinite { writer.number(n) } else { writer.string(text) }
        case .boolean(let b, _): writer.bool(b)
        case .array(let items):
            writer.beginArray()
            for item in items {
                writer.arrayElement()
                item.write(to: &writer)
            }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for (key, member) in members {
                writer.key(key)
                member.write(to: &writer)
            }
            writer.endObject()
        }
    }
}
