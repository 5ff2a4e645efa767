import AWSCore
import Audit
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Storage
import Testing

@testable import S3Service

/// Builds an authenticated S3 request for the service without an HTTP server.
func s3Request(
    _ method: HTTPRequest.Method, bucket: String?, key: String? = nil, query: [(String, String)] = [], headers: HTTPFields = [:],
    body: [UInt8] = [], account: String = "111111111111"
) -> S3Request {
    var headers = headers
    headers[.contentLength] = String(body.count)
    if headers[HTTPField.Name("x-amz-content-sha256")!] == nil {
        headers[HTTPField.Name("x-amz-content-sha256")!] = SigV4Verifier.payloadHash(body)
    }
    let caller = Caller(kind: .iamUser, accountId: account, accessKeyId: "AKIATEST", name: "alice", path: "/")
    let auth = SigV4Authorization(
        accessKeyId: "AKIATEST", scopeDate: "20260101", region: "us-east-1", service: "s3", signedHeaders: ["host"],
        signature: String(repeating: "0", count: 64), amzDate: "20260101T000000Z", requestTime: 0, sessionToken: nil,
        presignExpires: nil)
    return S3Request(
        method: method, bucket: bucket, key: key, query: query.map { (name: $0.0, value: $0.1) }, headers: headers,
        host: "127.0.0.1:4566", body: RequestBody(buffer: ByteBuffer(bytes: body)), caller: caller, auth: auth,
        signingKey: SigV4Verifier.deriveSigningKey(secret: "s", date: "20260101", region: "us-east-1", service: "s3"),
        requestID: "0123456789ABCDEF", now: 0)
}

@Suite("S3 routing")
struct RoutingTests {
    @Test("method, bucket, key and subresource pick the operation")
    func routes() throws {
        #expect(try S3Operation.route(s3Request(.get, bucket: nil)) == .listBuckets)
        #expect(try S3Operation.route(s3Request(.put, bucket: "b")) == .createBucket)
        #expect(try S3Operation.route(s3Request(.put, bucket: "b", query: [("policy", "")])) == .putBucketPolicy)
        #expect(try S3Operation.route(s3Request(.get, bucket: "b", query: [("list-type", "2")])) == .listObjectsV2)
        #expect(try S3Operation.route(s3Request(.get, bucket: "b")) == .listObjects)
        #expect(try S3Operation.route(s3Request(.post, bucket: "b", query: [("delete", "")])) == .deleteObjects)
        #expect(try S3Operation.route(s3Request(.put, bucket: "b", key: "k", headers: [HTTPField.Name("x-amz-copy-source")!: "/a/b"])) == .copyObject)
        #expect(try S3Operation.route(s3Request(.put, bucket: "b", key: "k", query: [("partNumber", "1"), ("uploadId", "u")])) == .uploadPart)
        #expect(try S3Operation.route(s3Request(.post, bucket: "b", key: "k", query: [("uploads", "")])) == .createMultipartUpload)
        #expect(try S3Operation.route(s3Request(.delete, bucket: "b", key: "k", query: [("uploadId", "u")])) == .abortMultipartUpload)
    }

    @Test("unsupported subresources are NotImplemented; wrong methods MethodNotAllowed")
    func rejects() {
        #expect(throws: AWSError.self) { try S3Operation.route(s3Request(.get, bucket: "b", query: [("cors", "")])) }
        do {
            _ = try S3Operation.route(s3Request(.post, bucket: nil))
            Issue.record("expected MethodNotAllowed")
        } catch {
            #expect(error.code == "MethodNotAllowed" && error.status == 405)
        }
    }

    @Test("ListObjectsV2 is recorded as ListObjects; object calls are data events, bucket calls management")
    func auditFacts() {
        #expect(S3Operation.listObjectsV2.eventName == "ListObjects")
        #expect(S3Operation.putObject.category == .data && !S3Operation.putObject.readOnly)
        #expect(S3Operation.createBucket.category == .management)
        #expect(S3Operation.headBucket.readOnly && S3Operation.headBucket.category == .management)
        // Every routed operation is declared, and only object operations name an object in their records.
        for operation in S3Operation.allCases {
            let declaration = operation.declaration
            #expect(declaration.operation == operation)
            #expect(declaration.namesObject == (declaration.category == .data && !["ListObjects", "DeleteObjects"].contains(declaration.eventName)))
        }
    }
}

