import AWSCore
import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// Signs requests for the in-process router tests as the AWS SDKs would.
struct TestSigner {
    var signer = SigV4Signer(accessKeyId: "test", secretAccessKey: "test", region: "us-east-1", service: "cloudtrail")

    /// Headers of a signed CloudTrail JSON 1.1 call.
    func cloudTrail(_ operation: String, body: String, now: Int64 = Int64(Date().timeIntervalSince1970)) -> HTTPFields {
        let target = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.\(operation)"
        let base: [(name: String, value: String)] = [
            ("host", "localhost"), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", target),
        ]
        var fields = HTTPFields()
        fields[.contentType] = "application/x-amz-json-1.1"
        fields[HTTPField.Name("X-Amz-Target")!] = target
        fields[.userAgent] = "cairn-tests/1.0"
        for (name, value) in signer.sign(method: "POST", rawPath: "/", headers: base, body: Array(body.utf8), now: now) {
            fields[HTTPField.Name(name)!] = value
        }
        return fields
    }

    /// Headers of a signed Query call to `service`.
    func query(_ service: String, body: String) -> HTTPFields {
        var s = signer
        s.service = service
        let base: [(name: String, value: String)] = [
            ("host", "localhost"), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        var fields = HTTPFields()
        fields[.contentType] = "application/x-www-form-urlencoded; charset=utf-8"
        for (name, value) in s.sign(
            method: "POST", rawPath: "/", headers: base, body: Array(body.utf8), now: Int64(Date().timeIntervalSince1970))
        {
            fields[HTTPField.Name(name)!] = value
        }
        return fields
    }
}

/// Builds an application over a fresh temporary data directory.
func makeApp() async throws -> some ApplicationProtocol {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tests-\(UUID().uuidString)").path
    return try await buildApplication(AppConfiguration(port: 0, dataDirectory: dir), logger: Logger(label: "test"))
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] ?? [:]
}

@Suite struct GatewayTests {
    let sign = TestSigner()

