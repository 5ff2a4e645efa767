import Testing

@testable import AWSCore

/// The byte-level parsing of the `Authorization` header agrees with the general parser.
@Suite("SigV4 fast path")
struct SigV4FastPathTests {
    static let date = "20250314T150926Z"
    static let scope = "AKIDEXAMPLE/20250314/us-east-1/cloudtrail/aws4_request"
    static let signature = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"

    /// Headers the fast parser must accept, each as an SDK or a hand-written client might send it.
    static let accepted = [
        "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(signature)",
        "AWS4-HMAC-SHA256 Credential=\(scope),SignedHeaders=host;x-amz-date,Signature=\(signature)",
        "AWS4-HMAC-SHA256 Signature=\(signature), Credential=\(scope), SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=\(scope), Foo=bar, SignedHeaders=host;;x-amz-date, Signature=\(signature),",
        "AWS4-HMAC-SHA256 Credential=ASIAOTHER/20250314/eu-west-1/sts/aws4_request,   SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=A/20250314/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=1, Signature=2",
    ]

    /// Headers it must leave to the general parser (which rejects them, or accepts them its own way).
    static let declined = [
        "AWS AKID:signature",
        "AWS4-HMAC-SHA256 Credential=\(scope), SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/sts/aws4_request , SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=/20250314/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20250315/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/20250314/us-east-1/stš/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AKID/2025031/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256",
    ]

    static func request(_ header: String) -> SigV4Request {
        SigV4Request(
            method: "POST", rawPath: "/", rawQuery: "",
            headers: [(name: "authorization", value: header), (name: "x-amz-date", value: date), (name: "x-amz-security-token", value: "tok")])
    }

    @Test("well-formed headers parse to exactly what the general parser returns", arguments: accepted)
    func agrees(header: String) throws {
        let fast = try #require(SigV4Verifier.parseHeaderFast(header, amzDate: Self.date, sessionToken: "tok"))
        #expect(fast == (try SigV4Verifier.parseHeader(header, request: Self.request(header))))
        #expect(try SigV4Verifier.parseAuthorization(Self.request(header)) == fast)
    }

    @Test("anything else is left to the general parser", arguments: declined)
    func declines(header: String) {
        #expect(SigV4Verifier.parseHeaderFast(header, amzDate: Self.date, sessionToken: nil) == nil)
    }

    @Test("an X-Amz-Date that does not parse is left to the general parser")
    func badDate() {
        let header = Self.accepted[0]
        #expect(SigV4Verifier.parseHeaderFast(header, amzDate: "20250314T150926", sessionToken: nil) == nil)
        #expect(SigV4Verifier.parseHeaderFast(header, amzDate: "20250315T150926Z", sessionToken: nil) == nil)
    }

    @Test("header values with white space to trim are canonicalized as the general rule says")
    func trimming() {
        let auth = SigV4Authorization(
            accessKeyId: "AKID", scopeDate: "20250314", region: "us-east-1", service: "cloudtrail",
            signedHeaders: ["a", "b", "c", "d"], signature: "", amzDate: Self.date, requestTime: 0, sessionToken: nil,
            presignExpires: nil)
        let request = SigV4Request(
            method: "GET", rawPath: "/", rawQuery: "",
            headers: [
                (name: "a", value: "  lead and trail  "), (name: "b", value: "inner   run\tand tab"), (name: "c", value: "plain"),
                (name: "b", value: "second"), (name: "d", value: ""),
            ])
        let canonical = SigV4Verifier.canonicalRequest(request, auth: auth, payloadHash: "UNSIGNED-PAYLOAD")
        #expect(canonical == "GET\n/\n\na:lead and trail\nb:inner run and tab,second\nc:plain\nd:\n\na;b;c;d\nUNSIGNED-PAYLOAD")
    }
}
