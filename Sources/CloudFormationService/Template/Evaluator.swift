import AWSCore
import OrderedCollections

/// Evaluates expressions for one stack operation: parameters, pseudo parameters, conditions and mappings are
/// known; resources come from a ``ResourceLookup``.
///
/// Results are `JSONValue`s, `nil` standing for `AWS::NoValue` (which removes the property or list element that
/// holds it). Literal numbers and booleans become their original text, as CloudFormation stringifies property
/// values for resource providers (B6.1); condition functions yield `.bool`.
struct Evaluator<Lookup: ResourceLookup> {
    let template: Template
    let parameters: ResolvedParameters
    let context: StackContext
    /// The conditions evaluated so far (all of them once conditions are done).
    var conditions: [String: Bool]
    /// The resources that exist in this operation (condition true).
    let active: Set<String>
    let lookup: Lookup

    /// Evaluates an expression; `nil` is AWS::NoValue.
    func value(_ expression: Expression) throws(TemplateError) -> JSONValue? {
        switch expression {
        case .null: return .null
        case .string(let s): return .string(s)
        case .number(let text), .boolean(_, let text): return .string(text)
        case .list(let items):
            var result: [JSONValue] = []
            for item in items { if let v = try value(item) { result.append(v) } }
            return .array(result)
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { if let v = try value(member) { result[key] = v } }
            return .object(result)
        case .ref(let name):
            return try ref(name)
        case .getAtt(let resource, let attributeExpression):
            let attribute = try string(attributeExpression, "Fn::GetAtt")
            return try attributeValue(resource, attribute)
        case .sub(let parts, let variables):
            return .string(try substitute(parts, variables))
        case .join(let delimiter, let values):
            guard let list = try value(values)?.array else { throw .joinArity }
            var texts: [String] = []
            for item in list {
                guard let text = scalarText(item) else { throw .joinArity }
                texts.append(text)
            }
            return .string(texts.joined(separator: delimiter))
        case .select(let indexExpression, let listExpression):
            guard let indexValue = try value(indexExpression), let indexText = scalarText(indexValue) else {
                throw .selectArity
            }
            guard let list = try value(listExpression)?.array else { throw .selectArity }
            guard let index = Int(indexText), list.indices.contains(index) else { throw .selectOutOfRange(indexText) }
            return list[index]
        case .split(let delimiter, let source):
            let text = try string(source, "Fn::Split")
            return .array(text.split(separator: delimiter, omittingEmptySubsequences: false).map { .string(String($0)) })
        case .findInMap(let map, let top, let second, let defaultValue):
            let (m, t, s) = (try string(map, "Fn::FindInMap"), try string(top, "Fn::FindInMap"), try string(second, "Fn::FindInMap"))
            if let found = template.mappings[m]?[t]?[s] { return found.stringifiedJSON }
            if let defaultValue { return try value(defaultValue) }
            throw .mappingNotFound(m, t, s)
        case .if(let condition, let then, let otherwise):
            guard let holds = conditions[condition] else { throw .unresolvedConditionInIf(condition) }
            return try value(holds ? then : otherwise)
        case .equals(let a, let b):
            return .bool(normalizedScalars(try value(a)) == normalizedScalars(try value(b)))
        case .and(let operands):
            for operand in operands where !(try bool(operand, "Fn::And")) { return .bool(false) }
            return .bool(true)
        case .or(let operands):
            for operand in operands where try bool(operand, "Fn::Or") { return .bool(true) }
            return .bool(false)
        case .not(let operand):
            return .bool(!(try bool(operand, "Fn::Not")))
        case .condition(let name):
            guard let holds = conditions[name] else { throw .unresolvedConditionInIf(name) }
            return .bool(holds)
        case .base64(let source):
            return .string(Base64.encode(Array(try string(source, "Fn::Base64").utf8)))
        case .cidr(let block, let count, let bits):
            let blockText = try string(block, "Fn::Cidr")
            guard let n = Int(try string(count, "Fn::Cidr")), let b = Int(try string(bits, "Fn::Cidr")) else {
                throw .cidrArity
            }
            return .array(try Cidr.subnets(of: blockText, count: n, cidrBits: b).map { .string($0) })
        case .getAZs(let regionExpression):
            var region = ""
            if let regionValue = try value(regionExpression), let text = scalarText(regionValue) { region = text }
            return .array(StackContext.availabilityZones(of: region.isEmpty ? context.region : region).map { .string($0) })
        case .importValue(let nameExpression):
            let name = try string(nameExpression, "Fn::ImportValue")
            guard let exported = lookup.importValue(name) else { throw .noExport(name) }
            return .string(exported)
        case .length(let listExpression):
            guard let list = try value(listExpression)?.array else { throw .notAList("Fn::Length") }
            return .string(String(list.count))
        case .toJSONString(let source):
            var writer = JSONWriter()
            (try value(source) ?? .null).write(to: &writer)
            return .string(writer.string)
        case .transform:
            throw .unsupportedMacro("Fn::Transform")
        case .contains(let listExpression, let item):
            let list = try self.list(listExpression, "Fn::Contains")
            return .bool(list.contains(try string(item, "Fn::Contains")))
        case .eachMemberEquals(let listExpression, let item):
            let expected = try string(item, "Fn::EachMemberEquals")
            return .bool(try self.list(listExpression, "Fn::EachMemberEquals").allSatisfy { $0 == expected })
        case .eachMemberIn(let listExpression, let allowedExpression):
            let allowed = Set(try self.list(allowedExpression, "Fn::EachMemberIn"))
            return .bool(try self.list(listExpression, "Fn::EachMemberIn").allSatisfy { allowed.contains($0) })
        case .refAll:
            // The values of every existing resource of an AWS-specific type: Cairn hosts none of those types.
            return .array([])
        case .valueOf:
            throw .unsupportedMacro("Fn::ValueOf")
        case .valueOfAll:
            throw .unsupportedMacro("Fn::ValueOfAll")
        }
    }

