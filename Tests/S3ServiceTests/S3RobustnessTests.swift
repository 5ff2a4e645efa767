import AWSCore
import Audit
import Foundation
import Gateway
import HTTPTypes
import Logging
import Storage
import Testing

@testable import S3Service

/// Issue 12: hostile XML depth, keys holding U+0000, and the operations Cairn answers NotImplemented.
@Suite("S3 robustness")
struct S3RobustnessTests {
    /// `<Root>` around `depth - 1` nested `<a>` elements: `depth` elements deep in all.
    private func nested(depth: Int) -> [UInt8] {
        Array(("<Root>" + String(repeating: "<a>", count: depth - 1) + "x" + String(repeating: "</a>", count: depth - 1) + "</Root>").utf8)
    }

    @Test("a document as deep as the limit parses; one element deeper is MalformedXML")
    func depthLimit() throws {
        let node = try S3XML.parse(nested(depth: S3XML.maxDepth))
        var depth = 1
        var current = node
        while let child = current.children.first {
            depth += 1
            current = child
        }
        #expect(depth == S3XML.maxDepth && current.text == "x")
        var w = JSONWriter()
        S3XML.writeValue(node, to: &w)
        #expect(w.bytes.count > S3XML.maxDepth)
        #expect(throws: AWSError.self) { try S3XML.parse(nested(depth: S3XML.maxDepth + 1)) }
        do {
            _ = try S3XML.parse(nested(depth: S3XML.maxDepth + 1))
        } catch {
            #expect(error.code == "MalformedXML" && error.status == 400)
        }
    }

    @Test("25,000 nested elements (the issue's 175 KB body) are refused without building the tree")
    func hostileDepth() {
        let body = nested(depth: 25_000)
        #expect(body.count > 170_000)
        #expect(throws: AWSError.self) { try S3XML.parse(body) }
        // Unclosed nesting is refused the same way.
        #expect(throws: AWSError.self) { try S3XML.parse(Array(("<Root>" + String(repeating: "<a>", count: 100_000)).utf8)) }
    }

    @Test("no S3 input document comes near the limit")
    func realDocumentsFit() throws {
        // RestoreRequest is one of the deepest S3 inputs (7 elements).
        let xml = """
            <RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><OutputLocation><S3><Encryption><KMSContext>c</KMSContext>\
            </Encryption><UserMetadata><MetadataEntry><Name>n</Name></MetadataEntry></UserMetadata></S3></OutputLocation></RestoreRequest>
            """
        #expect(try S3XML.parse(Array(xml.utf8)).name == "RestoreRequest")
        #expect(S3XML.maxDepth >= 4 * 7)
    }

    @Test("wide elements are rendered in one pass, repeated names grouped at their first position")
    func wideElements() throws {
        var xml = "<Root>"
        for i in 0..<20_000 { xml += "<e\(i)>\(i)</e\(i)>" }
        xml += "<e0>again</e0></Root>"
        let node = try S3XML.parse(Array(xml.utf8))
        var w = JSONWriter()
        S3XML.writeValue(node, to: &w)
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"e0":["0","again"],"e1":"1","#))
        #expect(text.hasSuffix(#""e19999":"19999"}"#))
    }

    @Test("control characters in a document are written as S3 writes them: &#x0;, &#x1b;; tab and newline stay")
    func controlCharacters() {
        func written(_ value: String) -> String {
            var x = XMLWriter(referencesControlCharacters: true)
            x.element("Key", value)
            return x.text
        }
        #expect(written("a\u{0}b") == "<Key>a&#x0;b</Key>")
        #expect(written("\u{1b}\u{1}\t\n") == "<Key>&#x1b;&#x1;\t\n</Key>")
        #expect(written("plain é") == "<Key>plain é</Key>")
    }

    @Test("stored keys: round trip, no NUL, byte order and prefixes kept")
    func keyEscaping() {
        let keys = [
            "", "\u{0}", "\u{0}\u{0}", "\u{1}", "\u{1}\u{0}", "\u{2}", "a", "a\u{0}", "a\u{0}b", "a\u{0}c", "a\u{1}", "a\u{1}\u{1}", "a\u{2}", "ab",
            "é\u{0}",
        ]
        for key in keys {
            let stored = ObjectKeyIndex.stored(key)
            #expect(!stored.utf8.contains(0))
            #expect(ObjectKeyIndex.key(stored) == key)
            for other in keys {
                let before = Array(key.utf8).lexicographicallyPrecedes(Array(other.utf8))
                #expect(Array(stored.utf8).lexicographicallyPrecedes(Array(ObjectKeyIndex.stored(other).utf8)) == before)
                #expect(ObjectKeyIndex.stored(other).hasPrefix(stored) == other.utf8.starts(with: key.utf8))
            }
        }
        #expect(ObjectKeyIndex.stored("plain/key") == "plain/key")
    }

    private func service() async throws -> (S3Service, String) {
        let dir = NSTemporaryDirectory() + "cairn-s3-robust-\(UUID().uuidString)"
        let storage = try SQLiteStorage(directory: dir)
        let service = try await S3Service(
            state: storage, index: storage, dataDirectory: dir, runtime: .live, logger: Logger(label: "test"))
        return (service, dir)
    }

