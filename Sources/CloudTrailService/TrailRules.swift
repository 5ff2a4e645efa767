import AWSCore

/// CloudTrail's validation rules for names, buckets, prefixes, topics and tags, with its error names.
enum TrailRules {
    /// Checks a trail name (3-128 of `A-Za-z0-9._-`, alphanumeric ends, no adjacent `._-`, not IP-shaped).
    static func checkName(_ name: String) throws(AWSError) {
        func invalid(_ message: String) -> AWSError { AWSError("InvalidTrailNameException", message) }
        let chars = Array(name.utf8)
        if chars.count < 3 {
            throw invalid("Trail name too short. Minimum allowed length: 3 characters. Specified name length: \(chars.count) characters.")
        }
        if chars.count > 128 {
            throw invalid("Trail name too long. Maximum allowed length: 128 characters. Specified name length: \(chars.count) characters.")
        }
        func isAlnum(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) }
        func isPunct(_ c: UInt8) -> Bool { c == 46 || c == 95 || c == 45 }
        guard chars.allSatisfy({ isAlnum($0) || isPunct($0) }) else {
            throw invalid(
                "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
        }
        guard isAlnum(chars.first!) else { throw invalid("Trail name must starts with a letter or number.") }
        guard isAlnum(chars.last!) else { throw invalid("Trail name must ends with a letter or number.") }
        for i in 1..<chars.count where isPunct(chars[i]) && isPunct(chars[i - 1]) {
            throw invalid("Trail name cannot contain consecutive characters from the following set: periods (.), hyphens (-), and underscores (_).")
        }
        if isIPAddress(name) { throw invalid("Trail name must not be formatted as an IP address.") }
    }

    /// Whether a string is shaped like a dotted IPv4 address.
    static func isIPAddress(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// Checks an S3 bucket name as CloudTrail does before looking the bucket up.
    static func checkBucketName(_ name: String) throws(AWSError) {
        let invalid = AWSError("InvalidS3BucketNameException", "Bucket name is not valid: \(name)")
        let chars = Array(name.utf8)
        guard (3...63).contains(chars.count) else { throw invalid }
        func isLowerAlnum(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...122).contains(c) }
        guard chars.allSatisfy({ isLowerAlnum($0) || $0 == 46 || $0 == 45 }) else { throw invalid }
        guard isLowerAlnum(chars.first!), isLowerAlnum(chars.last!) else { throw invalid }
        guard !name.contains(".."), !name.contains(".-"), !name.contains("-."), !isIPAddress(name) else { throw invalid }
    }

    /// Checks `S3KeyPrefix` (at most 200 characters).
    static func checkPrefix(_ prefix: String) throws(AWSError) {
        if prefix.count > 200 {
            throw AWSError("InvalidS3PrefixException", "S3 prefix is longer than maximum length:\(prefix)")
        }
    }

    /// Resolves `SnsTopicName` (a name or an ARN) to the topic ARN.
    static func topicARN(_ value: String, region: String, account: String) throws(AWSError) -> String {
        let invalid = AWSError("InvalidSnsTopicNameException", "Topic name is not valid: \(value)")
        if value.hasPrefix("arn:") {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 6, parts[2] == "sns", !parts[5].isEmpty else { throw invalid }
            try checkTopicName(String(parts[5]), invalid)
            return value
        }
        try checkTopicName(value, invalid)
        return "arn:aws:sns:\(region):\(account):\(value)"
    }

    private static func checkTopicName(_ name: String, _ invalid: AWSError) throws(AWSError) {
        guard (1...256).contains(name.count),
            name.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 95 || $0 == 45 })
        else { throw invalid }
    }

    /// Validates a tag list and returns it as tags (duplicate keys, lengths, count); `invokedBy` is the AWS service
    /// making the call, which may set its own `aws:` tags (``ReservedTags``).
    static func tags(_ value: JSONValue?, existing: [Trail.Tag] = [], invokedBy: String? = nil) throws(AWSError) -> [Trail.Tag] {
        var result = existing
        var seen = Set<String>()
        for item in value?.array ?? [] {
            let key = item["Key"]?.string ?? ""
            let tagValue = item["Value"]?.string
            guard (1...128).contains(key.count) else {
                throw AWSError("InvalidTagParameterException", "Tag key must be between 1 and 128 characters.")
            }
            if let tagValue, tagValue.count > 256 {
                throw AWSError("InvalidTagParameterException", "Tag value must not exceed 256 characters.")
            }
            if !ReservedTags.allows(key, invokedBy: invokedBy) {
                throw AWSError("InvalidTagParameterException", "Tag keys with the prefix aws: are reserved.")
            }
            guard seen.insert(key).inserted else {
                throw AWSError("InvalidTagParameterException", "Duplicate tag key: \(key)")
            }
            if let i = result.firstIndex(where: { $0.key == key }) {
                result[i].value = tagValue
            } else {
                result.append(Trail.Tag(key: key, value: tagValue))
            }
        }
        if result.count > 50 {
            throw AWSError("TagsLimitExceededException", "The number of tags per trail cannot exceed 50.")
        }
        return result
    }
}
