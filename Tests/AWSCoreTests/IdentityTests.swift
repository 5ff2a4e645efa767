import AWSCore
import Foundation
import Testing

/// An access key of the identities file, as JSON.
private struct Key {
    var id: String
    var secret: String
    var json: [String: Any] { ["accessKeyId": id, "secretAccessKey": secret] }
}

/// A user of the identities file, as JSON.
private struct User {
    var name: String
    var path: String?
    var keys: [Key] = []
    var json: [String: Any] {
        var out: [String: Any] = ["name": name, "accessKeys": keys.map(\.json)]
        if let path { out["path"] = path }
        return out
    }
}

/// A role of the identities file, as JSON.
private struct Role {
    var name: String
    var path: String?
    var trusted: [String]?
    var json: [String: Any] {
        var out: [String: Any] = ["name": name]
        if let path { out["path"] = path }
        if let trusted { out["trustedAccounts"] = trusted }
        return out
    }
}

/// An account of the identities file, as JSON (the file's public form: its types have no public initializers).
private struct Account {
    var id = "111122223333"
    var alias: String?
    var root: [Key]?
    var users: [User]?
    var roles: [Role]?
    var json: [String: Any] {
        var out: [String: Any] = ["id": id]
        if let alias { out["alias"] = alias }
        if let root { out["rootAccessKeys"] = root.map(\.json) }
        if let users { out["users"] = users.map(\.json) }
        if let roles { out["roles"] = roles.map(\.json) }
        return out
    }
}

/// An access key with a default secret.
private func key(_ id: String, _ secret: String = "secret") -> Key { Key(id: id, secret: secret) }

/// Decodes an identities file made of these accounts, as `cairn serve --identities` would.
private func file(_ accounts: [Account]) throws -> IdentitiesFile {
    let data = try JSONSerialization.data(withJSONObject: ["accounts": accounts.map(\.json)])
    return try JSONDecoder().decode(IdentitiesFile.self, from: data)
}

/// Expects the directory to reject the file with a message containing `fragment`.
private func expectRejected(_ accounts: [Account], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(sourceLocation: sourceLocation) {
        try IdentityDirectory(try file(accounts))
    } throws: { error in
        guard let error = error as? IdentityFileError else { return false }
        return error.description.contains(fragment)
    }
}

/// Validation and indexing of identities files.
@Suite("IdentityDirectory")
struct IdentityDirectoryTests {
    @Test("the built-in identity is user test with key test/test in account 000000000000")
    func builtIn() throws {
        let directory = try IdentityDirectory(.builtIn)
        let credential = try #require(directory.keys["test"])
        #expect(credential.secretAccessKey == "test")
        #expect(credential.caller.kind == .iamUser)
        #expect(credential.caller.accountId == "000000000000")
        #expect(credential.caller.arn == "arn:aws:iam::000000000000:user/test")
        #expect(credential.sessionToken == nil)
    }

    @Test("a valid file indexes root keys, user keys, roles and aliases")
    func valid() throws {
        let directory = try IdentityDirectory(
            try file([
                Account(
                    alias: "prod", root: [key("AKIAROOT")],
                    users: [User(name: "alice", path: "/dev/team/", keys: [key("AKIAALICE1"), key("AKIAALICE2")])],
                    roles: [Role(name: "Admin", path: nil, trusted: ["444455556666"])]),
                Account(id: "444455556666", users: [User(name: "bob", path: nil, keys: [key("AKIABOB")])]),
            ]))
        #expect(directory.keys.count == 4)
        #expect(directory.keys["AKIAROOT"]?.caller.kind == .root)
        #expect(directory.keys["AKIAROOT"]?.caller.accountAlias == "prod")
        #expect(directory.keys["AKIAALICE2"]?.caller.arn == "arn:aws:iam::111122223333:user/dev/team/alice")
        #expect(directory.keys["AKIABOB"]?.caller.path == "/")
        #expect(directory.aliases == ["111122223333": "prod"])
        let role = try #require(directory.roles["arn:aws:iam::111122223333:role/Admin"])
        #expect(role.trustedAccounts == ["444455556666"])
    }

    @Test("no accounts at all is an error")
    func noAccounts() { expectRejected([], "no accounts") }

    @Test(
        "account ids must be exactly 12 ASCII digits",
        arguments: ["12345678901", "1234567890123", "12345678901a", "", "١٢٣٤٥٦٧٨٩٠١٢", "12345678901²"])
    func badAccountId(id: String) { expectRejected([Account(id: id)], "must be 12 digits") }

    @Test("an account defined twice is an error")
    func duplicateAccount() { expectRejected([Account(), Account()], "defined twice") }

