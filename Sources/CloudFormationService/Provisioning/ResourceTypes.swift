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
        uniqueKeysWithValues: [bucket, bucketPolicy, topic, subscription, topicPolicy, trail, configurationRecorder, deliveryChannel, configRule, nestedStack].map { ($0.name, $0) })

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
                try await configureBucket(context, bucket: bucket, props, previous: [:])
            } undo: {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket), as: context.origin)
            }
            return bucketProvisioned(bucket, region: context.region)
        },
        delete: { context, resource in
            guard let bucket = resource.physicalID else { return }
            do {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket), as: context.origin)
            } catch let error as AWSError where error.code == "NoSuchBucket" {
                // Already gone.
            }
        },
        naming: ("BucketName", 63, true), replacing: ["BucketName"],
        update: { context, resource, properties in
            let props = properties.object ?? [:]
            if let unsupported = props.keys.sorted().first(where: { !bucketProperties.contains($0) }) {
                throw ResourceFailure(reason: "Property \(unsupported) of AWS::S3::Bucket is not supported by Cairn's S3")
            }
            let bucket = resource.physicalID ?? ""
            try await configureBucket(context, bucket: bucket, props, previous: resource.properties?.object ?? [:])
            return bucketProvisioned(bucket, region: context.region)
        })

    /// What `Ref` and `Fn::GetAtt` return for a bucket (B6.9).
    static func bucketProvisioned(_ bucket: String, region: String) -> Provisioned {
        Provisioned(
            physicalID: bucket, ref: bucket,
            attributes: [
                "Arn": .string("arn:aws:s3:::\(bucket)"), "DomainName": .string("\(bucket).s3.amazonaws.com"),
                "DualStackDomainName": .string("\(bucket).s3.dualstack.\(region).amazonaws.com"),
                "RegionalDomainName": .string("\(bucket).s3.\(region).amazonaws.com"),
                "WebsiteURL": .string("http://\(bucket).s3-website-\(region).amazonaws.com"),
            ])
    }

    /// Applies a bucket's tags, versioning and encryption (after its creation, or in an update; `previous` are the
    /// properties it had, so that a configuration removed from the template is removed from the bucket).
    static func configureBucket(
        _ context: ResourceContext, bucket: String, _ props: [String: JSONValue], previous: [String: JSONValue]
    ) async throws {
        var tags = context.tags
        for tag in props["Tags"]?.array ?? [] {
            if let key = tag["Key"]?.string { tags.append(Stack.Tag(key: key, value: tag["Value"]?.propertyText ?? "")) }
        }
        try await s3Put(context, bucket: bucket, subresource: "tagging", xml: taggingXML(tags))
        if let status = props["VersioningConfiguration"]?["Status"]?.string {
            try await s3Put(
                context, bucket: bucket, subresource: "versioning",
                xml: "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(XMLWriter.escape(status))</Status></VersioningConfiguration>")
        } else if previous["VersioningConfiguration"] != nil {
            try await s3Put(
                context, bucket: bucket, subresource: "versioning",
                xml: "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Suspended</Status></VersioningConfiguration>")
        }
        if let rules = props["BucketEncryption"]?["ServerSideEncryptionConfiguration"]?.array {
            var xml = "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for rule in rules {
                xml += "<Rule><ApplyServerSideEncryptionByDefault>"
                let d = rule["ServerSideEncryptionByDefault"]
                xml += "<SSEAlgorithm>\(XMLWriter.escape(d?["SSEAlgorithm"]?.string ?? "AES256"))</SSEAlgorithm>"
                if let key = d?["KMSMasterKeyID"]?.string { xml += "<KMSMasterKeyID>\(XMLWriter.escape(key))</KMSMasterKeyID>" }
                xml += "</ApplyServerSideEncryptionByDefault>"
                if let enabled = rule["BucketKeyEnabled"]?.propertyBool { xml += "<BucketKeyEnabled>\(enabled)</BucketKeyEnabled>" }
                xml += "</Rule>"
            }
            try await s3Put(context, bucket: bucket, subresource: "encryption", xml: xml + "</ServerSideEncryptionConfiguration>")
        } else if previous["BucketEncryption"] != nil {
            _ = try await context.client.s3(
                S3ClientRequest(method: .delete, bucket: bucket, query: [("encryption", "")]), as: context.origin)
        }
    }

    /// `AWS::S3::BucketPolicy`: PutBucketPolicy; deleting it is DeleteBucketPolicy. Its physical id is the bucket.
    static let bucketPolicy = ResourceType(
        name: "AWS::S3::BucketPolicy",
        create: { context, properties, _ in try await putBucketPolicy(context, properties) },
        delete: { context, resource in
            guard let bucket = resource.physicalID else { return }
            do {
                _ = try await context.client.s3(S3ClientRequest(method: .delete, bucket: bucket, query: [("policy", "")]), as: context.origin)
            } catch let error as AWSError where error.code == "NoSuchBucket" {
            }
        },
        naming: nil, replacing: ["Bucket"],
        update: { context, _, properties in try await putBucketPolicy(context, properties) })

    /// PutBucketPolicy of a `AWS::S3::BucketPolicy`'s document.
    static func putBucketPolicy(_ context: ResourceContext, _ properties: JSONValue) async throws -> Provisioned {
        guard let bucket = properties["Bucket"]?.string, let policy = properties["PolicyDocument"]?.policyText else {
            throw ResourceFailure(reason: "Properties validation failed for resource \(context.logicalID) with message: [#: required key [Bucket, PolicyDocument] not found]")
        }
        var body = ByteBuffer()
        body.writeString(policy)
        _ = try await context.client.s3(
            S3ClientRequest(method: .put, bucket: bucket, query: [("policy", "")], body: body), as: context.origin)
        return Provisioned(physicalID: bucket, ref: bucket, attributes: [:])
    }

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
        for tag in tags { xml += "<Tag><Key>\(XMLWriter.escape(tag.key))</Key><Value>\(XMLWriter.escape(tag.value))</Value></Tag>" }
        return xml + "</TagSet></Tagging>"
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
        naming: ("TopicName", 256, false), replacing: ["TopicName", "FifoTopic"],
        update: { context, resource, properties in
            let arn = resource.physicalID ?? ""
            let props = properties.object ?? [:]
            let before = resource.properties?.object ?? [:]
            for attribute in topicAttributes where attribute != "FifoTopic" && props[attribute] != before[attribute] {
                _ = try await context.call(
                    "sns", "SetTopicAttributes",
                    ["TopicArn": .string(arn), "AttributeName": .string(attribute), "AttributeValue": .string(props[attribute]?.propertyText ?? "")])
            }
            if props["Tags"] != before["Tags"] {
                let keep = Set((props["Tags"]?.array ?? []).compactMap { $0["Key"]?.string })
                let removed = (before["Tags"]?.array ?? []).compactMap { $0["Key"]?.string }.filter { !keep.contains($0) }
                if !removed.isEmpty {
                    _ = try await context.call("sns", "UntagResource", ["ResourceArn": .string(arn), "TagKeys": .array(removed.map(JSONValue.string))])
                }
                let tags = (props["Tags"]?.array ?? []).map { ["Key": $0["Key"] ?? "", "Value": .string($0["Value"]?.propertyText ?? "")] as JSONValue }
                if !tags.isEmpty { _ = try await context.call("sns", "TagResource", ["ResourceArn": .string(arn), "Tags": .array(tags)]) }
            }
            if props["Subscription"] != before["Subscription"] {
                // Subscriptions added to the list are made; those removed are left, as AWS leaves them (B6.9a).
                let old = Set((before["Subscription"]?.array ?? []).map(\.jsonText))
                for subscription in props["Subscription"]?.array ?? [] where !old.contains(subscription.jsonText) {
                    _ = try await context.call(
                        "sns", "Subscribe",
                        ["TopicArn": .string(arn), "Protocol": subscription["Protocol"] ?? "", "Endpoint": subscription["Endpoint"] ?? ""])
                }
            }
            let name = String(arn.split(separator: ":").last ?? "")
            return Provisioned(physicalID: arn, ref: arn, attributes: ["TopicArn": .string(arn), "TopicName": .string(name)])
        })

    /// `AWS::SNS::Subscription`: Subscribe (returning the subscription ARN) with the attributes the template sets.
    static let subscription = ResourceType(
        name: "AWS::SNS::Subscription",
        create: { context, properties, _ in
            var attributes: [String: JSONValue] = [:]
            for attribute in subscriptionAttributes {
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
        naming: nil, replacing: ["Endpoint", "Protocol", "TopicArn", "Region"],
        update: { context, resource, properties in
            let arn = resource.physicalID ?? ""
            let before = resource.properties?.object ?? [:]
            for attribute in subscriptionAttributes where properties[attribute] != before[attribute] {
                _ = try await context.call(
                    "sns", "SetSubscriptionAttributes",
                    ["SubscriptionArn": .string(arn), "AttributeName": .string(attribute),
                     "AttributeValue": .string(properties[attribute]?.propertyText ?? "")])
            }
            return Provisioned(physicalID: arn, ref: arn, attributes: ["Arn": .string(arn)])
        })

    /// The `AWS::SNS::Subscription` properties that are subscription attributes of the same name.
    static let subscriptionAttributes = [
        "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn",
    ]

    /// `AWS::SNS::TopicPolicy`: SetTopicAttributes `Policy` on each topic. Deleting it puts back each topic's
    /// default policy (SNS answers an empty `Policy` with the default).
    static let topicPolicy = ResourceType(
        name: "AWS::SNS::TopicPolicy",
        create: { context, properties, _ in try await setTopicPolicy(context, properties) },
        delete: { context, resource in
            try await resetTopicPolicies(context, resource.properties?["Topics"]?.array?.compactMap(\.string) ?? [])
        },
        naming: nil,
        update: { context, resource, properties in
            // Topics no longer listed get their default policy back.
            let kept = Set(properties["Topics"]?.array?.compactMap(\.string) ?? [])
            let dropped = (resource.properties?["Topics"]?.array?.compactMap(\.string) ?? []).filter { !kept.contains($0) }
            try await resetTopicPolicies(context, dropped)
            return try await setTopicPolicy(context, properties)
        })

    /// SetTopicAttributes `Policy` of each topic a `AWS::SNS::TopicPolicy` lists.
    static func setTopicPolicy(_ context: ResourceContext, _ properties: JSONValue) async throws -> Provisioned {
        guard let policy = properties["PolicyDocument"]?.policyText, let topics = properties["Topics"]?.array else {
            throw ResourceFailure(reason: "Properties validation failed for resource \(context.logicalID) with message: [#: required key [PolicyDocument, Topics] not found]")
        }
        for topic in topics {
            _ = try await context.call(
                "sns", "SetTopicAttributes", ["TopicArn": topic, "AttributeName": "Policy", "AttributeValue": .string(policy)])
        }
        let id = topics.compactMap(\.string).joined(separator: "|")
        return Provisioned(physicalID: id, ref: id, attributes: ["Id": .string(id)])
    }

    /// Gives topics their default policy back (topics already deleted are skipped).
    static func resetTopicPolicies(_ context: ResourceContext, _ topics: [String]) async throws {
        for arn in topics {
            do {
                _ = try await context.call(
                    "sns", "SetTopicAttributes",
                    ["TopicArn": .string(arn), "AttributeName": "Policy", "AttributeValue": .string(defaultTopicPolicy(arn, account: context.account))])
            } catch let error as AWSError where error.code == "NotFound" {
            }
        }
    }

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
        naming: ("TrailName", 128, false), replacing: ["TrailName"],
        update: { context, resource, properties in
            let name = resource.physicalID ?? ""
            let props = properties.object ?? [:]
            let before = resource.properties?.object ?? [:]
            var input: [String: JSONValue] = ["Name": .string(name)]
            for member in ["S3BucketName", "S3KeyPrefix", "SnsTopicName", "KMSKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"]
            where props[member] != before[member] {
                input[member] = .string(props[member]?.propertyText ?? "")
            }
            for member in ["IncludeGlobalServiceEvents", "IsMultiRegionTrail", "EnableLogFileValidation", "IsOrganizationTrail"]
            where props[member] != before[member] {
                input[member] = .bool(props[member]?.propertyBool ?? false)
            }
            var out = try await context.call("cloudtrail", "UpdateTrail", .object(input))
            let arn = out["TrailARN"]?.string ?? ""
            if props["EventSelectors"] != before["EventSelectors"] || props["AdvancedEventSelectors"] != before["AdvancedEventSelectors"] {
                var selectors: [String: JSONValue] = ["TrailName": .string(arn)]
                if let s = props["AdvancedEventSelectors"] {
                    selectors["AdvancedEventSelectors"] = s
                } else {
                    selectors["EventSelectors"] = props["EventSelectors"] ?? [["ReadWriteType": "All", "IncludeManagementEvents": true]]
                }
                _ = try await context.call("cloudtrail", "PutEventSelectors", .object(selectors))
            }
            if props["IsLogging"]?.propertyBool != before["IsLogging"]?.propertyBool {
                let operation = props["IsLogging"]?.propertyBool == true ? "StartLogging" : "StopLogging"
                _ = try await context.call("cloudtrail", operation, ["Name": .string(arn)])
            }
            out = try await context.call("cloudtrail", "GetTrail", ["Name": .string(arn)])
            var attributes: [String: JSONValue] = ["Arn": .string(arn)]
            if let topic = out["Trail"]?["SnsTopicARN"]?.string { attributes["SnsTopicArn"] = .string(topic) }
            return Provisioned(physicalID: name, ref: name, attributes: attributes)
        })
}
