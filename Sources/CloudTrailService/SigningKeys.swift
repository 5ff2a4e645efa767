import AWSCore
import Crypto
import Foundation
import Gateway
package import Storage
import Synchronization
import _CryptoExtras

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The public half of a digest-signing key, as `ListPublicKeys` returns it.
package struct PublicKeyInfo: Sendable, Equatable {
    /// The DER encoding of the PKCS #1 `RSAPublicKey` (not SubjectPublicKeyInfo): `ListPublicKeys`'s `Value`.
    package var value: [UInt8]
    /// When the key became the region's signing key (epoch seconds).
    package var validityStart: Int64
    /// When the key stops signing (epoch seconds).
    package var validityEnd: Int64
    /// Lower-case hex MD5 of ``value``: `Fingerprint`, and `digestPublicKeyFingerprint` in the digests it signed.
    package var fingerprint: String

    /// Creates the public information of a key.
    package init(value: [UInt8], validityStart: Int64, validityEnd: Int64, fingerprint: String) {
        self.value = value
        self.validityStart = validityStart
        self.validityEnd = validityEnd
        self.fingerprint = fingerprint
    }

    /// The fingerprint CloudTrail gives a public key: lower-case hex MD5 of its PKCS #1 DER bytes.
    package static func fingerprint(of pkcs1DER: some Sequence<UInt8>) -> String {
        Hex.encode(Insecure.MD5.hash(data: Array(pkcs1DER)))
    }

    /// Whether `signatureHex` is this key's SHA256withRSA (PKCS #1 v1.5) signature of `bytes`, as validate-logs
    /// checks it.
    package func isValidSignature(_ signatureHex: String, for bytes: [UInt8]) -> Bool {
        guard let raw = Self.unhex(signatureHex), let key = try? _RSA.Signing.PublicKey(derRepresentation: value) else {
            return false
        }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: raw), for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5)
    }

    private static func unhex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A region's digest-signing key: signs digest files with SHA256withRSA (RSA-2048, PKCS #1 v1.5 padding).
///
/// Its description and mirror show the region and fingerprint only, never key material.
package struct SigningKey: Sendable, CustomStringConvertible, CustomReflectable {
    /// The region whose digests the key signs.
    package let region: String
    /// The public key, its validity and fingerprint.
    package let publicKey: PublicKeyInfo
    private let privateKey: _RSA.Signing.PrivateKey

    /// `digestSignatureAlgorithm`, and the `signature-algorithm` metadata of digest objects.
    package static let algorithm = "SHA256withRSA"

    init(region: String, publicKey: PublicKeyInfo, privateKey: _RSA.Signing.PrivateKey) {
        self.region = region
        self.publicKey = publicKey
        self.privateKey = privateKey
    }

    /// Lower-case hex MD5 of the PKCS #1 public key (`digestPublicKeyFingerprint`).
    package var fingerprint: String { publicKey.fingerprint }

    /// The lower-case hex SHA256withRSA (PKCS #1 v1.5) signature of `bytes`: 512 hex digits for RSA-2048.
    package func sign(_ bytes: [UInt8]) throws -> String {
        // The library's default padding is PSS, which validate-logs cannot verify: pass PKCS #1 v1.5 explicitly.
        let signature = try privateKey.signature(for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5)
        return Hex.encode(signature.rawRepresentation)
    }

    /// The hex signature of the UTF-8 bytes of `text`.
    package func sign(_ text: String) throws -> String {
        try sign(Array(text.utf8))
    }

    package var description: String { "SigningKey(region: \(region), fingerprint: \(fingerprint))" }

    package var customMirror: Mirror { Mirror(self, children: ["region": region, "fingerprint": fingerprint]) }
}

