import Foundation

/// An IAM-style resource policy (S3 bucket policy, SNS topic policy), parsed and ready to evaluate.
///
/// Cairn evaluates resource policies where AWS services check them before writing on a customer's behalf (CloudTrail
/// and AWS Config delivering to a bucket or topic). Evaluation follows IAM's rules for those cases: an explicit `Deny`
/// wins, otherwise an `Allow` whose principal, action, resource and conditions all match grants the request.
package struct PolicyDocument: Sendable, Equatable {
    /// One statement of the policy.
    package struct Statement: Sendable, Equatable {
        /// `Allow` (true) or `Deny` (false).
        package var allow: Bool
        /// `Principal`: `nil` when the statement has none; `["*"]` for everyone; else `Service:x` / `AWS:y` entries.
        package var principals: [String]?
        /// `Action` patterns (lower-cased).
        package var actions: [String]
        /// `NotAction` patterns (lower-cased).
        package var notActions: [String]
        /// `Resource` patterns.
        package var resources: [String]
        /// `NotResource` patterns.
        package var notResources: [String]
        /// `Condition` entries: operator, key (lower-cased) and values.
        package var conditions: [Condition]
    }

    /// One condition test, such as `StringEquals aws:SourceAccount 123456789012`.
    package struct Condition: Sendable, Equatable {
        package var operator_: String
        package var key: String
        package var values: [String]
    }

    /// A request to evaluate against the policy.
    package struct Request: Sendable {
        /// The calling service principal (`cloudtrail.amazonaws.com`), when a service calls.
        package var servicePrincipal: String?
        /// The calling AWS principal's ARN, when a user or role calls.
        package var awsPrincipal: String?
        /// The calling AWS principal's account, when a user or role calls.
        package var awsAccount: String?
        /// The action, such as `s3:PutObject`.
        package var action: String
        /// The resource ARN.
        package var resource: String
        /// Condition keys and their values (`aws:SourceArn`, `s3:x-amz-acl`, ...).
        package var context: [String: String]

        /// Creates a request.
        package init(
            servicePrincipal: String? = nil, awsPrincipal: String? = nil, awsAccount: String? = nil, action: String,
            resource: String, context: [String: String] = [:]
        ) {
            self.servicePrincipal = servicePrincipal
            self.awsPrincipal = awsPrincipal
            self.awsAccount = awsAccount
            self.action = action
            self.resource = resource
            self.context = context
        }
    }

    /// The statements, in document order.
    package var statements: [Statement]

    /// Parses a policy document.
    ///
    /// - Throws: ``PolicyError`` naming what is wrong (S3 answers such documents with `MalformedPolicy`).
    package init(json: String) throws(PolicyError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        } catch {
            throw PolicyError("Policies must be valid JSON and the first byte must be '{'")
        }
        guard let object = value.object else { throw PolicyError("Policies must be valid JSON and the first byte must be '{'") }
        let statementValue = object["Statement"]
        let list: [JSONValue]
        switch statementValue {
        case .array(let items)?: list = items
        case .object?: list = [statementValue!]
        default: throw PolicyError("Missing required field Statement")
        }
        guard !list.isEmpty else { throw PolicyError("Could not parse the policy: Statement is empty!") }
        statements = try list.map(Self.statement)
    }

    private static func strings(_ value: JSONValue?) throws(PolicyError) -> [String] {
        switch value {
        case nil: return []
        case .string(let s)?: return [s]
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard let s = item.string else { throw PolicyError("Policy has an invalid value: expected strings") }
                out.append(s)
            }
            return out
        default: throw PolicyError("Policy has an invalid value: expected a string or a list of strings")
        }
    }

    private static func statement(_ value: JSONValue) throws(PolicyError) -> Statement {
        guard let s = value.object else { throw PolicyError("Statement is not an object") }
        let effect = s["Effect"]?.string
        guard effect == "Allow" || effect == "Deny" else { throw PolicyError("Invalid effect: \(effect ?? "missing")") }
        var principals: [String]?
        switch s["Principal"] {
        case nil: principals = nil
        case .string(let star)?:
            guard star == "*" else { throw PolicyError("Invalid principal in policy") }
            principals = ["*"]
        case .object(let map)?:
            var out: [String] = []
            for (kind, entries) in map {
                for entry in try strings(entries) { out.append("\(kind):\(entry)") }
            }
            principals = out
        default: throw PolicyError("Invalid principal in policy")
        }
        let actions = try strings(s["Action"]).map { $0.lowercased() }
        let notActions = try strings(s["NotAction"]).map { $0.lowercased() }
        guard !actions.isEmpty || !notActions.isEmpty else { throw PolicyError("Missing required field Action") }
        let resources = try strings(s["Resource"])
        let notResources = try strings(s["NotResource"])
        var conditions: [Condition] = []
        if let block = s["Condition"] {
            guard let operators = block.object else { throw PolicyError("Invalid Condition block") }
            for (op, tests) in operators {
                guard let tests = tests.object else { throw PolicyError("Invalid Condition block") }
                for (key, values) in tests {
                    conditions.append(Condition(operator_: op, key: key.lowercased(), values: try strings(values)))
                }
            }
        }
        return Statement(
            allow: effect == "Allow", principals: principals, actions: actions, notActions: notActions,
            resources: resources, notResources: notResources, conditions: conditions)
    }

    /// Whether some `Deny` statement matches the request (an explicit deny, which no grant overrides).
    package func explicitlyDenies(_ request: Request) -> Bool {
        statements.contains { !$0.allow && $0.matches(request) }
    }

    /// Whether the policy allows the request: some `Allow` statement matches and no `Deny` statement does.
    package func allows(_ request: Request) -> Bool {
        var allowed = false
        for statement in statements where statement.matches(request) {
            if !statement.allow { return false }
            allowed = true
        }
        return allowed
    }
}

