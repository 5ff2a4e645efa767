import Testing

@testable import CloudFormationService

/// Stack policies: protected by default, an Allow opens, a Deny wins, wildcards and resource-type conditions.
@Suite("Stack policy")
struct StackPolicyTests {
    @Test("with a policy every resource is protected unless a statement allows the action; a Deny wins")
    func decisions() throws {
        let policy = try StackPolicy(
            #"""
            {"Statement":[
              {"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},
              {"Effect":"Deny","Action":["Update:Replace","Update:Delete"],"Principal":"*","Resource":"LogicalResourceId/Prod*"},
              {"Effect":"Deny","Action":"Update:Delete","Principal":"*","Resource":"*","Condition":{"StringEquals":{"ResourceType":["AWS::S3::Bucket"]}}}
            ]}
            """#)
        #expect(policy.refusal("Update:Modify", logicalID: "ProdTopic", type: "AWS::SNS::Topic") == nil)
        #expect(
            policy.refusal("Update:Replace", logicalID: "ProdTopic", type: "AWS::SNS::Topic")
                == "Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource [LogicalResourceId/ProdTopic];")
        #expect(policy.refusal("Update:Replace", logicalID: "DevTopic", type: "AWS::SNS::Topic") == nil)
        #expect(policy.refusal("Update:Delete", logicalID: "Logs", type: "AWS::S3::Bucket")?.contains("Statement [#3]") == true)
        let narrow = try StackPolicy(#"{"Statement":{"Effect":"Allow","Action":"Update:Modify","Principal":"*","Resource":"LogicalResourceId/A"}}"#)
        #expect(narrow.refusal("Update:Modify", logicalID: "A", type: "AWS::SNS::Topic") == nil)
        #expect(narrow.refusal("Update:Modify", logicalID: "B", type: "AWS::SNS::Topic")?.hasPrefix("Action not allowed by stack policy") == true)
        #expect(narrow.refusal("Update:Replace", logicalID: "A", type: "AWS::SNS::Topic") != nil)
        let notResource = try StackPolicy(#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","NotResource":"LogicalResourceId/Db"}]}"#)
        #expect(notResource.refusal("Update:Modify", logicalID: "Web", type: "AWS::SNS::Topic") == nil)
        #expect(notResource.refusal("Update:Modify", logicalID: "Db", type: "AWS::SNS::Topic") != nil)
    }

    @Test("a document that is not a stack policy is refused", arguments: [
        "not json", #"{"Statement":[{"Effect":"Maybe","Action":"Update:*","Resource":"*"}]}"#,
        #"{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#, #"{"Version":"2012-10-17"}"#,
    ])
    func malformed(text: String) {
        #expect(throws: (any Error).self) { try StackPolicy(text) }
    }
}