    @Test("keys holding U+0000 are distinct objects, listed whole")
    func nulKeys() async throws {
        let (s3, dir) = try await service()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = await s3.handle(s3Request(.put, bucket: "nul-bucket"))
        for key in ["a", "a\u{0}b", "a\u{0}c", "a\u{1}"] {
            let outcome = await s3.handle(s3Request(.put, bucket: "nul-bucket", key: key, body: Array(key.utf8)))
            guard case .success = outcome.response else {
                Issue.record("put \(key.debugDescription) failed")
                return
            }
        }
        let all = try await s3.page(bucket: "nul-bucket", prefix: "", delimiter: "", start: nil, maxKeys: 1000)
        #expect(all.contents.map(\.key) == ["a", "a\u{0}b", "a\u{0}c", "a\u{1}"])
        let under = try await s3.page(bucket: "nul-bucket", prefix: "a\u{0}", delimiter: "", start: "a\u{0}b", maxKeys: 1000)
        #expect(under.contents.map(\.key) == ["a\u{0}c"])
        _ = await s3.handle(s3Request(.delete, bucket: "nul-bucket", key: "a\u{0}b"))
        let left = try await s3.page(bucket: "nul-bucket", prefix: "", delimiter: "", start: nil, maxKeys: 1000)
        #expect(left.contents.map(\.key) == ["a", "a\u{0}c", "a\u{1}"])
    }

    @Test("unserved operations are named by method and subresource, with their category and readOnly")
    func unservedNames() {
        func match(_ method: HTTPRequest.Method, key: String? = nil, _ query: [(String, String)]) -> S3UnservedOperation? {
            S3UnservedOperation.match(s3Request(method, bucket: "b", key: key, query: query))
        }
        #expect(
            match(.put, [("logging", "")]) == .init(eventName: "PutBucketLogging", subresource: "logging", category: .management, readOnly: false))
        #expect(match(.get, [("cors", "")]) == .init(eventName: "GetBucketCors", subresource: "cors", category: .management, readOnly: true))
        #expect(match(.put, [("lifecycle", "")])?.eventName == "PutBucketLifecycle")
        #expect(match(.put, [("publicAccessBlock", "")])?.eventName == "PutBucketPublicAccessBlock")
        #expect(
            match(.get, [("versions", ""), ("prefix", "p")])
                == .init(eventName: "ListObjectVersions", subresource: "versions", category: .data, readOnly: true))
        #expect(
            match(.post, key: "k", [("restore", "")]) == .init(eventName: "RestoreObject", subresource: "restore", category: .data, readOnly: false))
        #expect(
            match(.post, key: "k", [("select", ""), ("select-type", "2")])
                == .init(eventName: "SelectObjectContent", subresource: "select", category: .data, readOnly: true))
        #expect(match(.put, key: "k", [("versionId", "v"), ("tagging", "")])?.eventName == "PutObjectTagging")
        #expect(match(.put, key: "k", [("acl", "")])?.eventName == "PutObjectAcl")
        #expect(match(.put, key: "k", [("retention", "")])?.eventName == "PutObjectRetention")
        #expect(match(.put, key: "k", [("encryption", "")])?.eventName == "UpdateObjectEncryption")
        // Served operations and methods no operation has are not unserved operations.
        #expect(match(.put, [("tagging", "")]) == nil)
        #expect(match(.get, [("acl", "")]) == nil)
        #expect(match(.put, key: "k", []) == nil)
        #expect(match(.delete, [("logging", "")]) == nil)
        #expect(S3UnservedOperation.match(s3Request(.get, bucket: nil, query: [("cors", "")])) == nil)
        for op in S3UnservedOperation.all {
            #expect(S3Operation(rawValue: op.eventName) == nil, "\(op.eventName) is served")
        }
    }

    @Test("an unserved call is NotImplemented, with S3's requestParameters and the body under its element name")
    func unservedOutcome() async throws {
        let (s3, dir) = try await service()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = await s3.handle(s3Request(.put, bucket: "unserved-bucket"))
        let body =
            #"<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LoggingEnabled><TargetBucket>t</TargetBucket><TargetPrefix>p/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>"#
        let outcome = await s3.handle(s3Request(.put, bucket: "unserved-bucket", query: [("logging", "")], body: Array(body.utf8)))
        #expect(outcome.eventName == "PutBucketLogging" && outcome.category == .management && !outcome.readOnly)
        guard case .failure(let error) = outcome.response else {
            Issue.record("expected NotImplemented")
            return
        }
        #expect(error.code == "NotImplemented" && error.status == 501)
        #expect(
            outcome.requestParameters.map { String(decoding: $0, as: UTF8.self) }
                == #"{"BucketLoggingStatus":{"LoggingEnabled":{"TargetBucket":"t","TargetPrefix":"p/"},"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"},"bucketName":"unserved-bucket","Host":"127.0.0.1:4566","logging":""}"#
        )
        #expect(outcome.resources == [EventResource(type: "AWS::S3::Bucket", arn: "arn:aws:s3:::unserved-bucket", accountId: "111111111111")])
        #expect(outcome.bytesIn == body.utf8.count)

        let restore = await s3.handle(s3Request(.post, bucket: "unserved-bucket", key: "k", query: [("restore", "")], body: Array("not xml".utf8)))
        #expect(restore.eventName == "RestoreObject" && restore.category == .data)
        #expect(
            restore.requestParameters.map { String(decoding: $0, as: UTF8.self) }
                == #"{"bucketName":"unserved-bucket","Host":"127.0.0.1:4566","restore":"","key":"k"}"#)
        #expect(restore.resources?.first == EventResource(type: "AWS::S3::Object", arn: "arn:aws:s3:::unserved-bucket/k", accountId: nil))
    }
}