/// CloudTrail's digest-signing keys: one RSA-2048 key pair per region, made the first time a region needs one and
/// replaced after a rotation period; old keys stay listed for their validity range.
///
/// Keys are durable. Each private key is a PEM file `<directory>/<fingerprint>.pem` (mode 0600, written to a
/// temporary file, fsynced and renamed into place, in a 0700 directory); the list of keys with their regions,
/// validity ranges and public keys is in the state store under ``namespace`` (key `<region>/<fingerprint>`),
/// written after the PEM file. A record whose PEM file is missing or unreadable still lists its public key but never
/// signs again; the region gets a new key instead. Key creation is serialized, so concurrent callers share a key.
package final class SigningKeys: Sendable {
    /// The state-store namespace of the key list.
    package static let namespace = "cloudtrail.keys"
    /// Thirty days, the validity range of the keys in AWS's `ListPublicKeys` samples.
    package static let defaultRotationPeriod: Int64 = 2_592_000

    /// A stored key: its public part always, its private key when the PEM file could be read.
    private struct Entry: Sendable {
        var region: String
        var publicKey: PublicKeyInfo
        var signing: SigningKey?
    }

    /// The state-store record of a key (the private key is never in it).
    private struct Record: Codable {
        var region: String
        var fingerprint: String
        var validityStart: Int64
        var validityEnd: Int64
        /// Base64 of the PKCS #1 DER public key.
        var publicKey: String
    }

    private let directory: String
    private let store: any StateStore
    private let clock: @Sendable () -> Double
    private let rotationPeriod: Int64
    private let entries: Mutex<[Entry]>
    private let creation = AsyncLock()

    /// Loads the stored keys.
    ///
    /// - Parameters:
    ///   - directory: where private keys are kept, `<data-dir>/cloudtrail/keys`; created when missing.
    ///   - rotationPeriod: seconds a key signs before a new one replaces it (its validity range).
    ///   - clock: the current time in epoch seconds.
    /// - Throws: when the directory cannot be created or the state store cannot be read.
    package init(
        directory: String, store: any StateStore, rotationPeriod: Int64 = SigningKeys.defaultRotationPeriod,
        clock: @escaping @Sendable () -> Double
    ) async throws {
        precondition(rotationPeriod > 0, "the rotation period must be positive")
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var loaded: [Entry] = []
        for (_, value) in try await store.all(Self.namespace) {
            let record = try JSONDecoder().decode(Record.self, from: Data(value))
            guard let der = Base64.decode(record.publicKey) else { continue }
            let info = PublicKeyInfo(
                value: der, validityStart: record.validityStart, validityEnd: record.validityEnd,
                fingerprint: record.fingerprint)
            var signing: SigningKey?
            if let pem = try? String(contentsOfFile: Self.path(directory, record.fingerprint), encoding: .utf8),
                let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem),
                Array(key.publicKey.pkcs1DERRepresentation) == der
            {
                signing = SigningKey(region: record.region, publicKey: info, privateKey: key)
            }
            loaded.append(Entry(region: record.region, publicKey: info, signing: signing))
        }
        self.directory = directory
        self.store = store
        self.clock = clock
        self.rotationPeriod = rotationPeriod
        self.entries = Mutex(loaded)
    }

    private static func path(_ directory: String, _ fingerprint: String) -> String {
        directory + "/" + fingerprint + ".pem"
    }

    private func now() -> Int64 {
        let t = clock()
        return t.isFinite ? Int64(max(min(t, 9.0e15), -9.0e15).rounded(.down)) : 0
    }

    /// The newest key of `region` valid at `time` that can sign.
    private func usable(region: String, at time: Int64) -> SigningKey? {
        entries.withLock { all in
            all.filter { $0.region == region && $0.publicKey.validityStart <= time && time < $0.publicKey.validityEnd }
                .max { $0.publicKey.validityStart < $1.publicKey.validityStart }?.signing
        }
    }

    /// The key that signs `region`'s digests now: the current one, or a new one when the region has none yet or
    /// the current one's validity has ended (the new key is valid from now for the rotation period).
    ///
    /// - Throws: when the key file or its record cannot be written.
    package func current(region: String) async throws -> SigningKey {
        if let key = usable(region: region, at: now()) { return key }
        return try await creation.withLock {
            let time = now()
            if let key = usable(region: region, at: time) { return key }
            return try await create(region: region, at: time)
        }
    }

    /// Makes, stores and publishes a key valid from `time`; the caller holds the creation lock.
    ///
    /// Generating the key (tens to hundreds of milliseconds) and writing its file (two fsyncs) run on the blocking
    /// thread pool, not on the loop or executor of the request that needed the key.
    private func create(region: String, at time: Int64) async throws -> SigningKey {
        let (directory, rotationPeriod) = (self.directory, self.rotationPeriod)
        let (privateKey, info) = try await BlockingWork.run {
            let privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let der = Array(privateKey.publicKey.pkcs1DERRepresentation)
            let info = PublicKeyInfo(
                value: der, validityStart: time, validityEnd: time + rotationPeriod, fingerprint: PublicKeyInfo.fingerprint(of: der))
            try Self.writeSecret(Array(privateKey.pemRepresentation.utf8), to: Self.path(directory, info.fingerprint))
            return (privateKey, info)
        }
        let der = info.value
        let record = Record(
            region: region, fingerprint: info.fingerprint, validityStart: info.validityStart, validityEnd: info.validityEnd,
            publicKey: Base64.encode(der))
        try await store.put(Self.namespace, region + "/" + info.fingerprint, Array(try JSONEncoder().encode(record)))
        let key = SigningKey(region: region, publicKey: info, privateKey: privateKey)
        entries.withLock { $0.append(Entry(region: region, publicKey: info, signing: key)) }
        return key
    }

    /// The public keys of `region` whose validity range overlaps `[from, to]` (epoch seconds), oldest first.
    package func publicKeys(region: String, from: Double, to: Double) async throws -> [PublicKeyInfo] {
        entries.withLock { all in
            all.filter { $0.region == region && Double($0.publicKey.validityStart) <= to && Double($0.publicKey.validityEnd) >= from }
                .map(\.publicKey)
        }
        .sorted { ($0.validityStart, $0.fingerprint) < ($1.validityStart, $1.fingerprint) }
    }

    // MARK: Files

    /// Why a key file could not be written.
    package struct FileError: Error, CustomStringConvertible {
        /// The failing step and path, with the system's error text.
        package let description: String
    }

    /// Writes `bytes` to `path` atomically, readable by the owner only: a temporary file created with mode 0600,
    /// fsynced, renamed into place, and the directory fsynced.
    private static func writeSecret(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-" + IDs.alphanumeric(8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        guard fchmod(fd, 0o600) == 0, fsync(fd) == 0 else {
            let error = failure("fsync", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure("rename", temporary)
            unlink(temporary)
            throw error
        }
        let parent = (path as NSString).deletingLastPathComponent
        let dirFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            defer { close(dirFD) }
            guard fsync(dirFD) == 0 else { throw failure("fsync", parent) }
        }
    }

    private static func failure(_ step: String, _ path: String) -> FileError {
        FileError(description: "\(step) \(path): \(String(cString: strerror(errno)))")
    }
}
