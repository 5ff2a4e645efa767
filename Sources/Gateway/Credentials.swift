package import AWSCore
import Foundation
package import Storage
import Synchronization

/// Every credential Cairn accepts: the identities file's long-term keys and the temporary credentials STS issued.
///
/// Temporary credentials are written to the state store before STS answers, and loaded again at start, so they
/// work until they expire, across restarts.
package final class CredentialVault: Sendable {
    private static let namespace = "sts.credentials"
    private let directory: IdentityDirectory
    private let temporary = Mutex<[String: KnownCredential]>([:])
    private let store: any StateStore

    private struct Record: Codable {
        var secretAccessKey: String
        var sessionToken: String
        var expiration: Int64
        var caller: Caller
    }

    /// Creates the vault over the identities and the state store, loading unexpired temporary credentials.
    package init(directory: IdentityDirectory, store: any StateStore, now: Int64) async throws {
        self.directory = directory
        self.store = store
        var loaded: [String: KnownCredential] = [:]
        for (key, value) in try await store.all(Self.namespace) {
            guard let r = try? JSONDecoder().decode(Record.self, from: Data(value)) else { continue }
            if r.expiration <= now {
                try await store.delete(Self.namespace, key)
                continue
            }
            loaded[key] = KnownCredential(
                secretAccessKey: r.secretAccessKey, caller: r.caller, sessionToken: r.sessionToken, expiration: r.expiration)
        }
        temporary.withLock { $0 = loaded }
    }

    /// The identities.
    package var identities: IdentityDirectory { directory }

    /// The credential of an access key id, or `nil` when unknown.
    package func credential(for accessKeyId: String) -> KnownCredential? {
        if let key = directory.keys[accessKeyId] { return key }
        return temporary.withLock { $0[accessKeyId] }
    }

    /// Issues temporary credentials for a principal (the `caller` has the new `ASIA…` key id) and stores them
    /// durably before returning.
    package func issue(caller: Caller, expiration: Int64) async throws -> KnownCredential {
        let credential = KnownCredential(
            secretAccessKey: IDs.alphanumeric(40), caller: caller,
            sessionToken: "FwoGZXIvYXdzE" + IDs.alphanumeric(300), expiration: expiration
        )
        let record = Record(
            secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken!, expiration: expiration,
            caller: caller)
        try await store.put(Self.namespace, caller.accessKeyId, Array(try JSONEncoder().encode(record)))
        temporary.withLock { $0[caller.accessKeyId] = credential }
        return credential
    }
}