@Suite("S3 rules")
struct RuleTests {
    @Test(
        "bucket names follow S3's rules",
        arguments: [
            ("my-bucket", true), ("a.b.c", true), ("ab", false), ("Upper", false), ("-start", false), ("end-", false),
            ("a..b", false), ("192.168.1.1", false), ("xn--abc", false), ("x-s3alias-s3alias", false),
            (String(repeating: "a", count: 63), true), (String(repeating: "a", count: 64), false),
        ])
    func bucketNames(name: String, valid: Bool) {
        #expect(BucketNames.isValid(name) == valid)
    }

    @Test("Range headers: closed, open, suffix, ignored forms and unsatisfiable starts")
    func ranges() throws {
        #expect(try ByteRange.parse("bytes=0-9", size: 100) == 0..<10)
        #expect(try ByteRange.parse("bytes=90-", size: 100) == 90..<100)
        #expect(try ByteRange.parse("bytes=-5", size: 100) == 95..<100)
        #expect(try ByteRange.parse("bytes=50-500", size: 100) == 50..<100)
        #expect(try ByteRange.parse("bytes=0-1,4-5", size: 100) == nil)
        #expect(try ByteRange.parse("items=0-1", size: 100) == nil)
        #expect(throws: AWSError.self) { try ByteRange.parse("bytes=100-", size: 100) }
    }

    @Test("ETag conditions accept quoted, unquoted, weak and * forms")
    func etags() {
        #expect(ETags.matches("\"abc\"", "abc"))
        #expect(ETags.matches("abc", "abc"))
        #expect(ETags.matches("W/\"abc\"", "abc"))
        #expect(ETags.matches("\"x\", \"abc\"", "abc"))
        #expect(ETags.matches("*", "anything"))
        #expect(!ETags.matches("\"abd\"", "abc"))
    }

    @Test("policy actions must name S3 actions; wildcards must match one")
    func policyActions() {
        #expect(S3Actions.isValid(pattern: "s3:getobject"))
        #expect(S3Actions.isValid(pattern: "s3:get*"))
        #expect(S3Actions.isValid(pattern: "*"))
        #expect(!S3Actions.isValid(pattern: "s3:nosuchaction"))
        #expect(!S3Actions.isValid(pattern: "sns:publish"))
    }

    @Test("the prefix upper bound is above every key with the prefix and below the next prefix")
    func prefixUpperBound() {
        let upper = SQLiteStorage.upperBound(ofPrefix: "a/b")!
        #expect("a/b\u{10FFFF}" < upper || Array("a/b\u{10FFFF}".utf8).lexicographicallyPrecedes(Array(upper.utf8)))
        #expect(Array("a/bzzz".utf8).lexicographicallyPrecedes(Array(upper.utf8)))
        #expect(!Array("a/c".utf8).lexicographicallyPrecedes(Array(upper.utf8)))
        #expect(SQLiteStorage.upperBound(ofPrefix: "") == nil)
    }
}

@Suite("S3 request bodies in CloudTrail")
struct EventParameterTests {
    @Test("an XML body is rendered under its root name with xmlns last; repeated elements become arrays")
    func xmlBody() throws {
        let xml =
            #"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key> b </Key><Value/></Tag></TagSet></Tagging>"#
        let node = try S3XML.parse(Array(xml.utf8))
        var w = JSONWriter()
        S3XML.writeValue(node, to: &w)
        #expect(node.name == "Tagging")
        #expect(
            String(decoding: w.bytes, as: UTF8.self)
                == #"{"TagSet":{"Tag":[{"Key":"a","Value":"1"},{"Key":" b ","Value":""}]},"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}"#)
    }

    @Test("malformed XML is MalformedXML")
    func malformed() {
        #expect(throws: AWSError.self) { try S3XML.parse(Array("<a><b></a>".utf8)) }
    }

