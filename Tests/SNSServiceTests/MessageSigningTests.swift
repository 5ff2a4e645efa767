import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import SNSService

/// The signatures of the messages SNS POSTs to endpoints, checked against AWS's description ("Verifying the
/// signatures of Amazon SNS messages"): the exact string to sign per message type, SHA1withRSA for version 1 and
/// SHA256withRSA for version 2, and a certificate whose key verifies them.
@Suite("SNS message signing")
struct MessageSigningTests {
    /// A fresh data directory for a signer.
    private func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cairn-sns-\(UUID().uuidString)").path
    }

    @Test("a Notification signs Message, MessageId, Subject, Timestamp, TopicArn, Type, in that order")
    func notificationString() {
        let fields = [
            "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic", "Subject": "My First Message",
            "Message": "Hello world!", "Timestamp": "2012-05-02T00:54:06.655Z",
            "SigningCertURL": "ignored", "UnsubscribeURL": "ignored",
        ]
        #expect(
            MessageSigner.stringToSign(fields)
                == "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n"
                + "Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n")
    }

    @Test("a Notification without a subject leaves the Subject lines out")
    func notificationWithoutSubject() {
        let fields = ["Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "line 1\nline 2", "Timestamp": "ts"]
        #expect(MessageSigner.stringToSign(fields) == "Message\nline 1\nline 2\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n")
    }

    @Test(
        "confirmations sign Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type",
        arguments: ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
    func confirmationString(type: String) {
        let fields = [
            "Type": type, "MessageId": "m", "Token": "tok", "TopicArn": "t", "Message": "msg", "SubscribeURL": "http://x/?a=b",
            "Timestamp": "ts", "Subject": "never signed for confirmations",
        ]
        #expect(
            MessageSigner.stringToSign(fields)
                == "Message\nmsg\nMessageId\nm\nSubscribeURL\nhttp://x/?a=b\nTimestamp\nts\nToken\ntok\nTopicArn\nt\nType\n\(type)\n")
    }

    @Test("version 1 is SHA1withRSA and version 2 SHA256withRSA, verifiable with the served certificate's key")
    func signaturesVerifyWithTheCertificate() async throws {
        let signer = try await MessageSigner.load(directory: directory(), now: Date().timeIntervalSince1970)
        let certificate = try Certificate(pemEncoded: signer.certificatePEM)
        let publicKey = try #require(_RSA.Signing.PublicKey(certificate.publicKey))
        #expect(publicKey.keySizeInBits == 2048)
        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.subject.description.contains("CN=sns.amazonaws.com"))
        #expect(signer.certificateName.hasPrefix("SimpleNotificationService-") && signer.certificateName.hasSuffix(".pem"))
        let text = "Message\nhi\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"
        for (version, digest) in [("1", Array(Insecure.SHA1.hash(data: Array(text.utf8)))), ("2", Array(SHA256.hash(data: Array(text.utf8))))] {
            let signature = try signer.sign(text, version: version)
            let raw = _RSA.Signing.RSASignature(rawRepresentation: try #require(Data(base64Encoded: signature)))
            #expect(raw.rawRepresentation.count == 256)
            #expect(signer.verify(signature, of: text, version: version))
            #expect(!signer.verify(signature, of: text + "x", version: version))
            // The other version's digest does not verify: the versions really differ in their hash.
            #expect(!signer.verify(signature, of: text, version: version == "1" ? "2" : "1"))
            #expect(digest.count == (version == "1" ? 20 : 32))
            let valid =
                version == "1"
                ? publicKey.isValidSignature(raw, for: Insecure.SHA1.hash(data: Array(text.utf8)), padding: .insecurePKCS1v1_5)
                : publicKey.isValidSignature(raw, for: SHA256.hash(data: Array(text.utf8)), padding: .insecurePKCS1v1_5)
            #expect(valid)
        }
    }

    @Test("the key and certificate are kept in the directory and reused after a restart")
    func persistence() async throws {
        let dir = directory()
        let first = try await MessageSigner.load(directory: dir, now: 1_700_000_000)
        let second = try await MessageSigner.load(directory: dir, now: 1_800_000_000)
        #expect(first.certificatePEM == second.certificatePEM)
        #expect(first.certificateName == second.certificateName)
        let signature = try first.sign("x\n", version: "2")
        #expect(second.verify(signature, of: "x\n", version: "2"))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/signing-key.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("a notification document has AWS's layout, field order and a signature over its fields")
    func notificationDocument() async throws {
        let signer = try await MessageSigner.load(directory: directory(), now: Date().timeIntervalSince1970)
        let signed = try HTTPMessages.notification(
            messageId: "id-1", topicArn: "arn:aws:sns:us-east-1:000000000000:t", subject: nil, message: "say \"hi\"",
            timestamp: "2024-01-02T03:04:05.678Z", signatureVersion: "2", signingCertURL: "http://h/_cairn/sns/c.pem",
            unsubscribeURL: "http://h/?Action=Unsubscribe&SubscriptionArn=s",
            attributes: ["b": .init(type: "Number", value: "1"), "a": .init(type: "String", value: "x")], signer: signer)
        let signature = try #require(signed.fields.first { $0.0 == "Signature" }?.1)
        #expect(
            signed.render() == """
                {
                  "Type" : "Notification",
                  "MessageId" : "id-1",
                  "TopicArn" : "arn:aws:sns:us-east-1:000000000000:t",
                  "Message" : "say \\"hi\\"",
                  "Timestamp" : "2024-01-02T03:04:05.678Z",
                  "SignatureVersion" : "2",
                  "Signature" : "\(signature)",
                  "SigningCertURL" : "http://h/_cairn/sns/c.pem",
                  "UnsubscribeURL" : "http://h/?Action=Unsubscribe&SubscriptionArn=s",
                  "MessageAttributes" : {
                    "a" : {"Type":"String","Value":"x"},
                    "b" : {"Type":"Number","Value":"1"}
                  }
                }
                """)
        let expected = MessageSigner.stringToSign([
            "Type": "Notification", "MessageId": "id-1", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
            "Message": "say \"hi\"", "Timestamp": "2024-01-02T03:04:05.678Z",
        ])
        #expect(signer.verify(signature, of: expected, version: "2"))
    }

    @Test("retry delays follow the delivery policy: AWS's default is 3 retries 20 seconds apart")
    func retryPolicy() {
        let standard = RetryPolicy.from(deliveryPolicy: nil)
        #expect(standard == RetryPolicy(numRetries: 3, minDelayTarget: 20, maxDelayTarget: 20, backoffFunction: "linear"))
        #expect((1...3).map { standard.delay(beforeRetry: $0) } == [20, 20, 20])
        let custom = RetryPolicy.from(
            deliveryPolicy:
                #"{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":9,"backoffFunction":"linear"}}}"#)
        #expect((1...5).map { custom.delay(beforeRetry: $0) } == [1, 3, 5, 7, 9])
        let exponential = RetryPolicy.from(
            deliveryPolicy: #"{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":2,"maxDelayTarget":8,"backoffFunction":"exponential"}}"#)
        #expect((1...3).map { exponential.delay(beforeRetry: $0) } == [2, 4, 8])
    }

    @Test("the default topic policy is AWS's, and SNS refuses foreign actions and malformed documents")
    func topicPolicy() throws {
        let policy = TopicPolicy.defaultPolicy(topicARN: "arn:aws:sns:us-east-1:111111111111:t", account: "111111111111")
        #expect(
            policy
                == #"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"arn:aws:sns:us-east-1:111111111111:t","Condition":{"StringEquals":{"AWS:SourceOwner":"111111111111"}}}]}"#
        )
        _ = try TopicPolicy.validate(policy)
        #expect(throws: SNSErrors.invalidParameter("Policy Error: null")) { try TopicPolicy.validate("{not json") }
        #expect(throws: SNSErrors.invalidParameter("Policy Error: null")) { try TopicPolicy.validate(#"{"Statement":[]}"#) }
        #expect(throws: SNSErrors.invalidParameter("Policy statement action out of service scope!")) {
            try TopicPolicy.validate(#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#)
        }
    }
}