    @Test func signedCallIsAnsweredAndRecordedWithItsRequestID() async throws {
        let app = try await makeApp()
        try await app.test(.router) { client in
            let requestID = try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("DescribeTrails", body: "{}"), body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-amz-json-1.1")
                let parsed = try json(response.body)
                #expect(parsed["trailList"] as? [Any] != nil)
                return response.headers[HTTPField.Name("x-amzn-RequestId")!]
            }
            let body = #"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"DescribeTrails"}]}"#
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("LookupEvents", body: body), body: ByteBuffer(string: body)
            ) { response in
                let events = try json(response.body)["Events"] as? [[String: Any]] ?? []
                #expect(events.count == 1)
                let record =
                    try JSONSerialization.jsonObject(
                        with: Data((events.first?["CloudTrailEvent"] as? String ?? "").utf8)) as? [String: Any]
                #expect(record?["requestID"] as? String == requestID)
                #expect(record?["userAgent"] as? String == "cairn-tests/1.0")
                #expect(record?["readOnly"] as? Bool == true)
                #expect(record?["responseElements"] is NSNull)
                #expect(record?["requestParameters"] is NSNull)
            }
        }
    }

    @Test(arguments: [
        ("unsigned", "MissingAuthenticationTokenException"),
        ("badSecret", "InvalidSignatureException"),
        ("unknownKey", "UnrecognizedClientException"),
        ("skewed", "InvalidSignatureException"),
    ])
    func rejectedCredentialsGetTheJSONError(_ variant: String, _ code: String) async throws {
        var signer = TestSigner()
        var headers = signer.cloudTrail("DescribeTrails", body: "{}")
        switch variant {
        case "unsigned":
            headers[.authorization] = nil
        case "badSecret":
            signer.signer.secretAccessKey = "wrong"
            headers = signer.cloudTrail("DescribeTrails", body: "{}")
        case "unknownKey":
            signer.signer.accessKeyId = "AKIANOTKNOWN00000000"
            headers = signer.cloudTrail("DescribeTrails", body: "{}")
        default:
            headers = signer.cloudTrail("DescribeTrails", body: "{}", now: Int64(Date().timeIntervalSince1970) - 16 * 60)
        }
        let app = try await makeApp()
        let signed = headers
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .post, headers: signed, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .badRequest)
                let parsed = try json(response.body)
                #expect(parsed["__type"] as? String == code)
            }
        }
    }

    @Test func malformedJSONIsASerializationExceptionAndIsAudited() async throws {
        let app = try await makeApp()
        try await app.test(.router) { client in
            let bad = #"{"Name": "#
            try await client.execute(uri: "/", method: .post, headers: sign.cloudTrail("GetTrail", body: bad), body: ByteBuffer(string: bad)) {
                response in
                #expect(response.status == .badRequest)
                let parsed = try json(response.body)
                #expect(parsed["__type"] as? String == "SerializationException")
            }
            let wrongType = #"{"Name": 5}"#
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("GetTrail", body: wrongType), body: ByteBuffer(string: wrongType)
            ) { response in
                let parsed = try json(response.body)
                #expect(parsed["__type"] as? String == "SerializationException")
            }
            let body = #"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"GetTrail"}]}"#
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("LookupEvents", body: body), body: ByteBuffer(string: body)
            ) { response in
                let events = try json(response.body)["Events"] as? [[String: Any]] ?? []
                #expect(events.count == 2)
                #expect(events.allSatisfy { ($0["CloudTrailEvent"] as? String ?? "").contains(#""errorCode":"SerializationException""#) })
            }
        }
    }

    @Test func unknownOperationsAreRejectedAndNotRecorded() async throws {
        let app = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .post, headers: sign.cloudTrail("NoSuchThing", body: "{}"), body: ByteBuffer(string: "{}")) {
                response in
                let parsed = try json(response.body)
                #expect(parsed["__type"] as? String == "UnknownOperationException")
            }
            let form = "Action=NoSuchAction&Version=2011-06-15"
            try await client.execute(uri: "/", method: .post, headers: sign.query("sts", body: form), body: ByteBuffer(string: form)) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("<Code>InvalidAction</Code>"))
            }
            try await client.execute(uri: "/", method: .post, headers: sign.cloudTrail("LookupEvents", body: "{}"), body: ByteBuffer(string: "{}")) {
                response in
                let parsed = try json(response.body)
                #expect((parsed["Events"] as? [Any])?.isEmpty == true)
            }
        }
    }

    @Test func queryResponsesCarryTheResultWrapperAndRequestID() async throws {
        let app = try await makeApp()
        try await app.test(.router) { client in
            let form = "Action=GetCallerIdentity&Version=2011-06-15"
            try await client.execute(uri: "/", method: .post, headers: sign.query("sts", body: form), body: ByteBuffer(string: form)) {
                response in
                let text = String(buffer: response.body)
                let requestID = response.headers[HTTPField.Name("x-amzn-RequestId")!] ?? "missing"
                #expect(response.status == .ok)
                #expect(text.hasPrefix(#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>"#))
                #expect(text.contains("<Arn>arn:aws:iam::000000000000:user/test</Arn>"))
                #expect(text.contains("<RequestId>\(requestID)</RequestId>"))
            }
        }
    }

    @Test func healthAnswersOK() async throws {
        let app = try await makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/_cairn/health", method: .get) { response in
                #expect(response.status == .ok)
                let parsed = try json(response.body)
                #expect(parsed["status"] as? String == "ok")
            }
        }
    }
}

@Suite struct InjectedRuntimeTests {
    /// A runtime with a fixed clock and sequential ids.
    static func runtime(now: Double) -> Runtime {
        let counter = Counter()
        return Runtime(now: { now }, uuid: { String(format: "00000000-0000-4000-8000-%012d", counter.next()) })
    }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int {
            value.withLock {
                $0 += 1
                return $0
            }
        }
    }

    @Test func requestAndEventIDsAndTimesComeFromTheRuntime() async throws {
        let now = 1_767_225_600.0  // 2026-01-01T00:00:00Z
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tests-\(UUID().uuidString)").path
        let app = try await buildApplication(
            AppConfiguration(port: 0, dataDirectory: dir), logger: Logger(label: "test"), runtime: Self.runtime(now: now))
        let sign = TestSigner()
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("ListTrails", body: "{}", now: Int64(now)), body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.headers[HTTPField.Name("x-amzn-RequestId")!] == "00000000-0000-4000-8000-000000000001")
            }
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("LookupEvents", body: "{}", now: Int64(now)), body: ByteBuffer(string: "{}")
            ) { response in
                let parsed = try json(response.body)
                let event = (parsed["Events"] as? [[String: Any]])?.first
                #expect(event?["EventId"] as? String == "00000000-0000-4000-8000-000000000002")
                #expect(event?["EventTime"] as? Double == now)
                #expect((event?["CloudTrailEvent"] as? String)?.contains(#""eventTime":"2026-01-01T00:00:00Z""#) == true)
            }
        }
    }
}