    @Test("an access key id used twice, even across accounts and kinds, is an error")
    func duplicateKeys() {
        expectRejected(
            [Account(root: [key("AKIADUP")], users: [User(name: "u", path: nil, keys: [key("AKIADUP", "other")])])],
            "used twice")
        expectRejected(
            [
                Account(users: [User(name: "u", path: nil, keys: [key("AKIADUP")])]),
                Account(id: "444455556666", users: [User(name: "u", path: nil, keys: [key("AKIADUP")])]),
            ],
            "used twice")
    }

    @Test("empty key ids or secrets are errors")
    func emptyKeyParts() {
        expectRejected([Account(root: [key("", "s")])], "empty id or secret")
        expectRejected([Account(root: [key("AKIA", "")])], "empty id or secret")
    }

    @Test("paths must start and end with '/'", arguments: ["", "dev", "/dev", "dev/"])
    func badPath(path: String) {
        expectRejected([Account(users: [User(name: "u", path: path)])], "path")
        expectRejected([Account(roles: [Role(name: "r", path: path)])], "path")
    }

    @Test("user and role names must be valid IAM names", arguments: ["", "has space", "slash/name", "caf\u{e9}", String(repeating: "a", count: 65)])
    func badName(name: String) {
        expectRejected([Account(users: [User(name: name, path: nil)])], "not a valid IAM name")
        expectRejected([Account(roles: [Role(name: name, path: nil)])], "not a valid IAM name")
    }

    @Test("duplicate users or roles in one account, and bad trusted accounts, are errors")
    func duplicatesAndTrust() {
        let user = User(name: "u", path: nil)
        expectRejected([Account(users: [user, user])], "defined twice")
        let role = Role(name: "r", path: nil)
        expectRejected([Account(roles: [role, role])], "defined twice")
        expectRejected([Account(roles: [Role(name: "r", path: nil, trusted: ["123"])])], "not a 12-digit")
    }
}

/// Deterministic principal ids and the caller's CloudTrail names.
@Suite("PrincipalIds and Caller")
struct PrincipalIdsTests {
    private static let base32 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    @Test("user ids are AIDA + 17 base-32 characters, role ids AROA + 17")
    func format() {
        for name in ["test", "alice", "a", String(repeating: "z", count: 64)] {
            for (id, prefix) in [
                (PrincipalIds.userId(account: "000000000000", name: name), "AIDA"),
                (PrincipalIds.roleId(account: "000000000000", name: name), "AROA"),
            ] {
                #expect(id.count == 21)
                #expect(id.hasPrefix(prefix))
                #expect(id.dropFirst(4).allSatisfy { Self.base32.contains($0) }, "\(id)")
            }
        }
    }

    @Test("ids are deterministic and differ by account, name and kind")
    func determinism() {
        let a = PrincipalIds.userId(account: "000000000000", name: "test")
        #expect(a == PrincipalIds.userId(account: "000000000000", name: "test"))
        #expect(a != PrincipalIds.userId(account: "000000000001", name: "test"))
        #expect(a != PrincipalIds.userId(account: "000000000000", name: "Test"))
        #expect(a.dropFirst(4) != PrincipalIds.roleId(account: "000000000000", name: "test").dropFirst(4))
        let ids = Set((0..<2_000).map { PrincipalIds.userId(account: "000000000000", name: "user\($0)") })
        #expect(ids.count == 2_000)
    }

    @Test("Caller principalId, arn and username for each kind")
    func caller() {
        let user = Caller(kind: .iamUser, accountId: "111122223333", accessKeyId: "AKIA1", name: "alice", path: "/dev/")
        #expect(user.principalId == PrincipalIds.userId(account: "111122223333", name: "alice"))
        #expect(user.arn == "arn:aws:iam::111122223333:user/dev/alice")
        #expect(user.lookupUsername == "alice")
        let root = Caller(kind: .root, accountId: "111122223333", accessKeyId: "AKIA2", name: "")
        #expect(root.principalId == "111122223333")
        #expect(root.arn == "arn:aws:iam::111122223333:root")
        #expect(root.lookupUsername == "root")
        let role = Caller(
            kind: .assumedRole, accountId: "111122223333", accessKeyId: "ASIA3", name: "Admin", path: "/ops/", sessionName: "s1",
            sessionIssuedAt: 0)
        #expect(role.principalId == PrincipalIds.roleId(account: "111122223333", name: "Admin") + ":s1")
        #expect(role.arn == "arn:aws:sts::111122223333:assumed-role/Admin/s1")
        #expect(role.roleArn == "arn:aws:iam::111122223333:role/ops/Admin")
        #expect(role.lookupUsername == "s1")
    }
}
