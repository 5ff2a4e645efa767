import AWSCore
import Crypto
import Foundation
import Gateway
import SwiftASN1
import X509
import _CryptoExtras

/// Signs the messages SNS sends to HTTP/HTTPS endpoints, as AWS does, and holds the certificate subscribers verify
/// them with.
///
/// The RSA-2048 key and a self-signed X.509 certificate for it are made on first start and kept in
/// `<data-dir>/sns/` (`signing-key.pem`, `signing-cert.pem`), so signatures stay verifiable across restarts. The
/// certificate is served at the message's `SigningCertURL`, `<endpoint>/_cairn/sns/<certificateName>`.
///
/// Signature versions (AWS "Verifying the signatures of Amazon SNS messages"): `1` is SHA1withRSA, `2` is
/// SHA256withRSA (PKCS #1 v1.5 padding in both), Base64-encoded, over ``stringToSign(_:)``.
final class MessageSigner: Sendable {
    /// The certificate in PEM form.
    let certificatePEM: String
    /// The file name of the certificate in its URL, `SimpleNotificationService-<32 hex digits>.pem` as in AWS.
    let certificateName: String
    private let key: _RSA.Signing.PrivateKey

    /// Loads the key and certificate from `directory`, making and storing them the first time, on the blocking
    /// thread pool (generating an RSA-2048 key takes tens to hundreds of milliseconds).
    ///
    /// - Throws: when the directory cannot be written or the stored files do not parse.
    static func load(directory: String, now: Double) async throws -> MessageSigner {
        try await BlockingWork.run { try MessageSigner(directory: directory, now: now) }
    }

    /// Loads or makes the key and certificate, blocking the calling thread (see ``load(directory:now:)``).
    private init(directory: String, now: Double) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyPath = directory + "/signing-key.pem"
        let certPath = directory + "/signing-cert.pem"
        if fm.fileExists(atPath: keyPath), fm.fileExists(atPath: certPath) {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
            certificatePEM = try String(contentsOfFile: certPath, encoding: .utf8)
        } else {
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            certificatePEM = try Self.selfSignedCertificate(key: key, now: now)
            try Self.write(key.pemRepresentation, to: keyPath, permissions: 0o600)
            try Self.write(certificatePEM, to: certPath, permissions: 0o644)
        }
        let digest = SHA256.hash(data: Array(certificatePEM.utf8))
        certificateName = "SimpleNotificationService-" + String(Hex.encode(digest).prefix(32)) + ".pem"
    }

    /// A certificate for the key, issued by itself: `CN=sns.amazonaws.com, O=Cairn`, valid for ten years.
    private static func selfSignedCertificate(key: _RSA.Signing.PrivateKey, now: Double) throws -> String {
        let name = try DistinguishedName {
            OrganizationName("Cairn")
            CommonName("sns.amazonaws.com")
        }
        let start = Date(timeIntervalSince1970: now - 86400)
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: start, notValidAfter: start.addingTimeInterval(10 * 365 * 86400), issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: try Certificate.Extensions([]),
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try certificate.serializeAsPEM().pemString
    }

    /// Writes a file atomically with the given permissions.
    private static func write(_ text: String, to path: String, permissions: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
    }

    /// The string SNS signs: each field's name and value, each on its own line, in the order AWS lists them.
    ///
    /// For `Notification`: `Message`, `MessageId`, `Subject` (only when present), `Timestamp`, `TopicArn`, `Type`.
    /// For `SubscriptionConfirmation` and `UnsubscribeConfirmation`: `Message`, `MessageId`, `SubscribeURL`,
    /// `Timestamp`, `Token`, `TopicArn`, `Type`. Every line ends with `\n`, the last one included.
    static func stringToSign(_ fields: [String: String]) -> String {
        let names =
            fields["Type"] == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        var out = ""
        for name in names {
            guard let value = fields[name] else { continue }
            out += name + "\n" + value + "\n"
        }
        return out
    }

    /// The Base64 signature of `text`: SHA1withRSA for version `1`, SHA256withRSA for version `2`.
    func sign(_ text: String, version: String) throws -> String {
        let bytes = Array(text.utf8)
        let signature =
            version == "2"
            ? try key.signature(for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5)
            : try key.signature(for: Insecure.SHA1.hash(data: bytes), padding: .insecurePKCS1v1_5)
        return Data(signature.rawRepresentation).base64EncodedString()
    }

    /// Whether `signature` (Base64) is this signer's signature of `text` (for tests).
    func verify(_ signature: String, of text: String, version: String) -> Bool {
        guard let data = Data(base64Encoded: signature) else { return false }
        let sig = _RSA.Signing.RSASignature(rawRepresentation: data)
        let bytes = Array(text.utf8)
        return version == "2"
            ? key.publicKey.isValidSignature(sig, for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5)
            : key.publicKey.isValidSignature(sig, for: Insecure.SHA1.hash(data: bytes), padding: .insecurePKCS1v1_5)
    }
}
