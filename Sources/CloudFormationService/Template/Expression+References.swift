import OrderedCollections

/// A name an expression refers to, as the dependency graph and the validator need it.
enum Reference: Hashable {
    /// `Ref: name`, or `${name}` in Fn::Sub.
    case name(String)
    /// `Fn::GetAtt` on a resource.
    case attribute(resource: String)
    /// `${Resource.Attribute}` in Fn::Sub (the whole variable as written).
    case dottedVariable(String)
    /// A condition named by `Fn::If`.
    case ifCondition(String)
    /// A condition named by `{"Condition": name}`.
    case condition(String)
    /// An `Fn::ImportValue`.
    case importValue
    /// An `Fn::GetAZs`.
    case getAZs
}

extension Expression {
    /// The references in this expression, in document order.
    ///
    /// With `conditions`, `Fn::If` contributes only the branch its condition selects (an unselected branch may
    /// name a resource whose condition is false); without, every branch counts (static validation).
    func references(conditions: [String: Bool]? = nil) -> [Reference] {
        var found: [Reference] = []
        collectReferences(into: &found, conditions: conditions)
        return found
    }

    /// Appends this expression's references to `found`, depth first.
    private func collectReferences(into found: inout [Reference], conditions: [String: Bool]?) {
        switch self {
        case .null, .string, .number, .boolean:
            return
        case .list(let items):
            for item in items { item.collectReferences(into: &found, conditions: conditions) }
        case .object(let members):
            for member in members.values { member.collectReferences(into: &found, conditions: conditions) }
        case .ref(let name):
            found.append(.name(name))
        case .getAtt(let resource, let attribute):
            found.append(.attribute(resource: resource))
            attribute.collectReferences(into: &found, conditions: conditions)
        case .sub(let parts, let variables):
            for value in variables.values { value.collectReferences(into: &found, conditions: conditions) }
            for case .variable(let name) in parts where variables[name] == nil {
                found.append(name.contains(".") ? .dottedVariable(name) : .name(name))
            }
        case .join(_, let values):
            values.collectReferences(into: &found, conditions: conditions)
        case .select(let index, let list):
            index.collectReferences(into: &found, conditions: conditions)
            list.collectReferences(into: &found, conditions: conditions)
        case .split(_, let source):
            source.collectReferences(into: &found, conditions: conditions)
        case .findInMap(let map, let top, let second, let defaultValue):
            for e in [map, top, second] { e.collectReferences(into: &found, conditions: conditions) }
            defaultValue?.collectReferences(into: &found, conditions: conditions)
        case .if(let condition, let then, let otherwise):
            found.append(.ifCondition(condition))
            if let conditions {
                let branch = (conditions[condition] ?? false) ? then : otherwise
                branch.collectReferences(into: &found, conditions: conditions)
            } else {
                then.collectReferences(into: &found, conditions: conditions)
                otherwise.collectReferences(into: &found, conditions: conditions)
            }
        case .equals(let a, let b), .contains(let a, let b), .eachMemberEquals(let a, let b),
            .eachMemberIn(let a, let b), .valueOf(let a, let b), .valueOfAll(let a, let b):
            a.collectReferences(into: &found, conditions: conditions)
            b.collectReferences(into: &found, conditions: conditions)
        case .and(let operands), .or(let operands):
            for e in operands { e.collectReferences(into: &found, conditions: conditions) }
        case .not(let e), .base64(let e), .length(let e), .toJSONString(let e), .transform(let e):
            e.collectReferences(into: &found, conditions: conditions)
        case .condition(let name):
            found.append(.condition(name))
        case .cidr(let block, let count, let bits):
            for e in [block, count, bits] { e.collectReferences(into: &found, conditions: conditions) }
        case .getAZs(let region):
            found.append(.getAZs)
            region.collectReferences(into: &found, conditions: conditions)
        case .importValue(let name):
            found.append(.importValue)
            name.collectReferences(into: &found, conditions: conditions)
        case .refAll:
            return
        }
    }

    /// Every `Fn::ImportValue` argument in this expression (taking only selected `Fn::If` branches when
    /// `conditions` is given).
    func importValueArguments(conditions: [String: Bool]?) -> [Expression] {
        var found: [Expression] = []
        walk(conditions: conditions) { e in
            if case .importValue(let name) = e { found.append(name) }
        }
        return found
    }

    /// Calls `visit` on this expression and every sub-expression, pre-order.
    func walk(conditions: [String: Bool]?, _ visit: (Expression) -> Void) {
        visit(self)
        switch self {
        case .null, .string, .number, .boolean, .ref, .condition, .refAll: return
        case .list(let items): for item in items { item.walk(conditions: conditions, visit) }
        case .object(let members): for member in members.values { member.walk(conditions: conditions, visit) }
        case .getAtt(_, let attribute): attribute.walk(conditions: conditions, visit)
        case .sub(_, let variables): for v in variables.values { v.walk(conditions: conditions, visit) }
        case .join(_, let e), .split(_, let e), .not(let e), .base64(let e), .length(let e), .toJSONString(let e),
            .transform(let e), .getAZs(let e), .importValue(let e):
            e.walk(conditions: conditions, visit)
        case .select(let a, let b), .equals(let a, let b), .contains(let a, let b), .eachMemberEquals(let a, let b),
            .eachMemberIn(let a, let b), .valueOf(let a, let b), .valueOfAll(let a, let b):
            a.walk(conditions: conditions, visit)
            b.walk(conditions: conditions, visit)
        case .findInMap(let m, let t, let s, let d):
            for e in [m, t, s] { e.walk(conditions: conditions, visit) }
            d?.walk(conditions: conditions, visit)
        case .if(let condition, let then, let otherwise):
            if let conditions {
                ((conditions[condition] ?? false) ? then : otherwise).walk(conditions: conditions, visit)
            } else {
                then.walk(conditions: conditions, visit)
                otherwise.walk(conditions: conditions, visit)
            }
        case .and(let operands), .or(let operands): for e in operands { e.walk(conditions: conditions, visit) }
        case .cidr(let a, let b, let c): for e in [a, b, c] { e.walk(conditions: conditions, visit) }
        }
    }
}
