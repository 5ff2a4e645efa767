import AWSCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The `cfn` scenario: a 100-resource stack (buckets, their policies, topics) from CreateStack to CREATE_COMPLETE and
/// from DeleteStack to DELETE_COMPLETE, timed by polling DescribeStacks, the median of several runs; the same
/// template against moto_server when it is on PATH.
extension Runner {
    /// The template: 40 buckets, 40 bucket policies (each on its bucket) and 20 topics.
    static func stackTemplate() -> String {
        var resources: [String: Any] = [:]
        for i in 0..<40 {
            resources["Bucket\(i)"] = ["Type": "AWS::S3::Bucket"]
            resources["Policy\(i)"] = [
                "Type": "AWS::S3::BucketPolicy",
                "Properties": [
                    "Bucket": ["Ref": "Bucket\(i)"],
                    "PolicyDocument": [
                        "Version": "2012-10-17",
                        "Statement": [
                            [
                                "Effect": "Allow", "Principal": ["Service": "cloudtrail.amazonaws.com"], "Action": "s3:GetBucketAcl",
                                "Resource": ["Fn::GetAtt": ["Bucket\(i)", "Arn"]],
                            ]
                        ],
                    ],
                ],
            ]
        }
        for i in 0..<20 { resources["Topic\(i)"] = ["Type": "AWS::SNS::Topic"] }
        let data = try! JSONSerialization.data(withJSONObject: ["Resources": resources], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// One signed Query call to CloudFormation; returns the status and body.
    func cloudFormation(_ endpoint: String, _ parameters: [(String, String)]) async throws -> (UInt, String) {
        let body = Array((parameters + [("Version", "2010-05-15")]).map { "\($0.0)=\(FormEncoding.uriEncode($0.1))" }.joined(separator: "&").utf8)
        let host = String(endpoint.dropFirst("http://".count))
        let signer = SigV4Signer(accessKeyId: "test", secretAccessKey: "test", region: "us-east-1", service: "cloudformation")
        var headers: [(name: String, value: String)] = [("host", host), ("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
        headers += signer.sign(method: "POST", rawPath: "/", headers: headers, body: body, now: Int64(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let (status, answer) = try await send(client, request)
        return (status, String(buffer: answer))
    }

    /// Polls DescribeStacks until the stack's status is `wanted` (an error once it is another terminal status).
    func waitForStack(_ endpoint: String, _ stack: String, _ wanted: String) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let (_, body) = try await cloudFormation(endpoint, [("Action", "DescribeStacks"), ("StackName", stack)])
            if let start = body.range(of: "<StackStatus>"), let end = body.range(of: "</StackStatus>") {
                let status = String(body[start.upperBound..<end.lowerBound])
                if status == wanted { return }
                if !status.hasSuffix("_IN_PROGRESS") { throw BenchError("stack \(stack) ended \(status), not \(wanted)") }
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchError("stack \(stack) did not reach \(wanted) within 120 s")
    }

    /// Creates and deletes the stack `runs` times; returns the median seconds of each.
    func runStacks(endpoint: String, runs: Int) async throws -> (create: Double, delete: Double) {
        let template = Self.stackTemplate()
        var creates: [Double] = []
        var deletes: [Double] = []
        for run in 0..<runs {
            let name = "bench-\(run)"
            let started = ContinuousClock.now
            let (status, body) = try await cloudFormation(
                endpoint, [("Action", "CreateStack"), ("StackName", name), ("TemplateBody", template)])
            guard status == 200, let start = body.range(of: "<StackId>"), let end = body.range(of: "</StackId>") else {
                throw BenchError("CreateStack answered HTTP \(status): \(body.prefix(300))")
            }
            let id = String(body[start.upperBound..<end.lowerBound])
            try await waitForStack(endpoint, id, "CREATE_COMPLETE")
            creates.append((ContinuousClock.now - started).seconds)
            let deleting = ContinuousClock.now
            _ = try await cloudFormation(endpoint, [("Action", "DeleteStack"), ("StackName", id)])
            try await waitForStack(endpoint, id, "DELETE_COMPLETE")
            deletes.append((ContinuousClock.now - deleting).seconds)
        }
        return (creates.sorted()[runs / 2], deletes.sorted()[runs / 2])
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
