package import AWSCore

// MARK: - Query

/// A parsed AWS Config advanced query (the SQL subset of SelectResourceConfig).
///
/// The grammar is `SELECT <expr>[, …] [WHERE <cond>] [GROUP BY <path>[, …]] [ORDER BY <expr> [ASC|DESC][, …]]`
/// with case-insensitive keywords and case-sensitive dotted property paths. Evaluation follows AWS's rules:
/// a path that crosses arrays yields every value along every element and a condition holds when any value
/// satisfies it; each condition is evaluated on its own. Rows are compact JSON objects that rebuild the
/// selected paths as nested objects in select order.
///
/// Choices where AWS documents nothing:
/// - `!=`, `NOT IN`, `NOT BETWEEN` and `NOT LIKE` negate per value (true if any value fails the positive test),
///   so a missing path fails them too; `NOT (<cond>)` negates the whole condition.
/// - `GROUP BY` groups by the whole projected value of each path (for a path crossing an array: the list).
/// - `COUNT(path)` counts the items in which the path holds a non-null value; `SUM`/`AVG` take the numbers
///   among the path's values; `MIN`/`MAX` take the numbers, or the strings when there are none. An aggregate
///   with no input value is left out of its row (`COUNT` gives 0).
/// - `ORDER BY` on a path sorts by the path's first value; missing values sort first in ASC, last in DESC.
/// - `*` must be the only select field; parentheses and `NOT` nest at most 64 levels.
package struct ResourceQuery: Sendable {
    /// Each selected expression, verbatim as written (trimmed), for QueryInfo.SelectFields[].Name.
    package let selectFields: [String]
    private let selection: Selection
    private let condition: Condition?
    private let groupBy: [PropertyPath]
    private let orderBy: [OrderKey]
    /// Whether rows stand for groups of items (aggregates or GROUP BY present) rather than single items.
    private let isAggregated: Bool

    /// The top-level scalar fields that `SELECT *` returns, in output order.
    static let starFields = [
        "accountId", "awsRegion", "arn", "availabilityZone", "configurationItemCaptureTime",
        "resourceCreationTime", "resourceId", "resourceName", "resourceType", "version",
    ]

    /// The `configurationItemStatus` values of items that queries never return.
    static let excludedStatuses: Set<String> = ["ResourceNotRecorded", "ResourceDeleted", "ResourceDeletedNotRecorded"]

    /// Parses the expression; throws AWSError("InvalidExpressionException", <message>) on anything outside the subset.
    package init(_ expression: String) throws(AWSError) {
        let source = Array(expression.unicodeScalars)
        let tokens = try Tokenizer.tokenize(source)
        var parser = Parser(tokens: tokens, source: source)
        let parsed = try parser.parseQuery()

        let aggregated =
            parsed.selection.containsAggregate || parsed.orderBy.contains { $0.expression.isAggregate }
            || !parsed.groupBy.isEmpty
        if aggregated {
            switch parsed.selection {
            case .all:
                throw QueryError.invalid("'*' cannot be combined with GROUP BY or aggregate functions")
            case .fields(let fields):
                for field in fields {
                    if case .path(let path) = field.expression, !parsed.groupBy.contains(path) {
                        throw QueryError.invalid("'\(field.text)' must be in GROUP BY or inside an aggregate function")
                    }
                }
            }
            for key in parsed.orderBy {
                if case .path(let path) = key.expression, !parsed.groupBy.contains(path) {
                    throw QueryError.invalid("ORDER BY '\(path.text)' must be in GROUP BY or an aggregate function")
                }
            }
        }

        switch parsed.selection {
        case .all: selectFields = ["*"]
        case .fields(let fields): selectFields = fields.map(\.text)
        }
        selection = parsed.selection
        condition = parsed.condition
        groupBy = parsed.groupBy
        orderBy = parsed.orderBy
        isAggregated = aggregated
    }

    /// Evaluates the query over the items and returns one JSON text per result row (the wire format of `Results`).
    package func evaluate(_ items: [JSONValue]) -> [String] {
        let matching = items.filter { item in
            guard case .object(let members) = item else { return false }
            if let status = members["configurationItemStatus"]?.string, Self.excludedStatuses.contains(status) {
                return false
            }
            return condition?.matches(item) ?? true
        }

        let rows = isAggregated ? aggregatedRows(matching) : matching.map(itemRow)
        let order =
            orderBy.isEmpty
            ? Array(rows.indices)
            : rows.indices.sorted { lhs, rhs in
                for (position, key) in orderBy.enumerated() {
                    let comparison = SortValue.compare(rows[lhs].sortKeys[position], rows[rhs].sortKeys[position])
                    if comparison != 0 { return key.descending ? comparison > 0 : comparison < 0 }
                }
                return lhs < rhs
            }
        return order.map { rows[$0].node.json }
    }

    /// One result row before serialization: its JSON tree and its values for each ORDER BY key.
    private struct Row {
        var node: Node
        var sortKeys: [SortValue]
    }

    /// The row of one item in a query without aggregates.
    private func itemRow(_ item: JSONValue) -> Row {
        var row = Node.object([])
        switch selection {
        case .all:
            for field in Self.starFields {
                if let value = item[field] { row = Node.merge(row, Node.project(value, under: field)) }
            }
        case .fields(let fields):
            for field in fields {
                if case .path(let path) = field.expression, let projected = PathResolver.project(path, in: item) {
                    row = Node.merge(row, projected)
                }
            }
        }
        let keys = orderBy.map { key -> SortValue in
            switch key.expression {
            case .path(let path): SortValue(PathResolver.leaves(of: path, in: item).first)
            case .aggregate(let aggregate): SortValue(aggregate.evaluate(over: [item]))
            }
        }
        return Row(node: row, sortKeys: keys)
    }

    /// The rows of an aggregated query: one per group, or a single one over all items without GROUP BY.
    private func aggregatedRows(_ items: [JSONValue]) -> [Row] {
        var groups: [[JSONValue]] = []
        if groupBy.isEmpty {
            groups = [items]
        } else {
            var indexByKey: [[String?]: Int] = [:]
            for item in items {
                let key = groupBy.map { PathResolver.project($0, in: item)?.json }
                if let index = indexByKey[key] {
                    groups[index].append(item)
                } else {
                    indexByKey[key] = groups.count
                    groups.append([item])
                }
            }
        }
        return groups.map { group in
            var row = Node.object([])
            if case .fields(let fields) = selection {
                for field in fields {
                    switch field.expression {
                    case .path(let path):
                        if let first = group.first, let projected = PathResolver.project(path, in: first) {
                            row = Node.merge(row, projected)
                        }
                    case .aggregate(let aggregate):
                        if let value = aggregate.evaluate(over: group) {
                            row = Node.merge(row, .object([Node.Entry(key: field.text, value: .scalar(value))]))
                        }
                    }
                }
            }
            let keys = orderBy.map { key -> SortValue in
                switch key.expression {
                case .path(let path): SortValue(group.first.flatMap { PathResolver.leaves(of: path, in: $0).first })
                case .aggregate(let aggregate): SortValue(aggregate.evaluate(over: group))
                }
            }
            return Row(node: row, sortKeys: keys)
        }
    }
}
