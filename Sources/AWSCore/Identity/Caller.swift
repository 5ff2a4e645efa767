import Crypto
import Synchronization

/// The principal a request was authenticated as: who CloudTrail says made the call.
package struct Caller: Sendable, Hashable, Codable {
    /// The kind of principal, as CloudTrail's `userIdentity.type` names it.
    package enum Kind: String, Sendable, Hashable, Codable {
        /// The account's root user (`Root`).
        case root = "Root"
        /// An IAM user (`IAMUser`).
        case iamUser = "IAMUser"
        /// A role session from `AssumeRole` (`AssumedRole`).
        case assumedRole = "AssumedRole"
        /// An AWS service acting as its own service principal (`AWSService`), such as CloudTrail writing a log file:
        /// `name` is the principal (`cloudtrail.amazonaws.com`), `accountId` the account it acts for.
        case awsService = "AWSService"
    }

    /// The principal's kind.
    package var kind: Kind
    /// The account the principal belongs to.
    package var accountId: String
    /// The access key id that signed the request.
    package var accessKeyId: String
    /// The user name (IAM user) or role name (assumed role); empty for root.
    package var name: String
    /// The IAM path of the user or role (`/`).
    package var path: String
    /// The role session name, for assumed roles.
    package var sessionName: String?
    /// When the temporary credentials were issued, for any session (assumed role or `GetSessionToken`).
    package var sessionIssuedAt: Int64?
    /// The account alias, when the identities file gives one.
    package var accountAlias: String?
    /// For an AWS service principal: the resource it acts for (a trail's ARN), which resource policies see as
    /// `aws:SourceArn` (`accountId` is their `aws:SourceAccount`).
    package var sourceArn: String?

    /// Creates a caller.
    package init(
        kind: Kind, accountId: String, accessKeyId: String, name: String, path: String = "/",
        sessionName: String? = nil, sessionIssuedAt: Int64? = nil, accountAlias: String? = nil
    ) {
        self.kind = kind
        self.accountId = accountId
        self.accessKeyId = accessKeyId
        self.name = name
        self.path = path
        self.sessionName = sessionName
        self.sessionIssuedAt = sessionIssuedAt
        self.accountAlias = accountAlias
    }

    /// An AWS service acting as its own principal for an account (CloudTrail delivering a trail's log file), on
    /// behalf of `sourceArn` when the call is for one resource.
    package static func service(_ principal: String, account: String, sourceArn: String? = nil) -> Caller {
        var caller = Caller(kind: .awsService, accountId: account, accessKeyId: "", name: principal)
        caller.sourceArn = sourceArn
        return caller
    }

    /// The user's unique id (`AIDA…`) or the role's (`AROA…`), derived from account and name.
    package var uniqueId: String {
        switch kind {
        case .root: accountId
        case .iamUser: PrincipalIds.userId(account: accountId, name: name)
        case .assumedRole: PrincipalIds.roleId(account: accountId, name: name)
        case .awsService: name
        }
    }

    /// CloudTrail's `principalId`: the account id for root, `AIDA…` for users, `AROA…:session` for role sessions.
    package var principalId: String {
        switch kind {
        case .root: accountId
        case .iamUser: uniqueId
        case .assumedRole: "\(uniqueId):\(sessionName ?? "")"
        case .awsService: name
        }
    }

    /// The principal's ARN as STS `GetCallerIdentity` and CloudTrail report it.
    package var arn: String {
        switch kind {
        case .root: "arn:aws:iam::\(accountId):root"
        case .iamUser: "arn:aws:iam::\(accountId):user\(path)\(name)"
        case .assumedRole: "arn:aws:sts::\(accountId):assumed-role/\(name)/\(sessionName ?? "")"
        case .awsService: ""
        }
    }

    /// The ARN of the role behind an assumed-role session.
    package var roleArn: String { "arn:aws:iam::\(accountId):role\(path)\(name)" }

    /// The name Event history shows as `Username`: the user name, `root`, or the role session name.
    package var lookupUsername: String {
        switch kind {
        case .root: "root"
        case .iamUser: name
        case .assumedRole: sessionName ?? name
        case .awsService: name
        }
    }
}

/// Deterministic IAM unique ids, so principal ids stay the same across restarts.
package enum PrincipalIds {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// `AIDA` followed by 17 characters derived from the account and user name.
    package static func userId(account: String, name: String) -> String {
        "AIDA" + derive("user:\(account):\(name)", count: 17)
    }

    /// `AROA` followed by 17 characters derived from the account and role name.
    package static func roleId(account: String, name: String) -> String {
        "AROA" + derive("role:\(account):\(name)", count: 17)
    }

    /// Ids derived so far, by seed: every event names its caller's id, and the callers are few.
    private static let derived = Mutex<[String: String]>([:])

    /// Base32 characters of a SHA-256 over the seed (remembered per seed and length).
    package static func derive(_ seed: String, count: Int) -> String {
        let key = "\(count):\(seed)"
        if let id = derived.withLock({ $0[key] }) { return id }
        let digest = Array(SHA256.hash(data: Array(seed.utf8)))
        let id = String((0..<count).map { alphabet[Int(digest[$0]) & 31] })
        derived.withLock { cache in
            if cache.count >= 4096 { cache.removeAll() }
            cache[key] = id
        }
        return id
    }
}
