import AWSCore
import Foundation

/// Subscription filter policies (AWS "Amazon SNS message filtering"): which published messages a subscription
/// receives, by message attributes (`FilterPolicyScope` `MessageAttributes`, the default) or by the message body's
/// JSON (`MessageBody`).
///
/// A policy is an object of keys, all of which must match (`$or` takes a list of alternative policies). A key's
/// list of conditions matches when any condition does: exact strings and numbers, `prefix`, `suffix`,
/// `equals-ignore-case`, `anything-but` (a value, a list or a `prefix`), `numeric` comparisons and ranges, and
/// `exists`. A `String.Array` attribute, or an array in the body, matches when any element does. Cairn applies
/// the operators above; `cidr` and wildcard matching are not evaluated (such a condition never matches).
enum FilterPolicy {
    /// Whether a message passes the subscription's filter policy (no policy: every message does).
    static func matches(
        policy text: String?, scope: String?, attributes: [String: HTTPMessages.Attribute], body: String
    ) -> Bool {
        guard let text, !text.isEmpty, let policy = parse(text) else { return true }
        if scope == "MessageBody" {
            guard let document = parse(body) else { return false }
            return matches(policy, document: document)
        }
        return matches(policy, attributes: attributes)
    }

    /// Parses JSON text.
    static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    // MARK: Attribute scope

    /// A policy against message attributes.
    private static func matches(_ policy: JSONValue, attributes: [String: HTTPMessages.Attribute]) -> Bool {
        guard let keys = policy.object else { return false }
        for (key, conditions) in keys {
            if key == "$or" {
                guard (conditions.array ?? []).contains(where: { matches($0, attributes: attributes) }) else { return false }
                continue
            }
            let values: [JSONValue]?
            if let attribute = attributes[key] {
                if attribute.type.hasPrefix("String.Array") {
                    values = parse(attribute.value)?.array ?? [.string(attribute.value)]
                } else if attribute.type.hasPrefix("Number") {
                    values = [Double(attribute.value).map(JSONValue.number) ?? .string(attribute.value)]
                } else if attribute.type.hasPrefix("Binary") {
                    values = nil  // binary attributes are not considered by filter policies
                } else {
                    values = [.string(attribute.value)]
                }
            } else {
                values = nil
            }
            guard anyCondition(conditions, values: values) else { return false }
        }
        return true
    }

    // MARK: Body scope

    /// A policy against a JSON message body (nested objects by nested policies).
    private static func matches(_ policy: JSONValue, document: JSONValue) -> Bool {
        guard let keys = policy.object else { return false }
        for (key, conditions) in keys {
            if key == "$or" {
                guard (conditions.array ?? []).contains(where: { matches($0, document: document) }) else { return false }
                continue
            }
            let value = document[key]
            if case .object = conditions {
                // A nested policy for a nested object.
                guard let value, case .object = value, matches(conditions, document: value) else { return false }
                continue
            }
            let values: [JSONValue]? =
                switch value {
                case nil, .null?: nil
                case .array(let items)?: items
                case let v?: [v]
                }
            guard anyCondition(conditions, values: values) else { return false }
        }
        return true
    }

    // MARK: Conditions

    /// Whether any condition of a key's list matches any of the values (`nil`: the key is absent).
    private static func anyCondition(_ conditions: JSONValue, values: [JSONValue]?) -> Bool {
        let list = conditions.array ?? [conditions]
        return list.contains { condition in
            if let exists = condition["exists"]?.bool { return exists == (values != nil) }
            guard let values else { return false }
            return values.contains { matchesCondition(condition, matches: $0) }
        }
    }

    /// Whether one condition holds for one value.
    private static func matchesCondition(_ condition: JSONValue, matches value: JSONValue) -> Bool {
        switch condition {
        case .string(let s): return value.string == s
        case .number(let n): return value.number == n
        case .bool(let b): return value.bool == b
        case .null: return value.isNull
        case .object(let op):
            if let p = op["prefix"]?.string { return value.string?.hasPrefix(p) == true }
            if let p = op["suffix"]?.string { return value.string?.hasSuffix(p) == true }
            if let p = op["equals-ignore-case"]?.string { return value.string?.lowercased() == p.lowercased() }
            if let numeric = op["numeric"]?.array { return numericMatch(numeric, value.number) }
            if let but = op["anything-but"] {
                if let p = but["prefix"]?.string { return !(value.string?.hasPrefix(p) ?? false) }
                let excluded = but.array ?? [but]
                return !excluded.contains { matchesCondition($0, matches: value) }
            }
            return false
        default:
            return false
        }
    }

    /// `["=", 5]`, `[">", 0, "<=", 10]`, ...
    private static func numericMatch(_ terms: [JSONValue], _ value: Double?) -> Bool {
        guard let value, terms.count % 2 == 0, !terms.isEmpty else { return false }
        var i = 0
        while i < terms.count {
            guard let op = terms[i].string, let bound = terms[i + 1].number else { return false }
            let ok: Bool =
                switch op {
                case "=": value == bound
                case "<": value < bound
                case "<=": value <= bound
                case ">": value > bound
                case ">=": value >= bound
                default: false
                }
            if !ok { return false }
            i += 2
        }
        return true
    }
}
