import Testing

@testable import CloudFormationService

/// Stack names, generated physical names and template URLs.
@Suite("Stack naming")
struct StackNamingTests {
    @Test("stack names start with a letter and hold letters, digits and hyphens, at most 128")
    func stackNames() {
        #expect(CloudFormationErrors.isValidStackName("my-stack-1"))
        #expect(!CloudFormationErrors.isValidStackName("1stack"))
        #expect(!CloudFormationErrors.isValidStackName("my_stack"))
        #expect(!CloudFormationErrors.isValidStackName(""))
        #expect(CloudFormationErrors.isValidStackName(String(repeating: "a", count: 128)))
        #expect(!CloudFormationErrors.isValidStackName(String(repeating: "a", count: 129)))
    }

    @Test("generated names are <stack>-<logical id>-<13 random>, shortened to the type's limit, lower-cased for buckets")
    func generatedNames() {
        let suffix = CloudFormationCore.randomSuffix("9f1c2e4a-1b2c-4d3e-8f9a-0b1c2d3e4f5a")
        #expect(suffix.count == 13)
        #expect(suffix.allSatisfy { $0.isUppercase || $0.isNumber })
        #expect(suffix != CloudFormationCore.randomSuffix("0f1c2e4a-1b2c-4d3e-8f9a-0b1c2d3e4f5b"))
        let bucket = ResourceContext.generatedName(stack: "MyStack", logicalID: "LogsBucket", maxLength: 63, lowercase: true, random: suffix)
        #expect(bucket == "mystack-logsbucket-" + suffix.lowercased())
        let long = ResourceContext.generatedName(
            stack: String(repeating: "s", count: 60), logicalID: "Bucket", maxLength: 63, lowercase: true, random: suffix)
        #expect(long.count == 63)
        #expect(long.hasSuffix("-" + suffix.lowercased()))
    }

    @Test("template URLs name a bucket and key in virtual-hosted, path-style and global forms")
    func templateURLs() {
        #expect(CloudFormationCore.s3Location("https://s3.amazonaws.com/my-bucket/path/t.yaml")! == ("my-bucket", "path/t.yaml"))
        #expect(CloudFormationCore.s3Location("https://my-bucket.s3.amazonaws.com/t.json")! == ("my-bucket", "t.json"))
        #expect(CloudFormationCore.s3Location("https://my-bucket.s3.eu-west-1.amazonaws.com/a/b.json")! == ("my-bucket", "a/b.json"))
        #expect(CloudFormationCore.s3Location("https://s3.eu-west-1.amazonaws.com/my-bucket/t.json")! == ("my-bucket", "t.json"))
        #expect(CloudFormationCore.s3Location("http://127.0.0.1:4566/my-bucket/t.json")! == ("my-bucket", "t.json"))
        #expect(CloudFormationCore.s3Location("https://s3.amazonaws.com/only-bucket") == nil)
    }
}
