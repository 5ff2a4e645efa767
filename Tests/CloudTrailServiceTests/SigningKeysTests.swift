import AWSCore
import Crypto
import Foundation
import Storage
import Testing
import _CryptoExtras

@testable import CloudTrailService

@Suite("CloudTrail signing keys")
struct SigningKeysTests {
    @Test("a region's key is made once, survives a reopen, and its private key file is owner-only")
    func persistence() async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0)
            let first: SigningKey
            let signature: String
            do {
                let (storage, keys) = try await openKeys(dir, clock: clock)
                first = try await keys.current(region: "us-east-1")
                #expect(try await keys.current(region: "us-east-1").fingerprint == first.fingerprint)
                #expect(first.publicKey.validityStart == t0)
                #expect(first.publicKey.validityEnd == t0 + 2_592_000)
                signature = try first.sign(Array("hello".utf8))
                #expect(try await storage.all(SigningKeys.namespace).map(\.key) == ["us-east-1/\(first.fingerprint)"])
            }
            let file = keysDirectory(dir) + "/\(first.fingerprint).pem"
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let dirAttributes = try FileManager.default.attributesOfItem(atPath: keysDirectory(dir))
            #expect((dirAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("-----BEGIN"))
            // No temporary files are left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: keysDirectory(dir)) == ["\(first.fingerprint).pem"])

            clock.advance(3600)
            let (_, reopened) = try await openKeys(dir, clock: clock)
            let again = try await reopened.current(region: "us-east-1")
            #expect(again.fingerprint == first.fingerprint)
            #expect(again.publicKey == first.publicKey)
            // The reloaded private key signs as the original did (PKCS #1 v1.5 is deterministic).
            #expect(try again.sign(Array("hello".utf8)) == signature)
            #expect(try await reopened.publicKeys(region: "us-east-1", from: Double(t0), to: Double(t0)) == [first.publicKey])
        }
    }

    @Test("every region has a key of its own")
    func perRegion() async throws {
        try await withTemporaryDirectory { dir in
            let (_, keys) = try await openKeys(dir, clock: TestClock(t0))
            let east = try await keys.current(region: "us-east-1")
            let west = try await keys.current(region: "us-west-2")
            #expect(east.fingerprint != west.fingerprint)
            #expect(west.region == "us-west-2")
            #expect(try await keys.publicKeys(region: "us-west-2", from: 0, to: 4e9).map(\.fingerprint) == [west.fingerprint])
            #expect(try await keys.publicKeys(region: "eu-west-1", from: 0, to: 4e9).isEmpty)
        }
    }

    @Test("keys rotate after the period; old keys stay listed for their validity range")
    func rotation() async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0)
            let k1: SigningKey
            let k2: SigningKey
            do {
                let (_, keys) = try await openKeys(dir, clock: clock, rotationPeriod: 1000)
                k1 = try await keys.current(region: "us-east-1")
                clock.advance(999)
                #expect(try await keys.current(region: "us-east-1").fingerprint == k1.fingerprint)
                clock.advance(1)
                k2 = try await keys.current(region: "us-east-1")
                #expect(k2.fingerprint != k1.fingerprint)
                #expect(k2.publicKey.validityStart == t0 + 1000 && k2.publicKey.validityEnd == t0 + 2000)
                #expect(k1.publicKey.validityStart == t0 && k1.publicKey.validityEnd == t0 + 1000)

                func listed(_ from: Int64, _ to: Int64) async throws -> [String] {
                    try await keys.publicKeys(region: "us-east-1", from: Double(from), to: Double(to)).map(\.fingerprint)
                }
                #expect(try await listed(t0, t0 + 500) == [k1.fingerprint])
                #expect(try await listed(t0 + 1500, t0 + 1600) == [k2.fingerprint])
                #expect(try await listed(t0 - 100, t0 + 5000) == [k1.fingerprint, k2.fingerprint])
                // Validity ranges are closed: the instant of the rotation belongs to both keys.
                #expect(try await listed(t0 + 1000, t0 + 1000) == [k1.fingerprint, k2.fingerprint])
                #expect(try await listed(t0 - 100, t0 - 1).isEmpty)
                #expect(try await listed(t0 + 2001, t0 + 3000).isEmpty)
            }
            // After a restart the newest key is still the current one, until it too expires.
            let (_, reopened) = try await openKeys(dir, clock: clock, rotationPeriod: 1000)
            #expect(try await reopened.current(region: "us-east-1").fingerprint == k2.fingerprint)
            clock.advance(5000)
            let k3 = try await reopened.current(region: "us-east-1")
            #expect(k3.publicKey.validityStart == t0 + 6000)
            #expect(
                try await reopened.publicKeys(region: "us-east-1", from: 0, to: 4e9).map(\.fingerprint) == [
                    k1.fingerprint, k2.fingerprint, k3.fingerprint,
                ])
        }
    }

    @Test("concurrent first calls share one key")
    func concurrentCreation() async throws {
        try await withTemporaryDirectory { dir in
            let (storage, keys) = try await openKeys(dir, clock: TestClock(t0))
            let fingerprints = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 { group.addTask { try await keys.current(region: "us-east-1").fingerprint } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(fingerprints.count == 1)
            #expect(try await storage.all(SigningKeys.namespace).count == 1)
        }
    }

    @Test("a key whose private key file is lost stays listed, and a new key signs")
    func lostPrivateKey() async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock(t0)
            let lost: SigningKey
            do {
                let (_, keys) = try await openKeys(dir, clock: clock)
                lost = try await keys.current(region: "us-east-1")
            }
            try FileManager.default.removeItem(atPath: keysDirectory(dir) + "/\(lost.fingerprint).pem")
            let (_, keys) = try await openKeys(dir, clock: clock)
            let replacement = try await keys.current(region: "us-east-1")
            #expect(replacement.fingerprint != lost.fingerprint)
            #expect(
                Set(try await keys.publicKeys(region: "us-east-1", from: Double(t0), to: Double(t0)).map(\.fingerprint)) == [
                    lost.fingerprint, replacement.fingerprint,
                ])
        }
    }

    @Test("the public key is the PKCS #1 DER of an RSA-2048 key; the fingerprint is its MD5")
    func publicKeyFormat() async throws {
        try await withTemporaryDirectory { dir in
            let (_, keys) = try await openKeys(dir, clock: TestClock(t0))
            let key = try await keys.current(region: "us-east-1")
            let der = key.publicKey.value
            // SEQUENCE (266 bytes) { INTEGER modulus (257 bytes), INTEGER 65537 }: AWS's samples are 270 bytes too.
            #expect(der.count == 270)
            #expect(Array(der.prefix(4)) == [0x30, 0x82, 0x01, 0x0A])
            #expect(Base64.encode(der).hasPrefix("MIIBCgKCAQEA"))
            #expect(key.fingerprint == Hex.encode(Insecure.MD5.hash(data: der)))
            #expect(key.fingerprint.count == 32 && key.fingerprint == key.fingerprint.lowercased())
            let parsed = try _RSA.Signing.PublicKey(derRepresentation: der)
            #expect(Array(parsed.pkcs1DERRepresentation) == der)
            #expect(Array(parsed.derRepresentation) != der)  // not SubjectPublicKeyInfo
            #expect(parsed.keySizeInBits == 2048)
        }
    }

    @Test("signatures are 512 lower-case hex digits of SHA256withRSA with PKCS #1 v1.5 padding")
    func signatureFormat() async throws {
        try await withTemporaryDirectory { dir in
            let (_, keys) = try await openKeys(dir, clock: TestClock(t0))
            let key = try await keys.current(region: "us-east-1")
            let message = Array("2026-01-01T01:00:00Z\nbucket/key\nabc\nnull".utf8)
            let signature = try key.sign(message)
            #expect(signature.count == 512)
            #expect(signature.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(key.publicKey.isValidSignature(signature, for: message))
            #expect(!key.publicKey.isValidSignature(signature, for: message + [0x20]))
            let parsed = try _RSA.Signing.PublicKey(derRepresentation: key.publicKey.value)
            let raw = _RSA.Signing.RSASignature(rawRepresentation: unhex(signature))
            #expect(parsed.isValidSignature(raw, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5))
            #expect(!parsed.isValidSignature(raw, for: SHA256.hash(data: message), padding: .PSS))
        }
    }

    @Test("a key's description and mirror carry no key material")
    func noSecretsInDescriptions() async throws {
        try await withTemporaryDirectory { dir in
            let (_, keys) = try await openKeys(dir, clock: TestClock(t0))
            let key = try await keys.current(region: "us-east-1")
            var dumped = ""
            dump(key, to: &dumped)
            for text in ["\(key)", String(reflecting: key), dumped] {
                #expect(text.contains(key.fingerprint))
                #expect(!text.contains("PRIVATE"))
                #expect(!text.localizedCaseInsensitiveContains("privateKey"))
            }
        }
    }
}
