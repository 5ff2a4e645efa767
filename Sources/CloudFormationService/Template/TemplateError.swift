package import AWSCore

/// A template, parameter or evaluation failure, with AWS's error code and message.
///
/// Every message CloudFormation is known to give is built by one of the static functions below, so the texts live
/// in one place. The spec (config-cloudformation.md B6.10 and B6.2) marks which are observed and which are
/// structurally right but unverified (⚠); the comments here repeat that mark. Synchronous failures are
/// `ValidationError`; failures found while a stack operation runs (an import that does not resolve, a missing
/// mapping key) use the same type and become a stack or resource status reason in the service.
package struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wire error code (`ValidationError` unless stated).
    package var code: String
    /// The message exactly as AWS gives it.
    package var message: String

    /// Creates an error with a message and a code (`ValidationError` by default).
    package init(_ message: String, code: String = "ValidationError") {
        self.code = code
        self.message = message
    }

    package var description: String { "\(code): \(message)" }

    /// The error as the gateway renders it (HTTP 400).
    package var awsError: AWSError { AWSError(code, message) }

    /// `Template format error: <detail>`.
    package static func format(_ detail: String) -> TemplateError {
        TemplateError("Template format error: \(detail)")
    }

    /// `Template error: <detail>`.
    package static func template(_ detail: String) -> TemplateError {
        TemplateError("Template error: \(detail)")
    }

    /// Writes names as AWS lists them in messages: `[A, B]`.
    static func list(_ names: some Sequence<String>) -> String {
        "[" + names.joined(separator: ", ") + "]"
    }

    // MARK: Reading (B6.1)

    /// A JSON syntax error at a 1-based line and column (observed).
    package static func jsonNotWellFormed(line: Int, column: Int) -> TemplateError {
        .format("JSON not well-formed. (line \(line), column \(column))")
    }

    /// A YAML syntax error at a 1-based line and column (⚠ by analogy with JSON).
    package static func yamlNotWellFormed(line: Int, column: Int) -> TemplateError {
        .format("YAML not well-formed. (line \(line), column \(column))")
    }

    /// The largest TemplateBody CloudFormation accepts, in bytes.
    package static let maximumBodySize = 51_200

    /// A TemplateBody over 51,200 bytes (⚠ form of the Coral constraint message).
    package static func bodyTooLarge(_ body: String) -> TemplateError {
        TemplateError(
            "1 validation error detected: Value '\(body)' at 'templateBody' failed to satisfy constraint: "
                + "Member must have length less than or equal to \(maximumBodySize)")
    }

    // MARK: Anatomy (B6.1, B6.10)

    /// Missing or empty `Resources` (observed).
    package static let noResources = TemplateError.format("At least one Resources member must be defined.")

    /// Unknown top-level keys (⚠ wording).
    package static func invalidTemplateProperties(_ keys: [String]) -> TemplateError {
        .format("Invalid template property or properties \(list(keys))")
    }

    /// A logical id with characters other than `[A-Za-z0-9]` (⚠ wording).
    package static func nonAlphanumeric(_ name: String) -> TemplateError {
        .format("Resource name \(name) is non alphanumeric.")
    }

    /// A resource without `Type`.
    package static let resourceWithoutType = TemplateError.format("Every Resources object must contain a Type member.")

    /// A resource entry that is not a map (⚠ wording).
    package static func malformedResource(_ name: String) -> TemplateError {
        .format("[/Resources/\(name)] resource definition is malformed")
    }

    /// A resource attribute CloudFormation does not know (⚠ wording).
    package static func invalidResourceProperty(_ key: String) -> TemplateError {
        .format("Invalid template resource property '\(key)'")
    }

    /// Types AWS does not have (observed).
    package static func unrecognizedResourceTypes(_ types: [String]) -> TemplateError {
        .format("Unrecognized resource types: \(list(types))")
    }

    /// A section that must be a map is something else (⚠ wording).
    package static func sectionNotObject(_ section: String) -> TemplateError {
        .format("\(section) section must be an object")
    }

    /// `Description` over 1,024 bytes or not a string (⚠ wording).
    package static let invalidDescription = TemplateError.format(
        "Description must be a string of at most 1024 bytes")

    /// `AWSTemplateFormatVersion` other than `2010-09-09` (⚠ wording).
    package static func invalidFormatVersion(_ version: String) -> TemplateError {
        .format("'\(version)' is not a valid template version")
    }

    // MARK: Parameters declarations (B6.2)

    /// A parameter declaration without `Type`.
    package static let parameterWithoutType = TemplateError.format("Every Parameters object must contain a Type member.")

    /// A parameter type CloudFormation does not know.
    package static func unrecognizedParameterType(_ type: String) -> TemplateError {
        .format("Unrecognized parameter type: \(type)")
    }

    /// A parameter declaration property CloudFormation does not know (⚠ wording).
    package static func invalidParameterProperty(_ key: String) -> TemplateError {
        .format("Invalid template parameter property '\(key)'")
    }

    /// `AllowedValues` that is not a list (observed).
    package static let allowedValuesNotList = TemplateError.format("Every AllowedValues member must be a list.")

    /// A parameter name that is not alphanumeric (⚠ wording).
    package static func nonAlphanumericParameter(_ name: String) -> TemplateError {
        .format("Parameter name \(name) is non alphanumeric.")
    }

    // MARK: References and dependencies (B6.3, B6.7, B6.10)

    /// References to names that are not declared (or to resources whose condition is false) (observed).
    package static func unresolvedResourceDependencies(_ names: [String], block: String = "Resources") -> TemplateError {
        .format("Unresolved resource dependencies \(list(names)) in the \(block) block of the template")
    }

    /// A condition that references a resource or an unknown name (⚠ wording).
    package static func unresolvedConditionsDependencies(_ names: [String]) -> TemplateError {
        .format("Unresolved dependencies \(list(names)). Cannot reference resources in the Conditions block of the template")
    }

    /// A `Condition` attribute naming a condition that is not declared (⚠ wording).
    package static func unresolvedConditionDependencies(_ names: [String], block: String = "Resources") -> TemplateError {
        .format("Unresolved condition dependencies \(list(names)) in the \(block) block of the template")
    }

    /// `Fn::If` naming an undeclared condition (⚠ wording).
    package static func unresolvedConditionInIf(_ name: String) -> TemplateError {
        .template("unresolved condition dependency \(name) in Fn::If")
    }

    /// A cycle, listing every resource that cannot be ordered (observed form).
    package static func circularDependency(_ names: [String]) -> TemplateError {
        .format("Circular dependency between resources: \(list(names))")
    }

    /// Conditions that refer to each other in a loop (⚠ wording).
    package static func circularConditionDependency(_ names: [String]) -> TemplateError {
        .format("Circular dependency between conditions: \(list(names))")
    }

    // MARK: Intrinsic functions (B6.5)

    /// `Ref` whose value is not a string.
    package static let refNotString = TemplateError.template("every Ref object must have a single String value.")

    /// `Fn::GetAtt` naming an undeclared resource (observed).
    package static func getAttUndefinedResource(_ name: String) -> TemplateError {
        .template("instance of Fn::GetAtt references undefined resource \(name)")
    }

    /// Malformed `Fn::GetAtt` (observed).
    package static let getAttArity = TemplateError.template(
        "every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")

    /// An attribute the resource does not have (moto; matches real reports).
    package static func unsupportedAttribute(resource: String, attribute: String) -> TemplateError {
        .template("resource \(resource) does not support attribute type \(attribute) in Fn::GetAtt")
    }

    /// Malformed `Fn::FindInMap` (observed).
    package static let findInMapArity = TemplateError.template(
        "every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")

    /// A mapping lookup that finds nothing (⚠ wording).
    package static func mappingNotFound(_ map: String, _ top: String, _ second: String) -> TemplateError {
        .template("Unable to get mapping for \(map)::\(top)::\(second)")
    }

    /// Malformed `Fn::Join` (observed).
    package static let joinArity = TemplateError.template(
        "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined "
            + "or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")

    /// Malformed `Fn::Split` (⚠ by analogy with Fn::Join).
    package static let splitArity = TemplateError.template(
        "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a "
            + "function that returns a string to be split.")

    /// Malformed `Fn::Select` (⚠ wording).
    package static let selectArity = TemplateError.template(
        "every Fn::Select object requires two parameters, (1) an index and (2) a list or a function that returns a list")

    /// `Fn::Select` index outside the list (⚠ wording).
    package static func selectOutOfRange(_ index: String) -> TemplateError {
        .template("Fn::Select cannot select nonexistent value at index \(index)")
    }

    /// Malformed `Fn::Sub`.
    package static let subArity = TemplateError.template(
        "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, "
            + "and an optional second argument to specify a mapping of values to replace in the string")

    /// Malformed `Fn::If` (⚠ wording).
    package static let ifArity = TemplateError.template(
        "every Fn::If object requires three parameters, the condition, the value if true and the value if false")

    /// Malformed `Fn::Equals` (⚠ wording).
    package static let equalsArity = TemplateError.template("every Fn::Equals object requires a list of 2 string parameters.")

    /// Malformed `Fn::And` / `Fn::Or` (⚠ wording).
    package static func andOrArity(_ function: String) -> TemplateError {
        .template("every \(function) object requires a list of at least 2 and at most 10 boolean parameters.")
    }

    /// Malformed `Fn::Not` (⚠ wording).
    package static let notArity = TemplateError.template("every Fn::Not object requires a list of 1 boolean parameter.")

    /// A condition function whose operand is not a boolean (⚠ wording).
    package static func notBoolean(_ function: String) -> TemplateError {
        .template("\(function) requires boolean parameters")
    }

    /// A function whose single argument has the wrong shape (⚠ wording).
    package static func invalidArgument(_ function: String) -> TemplateError {
        .template("every \(function) object requires a valid parameter")
    }

    /// Malformed `Fn::Cidr` (⚠ wording).
    package static let cidrArity = TemplateError.template(
        "every Fn::Cidr object requires three parameters, (1) an ip block, (2) the number of subnets and (3) the subnet mask size")

    /// An export or import name that depends on resources, imports or Fn::GetAZs.
    package static let importValueDependsOnResources = TemplateError.template(
        "the attribute in Fn::ImportValue must not depend on any resources, imported values, or Fn::GetAZs")

    /// A function CloudFormation does not have, or one used outside the section that allows it (⚠ wording).
    package static func unsupportedFunction(_ name: String, supported: [String]) -> TemplateError {
        .format("Encountered unsupported function: \(name) Supported functions are: \(list(supported))")
    }

    /// A function of `AWS::LanguageExtensions` used without that transform (⚠ wording).
    package static func requiresLanguageExtensions(_ name: String) -> TemplateError {
        .template("\(name) requires the AWS::LanguageExtensions transform")
    }

    /// `Fn::Transform` and `Fn::ForEach`, which Cairn does not expand (Cairn's own text; not an AWS message).
    package static func unsupportedMacro(_ name: String) -> TemplateError {
        .template("\(name) is not supported by this CloudFormation implementation")
    }

    /// A value that must be a string resolved to something else (⚠ wording).
    package static func notAString(_ context: String) -> TemplateError {
        .template("\(context) must resolve to a string")
    }

    /// A value that must be a list resolved to something else (⚠ wording).
    package static func notAList(_ context: String) -> TemplateError {
        .template("\(context) must resolve to a list")
    }

    /// An `Fn::ImportValue` naming an export nobody has (observed as a stack status reason).
    package static func noExport(_ name: String) -> TemplateError {
        TemplateError("No export named \(name) found.")
    }

    /// A `Fn::Cidr` whose arguments do not fit (⚠ wording).
    package static func invalidCidr(_ detail: String) -> TemplateError {
        .template("Fn::Cidr \(detail)")
    }

    // MARK: Outputs (B6.8)

    /// An output without `Value` (⚠ wording).
    package static func outputWithoutValue(_ name: String) -> TemplateError {
        .format("Every Outputs member must contain a Value object")
    }

    /// An export name that depends on resources, imports or Fn::GetAZs (observed).
    package static func exportNameDependsOnResources(_ output: String) -> TemplateError {
        .format(
            "Output \(output) is malformed. The Name field of Export must not depend on any resources, imported values, "
                + "or Fn::GetAZs.")
    }

    /// An empty or invalid export name (observed).
    package static func invalidExportName(_ output: String) -> TemplateError {
        .format(
            "Output \(output) is malformed. The Name field of every Export member must be specified and consist only of "
                + "alphanumeric characters, colons, or hyphens.")
    }

    // MARK: Capabilities (B6.7)

    /// Missing capabilities (observed).
    package static func insufficientCapabilities(_ capabilities: [String]) -> TemplateError {
        TemplateError("Requires capabilities : \(list(capabilities))", code: "InsufficientCapabilitiesException")
    }
}