    @Test("requestParameters: body, bucketName, Host, headers, query, key — valid JSON in that order")
    func requestParameters() throws {
        let r = s3Request(.put, bucket: "b", key: "k", query: [("tagging", "")], headers: [HTTPField.Name("x-amz-acl")!: "private"])
        var call = S3Call(request: r, namesObject: true)
        call.bodyParameters = ("Tagging", Array(#"{"TagSet":{}}"#.utf8))
        let json = call.requestParameters()
        let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
        #expect(object?["bucketName"] as? String == "b")
        #expect(
            String(decoding: json, as: UTF8.self)
                == #"{"Tagging":{"TagSet":{}},"bucketName":"b","Host":"127.0.0.1:4566","x-amz-acl":"private","tagging":"","key":"k"}"#)
    }

    @Test("policies are minified without reordering members")
    func minify() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [ { \"Sid\": \"a b\" } ]\n}"
        #expect(
            JSONMinifier.minify(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
                == #"{"Version":"2012-10-17","Statement":[{"Sid":"a b"}]}"#)
        #expect(JSONMinifier.minify(Array("[1]".utf8)) == nil)
    }
}

@Suite("S3 service against real storage")
struct ServiceTests {
    private func service() async throws -> (S3Service, String) {
        let dir = NSTemporaryDirectory() + "cairn-s3-\(UUID().uuidString)"
        let storage = try SQLiteStorage(directory: dir)
        let service = try await S3Service(
            state: storage, index: storage, dataDirectory: dir, runtime: .live, logger: Logger(label: "test"))
        return (service, dir)
    }

    private func ok(_ outcome: S3Outcome) throws -> Response {
        switch outcome.response {
        case .success(let response): return response
        case .failure(let error): throw error
        }
    }

    @Test("keys list in byte order, roll up at the delimiter and page with markers")
    func listing() async throws {
        let (s3, dir) = try await service()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ok(await s3.handle(s3Request(.put, bucket: "list-bucket")))
        for key in ["b", "a/2", "a/1", "é", "c/x/y", "Z"] {
            _ = try ok(await s3.handle(s3Request(.put, bucket: "list-bucket", key: key, body: Array(key.utf8))))
        }
        let all = try await s3.page(bucket: "list-bucket", prefix: "", delimiter: "", start: nil, maxKeys: 1000)
        #expect(all.contents.map(\.key) == ["Z", "a/1", "a/2", "b", "c/x/y", "é"])
        let rolled = try await s3.page(bucket: "list-bucket", prefix: "", delimiter: "/", start: nil, maxKeys: 1000)
        #expect(rolled.contents.map(\.key) == ["Z", "b", "é"])
        #expect(rolled.prefixes == ["a/", "c/"])
        let first = try await s3.page(bucket: "list-bucket", prefix: "", delimiter: "/", start: nil, maxKeys: 2)
        #expect(first.truncated && first.contents.map(\.key) == ["Z"] && first.prefixes == ["a/"])
        let second = try await s3.page(bucket: "list-bucket", prefix: "", delimiter: "/", start: first.resumeAfter, maxKeys: 2)
        #expect(second.contents.map(\.key) == ["b"] && second.prefixes == ["c/"] && second.truncated)
        let under = try await s3.page(bucket: "list-bucket", prefix: "a/", delimiter: "/", start: nil, maxKeys: 1000)
        #expect(under.contents.map(\.key) == ["a/1", "a/2"] && under.prefixes.isEmpty)
    }

    @Test("a failed call still has an outcome to record, with the bucket as its resource")
    func failureIsRecorded() async throws {
        let (s3, dir) = try await service()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outcome = await s3.handle(s3Request(.get, bucket: "missing-bucket", query: [("policy", "")]))
        #expect(outcome.eventName == "GetBucketPolicy")
        guard case .failure(let error) = outcome.response else {
            Issue.record("expected NoSuchBucket")
            return
        }
        #expect(error.code == "NoSuchBucket" && error.status == 404 && error.details["BucketName"] == "missing-bucket")
        #expect(outcome.resources == [EventResource(type: "AWS::S3::Bucket", arn: "arn:aws:s3:::missing-bucket", accountId: nil)])
    }

    @Test("a body that does not match its signed SHA-256 stores nothing")
    func badHashStoresNothing() async throws {
        let (s3, dir) = try await service()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try ok(await s3.handle(s3Request(.put, bucket: "hash-bucket")))
        let wrong = s3Request(
            .put, bucket: "hash-bucket", key: "k",
            headers: [HTTPField.Name("x-amz-content-sha256")!: SigV4Verifier.payloadHash(Array("other".utf8))], body: Array("body".utf8))
        let outcome = await s3.handle(wrong)
        guard case .failure(let error) = outcome.response else {
            Issue.record("expected XAmzContentSHA256Mismatch")
            return
        }
        #expect(error.code == "XAmzContentSHA256Mismatch")
        let listed = try await s3.page(bucket: "hash-bucket", prefix: "", delimiter: "", start: nil, maxKeys: 10)
        #expect(listed.contents.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/s3/tmp").isEmpty)
        let objectFiles = try FileManager.default.subpathsOfDirectory(atPath: dir + "/s3/objects").filter { $0.contains("/") }
        #expect(objectFiles.isEmpty)
    }
}
