import AWSCore

/// The syntax tree of ``ResourceQuery``: property paths, aggregates, literals, tests and conditions.
extension ResourceQuery {
    // MARK: - Syntax tree

    /// A dotted property path such as `configuration.placement.tenancy`.
    struct PropertyPath: Sendable, Equatable {
        /// The path's keys.
        var segments: [String]
        /// The path as written.
        var text: String

        /// Creates the path from its written form (already checked by the tokenizer).
        init(_ text: String) {
            self.text = text
            segments = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }

        /// Whether the path is `tags.tag`, whose values are synthesized as `key=value` from each tag.
        var synthesizesTag: Bool { segments == ["tags", "tag"] }

        /// Paths are equal when their keys are.
        static func == (lhs: PropertyPath, rhs: PropertyPath) -> Bool { lhs.segments == rhs.segments }
    }

    /// The aggregate functions.
    enum AggregateFunction: String, Sendable {
        case count = "COUNT"
        case sum = "SUM"
        case avg = "AVG"
        case min = "MIN"
        case max = "MAX"
    }

    /// An aggregate call; `argument` is `nil` for `COUNT(*)`.
    struct Aggregate: Sendable {
        var function: AggregateFunction
        var argument: PropertyPath?

        /// The aggregate over a group of items; `nil` when there is no value to aggregate (never for COUNT).
        func evaluate(over items: [JSONValue]) -> JSONValue? {
            guard let argument else { return .number(Double(items.count)) }
            if function == .count {
                let count = items.count { item in PathResolver.values(of: argument, in: item).contains { !$0.isNull } }
                return .number(Double(count))
            }
            let values = items.flatMap { PathResolver.leaves(of: argument, in: $0) }
            let numbers = values.compactMap(\.number)
            switch function {
            case .count:
                return nil
            case .sum:
                return numbers.isEmpty ? nil : .number(numbers.reduce(0, +))
            case .avg:
                return numbers.isEmpty ? nil : .number(numbers.reduce(0, +) / Double(numbers.count))
            case .min:
                if let smallest = numbers.min() { return .number(smallest) }
                return values.compactMap(\.string).min().map(JSONValue.string)
            case .max:
                if let largest = numbers.max() { return .number(largest) }
                return values.compactMap(\.string).max().map(JSONValue.string)
            }
        }
    }

    /// A selectable or sortable expression.
    enum ValueExpression: Sendable {
        case path(PropertyPath)
        case aggregate(Aggregate)

        /// Whether this is an aggregate call.
        var isAggregate: Bool {
            if case .aggregate = self { return true }
            return false
        }
    }

    /// One entry of the select list with its verbatim text.
    struct SelectField: Sendable {
        var text: String
        var expression: ValueExpression
    }

    /// The select list.
    enum Selection: Sendable {
        /// `SELECT *`.
        case all
        case fields([SelectField])

        /// Whether any selected field is an aggregate.
        var containsAggregate: Bool {
            if case .fields(let fields) = self { return fields.contains { $0.expression.isAggregate } }
            return false
        }
    }

    /// One ORDER BY key.
    struct OrderKey: Sendable {
        var expression: ValueExpression
        var descending: Bool
    }

    /// A literal value on the right of a comparison.
    enum Literal: Sendable {
        case string(String)
        case number(Double)
        case bool(Bool)
    }

    /// The ordering operators; `!=` is `equal` negated.
    enum ComparisonOperator: Sendable {
        case equal, less, lessOrEqual, greater, greaterOrEqual

        /// The operator with its operands swapped (`'a' < x` is `x > 'a'`).
        var mirrored: ComparisonOperator {
            switch self {
            case .equal: .equal
            case .less: .greater
            case .lessOrEqual: .greaterOrEqual
            case .greater: .less
            case .greaterOrEqual: .lessOrEqual
            }
        }
    }

