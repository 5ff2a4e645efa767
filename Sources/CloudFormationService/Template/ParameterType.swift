/// A parameter's declared `Type`, checked against the types CloudFormation knows (B6.2).
///
/// AWS-specific types (`AWS::EC2::VPC::Id`, …) are accepted and their values treated as strings: Cairn hosts no EC2,
/// so it does not check that the named resources exist. SSM types are accepted too; their values are the
/// parameter names as given (Cairn does not resolve them from Parameter Store).
package struct ParameterType: Sendable, Hashable, CustomStringConvertible {
    /// The type exactly as declared.
    package let name: String

    /// The AWS-specific types, which also exist as `List<…>` and inside SSM `Value<…>`.
    static let awsSpecific: Set<String> = [
        "AWS::EC2::AvailabilityZone::Name", "AWS::EC2::Image::Id", "AWS::EC2::Instance::Id",
        "AWS::EC2::KeyPair::KeyName", "AWS::EC2::SecurityGroup::GroupName", "AWS::EC2::SecurityGroup::Id",
        "AWS::EC2::Subnet::Id", "AWS::EC2::Volume::Id", "AWS::EC2::VPC::Id", "AWS::Route53::HostedZone::Id",
    ]

    /// Recognises a declared type, or returns `nil` for one CloudFormation does not have.
    package init?(_ name: String) {
        self.name = name
        if !ParameterType.isKnown(name) { return nil }
    }

    private static func isKnown(_ name: String) -> Bool {
        switch name {
        case "String", "Number", "List<Number>", "CommaDelimitedList", "AWS::SSM::Parameter::Name": return true
        default: break
        }
        if awsSpecific.contains(name) { return true }
        if let inner = name.unwrapped(prefix: "List<", suffix: ">") { return awsSpecific.contains(inner) }
        if let inner = name.unwrapped(prefix: "AWS::SSM::Parameter::Value<", suffix: ">") {
            switch inner {
            case "String", "List<String>", "CommaDelimitedList": return true
            default:
                if awsSpecific.contains(inner) { return true }
                if let listed = inner.unwrapped(prefix: "List<", suffix: ">") { return awsSpecific.contains(listed) }
                return false
            }
        }
        return false
    }

    package var description: String { name }

    /// `Number`: the value must be a number (Ref still yields a string).
    package var isNumber: Bool { name == "Number" }

    /// `List<Number>`: every item must be a number.
    package var isNumberList: Bool { name == "List<Number>" }

    /// Whether `Ref` yields a list (comma-separated value, items trimmed).
    package var isList: Bool {
        name == "CommaDelimitedList" || name.hasPrefix("List<") || name.hasSuffix("<List<String>>")
            || name.hasSuffix("<CommaDelimitedList>") || name.hasPrefix("AWS::SSM::Parameter::Value<List<")
    }

    /// Whether the value is a Parameter Store name (`AWS::SSM::Parameter::Value<…>`).
    package var isSSMValue: Bool { name.hasPrefix("AWS::SSM::Parameter::Value<") }

    /// Whether `MinLength`, `MaxLength` apply (String-like types).
    var hasLengthConstraints: Bool { name == "String" }
}

extension String {
    /// The text between `prefix` and `suffix` when the string has both, else `nil`.
    func unwrapped(prefix: String, suffix: String) -> String? {
        guard hasPrefix(prefix), hasSuffix(suffix), count >= prefix.count + suffix.count else { return nil }
        return String(dropFirst(prefix.count).dropLast(suffix.count))
    }
}
