import AWSCore
import Testing

@testable import SNSService

/// `Publish`'s phone number and message size checks (the e2e suite's `test_sns_limits.py` drives them on the wire).
@Suite("SNS publish limits")
struct PublishLimitsTests {
    /// A `Publish` input with a body and `String` attributes.
    private func input(_ body: String, attributes: [String: String] = [:]) -> JSONValue {
        var members: [String: JSONValue] = ["Message": .string(body)]
        if !attributes.isEmpty {
            members["MessageAttributes"] = .object(
                attributes.mapValues { .object(["DataType": .string("String"), "StringValue": .string($0)]) })
        }
        return .object(members)
    }

    @Test("E.164: a plus sign, then two to fifteen digits, the first not zero")
    func phoneNumbers() {
        for good in ["+12065550100", "+442071838750", "+861234567890123", "+10"] {
            #expect(SNSCore.isE164(good), "\(good)")
        }
        for bad in ["-1", "", "+", "+1", "12065550100", "+012065550100", "+1206555010012345", "+1 206 555 0100", "+1-206", "+١٢٣"] {
            #expect(!SNSCore.isE164(bad), "\(bad)")
        }
    }

    @Test("the body and every attribute's name, type and value count toward 262,144 bytes")
    func sizeIncludesAttributes() throws {
        let name = "attr", value = "v"
        let overhead = name.utf8.count + "String".utf8.count + value.utf8.count
        let fits = String(repeating: "x", count: 262_144 - overhead)
        #expect(throws: Never.self) { try SNSCore.checkMessage(input(fits, attributes: [name: value])) }
        let tooLong = fits + "x"
        let error = try #require(throws: AWSError.self) { try SNSCore.checkMessage(input(tooLong, attributes: [name: value])) }
        #expect(error.code == "InvalidParameter")
        #expect(error.message == "Invalid parameter: Message too long")
    }

    @Test("a Binary value counts by its decoded bytes")
    func binaryCountsDecodedBytes() {
        #expect(SNSCore.decodedBase64Count("AAAA") == 3)
        #expect(SNSCore.decodedBase64Count("AAA=") == 2)
        #expect(SNSCore.decodedBase64Count("AA==") == 1)
        #expect(SNSCore.decodedBase64Count("") == 0)
        let attributes = ["b": HTTPMessages.Attribute(type: "Binary", value: "AAAA")]
        #expect(SNSCore.messageBytes(body: "hi", attributes: attributes) == 2 + 1 + 6 + 3)
    }
}
