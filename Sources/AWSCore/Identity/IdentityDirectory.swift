/// The contents of an identities file (`--identities`), in JSON or YAML.
package struct IdentitiesFile: Sendable, Codable, Equatable {
    /// An access key pair.
    package struct AccessKey: Sendable, Codable, Equatable {
        package var accessKeyId: String
        package var secretAccessKey: String
    }

    /// An IAM user.
    package struct User: Sendable, Codable, Equatable {
        package var name: String
        package var path: String?
        package var accessKeys: [AccessKey]?
    }

    /// An IAM role that principals of its account and of `trustedAccounts` may assume.
    package struct Role: Sendable, Codable, Equatable {
        package var name: String
        package var path: String?
        package var trustedAccounts: [String]?
    }

    /// An account.
    package struct Account: Sendable, Codable, Equatable {
        package var id: String
        package var alias: String?
        package var rootAccessKeys: [AccessKey]?
        package var users: [User]?
        package var roles: [Role]?
    }

    /// The accounts.
    package var accounts: [Account]

    /// Creates a file value.
    package init(accounts: [Account]) { self.accounts = accounts }

    /// The built-in identities: account `000000000000` with IAM user `test`, key `test`, secret `test`.
    package static let builtIn = IdentitiesFile(accounts: [
        Account(
            id: "000000000000", alias: nil, rootAccessKeys: nil,
            users: [User(name: "test", path: "/", accessKeys: [AccessKey(accessKeyId: "test", secretAccessKey: "test")])],
            roles: nil
        )
    ])
}

/// A credential the server can verify a signature with.
package struct KnownCredential: Sendable {
    /// The secret access key (never logged).
    package var secretAccessKey: String
    /// The principal the key signs as.
    package var caller: Caller
    /// For temporary credentials: the session token the request must carry.
    package var sessionToken: String?
    /// For temporary credentials: when they stop working (epoch seconds).
    package var expiration: Int64?

    /// Creates a credential.
    package init(secretAccessKey: String, caller: Caller, sessionToken: String? = nil, expiration: Int64? = nil) {
        self.secretAccessKey = secretAccessKey
        self.caller = caller
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

/// The validated, indexed identities: long-term access keys and the roles that can be assumed.
package struct IdentityDirectory: Sendable {
    /// A role that can be assumed.
    package struct Role: Sendable, Equatable {
        package var accountId: String
        package var name: String
        package var path: String
        package var trustedAccounts: Set<String>

        /// `arn:aws:iam::<account>:role<path><name>`.
        package var arn: String { "arn:aws:iam::\(accountId):role\(path)\(name)" }
    }

    /// Long-term keys by access key id.
    package let keys: [String: KnownCredential]
    /// Roles by ARN.
    package let roles: [String: Role]
    /// Account aliases by account id.
    package let aliases: [String: String]

    /// Validates and indexes an identities file.
    ///
    /// - Throws: a message naming the problem (bad account id, duplicate key, missing secret, bad path).
    package init(_ file: IdentitiesFile) throws(IdentityFileError) {
        var keys: [String: KnownCredential] = [:]
        var roles: [String: Role] = [:]
        var aliases: [String: String] = [:]
        var seenAccounts = Set<String>()
        if file.accounts.isEmpty { throw IdentityFileError("no accounts are defined") }
        for account in file.accounts {
            guard account.id.count == 12, account.id.allSatisfy(\.isASCIIDigit) else {
                throw IdentityFileError("account id '\(account.id)' must be 12 digits")
            }
            guard seenAccounts.insert(account.id).inserted else {
                throw IdentityFileError("account \(account.id) is defined twice")
            }
            if let alias = account.alias { aliases[account.id] = alias }
            func add(_ key: IdentitiesFile.AccessKey, _ caller: Caller) throws(IdentityFileError) {
                guard !key.accessKeyId.isEmpty, !key.secretAccessKey.isEmpty else {
                    throw IdentityFileError("an access key of account \(account.id) has an empty id or secret")
                }
                guard keys[key.accessKeyId] == nil else {
                    throw IdentityFileError("access key id '\(key.accessKeyId)' is used twice")
                }
                keys[key.accessKeyId] = KnownCredential(secretAccessKey: key.secretAccessKey, caller: caller)
            }
            for key in account.rootAccessKeys ?? [] {
                try add(key, Caller(kind: .root, accountId: account.id, accessKeyId: key.accessKeyId, name: "", accountAlias: account.alias))
            }
            var userNames = Set<String>()
            for user in account.users ?? [] {
                let path = user.path ?? "/"
                try Self.checkName(user.name, path: path, what: "user", account: account.id)
                guard userNames.insert(user.name).inserted else {
                    throw IdentityFileError("user '\(user.name)' is defined twice in account \(account.id)")
                }
                for key in user.accessKeys ?? [] {
                    try add(
                        key,
                        Caller(
                            kind: .iamUser, accountId: account.id, accessKeyId: key.accessKeyId, name: user.name, path: path,
                            accountAlias: account.alias))
                }
            }
            for role in account.roles ?? [] {
                let path = role.path ?? "/"
                try Self.checkName(role.name, path: path, what: "role", account: account.id)
                for trusted in role.trustedAccounts ?? [] where trusted.count != 12 || !trusted.allSatisfy(\.isASCIIDigit) {
                    throw IdentityFileError("role '\(role.name)' trusts '\(trusted)', which is not a 12-digit account id")
                }
                let r = Role(accountId: account.id, name: role.name, path: path, trustedAccounts: Set(role.trustedAccounts ?? []))
                guard roles[r.arn] == nil else {
                    throw IdentityFileError("role '\(role.name)' is defined twice in account \(account.id)")
                }
                roles[r.arn] = r
            }
        }
        self.keys = keys
        self.roles = roles
        self.aliases = aliases
    }

    private static func checkName(_ name: String, path: String, what: String, account: String) throws(IdentityFileError) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-")
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ allowed.contains($0) }) else {
            throw IdentityFileError("\(what) name '\(name)' in account \(account) is not a valid IAM name")
        }
        guard path.hasPrefix("/"), path.hasSuffix("/") else {
            throw IdentityFileError("\(what) '\(name)' in account \(account) has path '\(path)'; a path starts and ends with '/'")
        }
    }
}

/// A problem in the identities file.
package struct IdentityFileError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    package var description: String
    /// Creates the error.
    package init(_ description: String) { self.description = description }
}

extension Character {
    /// Whether this is one of the ASCII digits 0-9.
    package var isASCIIDigit: Bool { isASCII && isNumber }
}
