import AWSCore
import Testing

/// The documented CloudTrail bucket policy and variations of it, evaluated as IAM does for a service principal.
@Suite("Resource policy evaluation")
struct PolicyDocumentTests {
    /// The bucket policy the CloudTrail User Guide gives for a trail with prefix `pfx` in account 111122223333.
    static let cloudTrailPolicy = #"""
        {"Version":"2012-10-17","Statement":[
          {"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
           "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::bkt",
           "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t1"}}},
          {"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":["cloudtrail.amazonaws.com"]},
           "Action":["s3:PutObject"],"Resource":"arn:aws:s3:::bkt/pfx/AWSLogs/111122223333/*",
           "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control",
                                        "aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t1"}}}]}
        """#

    static func put(
        _ key: String, sourceArn: String = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1", service: String = "cloudtrail.amazonaws.com"
    ) -> PolicyDocument.Request {
        PolicyDocument.Request(
            servicePrincipal: service, action: "s3:PutObject", resource: "arn:aws:s3:::bkt/\(key)",
            context: ["aws:SourceArn": sourceArn, "s3:x-amz-acl": "bucket-owner-full-control"])
    }

    @Test func theDocumentedPolicyLetsTheTrailWriteUnderItsPrefixOnly() throws {
        let policy = try PolicyDocument(json: Self.cloudTrailPolicy)
        #expect(policy.allows(Self.put("pfx/AWSLogs/111122223333/CloudTrail/us-east-1/2025/01/01/x.json.gz")))
        #expect(!policy.allows(Self.put("AWSLogs/111122223333/CloudTrail/x.json.gz")))
        #expect(!policy.allows(Self.put("pfx/AWSLogs/999999999999/x")))
        #expect(!policy.allows(Self.put("pfx/AWSLogs/111122223333/x", sourceArn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/other")))
        #expect(!policy.allows(Self.put("pfx/AWSLogs/111122223333/x", service: "config.amazonaws.com")))
        let acl = PolicyDocument.Request(
            servicePrincipal: "cloudtrail.amazonaws.com", action: "S3:GetBucketAcl", resource: "arn:aws:s3:::bkt",
            context: ["AWS:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1"])
        #expect(policy.allows(acl), "action names and condition keys are case-insensitive")
    }

    @Test func anExplicitDenyWins() throws {
        let policy = try PolicyDocument(
            json: #"""
                {"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},
                              {"Effect":"Deny","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/*"}]}
                """#)
        #expect(!policy.allows(Self.put("a")))
        #expect(
            policy.allows(
                PolicyDocument.Request(servicePrincipal: "cloudtrail.amazonaws.com", action: "s3:GetBucketAcl", resource: "arn:aws:s3:::bkt")))
    }

    @Test func wildcardsAndLikeOperators() throws {
        #expect(Glob.matches("arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt/a/b"))
        #expect(Glob.matches("s3:Put*", "s3:PutObject"))
        #expect(Glob.matches("a?c", "abc"))
        #expect(!Glob.matches("a?c", "ac"))
        #expect(!Glob.matches("arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt2/a"))
        let policy = try PolicyDocument(
            json: #"""
                {"Statement":{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject",
                 "Resource":"arn:aws:s3:::bkt/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}}
                """#)
        #expect(policy.allows(Self.put("x")))
        #expect(!policy.allows(Self.put("x", sourceArn: "arn:aws:cloudtrail:us-east-1:999999999999:trail/t1")))
    }

    @Test func aMissingConditionKeyFailsPositiveTestsOnly() throws {
        let policy = try PolicyDocument(
            json: #"""
                {"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sns:Publish","Resource":"*",
                  "Condition":{"StringNotEquals":{"aws:SourceAccount":"999999999999"}}}]}
                """#)
        #expect(
            policy.allows(PolicyDocument.Request(awsAccount: "111122223333", action: "sns:Publish", resource: "arn:aws:sns:us-east-1:111122223333:t"))
        )
        #expect(
            !policy.allows(
                PolicyDocument.Request(awsAccount: "222233334444", action: "sns:Publish", resource: "arn:aws:sns:us-east-1:111122223333:t")))
        let strict = try PolicyDocument(
            json: #"""
                {"Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*",
                  "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}
                """#)
        #expect(!strict.allows(PolicyDocument.Request(servicePrincipal: "cloudtrail.amazonaws.com", action: "sns:Publish", resource: "x")))
    }

    @Test(arguments: [
        "not json", "[]", #"{"Version":"2012-10-17"}"#, #"{"Statement":[]}"#,
        #"{"Statement":{"Effect":"Maybe","Action":"s3:*"}}"#, #"{"Statement":{"Effect":"Allow"}}"#,
        #"{"Statement":{"Effect":"Allow","Action":"s3:*","Principal":"someone"}}"#,
    ])
    func malformedDocumentsAreRefused(_ json: String) {
        #expect(throws: PolicyError.self) { try PolicyDocument(json: json) }
    }
}
