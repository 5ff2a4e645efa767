import AWSCore
import Foundation
import Gateway
import HTTPTypes
import Logging
import NIOCore
import S3Service
import SNSService
import Storage
import Testing

/// The in-process client: calls take the same steps as HTTP calls (validation, the operation, the audit record, the
/// durable append), whoever makes them.
@Suite("ServiceClient")
struct ServiceClientTests {
    static let account = "111111111111"
    let alice = Caller(kind: .iamUser, accountId: ServiceClientTests.account, accessKeyId: "AKIAALICE", name: "alice")

    /// S3 and SNS behind one pipeline over a fresh data directory.
    struct Hosted {
        let storage: SQLiteStorage
        let client: ServiceClient

        /// Every recorded event, oldest first, as parsed records.
        func records() async throws -> [[String: Any]] {
            try await storage.events(after: 0, limit: 1000).map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.event.record)) as? [String: Any])
            }
        }
    }

    func host() async throws -> Hosted {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-client-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let storage = try SQLiteStorage(directory: dir)
        let logger = Logger(label: "test")
        let s3 = try await S3Service(state: storage, index: storage, dataDirectory: dir, runtime: .live, logger: logger)
        let sns = try await SNSService(state: storage, dataDirectory: dir, endpoint: { "http://127.0.0.1:1" }, runtime: .live, logger: logger)
        let pipeline = CallPipeline(events: storage, runtime: .live, logger: logger)
        pipeline.install(services: [sns], s3: s3)
        return Hosted(storage: storage, client: ServiceClient(pipeline: pipeline))
    }

    @Test("a call as a user is answered and recorded with the origin's address and user agent")
    func callAsUser() async throws {
        let hosted = try await host()
        let origin = CallOrigin(caller: alice, region: "eu-west-1", sourceIPAddress: "10.1.2.3", userAgent: "agent/1.0")
        let output = try await hosted.client.call("sns", "CreateTopic", ["Name": "alerts"], as: origin)
        let arn = "arn:aws:sns:eu-west-1:\(Self.account):alerts"
        #expect(output["TopicArn"]?.string == arn)
        let record = try #require(try await hosted.records().last)
        #expect(record["eventName"] as? String == "CreateTopic" && record["eventSource"] as? String == "sns.amazonaws.com")
        #expect((record["userIdentity"] as? [String: Any])?["userName"] as? String == "alice")
        #expect(record["sourceIPAddress"] as? String == "10.1.2.3" && record["userAgent"] as? String == "agent/1.0")
        #expect(record["awsRegion"] as? String == "eu-west-1" && record["recipientAccountId"] as? String == Self.account)
        #expect((record["responseElements"] as? [String: Any])?["topicArn"] as? String == arn)
    }

    @Test("a service acting for a user is recorded as the user, invoked by the service")
    func callOnBehalf() async throws {
        let hosted = try await host()
        let origin = CallOrigin.onBehalf(of: alice, region: "us-east-1", by: "cloudformation.amazonaws.com")
        _ = try await hosted.client.call("sns", "CreateTopic", ["Name": "stack-topic"], as: origin)
        let record = try #require(try await hosted.records().last)
        let identity = try #require(record["userIdentity"] as? [String: Any])
        #expect(identity["type"] as? String == "IAMUser" && identity["userName"] as? String == "alice")
        #expect(identity["invokedBy"] as? String == "cloudformation.amazonaws.com")
        #expect(record["sourceIPAddress"] as? String == "cloudformation.amazonaws.com")
        #expect(record["userAgent"] as? String == "cloudformation.amazonaws.com")
    }

    @Test("failing calls throw their AWS error and are recorded with it: refused, invalid and mistyped input")
    func failingCalls() async throws {
        let hosted = try await host()
        let user = CallOrigin(caller: alice, region: "us-east-1", sourceIPAddress: "127.0.0.1", userAgent: "t")
        let arn = try #require(try await hosted.client.call("sns", "CreateTopic", ["Name": "t"], as: user)["TopicArn"]?.string)
        let trail = "arn:aws:cloudtrail:us-east-1:\(Self.account):trail/t"
        let service = CallOrigin.service("cloudtrail.amazonaws.com", account: Self.account, region: "us-east-1", sourceArn: trail)
        await #expect(throws: AWSError.self) {
            _ = try await hosted.client.call("sns", "Publish", ["TopicArn": .string(arn), "Message": "m"], as: service)
        }
        var record = try #require(try await hosted.records().last)
        #expect(record["errorCode"] as? String == "AuthorizationError")
        #expect(record["userIdentity"] as? [String: String] == ["type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"])
        #expect(record["responseElements"] is NSNull)

        await #expect(throws: AWSError.self) { _ = try await hosted.client.call("sns", "Publish", ["Message": "m"], as: user) }
        record = try #require(try await hosted.records().last)
        #expect(record["errorCode"] as? String == "InvalidParameter")

        await #expect(throws: AWSError.self) { _ = try await hosted.client.call("sns", "CreateTopic", [:], as: user) }
        record = try #require(try await hosted.records().last)
        #expect(record["errorCode"] as? String == "ValidationError")

        await #expect(throws: AWSError.self) { _ = try await hosted.client.call("sns", "CreateTopic", ["Name": 5], as: user) }
        record = try #require(try await hosted.records().last)
        #expect(record["errorCode"] as? String == "SerializationException" && record["eventName"] as? String == "CreateTopic")

        // An operation the service does not have is refused before anything runs, and not recorded.
        let count = try await hosted.records().count
        await #expect(throws: AWSError.self) { _ = try await hosted.client.call("sns", "NoSuchThing", [:], as: user) }
        #expect(try await hosted.records().count == count)
    }

    @Test("S3 calls: a bucket made as a user, a service principal's writes refused then allowed by the bucket policy")
    func callIntoS3() async throws {
        let hosted = try await host()
        let user = CallOrigin(caller: alice, region: "us-east-1", sourceIPAddress: "127.0.0.1", userAgent: "[agent/2]")
        let created = try await hosted.client.s3(S3ClientRequest(method: .put, bucket: "logs"), as: user)
        #expect(created.status == .ok)

        let trail = "arn:aws:cloudtrail:us-east-1:\(Self.account):trail/t"
        let service = CallOrigin.service("cloudtrail.amazonaws.com", account: Self.account, region: "us-east-1", sourceArn: trail)
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("x-amz-acl")!] = "bucket-owner-full-control"
        let put = S3ClientRequest.putObject(bucket: "logs", key: "AWSLogs/f.json", body: ByteBuffer(string: "{}"), headers: headers)
        await #expect(throws: AWSError("AccessDenied", "Access Denied", status: 403)) { _ = try await hosted.client.s3(put, as: service) }
        let refused = try #require(try await hosted.records().last)
        #expect(refused["eventName"] as? String == "PutObject" && refused["errorCode"] as? String == "AccessDenied")

        let policy = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},\
            "Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/AWSLogs/*",\
            "Condition":{"StringEquals":{"aws:SourceArn":"\(trail)","s3:x-amz-acl":"bucket-owner-full-control"}}}]}
            """
        let policySet = try await hosted.client.s3(
            S3ClientRequest(method: .put, bucket: "logs", query: [("policy", "")], body: ByteBuffer(string: policy)), as: user)
        #expect(policySet.status == .noContent)
        _ = try await hosted.client.s3(put, as: service)
        let written = try #require(try await hosted.records().last)
        #expect(written["errorCode"] == nil && written["eventCategory"] as? String == "Data")
        #expect(written["recipientAccountId"] as? String == Self.account)
        #expect((written["additionalEventData"] as? [String: Any])?["bytesTransferredIn"] as? Int == 2)
        #expect((written["requestParameters"] as? [String: Any])?["x-amz-acl"] as? String == "bucket-owner-full-control")

        let read = try await hosted.client.s3(S3ClientRequest(method: .get, bucket: "logs", key: "AWSLogs/f.json"), as: user)
        #expect(String(buffer: read.body) == "{}" && read.headers[.contentType] == "application/json")
        let get = try #require(try await hosted.records().last)
        #expect(get["eventName"] as? String == "GetObject" && get["userAgent"] as? String == "[agent/2]")
    }
}
