package import AWSCore
import Audit
package import Gateway

/// AWS Security Token Service (Query protocol): who am I, role sessions and session tokens.
///
/// Temporary credentials are issued through the ``CredentialVault``, which stores them durably, so they sign
/// requests until they expire, also after a restart.
package struct STSService: AWSService {
    package let model = ServiceModel.sts
    package let eventSource = "sts.amazonaws.com"
    package let operations: [String: AWSOperation]

    /// Creates the service over the credential vault.
    package init(vault: CredentialVault) {
        operations = [
            "GetCallerIdentity": AWSOperation(audit: AuditSpec(readOnly: true)) { call in
                .object([
                    "UserId": .string(call.caller.principalId),
                    "Account": .string(call.caller.accountId),
                    "Arn": .string(call.caller.arn),
                ])
            },
            "AssumeRole": AWSOperation(
                audit: AuditSpec(
                    readOnly: true, recordsResponse: true, omitResponse: ["Credentials.SessionToken"],
                    resources: { facts in
                        guard let arn = facts.input["RoleArn"]?.string, let account = STSService.accountOf(roleArn: arn) else {
                            return nil
                        }
                        return [EventResource(type: "AWS::IAM::Role", arn: arn, accountId: account)]
                    },
                    lookupResources: { facts in
                        guard let arn = facts.input["RoleArn"]?.string else { return [] }
                        return [LookupResource(type: "AWS::IAM::Role", name: arn)]
                    },
                    otherRecipients: { facts in
                        guard let arn = facts.input["RoleArn"]?.string, let account = STSService.accountOf(roleArn: arn) else {
                            return []
                        }
                        return [account]
                    }
                )
            ) { call in try await Self.assumeRole(call, vault: vault) },
            // `readOnly` is false in real records of GetSessionToken (TrailDiscover's
            // `SecurityTokenService-GetSessionToken` capture, 2024), unlike AssumeRole's.
            "GetSessionToken": AWSOperation(
                audit: AuditSpec(readOnly: false, recordsResponse: true, omitResponse: ["Credentials.SessionToken"])
            ) { call in try await Self.getSessionToken(call, vault: vault) },
        ]
    }

    static func accountOf(roleArn: String) -> String? {
        let parts = roleArn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[4].count == 12,
            parts[5].hasPrefix("role/")
        else { return nil }
        return String(parts[4])
    }

    private static func validation(_ value: String, _ member: String, _ constraint: String) -> AWSError {
        AWSError(
            "ValidationError",
            "1 validation error detected: Value '\(value)' at '\(member)' failed to satisfy constraint: \(constraint)")
    }

    private static func checkDuration(_ input: JSONValue, max: Int, default value: Int) throws(AWSError) -> Int {
        guard let duration = input["DurationSeconds"]?.int else { return value }
        if duration < 900 {
            throw validation(String(duration), "durationSeconds", "Member must have value greater than or equal to 900")
        }
        if duration > max {
            throw validation(String(duration), "durationSeconds", "Member must have value less than or equal to \(max)")
        }
        return duration
    }

    private static let sessionNameCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-")

    private static func assumeRole(_ call: OperationCall, vault: CredentialVault) async throws -> JSONValue {
        let roleArn = call.input["RoleArn"]?.string ?? ""
        let sessionName = call.input["RoleSessionName"]?.string ?? ""
        if roleArn.count < 20 {
            throw validation(roleArn, "roleArn", "Member must have length greater than or equal to 20")
        }
        if sessionName.count < 2 {
            throw validation(sessionName, "roleSessionName", "Member must have length greater than or equal to 2")
        }
        if sessionName.count > 64 {
            throw validation(sessionName, "roleSessionName", "Member must have length less than or equal to 64")
        }
        if !sessionName.allSatisfy({ sessionNameCharacters.contains($0) }) {
            throw validation(sessionName, "roleSessionName", #"Member must satisfy regular expression pattern: [\w+=,.@-]*"#)
        }
        let duration = try checkDuration(call.input, max: 43200, default: 3600)
        if call.caller.kind == .assumedRole, duration > 3600 {
            throw AWSError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
        }
        guard accountOf(roleArn: roleArn) != nil else {
            throw AWSError("ValidationError", "\(roleArn) is invalid")
        }
        let denied = AWSError(
            "AccessDenied",
            "User: \(call.caller.arn) is not authorized to perform: sts:AssumeRole on resource: \(roleArn)", status: 403)
        guard let role = vault.identities.roles[roleArn] else { throw denied }
        guard role.accountId == call.caller.accountId || role.trustedAccounts.contains(call.caller.accountId) else {
            throw denied
        }
        let accessKeyId = "ASIA" + IDs.upperAlphanumeric(16)
        let caller = Caller(
            kind: .assumedRole, accountId: role.accountId, accessKeyId: accessKeyId, name: role.name, path: role.path,
            sessionName: sessionName, sessionIssuedAt: call.now, accountAlias: vault.identities.aliases[role.accountId])
        let credential = try await vault.issue(caller: caller, expiration: call.now + Int64(duration))
        return .object([
            "Credentials": credentials(credential, accessKeyId: accessKeyId),
            "AssumedRoleUser": .object([
                "AssumedRoleId": .string(caller.principalId),
                "Arn": .string(caller.arn),
            ]),
        ])
    }

    private static func getSessionToken(_ call: OperationCall, vault: CredentialVault) async throws -> JSONValue {
        if call.caller.sessionIssuedAt != nil {
            throw AWSError("AccessDenied", "Cannot call GetSessionToken with session credentials", status: 403)
        }
        let duration = try checkDuration(
            call.input, max: call.caller.kind == .root ? 3600 : 129_600, default: call.caller.kind == .root ? 3600 : 43200)
        var caller = call.caller
        caller.accessKeyId = "ASIA" + IDs.upperAlphanumeric(16)
        caller.sessionIssuedAt = call.now
        let credential = try await vault.issue(caller: caller, expiration: call.now + Int64(duration))
        return .object(["Credentials": credentials(credential, accessKeyId: caller.accessKeyId)])
    }

    private static func credentials(_ credential: KnownCredential, accessKeyId: String) -> JSONValue {
        .object([
            "AccessKeyId": .string(accessKeyId),
            "SecretAccessKey": .string(credential.secretAccessKey),
            "SessionToken": .string(credential.sessionToken ?? ""),
            "Expiration": .number(Double(credential.expiration ?? 0)),
        ])
    }
}
