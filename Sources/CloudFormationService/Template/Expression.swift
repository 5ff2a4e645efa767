package import OrderedCollections

/// A template value with its intrinsic functions recognised and checked for shape.
///
/// Built once from a ``TemplateValue`` when the template is parsed, so arity errors (`every Fn::GetAtt object
/// requires two non-empty parameters…`) surface at validation time, and evaluation is a plain walk of this tree.
/// A map is a function call when it has exactly one key and that key is `Ref` or starts with `Fn::` (or is
/// `Condition`, inside condition expressions only: elsewhere `Condition` is an ordinary property name, as in IAM
/// policy statements).
package indirect enum Expression: Sendable, Hashable {
    /// JSON null.
    case null
    /// A string literal.
    case string(String)
    /// A number literal, as written.
    case number(String)
    /// A boolean literal and its text.
    case boolean(Bool, text: String)
    /// A list of expressions.
    case list([Expression])
    /// A map of expressions in template order.
    case object(OrderedDictionary<String, Expression>)

    /// `Ref`: a parameter, pseudo parameter or resource.
    case ref(String)
    /// `Fn::GetAtt`: a resource's attribute; the attribute name may itself be a `Ref` to a parameter.
    case getAtt(resource: String, attribute: Expression)
    /// `Fn::Sub`: a string with `${…}` placeholders and optional variables.
    case sub([SubPart], variables: OrderedDictionary<String, Expression>)
    /// `Fn::Join`.
    case join(delimiter: String, values: Expression)
    /// `Fn::Select`.
    case select(index: Expression, list: Expression)
    /// `Fn::Split`.
    case split(delimiter: String, source: Expression)
    /// `Fn::FindInMap`, with `AWS::LanguageExtensions`' optional default value.
    case findInMap(map: Expression, topKey: Expression, secondKey: Expression, defaultValue: Expression?)
    /// `Fn::If`.
    case `if`(condition: String, then: Expression, else: Expression)
    /// `Fn::Equals`.
    case equals(Expression, Expression)
    /// `Fn::And`.
    case and([Expression])
    /// `Fn::Or`.
    case or([Expression])
    /// `Fn::Not`.
    case not(Expression)
    /// `Condition`: a named condition, inside condition expressions.
    case condition(String)
    /// `Fn::Base64`.
    case base64(Expression)
    /// `Fn::Cidr`.
    case cidr(ipBlock: Expression, count: Expression, cidrBits: Expression)
    /// `Fn::GetAZs`.
    case getAZs(Expression)
    /// `Fn::ImportValue`.
    case importValue(Expression)
    /// `Fn::Length` (`AWS::LanguageExtensions`).
    case length(Expression)
    /// `Fn::ToJsonString` (`AWS::LanguageExtensions`).
    case toJSONString(Expression)
    /// `Fn::Transform`: a macro call, kept but never expanded.
    case transform(Expression)
    /// `Fn::Contains [list, value]` (Rules only).
    case contains(Expression, Expression)
    /// `Fn::EachMemberEquals [list, value]` (Rules only).
    case eachMemberEquals(Expression, Expression)
    /// `Fn::EachMemberIn [list, allowed]` (Rules only).
    case eachMemberIn(Expression, Expression)
    /// `Fn::RefAll <parameter type>` (Rules only).
    case refAll(String)
    /// `Fn::ValueOf [parameter, attribute]` (Rules only).
    case valueOf(Expression, Expression)
    /// `Fn::ValueOfAll [parameter type, attribute]` (Rules only).
    case valueOfAll(Expression, Expression)

    /// One piece of an `Fn::Sub` string.
    package enum SubPart: Sendable, Hashable {
        /// Text copied as is (`${!Name}` has already become `${Name}`).
        case literal(String)
        /// A `${Name}` or `${Resource.Attribute}` placeholder.
        case variable(String)
    }

    /// Where an expression appears, which decides the functions it may use.
    package struct Context: Sendable, Hashable {
        /// `{"Condition": name}` is a reference to a condition (Conditions section, condition functions).
        var conditionReferences = false
        /// The rule-specific functions are allowed (Rules section).
        var ruleFunctions = false
        /// `AWS::LanguageExtensions` is declared.
        var languageExtensions = false

        /// Resource properties, metadata and outputs.
        package static func values(languageExtensions: Bool) -> Context {
            Context(languageExtensions: languageExtensions)
        }

        /// The Conditions section.
        package static func conditions(languageExtensions: Bool) -> Context {
            Context(conditionReferences: true, languageExtensions: languageExtensions)
        }

        /// The Rules section.
        package static let rules = Context(conditionReferences: false, ruleFunctions: true)
    }

    /// The functions CloudFormation lists as supported outside Rules, in AWS's order.
    static let supportedFunctions = [
        "Fn::Base64", "Fn::GetAtt", "Fn::GetAZs", "Fn::ImportValue", "Fn::Join", "Fn::Split", "Fn::FindInMap",
        "Fn::Select", "Ref", "Fn::Equals", "Fn::If", "Fn::Not", "Condition", "Fn::And", "Fn::Or", "Fn::Contains",
        "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll", "Fn::Sub", "Fn::Cidr",
    ]

    // MARK: Building

    /// Recognises the intrinsic functions in `value`.
    package init(_ value: TemplateValue, in context: Context) throws(TemplateError) {
        switch value {
        case .null: self = .null
        case .string(let s): self = .string(s)
        case .number(let n): self = .number(n)
        case .boolean(let b, let text): self = .boolean(b, text: text)
        case .array(let elements):
            var list: [Expression] = []
            list.reserveCapacity(elements.count)
            for element in elements { list.append(try Expression(element, in: context)) }
            self = .list(list)
        case .object(let members):
            if members.count == 1, let (key, argument) = members.elements.first,
                key == "Ref" || key.hasPrefix("Fn::") || (key == "Condition" && context.conditionReferences)
            {
                self = try Expression.function(key, argument, in: context)
                return
            }
            var object = OrderedDictionary<String, Expression>()
            object.reserveCapacity(members.count)
            for (key, member) in members { object[key] = try Expression(member, in: context) }
            self = .object(object)
        }
    }

    /// Builds the call of function `name` on `argument`, checking the argument's shape (arity errors).
    private static func function(_ name: String, _ argument: TemplateValue, in context: Context) throws(TemplateError)
        -> Expression
    {
        func sub(_ v: TemplateValue) throws(TemplateError) -> Expression { try Expression(v, in: context) }
        func args(_ count: ClosedRange<Int>, else error: TemplateError) throws(TemplateError) -> [TemplateValue] {
            guard let list = argument.array, count.contains(list.count) else { throw error }
            return list
        }
        func rulesOnly() throws(TemplateError) {
            if !context.ruleFunctions { throw .unsupportedFunction(name, supported: supportedFunctions) }
        }

        switch name {
        case "Ref":
            guard let target = argument.string, !target.isEmpty else { throw .refNotString }
            return .ref(target)
        case "Condition":
            guard let target = argument.string else { throw .invalidArgument("Condition") }
            return .condition(target)
        case "Fn::GetAtt":
            let parts: [TemplateValue]
            if let dotted = argument.string {
                parts = dotted.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map {
                    .string(String($0))
                }
            } else if let list = argument.array {
                parts = list
            } else {
                throw .getAttArity
            }
            guard parts.count == 2, let resource = parts[0].string, !resource.isEmpty else { throw .getAttArity }
            let attribute = try sub(parts[1])
            if case .string(let a) = attribute, a.isEmpty { throw .getAttArity }
            if case .list = attribute { throw .getAttArity }
            if case .object = attribute { throw .getAttArity }
            return .getAtt(resource: resource, attribute: attribute)
        case "Fn::Sub":
            if let text = argument.string { return .sub(parseSub(text), variables: [:]) }
            guard let list = argument.array, list.count == 2, let text = list[0].string, let map = list[1].object else {
                throw .subArity
            }
            var variables = OrderedDictionary<String, Expression>()
            for (key, value) in map { variables[key] = try sub(value) }
            return .sub(parseSub(text), variables: variables)
        case "Fn::Join":
            let list = try args(2...2, else: .joinArity)
            guard let delimiter = list[0].string else { throw .joinArity }
            let values = try sub(list[1])
            switch values {
            case .string, .number, .boolean, .null, .object: throw .joinArity
            default: return .join(delimiter: delimiter, values: values)
            }
        case "Fn::Select":
            let list = try args(2...2, else: .selectArity)
            return .select(index: try sub(list[0]), list: try sub(list[1]))
        case "Fn::Split":
            let list = try args(2...2, else: .splitArity)
            guard let delimiter = list[0].string, !delimiter.isEmpty else { throw .splitArity }
            return .split(delimiter: delimiter, source: try sub(list[1]))
        case "Fn::FindInMap":
            let list = try args(3...4, else: .findInMapArity)
            var defaultValue: Expression?
            if list.count == 4 {
                guard context.languageExtensions else { throw .findInMapArity }
                guard let options = list[3].object, options.count == 1, let value = options["DefaultValue"] else {
                    throw .findInMapArity
                }
                defaultValue = try sub(value)
            }
            return .findInMap(
                map: try sub(list[0]), topKey: try sub(list[1]), secondKey: try sub(list[2]), defaultValue: defaultValue)
        case "Fn::If":
            let list = try args(3...3, else: .ifArity)
            guard let condition = list[0].string else { throw .ifArity }
            return .if(condition: condition, then: try sub(list[1]), else: try sub(list[2]))
        case "Fn::Equals":
            let list = try args(2...2, else: .equalsArity)
            return .equals(try sub(list[0]), try sub(list[1]))
        case "Fn::And", "Fn::Or":
            let list = try args(2...10, else: .andOrArity(name))
            var operands: [Expression] = []
            for element in list { operands.append(try Expression(element, in: context.withConditionReferences)) }
            return name == "Fn::And" ? .and(operands) : .or(operands)
        case "Fn::Not":
            let list = try args(1...1, else: .notArity)
            return .not(try Expression(list[0], in: context.withConditionReferences))
        case "Fn::Base64":
            return .base64(try sub(argument))
        case "Fn::Cidr":
            let list = try args(3...3, else: .cidrArity)
            return .cidr(ipBlock: try sub(list[0]), count: try sub(list[1]), cidrBits: try sub(list[2]))
        case "Fn::GetAZs":
            let region = try sub(argument)
            switch region {
            case .list, .object: throw .invalidArgument(name)
            default: return .getAZs(region)
            }
        case "Fn::ImportValue":
            let exportName = try sub(argument)
            switch exportName {
            case .list, .object, .null: throw .invalidArgument(name)
            default: return .importValue(exportName)
            }
        case "Fn::Length":
            guard context.languageExtensions else { throw .requiresLanguageExtensions(name) }
            return .length(try sub(argument))
        case "Fn::ToJsonString":
            guard context.languageExtensions else { throw .requiresLanguageExtensions(name) }
            return .toJSONString(try sub(argument))
        case "Fn::Transform":
            return .transform(try sub(argument))
        case "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::ValueOf", "Fn::ValueOfAll":
            try rulesOnly()
            let list = try args(2...2, else: .invalidArgument(name))
            let (a, b) = (try sub(list[0]), try sub(list[1]))
            switch name {
            case "Fn::Contains": return .contains(a, b)
            case "Fn::EachMemberEquals": return .eachMemberEquals(a, b)
            case "Fn::EachMemberIn": return .eachMemberIn(a, b)
            case "Fn::ValueOf": return .valueOf(a, b)
            default: return .valueOfAll(a, b)
            }
        case "Fn::RefAll":
            try rulesOnly()
            guard let type = argument.string else { throw .invalidArgument(name) }
            return .refAll(type)
        default:
            if name.hasPrefix("Fn::ForEach") { throw .unsupportedMacro("Fn::ForEach") }
            throw .unsupportedFunction(name, supported: supportedFunctions)
        }
    }

    /// Splits an `Fn::Sub` string into literal text and `${…}` placeholders; `${!x}` stays as the literal `${x}`.
    static func parseSub(_ text: String) -> [SubPart] {
        var parts: [SubPart] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            guard chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{" else {
                literal.append(chars[i])
                i += 1
                continue
            }
            if i + 2 < chars.count, chars[i + 2] == "!" {
                literal += "${"
                i += 3
                continue
            }
            guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                literal += String(chars[i...])
                break
            }
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal = ""
            }
            parts.append(.variable(Substring(String(chars[(i + 2)..<close])).trimmingSpaces()))
            i = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }
}

extension Expression.Context {
    /// The same context, with `{"Condition": name}` read as a condition reference (operands of And/Or/Not).
    fileprivate var withConditionReferences: Self {
        var copy = self
        copy.conditionReferences = true
        return copy
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
