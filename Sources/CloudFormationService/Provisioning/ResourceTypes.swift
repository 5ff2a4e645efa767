import OrderedCollections
import Storage
import Logging
import AWSCore
import Foundation
import Gateway
import HTTPTypes
import NIOCore

/// The resource types Cairn provisions, by name (B6.9). Each acts only through the in-process client.
enum ResourceTypes {
    static let all: [String: ResourceType] = Dictionary(
        uniqueKeysWithValues: [bucket, bucketPolicy, topic, subscription, topicPolicy, trail].map { ($0.name, $0) })

    // MARK: S3

    /// The canned ACLs of `AccessControl`, as S3's `x-amz-acl` names them.
    static let cannedACLs = [
        "Private": "private", "PublicRead": "public-read", "PublicReadWrite": "public-read-write",
        "AuthenticatedRead": "authenticated-read", "LogDeliveryWrite": "log-delivery-write",
        "BucketOwnerRead": "bucket-owner-read", "BucketOwnerFullControl": "bucket-owner-full-control",
        "AwsExecRead": "aws-exec-read",
    ]

    /// The `AWS::S3::Bucket` properties Cairn's S3 holds; a template setting another one fails the resource rather
    /// than pretend it was applied.
    static let bucketProperties: Set<String> = [
        "BucketName", "AccessControl", "Tags", "VersioningConfiguration", "BucketEncryption",
    ]