extension PolicyDocument.Statement {
    /// Whether every part of the statement applies to the request.
    func matches(_ r: PolicyDocument.Request) -> Bool {
        if let principals {
            let matched = principals.contains { p in
                if p == "*" || p == "AWS:*" { return true }
                if let service = r.servicePrincipal, p == "Service:\(service)" { return true }
                guard p.hasPrefix("AWS:") else { return false }
                // An AWS principal names a principal's ARN, or a whole account by id or by its root ARN.
                let id = String(p.dropFirst(4))
                if let arn = r.awsPrincipal, id == arn { return true }
                if let account = r.awsAccount, id == account || id == "arn:aws:iam::\(account):root" { return true }
                return false
            }
            guard matched else { return false }
        }
        let action = r.action.lowercased()
        if !actions.isEmpty, !actions.contains(where: { Glob.matches($0, action) }) { return false }
        if !notActions.isEmpty, notActions.contains(where: { Glob.matches($0, action) }) { return false }
        if !resources.isEmpty, !resources.contains(where: { Glob.matches($0, r.resource) }) { return false }
        if !notResources.isEmpty, notResources.contains(where: { Glob.matches($0, r.resource) }) { return false }
        let context = Dictionary(r.context.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        return conditions.allSatisfy { $0.holds(in: context) }
    }
}

extension PolicyDocument.Condition {
    /// Evaluates the condition; a positive test on a missing key fails, a negated one holds.
    func holds(in context: [String: String]) -> Bool {
        var op = operator_
        let ifExists = op.hasSuffix("IfExists")
        if ifExists { op = String(op.dropLast("IfExists".count)) }
        guard let actual = context[key] else {
            return ifExists || op.hasPrefix("StringNot") || op.hasPrefix("ArnNot")
        }
        switch op {
        case "StringEquals", "ArnEquals": return values.contains(actual)
        case "StringNotEquals", "ArnNotEquals": return !values.contains(actual)
        case "StringEqualsIgnoreCase": return values.contains { $0.lowercased() == actual.lowercased() }
        case "StringNotEqualsIgnoreCase": return !values.contains { $0.lowercased() == actual.lowercased() }
        case "StringLike", "ArnLike": return values.contains { Glob.matches($0, actual) }
        case "StringNotLike", "ArnNotLike": return !values.contains { Glob.matches($0, actual) }
        default: return false  // operators Cairn does not evaluate never grant access
        }
    }
}

/// A problem in a policy document.
package struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in AWS's words where known.
    package var description: String
    /// Creates the error.
    package init(_ description: String) { self.description = description }
}

/// IAM wildcard matching: `*` matches any run of characters, `?` any one character.
package enum Glob {
    /// Whether `text` matches `pattern`.
    package static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