    /// A LIKE pattern: literal characters followed only by wildcards (`%` any run, `_` one character).
    struct LikePattern: Sendable {
        /// The literal characters the value must start with.
        var prefix: [Character]
        /// How many characters must follow the prefix (one per `_`).
        var requiredTail: Int
        /// Whether a `%` lets the tail be longer.
        var openEnded: Bool

        /// The minimum number of literal characters before a wildcard.
        static let minimumPrefix = 3

        /// Checks the pattern against AWS's restrictions: wildcards only as a suffix after at least 3 characters.
        init(_ pattern: String, position: Int) throws(AWSError) {
            let characters = Array(pattern)
            let firstWildcard = characters.firstIndex { $0 == "%" || $0 == "_" } ?? characters.count
            let tail = characters[firstWildcard...]
            let wildcardsOnlyAtEnd = tail.allSatisfy { $0 == "%" || $0 == "_" }
            guard wildcardsOnlyAtEnd, tail.isEmpty || firstWildcard >= Self.minimumPrefix else {
                throw QueryError.invalid(
                    "LIKE pattern '\(QueryError.quoted(pattern))' at position \(position) must have at least "
                        + "\(Self.minimumPrefix) characters before its wildcards, which may only end the pattern"
                )
            }
            prefix = Array(characters[..<firstWildcard])
            requiredTail = tail.count { $0 == "_" }
            openEnded = tail.contains("%")
        }

        /// Whether `value` matches the pattern.
        func matches(_ value: String) -> Bool {
            let characters = Array(value)
            guard characters.count >= prefix.count, characters[..<prefix.count].elementsEqual(prefix) else {
                return false
            }
            let rest = characters.count - prefix.count
            return openEnded ? rest >= requiredTail : rest == requiredTail
        }
    }

    /// The test a predicate applies to each value of its path.
    enum ValueTest: Sendable {
        case compare(ComparisonOperator, Literal)
        case oneOf([Literal])
        case between(Literal, Literal)
        case like(LikePattern)

        /// Whether `value` passes the (non-negated) test.
        func holds(for value: JSONValue) -> Bool {
            switch self {
            case .compare(let op, let literal):
                guard let order = ValueComparison.compare(value, literal) else { return false }
                switch op {
                case .equal: return order == 0
                case .less: return order < 0
                case .lessOrEqual: return order <= 0
                case .greater: return order > 0
                case .greaterOrEqual: return order >= 0
                }
            case .oneOf(let literals):
                return literals.contains { ValueComparison.compare(value, $0) == 0 }
            case .between(let low, let high):
                guard let lower = ValueComparison.compare(value, low), let upper = ValueComparison.compare(value, high)
                else { return false }
                return lower >= 0 && upper <= 0
            case .like(let pattern):
                return value.string.map(pattern.matches) ?? false
            }
        }
    }

    /// A test of one property path; `negated` negates the test for each value (`!=`, `NOT IN`, …).
    struct Predicate: Sendable {
        var path: PropertyPath
        var test: ValueTest
        var negated: Bool

        /// True when any value of the path passes; a path without values fails.
        func matches(_ item: JSONValue) -> Bool {
            PathResolver.leaves(of: path, in: item).contains { test.holds(for: $0) != negated }
        }
    }

    /// A WHERE condition.
    indirect enum Condition: Sendable {
        case and([Condition])
        case or([Condition])
        case not(Condition)
        case predicate(Predicate)

        /// Whether the item satisfies the condition.
        func matches(_ item: JSONValue) -> Bool {
            switch self {
            case .and(let conditions): conditions.allSatisfy { $0.matches(item) }
            case .or(let conditions): conditions.contains { $0.matches(item) }
            case .not(let condition): !condition.matches(item)
            case .predicate(let predicate): predicate.matches(item)
            }
        }
    }

    /// The parts of a parsed query before the cross-clause checks.
    struct ParsedQuery: Sendable {
        var selection: Selection
        var condition: Condition?
        var groupBy: [PropertyPath]
        var orderBy: [OrderKey]
    }
}