    /// `AWS::S3::Bucket`: CreateBucket, then PutBucketTagging (CloudFormation's tags), PutBucketVersioning and
    /// PutBucketEncryption as the template asks. Ref is the name; attributes per B6.9.
    static let bucket = ResourceType(
        name: "AWS::S3::Bucket",
        create: { context, properties, name in
            let props = properties.object ?? [:]
            if let unsupported = props.keys.sorted().first(where: { !bucketProperties.contains($0) }) {
                throw ResourceFailure(reason: "Property \(unsupported) of AWS::S3::Bucket is not supported by Cairn's S3")
            }
            let bucket = name!
            var headers = HTTPFields()
            if let acl = props["AccessControl"]?.string {
                guard let canned = cannedACLs[acl] else {
                    throw ResourceFailure(reason: "Properties validation failed for resource \(context.logicalID) with message: [#/AccessControl: \(acl) is not a valid enum value]")
                }
                headers[HTTPField.Name("x-amz-acl")!] = canned
            }
            // CloudFormation's handler refuses a bucket that exists already (S3 itself answers its owner's
            // CreateBucket in us-east-1 with 200), unless this is its own creation resumed after a restart.
            if !context.resumed {
                do {
                    _ = try await context.client.s3(S3ClientRequest(method: .head, bucket: bucket), as: context.origin)
                    throw AWSError("AlreadyExists", "\(bucket) already exists", status: 409)
                } catch let error as AWSError where error.status == 403 {
                    throw AWSError("BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", status: 409)
                } catch let error as AWSError where error.status == 404 {
                }
            }
            var body = ByteBuffer()
            if context.region != "us-east-1" {
                body.writeString(
                    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(context.region)</LocationConstraint></CreateBucketConfiguration>"
                )
            }
            do {
                _ = try await context.client.s3(S3ClientRequest(method: .put, bucket: bucket, headers: headers, body: body), as: context.origin)
            } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" && context.resumed {
                // A creation resumed after a restart: the bucket was made before the crash.
            }
            try await context.completing {
                var tags = context.tags
                for tag in props["Tags"]?.array ?? [] {
                    if let key = tag["Key"]?.string { tags.append(Stack.Tag(key: key, value: tag["Value"]?.propertyText ?? "")) }
                }
                try await s3Put(context, bucket: bucket, subresource: "tagging", xml: taggingXML(tags))
                if let status = props["VersioningConfiguration"]?["Status"]?.string {
                    try await s3Put(
                        context, bucket: bucket, subresource: "versioning",
                        xml: "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(xmlEscape(status))</Status></VersioningConfiguration>")
                }
                if let rules = props["BucketEncryption"]?["ServerSideEncryptionConfiguration"]?.array {
                    var xml = "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    for rule in rules {
                        xml += "<Rule><ApplyServerSideEncryptionByDefault>"
                        let d = rule["ServerSideEncryptionByDefault"]
                        xml += "<SSEAlgorithm>\(xmlEscape(d?["SSEAlgorithm"]?.string ?? "AES256"))</SSEAlgorithm>"
                        if let key = d?["KMSMasterKeyID"]?.string { xml += "<KMSMasterKeyID>\(xmlEscape(key))</KMSMasterKeyID>" }
                        xml += "</ApplyServerSideEncryptionByDefault>"
                        if let enabled = rule["BucketKeyEnabled"]?.propertyBool { xml += "<BucketKeyEnabled>\(enabled)</BucketKeyEnabled>" }
                        xml += "</Rule>"
                    }
                    try await s3Put(context, bucket: bucket, subresource: "encryption", xml: xml + "</ServerSideEncryptionConfiguration>")
                }
            } undo: {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket), as: context.origin)
            }
            let region = context.region
            return Provisioned(
                physicalID: bucket, ref: bucket,
                attributes: [
                    "Arn": .string("arn:aws:s3:::\(bucket)"), "DomainName": .string("\(bucket).s3.amazonaws.com"),
                    "DualStackDomainName": .string("\(bucket).s3.dualstack.\(region).amazonaws.com"),
                    "RegionalDomainName": .string("\(bucket).s3.\(region).amazonaws.com"),
                    "WebsiteURL": .string("http://\(bucket).s3-website-\(region).amazonaws.com"),
                ])
        },
        delete: { context, resource in
            guard let bucket = resource.physicalID else { return }
            do {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket), as: context.origin)
            } catch let error as AWSError where error.code == "NoSuchBucket" {
                // Already gone.
            }
        },
        naming: ("BucketName", 63, true))

    /// `AWS::S3::BucketPolicy`: PutBucketPolicy; deleting it is DeleteBucketPolicy. Its physical id is the bucket.
    static let bucketPolicy = ResourceType(
        name: "AWS::S3::BucketPolicy",
        create: { context, properties, _ in
            guard let bucket = properties["Bucket"]?.string, let policy = properties["PolicyDocument"]?.policyText else {
                throw ResourceFailure(reason: "Properties validation failed for resource \(context.logicalID) with message: [#: required key [Bucket, PolicyDocument] not found]")
            }
            var body = ByteBuffer()
            body.writeString(policy)
            _ = try await context.client.s3(
                S3ClientRequest(method: .put, bucket: bucket, query: [("policy", "")], body: body), as: context.origin)
            return Provisioned(physicalID: bucket, ref: bucket, attributes: [:])
        },
        delete: { context, resource in
            guard let bucket = resource.physicalID else { return }
            do {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket, query: [("policy", "")]), as: context.origin)
            } catch let error as AWSError where error.code == "NoSuchBucket" {
            }
        },
        naming: nil)

    /// A PUT of a bucket subresource with an XML body.
    static func s3Put(_ context: ResourceContext, bucket: String, subresource: String, xml: String) async throws {
        var body = ByteBuffer()
        body.writeString(xml)
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        _ = try await context.client.s3(
            S3ClientRequest(method: .put, bucket: bucket, query: [(subresource, "")], headers: headers, body: body), as: context.origin)
    }

    /// A `Tagging` document.
    static func taggingXML(_ tags: [Stack.Tag]) -> String {
        var xml = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
        for tag in tags { xml += "<Tag><Key>\(xmlEscape(tag.key))</Key><Value>\(xmlEscape(tag.value))</Value></Tag>" }
        return xml + "</TagSet></Tagging>"
    }

    static func xmlEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    // MARK: SNS

    /// The `AWS::SNS::Topic` properties that are topic attributes of the same name.
    static let topicAttributes = [
        "DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication", "SignatureVersion", "TracingConfig",
        "ArchivePolicy", "FifoThroughputScope",
    ]

    /// `AWS::SNS::Topic`: CreateTopic with its attributes and CloudFormation's tags, then Subscribe for each inline
    /// `Subscription`. Ref is the ARN; attributes `TopicArn` and `TopicName`.
    static let topic = ResourceType(
        name: "AWS::SNS::Topic",
        create: { context, properties, name in
            let props = properties.object ?? [:]
            var topicName = name!
            if props["FifoTopic"]?.propertyBool == true, props["TopicName"] == nil { topicName += ".fifo" }
            var attributes: [String: JSONValue] = [:]
            for attribute in topicAttributes {
                if let value = props[attribute]?.propertyText { attributes[attribute] = .string(value) }
            }
            var tags = context.tags
            for tag in props["Tags"]?.array ?? [] {
                if let key = tag["Key"]?.string { tags.append(Stack.Tag(key: key, value: tag["Value"]?.propertyText ?? "")) }
            }
            var input: [String: JSONValue] = [
                "Name": .string(topicName), "Tags": .array(tags.map { ["Key": .string($0.key), "Value": .string($0.value)] }),
            ]
            if !attributes.isEmpty { input["Attributes"] = .object(attributes) }
            let out = try await context.call("sns", "CreateTopic", .object(input))
            let arn = out["TopicArn"]?.string ?? ""
            try await context.completing {
                for subscription in props["Subscription"]?.array ?? [] {
                    _ = try await context.call(
                        "sns", "Subscribe",
                        [
                            "TopicArn": .string(arn), "Protocol": subscription["Protocol"] ?? "",
                            "Endpoint": subscription["Endpoint"] ?? "",
                        ])
                }
            } undo: {
                _ = try await context.call("sns", "DeleteTopic", ["TopicArn": .string(arn)])
            }
            return Provisioned(
                physicalID: arn, ref: arn, attributes: ["TopicArn": .string(arn), "TopicName": .string(topicName)])
        },
        delete: { context, resource in
            guard let arn = resource.physicalID else { return }
            _ = try await context.call("sns", "DeleteTopic", ["TopicArn": .string(arn)])
        },
        naming: ("TopicName", 256, false))

    /// `AWS::SNS::Subscription`: Subscribe (returning the subscription ARN) with the attributes the template sets.
    static let subscription = ResourceType(
        name: "AWS::SNS::Subscription",
        create: { context, properties, _ in
            var attributes: [String: JSONValue] = [:]
            for attribute in ["DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn"] {
                if let value = properties[attribute]?.propertyText { attributes[attribute] = .string(value) }
            }
            var input: [String: JSONValue] = [
                "TopicArn": properties["TopicArn"] ?? "", "Protocol": properties["Protocol"] ?? "",
                "ReturnSubscriptionArn": true,
            ]
            if let endpoint = properties["Endpoint"] { input["Endpoint"] = endpoint }
            if !attributes.isEmpty { input["Attributes"] = .object(attributes) }
            let out = try await context.call("sns", "Subscribe", .object(input))
            let arn = out["SubscriptionArn"]?.string ?? ""
            return Provisioned(physicalID: arn, ref: arn, attributes: ["Arn": .string(arn)])
        },
        delete: { context, resource in
            guard let arn = resource.physicalID, arn.hasPrefix("arn:") else { return }
            do {
                _ = try await context.call("sns", "Unsubscribe", ["SubscriptionArn": .string(arn)])
            } catch let error as AWSError where error.code == "NotFound" {
            }
        },
        naming: nil)

    /// `AWS::SNS::TopicPolicy`: SetTopicAttributes `Policy` on each topic. Deleting it puts back each topic's
    /// default policy (SNS answers an empty `Policy` with the default).
    static let topicPolicy = ResourceType(
        name: "AWS::SNS::TopicPolicy",
        create: { context, properties, _ in
            guard let policy = properties["PolicyDocument"]?.policyText, let topics = properties["Topics"]?.array else {
                throw ResourceFailure(reason: "Properties validation failed for resource \(context.logicalID) with message: [#: required key [PolicyDocument, Topics] not found]")
            }
            for topic in topics {
                _ = try await context.call(
                    "sns", "SetTopicAttributes", ["TopicArn": topic, "AttributeName": "Policy", "AttributeValue": .string(policy)])
            }
            let id = topics.compactMap(\.string).joined(separator: "|")
            return Provisioned(physicalID: id, ref: id, attributes: ["Id": .string(id)])
        },
        delete: { context, resource in
            guard let topics = resource.properties?["Topics"]?.array, let account = Optional(context.account) else { return }
            for topic in topics {
                guard let arn = topic.string else { continue }
                do {
                    _ = try await context.call(
                        "sns", "SetTopicAttributes",
                        ["TopicArn": .string(arn), "AttributeName": "Policy", "AttributeValue": .string(defaultTopicPolicy(arn, account: account))])
                } catch let error as AWSError where error.code == "NotFound" {
                }
            }
        },
        naming: nil)

    /// The policy SNS gives a new topic (`__default_policy_ID`).
    static func defaultTopicPolicy(_ arn: String, account: String) -> String {
        let actions = [
            "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
            "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
        ]
        let policy: JSONValue = [
            "Version": "2008-10-17", "Id": "__default_policy_ID",
            "Statement": [
                [
                    "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": ["AWS": "*"],
                    "Action": .array(actions.map(JSONValue.string)), "Resource": .string(arn),
                    "Condition": ["StringEquals": ["AWS:SourceOwner": .string(account)]],
                ]
            ],
        ]
        return policy.jsonText
    }

    // MARK: CloudTrail

    /// `AWS::CloudTrail::Trail`: CreateTrail, PutEventSelectors / PutInsightSelectors when set, StartLogging when
    /// `IsLogging`. Ref is the name; attributes `Arn` and `SnsTopicArn`.
    static let trail = ResourceType(
        name: "AWS::CloudTrail::Trail",
        create: { context, properties, name in
            let props = properties.object ?? [:]
            var input: [String: JSONValue] = ["Name": .string(name!)]
            for member in [
                "S3BucketName", "S3KeyPrefix", "SnsTopicName", "KMSKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn",
            ] {
                if let value = props[member]?.propertyText { input[member] = .string(value) }
            }
            for (member, property) in [
                ("IncludeGlobalServiceEvents", "IncludeGlobalServiceEvents"), ("IsMultiRegionTrail", "IsMultiRegionTrail"),
                ("EnableLogFileValidation", "EnableLogFileValidation"), ("IsOrganizationTrail", "IsOrganizationTrail"),
            ] {
                if let value = props[property]?.propertyBool { input[member] = .bool(value) }
            }
            var tags = context.tags
            for tag in props["Tags"]?.array ?? [] {
                if let key = tag["Key"]?.string { tags.append(Stack.Tag(key: key, value: tag["Value"]?.propertyText ?? "")) }
            }
            input["TagsList"] = .array(tags.map { ["Key": .string($0.key), "Value": .string($0.value)] })
            let out = try await context.call("cloudtrail", "CreateTrail", .object(input))
            let arn = out["TrailARN"]?.string ?? ""
            try await context.completing {
                if props["EventSelectors"] != nil || props["AdvancedEventSelectors"] != nil {
                    var selectors: [String: JSONValue] = ["TrailName": .string(arn)]
                    if let s = props["EventSelectors"] { selectors["EventSelectors"] = s }
                    if let s = props["AdvancedEventSelectors"] { selectors["AdvancedEventSelectors"] = s }
                    _ = try await context.call("cloudtrail", "PutEventSelectors", .object(selectors))
                }
                if let insights = props["InsightSelectors"] {
                    _ = try await context.call("cloudtrail", "PutInsightSelectors", ["TrailName": .string(arn), "InsightSelectors": insights])
                }
                if props["IsLogging"]?.propertyBool == true {
                    _ = try await context.call("cloudtrail", "StartLogging", ["Name": .string(arn)])
                }
            } undo: {
                _ = try await context.call("cloudtrail", "DeleteTrail", ["Name": .string(arn)])
            }
            var attributes: [String: JSONValue] = ["Arn": .string(arn)]
            if let topic = out["SnsTopicARN"]?.string { attributes["SnsTopicArn"] = .string(topic) }
            return Provisioned(physicalID: name!, ref: name!, attributes: attributes)
        },
        delete: { context, resource in
            guard let name = resource.physicalID else { return }
            do {
                _ = try await context.call("cloudtrail", "DeleteTrail", ["Name": .string(name)])
            } catch let error as AWSError where error.code == "TrailNotFoundException" {
            }
        },
        naming: ("TrailName", 128, false))
}
