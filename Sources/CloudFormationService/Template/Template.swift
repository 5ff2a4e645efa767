package import OrderedCollections

/// A parsed CloudFormation template: the typed model every stack operation, ValidateTemplate and
/// GetTemplateSummary work from.
///
/// ```swift
/// let template = try Template.parse(body)                                  // shape, types, references, cycles
/// let parameters = try template.resolveParameters(inputs, previous: [:])    // B6.2
/// try template.checkRules(parameters: parameters, context: context)        // Rules section
/// let plan = try TemplateEvaluation(template: template, parameters: parameters, context: context)
/// for wave in plan.creationWaves { … plan.resolveProperties(of: id, lookup: made) … }
/// ```
///
/// Sections keep template order. Everything here is pure: no I/O, no clock.
package struct Template: Sendable {
    /// `AWSTemplateFormatVersion`, when present (`2010-09-09`).
    package var formatVersion: String?
    /// `Description`.
    package var description: String?
    /// `Metadata`, as written.
    package var metadata: TemplateValue?
    /// `Parameters` in template order.
    package var parameters: OrderedDictionary<String, ParameterDeclaration>
    /// `Mappings`: map name → top-level key → second-level key → value.
    package var mappings: OrderedDictionary<String, OrderedDictionary<String, OrderedDictionary<String, TemplateValue>>>
    /// `Conditions` in template order.
    package var conditions: OrderedDictionary<String, Expression>
    /// `Rules` in template order.
    package var rules: OrderedDictionary<String, Rule>
    /// `Transform`: the declared transforms (a string or a list in the template).
    package var transforms: [String]
    /// `Resources` in template order.
    package var resources: OrderedDictionary<String, Resource>
    /// `Outputs` in template order.
    package var outputs: OrderedDictionary<String, Output>

    /// Whether `Transform` declares `AWS::LanguageExtensions`.
    package var usesLanguageExtensions: Bool { transforms.contains(Template.languageExtensions) }

    /// The name of the transform that adds `Fn::Length`, `Fn::ToJsonString` and FindInMap defaults.
    package static let languageExtensions = "AWS::LanguageExtensions"
    /// The name of the SAM transform, which makes `AWS::Serverless::*` types valid.
    package static let serverless = "AWS::Serverless-2016-10-31"
}

/// A `Parameters` entry.
package struct ParameterDeclaration: Sendable, Hashable {
    /// The parameter's logical name.
    package var name: String
    /// `Type` (`String`, `Number`, `List<Number>`, `CommaDelimitedList`, AWS-specific and SSM types).
    package var type: ParameterType
    /// `Default`, as text.
    package var defaultValue: String?
    /// `AllowedValues`, as text.
    package var allowedValues: [String]?
    /// `AllowedPattern`.
    package var allowedPattern: String?
    /// `ConstraintDescription`.
    package var constraintDescription: String?
    /// `Description`.
    package var description: String?
    /// `MinLength`, as written.
    package var minLength: String?
    /// `MaxLength`, as written.
    package var maxLength: String?
    /// `MinValue`, as written.
    package var minValue: String?
    /// `MaxValue`, as written.
    package var maxValue: String?
    /// `NoEcho`: the value is shown as `****` wherever AWS masks it.
    package var noEcho: Bool
}

/// A `Resources` entry.
package struct Resource: Sendable, Hashable {
    /// The logical id.
    package var logicalId: String
    /// `Type`.
    package var type: String
    /// `Properties` (an empty map when absent).
    package var properties: Expression
    /// `DependsOn`, normalised to a list.
    package var dependsOn: [String]
    /// `Condition`: the name of the condition that decides whether the resource exists.
    package var condition: String?
    /// `DeletionPolicy` (`Delete`, `Retain`, `Snapshot`, `RetainExceptOnCreate`).
    package var deletionPolicy: String?
    /// `UpdateReplacePolicy`.
    package var updateReplacePolicy: String?
    /// `Metadata`, with its intrinsic functions.
    package var metadata: Expression?
    /// `CreationPolicy`, as written.
    package var creationPolicy: TemplateValue?
    /// `UpdatePolicy`, with its intrinsic functions.
    package var updatePolicy: Expression?
    /// The `Properties` map as written, for property-level checks (custom names for capabilities).
    package var rawProperties: OrderedDictionary<String, TemplateValue>
}

/// An `Outputs` entry.
package struct Output: Sendable, Hashable {
    /// The output's logical name (OutputKey).
    package var name: String
    /// `Value`.
    package var value: Expression
    /// `Description`.
    package var description: String?
    /// `Export.Name`, when the output is exported.
    package var exportName: Expression?
    /// `Condition`.
    package var condition: String?
}

/// A `Rules` entry: assertions checked against parameter values before any resource is touched.
package struct Rule: Sendable, Hashable {
    /// The rule's logical name.
    package var name: String
    /// `RuleCondition`: when present and false, the assertions are skipped.
    package var condition: Expression?
    /// `Assertions`, in order.
    package var assertions: [Assertion]

    /// One `Assertions` member.
    package struct Assertion: Sendable, Hashable {
        /// `Assert`.
        package var assert: Expression
        /// `AssertDescription`.
        package var description: String?
    }
}
