package import AWSCore

/// The facts about the stack that pseudo parameters expose (B6.6).
package struct StackContext: Sendable, Hashable {
    /// `AWS::AccountId`.
    package var accountId: String
    /// `AWS::Region`.
    package var region: String
    /// `AWS::StackName`.
    package var stackName: String
    /// `AWS::StackId` (the stack ARN).
    package var stackId: String
    /// `AWS::NotificationARNs`.
    package var notificationARNs: [String]
    /// `AWS::Partition` (`aws`, `aws-cn`, `aws-us-gov`).
    package var partition: String
    /// `AWS::URLSuffix` (`amazonaws.com`, `amazonaws.com.cn`).
    package var urlSuffix: String

    /// Creates a context; partition and URL suffix default to the region's.
    package init(
        accountId: String, region: String, stackName: String, stackId: String, notificationARNs: [String] = [],
        partition: String? = nil, urlSuffix: String? = nil
    ) {
        self.accountId = accountId
        self.region = region
        self.stackName = stackName
        self.stackId = stackId
        self.notificationARNs = notificationARNs
        let isChina = region.hasPrefix("cn-")
        self.partition = partition ?? (isChina ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws")
        self.urlSuffix = urlSuffix ?? (isChina ? "amazonaws.com.cn" : "amazonaws.com")
    }

    /// The value of a pseudo parameter other than `AWS::NoValue`, or `nil` for names that are not one.
    package func pseudoParameter(_ name: String) -> JSONValue? {
        switch name {
        case "AWS::AccountId": return .string(accountId)
        case "AWS::Region": return .string(region)
        case "AWS::StackName": return .string(stackName)
        case "AWS::StackId": return .string(stackId)
        case "AWS::NotificationARNs": return .array(notificationARNs.map { .string($0) })
        case "AWS::Partition": return .string(partition)
        case "AWS::URLSuffix": return .string(urlSuffix)
        default: return nil
        }
    }

    /// The Availability Zones `Fn::GetAZs` returns for a region: `<region>a`, `b` and `c` (B6.5).
    package static func availabilityZones(of region: String) -> [String] {
        ["a", "b", "c"].map { region + $0 }
    }
}

/// What resolution needs from the resources a stack has already made, and from other stacks' exports.
///
/// The worker implements it over its plan's step results; `nil` means "not made" or "no such attribute".
package protocol ResourceLookup {
    /// The `Ref` value of a made resource (physical id, name or ARN, per type).
    func ref(_ logicalId: String) -> JSONValue?
    /// A made resource's `Fn::GetAtt` attribute.
    func attribute(_ logicalId: String, _ name: String) -> JSONValue?
    /// The value of an export in the stack's account and region.
    func importValue(_ name: String) -> String?
}

/// A ``ResourceLookup`` made of closures.
package struct ClosureResourceLookup: ResourceLookup {
    private let refs: (String) -> JSONValue?
    private let attributes: (String, String) -> JSONValue?
    private let imports: (String) -> String?

    /// Creates a lookup; each closure defaults to finding nothing.
    package init(
        ref: @escaping (String) -> JSONValue? = { _ in nil },
        attribute: @escaping (String, String) -> JSONValue? = { _, _ in nil },
        importValue: @escaping (String) -> String? = { _ in nil }
    ) {
        refs = ref
        attributes = attribute
        imports = importValue
    }

    package func ref(_ logicalId: String) -> JSONValue? { refs(logicalId) }
    package func attribute(_ logicalId: String, _ name: String) -> JSONValue? { attributes(logicalId, name) }
    package func importValue(_ name: String) -> String? { imports(name) }
}

/// A lookup that finds nothing: for values that may not depend on resources (export names, import names).
package struct NoResourceLookup: ResourceLookup {
    /// Creates the empty lookup.
    package init() {}
    package func ref(_ logicalId: String) -> JSONValue? { nil }
    package func attribute(_ logicalId: String, _ name: String) -> JSONValue? { nil }
    package func importValue(_ name: String) -> String? { nil }
}