    /// `Ref`: pseudo parameter, parameter, or a made resource.
    func ref(_ name: String) throws(TemplateError) -> JSONValue? {
        if name == "AWS::NoValue" { return nil }
        if let pseudo = context.pseudoParameter(name) { return pseudo }
        if let parameter = parameters[name] { return parameter.refValue }
        if template.resources[name] != nil, active.contains(name), let made = lookup.ref(name) { return made }
        throw .unresolvedResourceDependencies([name])
    }

    /// `Fn::GetAtt`.
    func attributeValue(_ resource: String, _ attribute: String) throws(TemplateError) -> JSONValue {
        guard template.resources[resource] != nil else { throw .getAttUndefinedResource(resource) }
        guard active.contains(resource) else { throw .unresolvedResourceDependencies([resource]) }
        guard let found = lookup.attribute(resource, attribute) else {
            throw .unsupportedAttribute(resource: resource, attribute: attribute)
        }
        return found
    }

    /// `Fn::Sub`: variables map first, then pseudo parameters, parameters, `Resource.Attribute`, resources.
    func substitute(_ parts: [Expression.SubPart], _ variables: OrderedDictionary<String, Expression>) throws(TemplateError)
        -> String
    {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text):
                result += text
            case .variable(let name):
                let resolved: JSONValue?
                if let variable = variables[name] {
                    resolved = try value(variable)
                } else if name.contains("."), template.parameters[name] == nil {
                    let resource = String(name.prefix { $0 != "." })
                    guard template.resources[resource] != nil else { throw .unresolvedResourceDependencies([name]) }
                    resolved = try attributeValue(resource, String(name.dropFirst(resource.count + 1)))
                } else {
                    resolved = try ref(name)
                }
                guard let resolved, let text = scalarText(resolved) else {
                    throw .notAString("Fn::Sub variable \(name)")
                }
                result += text
            }
        }
        return result
    }

    /// Evaluates to a string (scalars are stringified).
    func string(_ expression: Expression, _ function: String) throws(TemplateError) -> String {
        guard let v = try value(expression), let text = scalarText(v) else { throw .notAString(function) }
        return text
    }

    /// Evaluates to a list of strings.
    func list(_ expression: Expression, _ function: String) throws(TemplateError) -> [String] {
        guard let items = try value(expression)?.array else { throw .notAList(function) }
        var texts: [String] = []
        for item in items {
            guard let text = scalarText(item) else { throw .notAString(function) }
            texts.append(text)
        }
        return texts
    }

    /// Evaluates a condition operand.
    func bool(_ expression: Expression, _ function: String) throws(TemplateError) -> Bool {
        switch try value(expression) {
        case .bool(let b)?: return b
        case .string(let s)? where s.lowercased() == "true": return true
        case .string(let s)? where s.lowercased() == "false": return false
        default: throw .notBoolean(function)
        }
    }
}

/// The string form of a scalar (`true`, `12`), or `nil` for lists, maps and null.
/// The string form of a scalar (`true`, `12`), or `nil` for lists, maps and null.
func scalarText(_ value: JSONValue) -> String? {
    switch value {
    case .string(let s): return s
    case .bool(let b): return b ? "true" : "false"
    case .number(let n):
        if let i = value.int { return String(i) }
        return String(n)
    case .null, .array, .object: return nil
    }
}

/// Scalars as their text, so that `Fn::Equals` compares strings (`true` equals `"true"`).
func normalizedScalars(_ value: JSONValue?) -> JSONValue? {
    guard let value else { return nil }
    switch value {
    case .bool, .number: return scalarText(value).map { .string($0) }
    case .array(let items): return .array(items.map { normalizedScalars($0) ?? .null })
    default: return value
    }
}

extension TemplateValue {
    /// This value as JSON, scalars as their text (mapping values, metadata).
    var stringifiedJSON: JSONValue {
        switch self {
        case .null: return .null
        case .string(let s), .number(let s): return .string(s)
        case .boolean(_, let text): return .string(text)
        case .array(let items): return .array(items.map(\.stringifiedJSON))
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[key] = member.stringifiedJSON }
            return .object(result)
        }
    }
}
