import AWSCore
import Foundation
import Gateway
import Logging
import SNSService
import Storage
import Testing

/// The package API other services get in the composition root: topic policies and publishing as a service.
@Suite("SNSTopics")
struct SNSTopicsTests {
    private let caller = Caller(kind: .iamUser, accountId: "111111111111", accessKeyId: "AKIATEST", name: "alice")

    /// A fresh SNS service over a temporary data directory.
    private func makeService() async throws -> SNSService {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-sns-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let storage = try SQLiteStorage(directory: dir)
        return try await SNSService(
            state: storage, dataDirectory: dir, endpoint: { "http://127.0.0.1:1" }, runtime: .live, logger: Logger(label: "test"))
    }

    /// Runs an operation in us-east-1, as alice unless another caller is given.
    private func call(_ sns: SNSService, _ name: String, _ input: [String: JSONValue], as caller: Caller? = nil) async throws -> JSONValue {
        try await sns.operations[name]!.run(
            OperationCall(
                input: .object(input), caller: caller ?? self.caller, region: "us-east-1", requestID: "r", now: Int64(Date().timeIntervalSince1970)))
    }

    @Test("policy(ofTopic:) gives the topic's policy, the default one until set, and nil for no topic")
    func policy() async throws {
        let sns = try await makeService()
        let arn = try await call(sns, "CreateTopic", ["Name": "alerts"])["TopicArn"]?.string
        #expect(arn == "arn:aws:sns:us-east-1:111111111111:alerts")
        let policy = try #require(sns.topics.policy(ofTopic: arn!))
        #expect(policy.contains(#""Id":"__default_policy_ID""#) && policy.contains(#""AWS:SourceOwner":"111111111111""#))
        #expect(sns.topics.policy(ofTopic: "arn:aws:sns:us-east-1:111111111111:missing") == nil)
        #expect(sns.topics.allowsPublish(toTopic: "arn:aws:sns:us-east-1:111111111111:missing", service: "cloudtrail.amazonaws.com") == nil)
    }

    @Test("a service principal's Publish needs the topic policy's grant, with its source account and ARN")
    func publishAsService() async throws {
        let sns = try await makeService()
        let arn = try #require(try await call(sns, "CreateTopic", ["Name": "trail-notes"])["TopicArn"]?.string)
        let trail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/t"
        let cloudTrail = Caller.service("cloudtrail.amazonaws.com", account: "111111111111", sourceArn: trail)
        #expect(sns.topics.allowsPublish(toTopic: arn, service: "cloudtrail.amazonaws.com") == false)
        await #expect(
            throws: AWSError(
                "AuthorizationError", "Service: cloudtrail.amazonaws.com is not authorized to perform: SNS:Publish on resource: \(arn)",
                status: 403)
        ) {
            _ = try await call(sns, "Publish", ["TopicArn": .string(arn), "Message": "{}"], as: cloudTrail)
        }
        let grant =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"SNS:Publish","Resource":"\#(arn)","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111","aws:SourceArn":"\#(trail)"}}}]}"#
        _ = try await call(sns, "SetTopicAttributes", ["TopicArn": .string(arn), "AttributeName": "Policy", "AttributeValue": .string(grant)])
        #expect(sns.topics.allowsPublish(toTopic: arn, service: "cloudtrail.amazonaws.com", sourceArn: trail, sourceAccount: "111111111111") == true)
        #expect(sns.topics.allowsPublish(toTopic: arn, service: "cloudtrail.amazonaws.com", sourceArn: trail, sourceAccount: "222222222222") == false)
        #expect(sns.topics.allowsPublish(toTopic: arn, service: "config.amazonaws.com", sourceAccount: "111111111111") == false)
        let output = try await call(
            sns, "Publish", ["TopicArn": .string(arn), "Message": #"{"s3Bucket":"b"}"#, "Subject": "CloudTrail"], as: cloudTrail)
        #expect(UUID(uuidString: output["MessageId"]?.string ?? "") != nil)
        // Another trail of the same account is not the one the policy names.
        let otherTrail = Caller.service("cloudtrail.amazonaws.com", account: "111111111111", sourceArn: trail + "2")
        await #expect(throws: AWSError.self) {
            _ = try await call(sns, "Publish", ["TopicArn": .string(arn), "Message": "m"], as: otherTrail)
        }
        await #expect(throws: AWSError("NotFound", "Topic does not exist", status: 404)) {
            _ = try await call(sns, "Publish", ["TopicArn": .string(arn + "-gone"), "Message": "m"], as: cloudTrail)
        }
    }
}
