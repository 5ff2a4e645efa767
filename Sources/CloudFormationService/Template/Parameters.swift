package import AWSCore
package import OrderedCollections

/// One member of a call's `Parameters` list.
package struct ParameterInput: Sendable, Hashable {
    /// `ParameterKey`.
    package var key: String
    /// `ParameterValue`, when given.
    package var value: String?
    /// `UsePreviousValue`.
    package var usePreviousValue: Bool

    /// Creates an input with a value, or one that keeps the previous value.
    package init(key: String, value: String? = nil, usePreviousValue: Bool = false) {
        self.key = key
        self.value = value
        self.usePreviousValue = usePreviousValue
    }
}

/// A parameter's value for one stack operation.
package struct ResolvedParameter: Sendable, Hashable {
    /// The parameter's name (ParameterKey).
    package var name: String
    /// The declared type.
    package var type: ParameterType
    /// The value as supplied, previous or default (ParameterValue as stored).
    package var value: String
    /// Whether the declaration has `NoEcho`.
    package var noEcho: Bool

    /// The mask AWS shows in place of a NoEcho value (Part D 1: four asterisks).
    package static let mask = "****"

    /// What DescribeStacks and DescribeChangeSet show: the value, or `****` for NoEcho parameters.
    package var displayedValue: String { noEcho ? ResolvedParameter.mask : value }

    /// What `Ref` yields: a string, or for list types the comma-separated items with surrounding spaces trimmed.
    package var refValue: JSONValue {
        guard type.isList else { return .string(value) }
        return .array(ParameterResolver.items(value).map { .string($0) })
    }
}

/// The parameter values of one stack operation, in template order.
package struct ResolvedParameters: Sendable, Hashable {
    /// Every declared parameter with its value.
    package var values: OrderedDictionary<String, ResolvedParameter>

    /// No parameters (templates without a Parameters section).
    package static let none = ResolvedParameters(values: [:])

    /// The parameter named `name`.
    package subscript(name: String) -> ResolvedParameter? { values[name] }
}

extension Template {
    /// Resolves the values of a stack operation's parameters (B6.2, B4 UpdateStack).
    ///
    /// A value comes from the call, else (UsePreviousValue) from `previous`, else from the Default. UsePreviousValue
    /// for a parameter with no previous value falls back to the Default, as `aws cloudformation deploy` needs.
    /// Parameters omitted from the call do not inherit previous values. Errors, in the order they are checked:
    /// values for a template without parameters, unknown keys, UsePreviousValue with a value, missing values,
    /// then each parameter's constraints in template order.
    package func resolveParameters(_ inputs: [ParameterInput], previous: [String: String] = [:]) throws(TemplateError)
        -> ResolvedParameters
    {
        if parameters.isEmpty {
            if !inputs.isEmpty {
                throw TemplateError("Parameter values specified for a template which does not require them.")
            }
            return .none
        }
        var unknown: OrderedSet<String> = []
        for input in inputs where parameters[input.key] == nil { unknown.append(input.key) }
        if !unknown.isEmpty {
            throw TemplateError("Parameters: \(TemplateError.list(unknown)) do not exist in the template")
        }
        for input in inputs where input.usePreviousValue && !(input.value ?? "").isEmpty {
            throw TemplateError(
                "Invalid input for parameter key \(input.key). Cannot specify usePreviousValue as true and non empty "
                    + "value for a parameter")
        }
        var supplied: [String: ParameterInput] = [:]
        for input in inputs { supplied[input.key] = input }

        var values = OrderedDictionary<String, ResolvedParameter>()
        var missing: [String] = []
        for declaration in parameters.values {
            var value: String?
            if let input = supplied[declaration.name] {
                value = input.usePreviousValue ? previous[declaration.name] ?? declaration.defaultValue : input.value
            }
            guard let value = value ?? declaration.defaultValue else {
                missing.append(declaration.name)
                continue
            }
            values[declaration.name] = ResolvedParameter(
                name: declaration.name, type: declaration.type, value: value, noEcho: declaration.noEcho)
        }
        if !missing.isEmpty { throw TemplateError("Parameters: \(TemplateError.list(missing)) must have values") }
        for declaration in parameters.values {
            try ParameterResolver.check(values[declaration.name]!.value, against: declaration)
        }
        return ResolvedParameters(values: values)
    }
}

/// The constraint checks of B6.2.
enum ParameterResolver {
    /// The items of a list parameter's value: split on commas, surrounding whitespace trimmed.
    static func items(_ value: String) -> [String] {
        value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
    }

    /// Checks a value against its declaration's type and constraints.
    static func check(_ value: String, against declaration: ParameterDeclaration) throws(TemplateError) {
        let name = declaration.name
        let type = declaration.type
        let values = type.isList ? items(value) : [value]
        if type.isNumber || type.isNumberList {
            for item in values where Double(item) == nil {
                throw TemplateError("Parameter '\(name)' must be a number")  // ⚠ wording
            }
        }
        if let allowed = declaration.allowedValues {
            for item in values where !allowed.contains(item) {
                throw TemplateError("Parameter '\(name)' must be one of AllowedValues")
            }
        }
        // The remaining failures print the ConstraintDescription instead of the generic text when one is given.
        func constraintFailure(_ generic: String) -> TemplateError {
            if let description = declaration.constraintDescription {
                return TemplateError("Malformed input-Parameter \(name) \(description)")
            }
            return TemplateError("Parameter '\(name)' \(generic)")
        }
        if let pattern = declaration.allowedPattern, !type.isNumber, !type.isNumberList {
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(pattern)
            } catch {
                throw .format("Parameter '\(name)' has an invalid AllowedPattern")  // ⚠ Cairn's wording
            }
            for item in values where (try? regex.wholeMatch(in: item)) == nil {
                throw constraintFailure("must match pattern \(pattern)")  // ⚠ wording
            }
        }
        if type.hasLengthConstraints {
            let length = value.count
            if let min = declaration.minLength, let bound = Int(min), length < bound {
                throw constraintFailure("must contain at least \(min) characters")  // ⚠ by analogy
            }
            if let max = declaration.maxLength, let bound = Int(max), length > bound {
                throw constraintFailure("must contain at most \(max) characters")  // ⚠ by analogy
            }
        }
        if type.isNumber || type.isNumberList {
            for item in values {
                guard let number = Double(item) else { continue }
                if let min = declaration.minValue, let bound = Double(min), number < bound {
                    throw constraintFailure("must be a number not less than \(min)")
                }
                if let max = declaration.maxValue, let bound = Double(max), number > bound {
                    throw constraintFailure("must be a number not greater than \(max)")  // ⚠ by analogy
                }
            }
        }
    }
}

extension Substring {
    /// The text without leading and trailing whitespace (spaces, tabs, newlines).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
