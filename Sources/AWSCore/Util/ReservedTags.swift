/// The `aws:` tag namespace, which belongs to AWS: no requester may set such a tag, except CloudFormation, which
/// tags every resource it makes with `aws:cloudformation:stack-name`, `stack-id` and `logical-id`.
package enum ReservedTags {
    /// The principal of the service whose calls may set its own `aws:` tags.
    static let cloudFormation = "cloudformation.amazonaws.com"

    /// Whether a call made by `invokedBy` (`nil`: the requester itself) may set a tag with this key.
    package static func allows(_ key: String, invokedBy: String?) -> Bool {
        !key.hasPrefix("aws:") || (invokedBy == cloudFormation && key.hasPrefix("aws:cloudformation:"))
    }
}
