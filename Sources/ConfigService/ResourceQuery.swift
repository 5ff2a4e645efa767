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

/// The parser and evaluator behind ``ResourceQuery``, kept inside its namespace so that the file drops into any
/// module without name clashes.
extension ResourceQuery {
    // MARK: - Errors

    /// Builds the InvalidExpressionException errors, so that every message has the same shape.
    enum QueryError {
        /// The longest token text quoted in a message; longer text is cut with an ellipsis.
        static let maxQuotedLength = 64

        /// An `InvalidExpressionException` whose message is "Invalid expression: <detail>".
        static func invalid(_ detail: String) -> AWSError {
            AWSError("InvalidExpressionException", "Invalid expression: \(detail)")
        }

        /// Quotable text: cut to ``maxQuotedLength`` characters.
        static func quoted(_ text: String) -> String {
            text.count > maxQuotedLength ? String(text.prefix(maxQuotedLength)) + "…" : text
        }
    }

    // MARK: - Tokens

    /// Reserved words of the query language, matched case-insensitively. The last group is refused wherever it occurs.
    enum Keyword: String, Sendable {
        case select = "SELECT", `where` = "WHERE", group = "GROUP", by = "BY", order = "ORDER"
        case asc = "ASC", desc = "DESC"
        case and = "AND", or = "OR", not = "NOT", `in` = "IN", between = "BETWEEN", like = "LIKE"
        case `true` = "TRUE", `false` = "FALSE", null = "NULL"
        case from = "FROM", all = "ALL", `as` = "AS", distinct = "DISTINCT", having = "HAVING", join = "JOIN"
        case union = "UNION"
    }

    /// Punctuation and comparison operators.
    enum Symbol: Sendable {
        case leftParen, rightParen, comma, star, equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
    }

    /// The kind and payload of one token.
    enum TokenKind: Sendable {
        /// A property path or a function name: letters, digits, `_`, `$` and dots.
        case word(String)
        case keyword(Keyword)
        /// A single-quoted string with `''` already unescaped.
        case string(String)
        case number(Double)
        case symbol(Symbol)
        case end
    }

    /// A token and its place in the source, as offsets in Unicode scalars (`end` is exclusive).
    struct Token: Sendable {
        var kind: TokenKind
        var start: Int
        var end: Int

        /// Whether this token is the given symbol.
        func isSymbol(_ symbol: Symbol) -> Bool {
            if case .symbol(let s) = kind { return s == symbol }
            return false
        }

        /// Whether this token is the given keyword.
        func isKeyword(_ keyword: Keyword) -> Bool {
            if case .keyword(let k) = kind { return k == keyword }
            return false
        }
    }

    /// Splits an expression into tokens; rejects unknown characters, unterminated strings, malformed paths and
    /// numbers, NULL and unbalanced parentheses.
    enum Tokenizer {
        /// Tokenizes `source`; the result always ends with an `.end` token.
        static func tokenize(_ source: [Unicode.Scalar]) throws(AWSError) -> [Token] {
            var tokens: [Token] = []
            var index = 0
            while index < source.count {
                let c = source[index]
                let start = index
                if c == " " || c == "\t" || c == "\n" || c == "\r" {
                    index += 1
                    continue
                }
                let next: Unicode.Scalar? = index + 1 < source.count ? source[index + 1] : nil
                var kind: TokenKind
                switch c {
                case "(": kind = .symbol(.leftParen); index += 1
                case ")": kind = .symbol(.rightParen); index += 1
                case ",": kind = .symbol(.comma); index += 1
                case "*": kind = .symbol(.star); index += 1
                case "=": kind = .symbol(.equal); index += 1
                case "<":
                    if next == "=" {
                        kind = .symbol(.lessOrEqual); index += 2
                    } else if next == ">" {
                        kind = .symbol(.notEqual); index += 2
                    } else {
                        kind = .symbol(.less); index += 1
                    }
                case ">":
                    if next == "=" {
                        kind = .symbol(.greaterOrEqual); index += 2
                    } else {
                        kind = .symbol(.greater); index += 1
                    }
                case "!" where next == "=":
                    kind = .symbol(.notEqual); index += 2
                case "'":
                    kind = .string(try readString(source, &index))
                default:
                    if isDigit(c) || ((c == "-" || c == ".") && next.map(isDigit) == true) {
                        kind = .number(try readNumber(source, &index))
                    } else if isWordStart(c) {
                        kind = try readWord(source, &index)
                    } else {
                        throw QueryError.invalid("unexpected character '\(Character(c))' at position \(start)")
                    }
                }
                if case .keyword(.null) = kind {
                    throw QueryError.invalid("comparison with NULL is not supported at position \(start)")
                }
                tokens.append(Token(kind: kind, start: start, end: index))
            }
            tokens.append(Token(kind: .end, start: source.count, end: source.count))

            var depth = 0
            for token in tokens {
                if token.isSymbol(.leftParen) { depth += 1 }
                if token.isSymbol(.rightParen) { depth -= 1 }
                if depth < 0 { break }
            }
            if depth != 0 { throw QueryError.invalid("unbalanced parentheses") }
            return tokens
        }

        /// Whether `c` is an ASCII digit.
        static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

        /// Whether `c` may start a word.
        static func isWordStart(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c == "$"
        }

        /// Reads a single-quoted string starting at `index` (on the opening quote); `''` stands for one quote.
        static func readString(_ source: [Unicode.Scalar], _ index: inout Int) throws(AWSError) -> String {
            let start = index
            var scalars = String.UnicodeScalarView()
            index += 1
            while index < source.count {
                let c = source[index]
                index += 1
                if c == "'" {
                    guard index < source.count, source[index] == "'" else { return String(scalars) }
                    index += 1
                }
                scalars.append(c)
            }
            throw QueryError.invalid("unterminated string literal at position \(start)")
        }

        /// Reads a number: optional `-`, digits, optional fraction and exponent. It must be finite.
        static func readNumber(_ source: [Unicode.Scalar], _ index: inout Int) throws(AWSError) -> Double {
            let start = index
            if source[index] == "-" { index += 1 }
            while index < source.count, isDigit(source[index]) { index += 1 }
            if index < source.count, source[index] == "." {
                index += 1
                while index < source.count, isDigit(source[index]) { index += 1 }
            }
            if index < source.count, source[index] == "e" || source[index] == "E" {
                var probe = index + 1
                if probe < source.count, source[probe] == "+" || source[probe] == "-" { probe += 1 }
                if probe < source.count, isDigit(source[probe]) {
                    index = probe
                    while index < source.count, isDigit(source[index]) { index += 1 }
                }
            }
            let text = String(String.UnicodeScalarView(source[start..<index]))
            guard let value = Double(text), value.isFinite else {
                throw QueryError.invalid("invalid number '\(QueryError.quoted(text))' at position \(start)")
            }
            return value
        }

        /// Reads a word (keyword, function name or dotted property path) and checks that no path segment is empty.
        static func readWord(_ source: [Unicode.Scalar], _ index: inout Int) throws(AWSError) -> TokenKind {
            let start = index
            while index < source.count, isWordStart(source[index]) || isDigit(source[index]) || source[index] == "." {
                index += 1
            }
            let text = String(String.UnicodeScalarView(source[start..<index]))
            if text.contains(".") {
                if text.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                    throw QueryError.invalid("invalid property path '\(QueryError.quoted(text))' at position \(start)")
                }
                return .word(text)
            }
            if let keyword = Keyword(rawValue: text.uppercased()) { return .keyword(keyword) }
            return .word(text)
        }
    }

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
        case count = "COUNT", sum = "SUM", avg = "AVG", min = "MIN", max = "MAX"
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

    // MARK: - Parser

    /// A recursive-descent parser over the tokens. Precedence from loosest: OR, AND, NOT, predicate/parentheses.
    struct Parser {
        let tokens: [Token]
        let source: [Unicode.Scalar]
        private var position = 0
        private var depth = 0

        /// The deepest nesting of parentheses and NOT accepted (keeps recursion bounded on hostile input).
        static let maxDepth = 64
        /// The most GROUP BY properties AWS accepts.
        static let maxGroupByProperties = 3

        /// Creates a parser; `tokens` must end with an `.end` token, as ``Tokenizer/tokenize(_:)`` guarantees.
        init(tokens: [Token], source: [Unicode.Scalar]) {
            self.tokens = tokens.isEmpty ? [Token(kind: .end, start: source.count, end: source.count)] : tokens
            self.source = source
        }

        private var current: Token { tokens[position] }

        /// The token `offset` places ahead (the end token past the end).
        private func peek(_ offset: Int) -> Token {
            let index = max(0, position + offset)
            return index < tokens.count ? tokens[index] : tokens[tokens.count - 1]
        }

        /// Moves to the next token, never past the end token.
        private mutating func advance() {
            if position < tokens.count - 1 { position += 1 }
        }

        /// The source text from offset `start` to `end`.
        private func text(_ start: Int, _ end: Int) -> String {
            let lower = max(0, min(start, source.count))
            let upper = max(lower, min(end, source.count))
            return String(String.UnicodeScalarView(source[lower..<upper]))
        }

        /// The error for a token that cannot appear where it is.
        private func unexpected(_ token: Token) -> AWSError {
            if case .end = token.kind { return QueryError.invalid("unexpected end of expression") }
            return QueryError.invalid(
                "unexpected token '\(QueryError.quoted(text(token.start, token.end)))' at position \(token.start)"
            )
        }

        /// Consumes the keyword or throws.
        private mutating func expect(_ keyword: Keyword) throws(AWSError) {
            guard current.isKeyword(keyword) else { throw unexpected(current) }
            advance()
        }

        /// Consumes the symbol or throws; returns the consumed token.
        @discardableResult
        private mutating func expect(_ symbol: Symbol) throws(AWSError) -> Token {
            let token = current
            guard token.isSymbol(symbol) else { throw unexpected(token) }
            advance()
            return token
        }

        /// Parses the whole query and checks that nothing follows it.
        mutating func parseQuery() throws(AWSError) -> ParsedQuery {
            try expect(.select)
            let selection = try parseSelection()
            var condition: Condition?
            var groupBy: [PropertyPath] = []
            var orderBy: [OrderKey] = []
            if current.isKeyword(.where) {
                advance()
                condition = try parseOr()
            }
            if current.isKeyword(.group) {
                advance()
                try expect(.by)
                groupBy = try parseGroupBy()
            }
            if current.isKeyword(.order) {
                advance()
                try expect(.by)
                orderBy = try parseOrderBy()
            }
            guard case .end = current.kind else { throw unexpected(current) }
            return ParsedQuery(selection: selection, condition: condition, groupBy: groupBy, orderBy: orderBy)
        }

        /// Parses `*` or a comma-separated list of paths and aggregates.
        private mutating func parseSelection() throws(AWSError) -> Selection {
            switch current.kind {
            case .end, .keyword(.where), .keyword(.group), .keyword(.order):
                throw QueryError.invalid("empty select list")
            case .symbol(.star):
                advance()
                return .all
            default:
                break
            }
            var fields: [SelectField] = []
            repeat {
                if !fields.isEmpty { advance() }
                let start = current.start
                let expression = try parseValueExpression()
                fields.append(SelectField(text: text(start, peek(-1).end), expression: expression))
            } while current.isSymbol(.comma)
            return .fields(fields)
        }

        /// Whether the current token is an aggregate function name followed by `(`.
        private var atAggregateCall: Bool {
            guard case .word(let name) = current.kind, AggregateFunction(rawValue: name.uppercased()) != nil else {
                return false
            }
            return peek(1).isSymbol(.leftParen)
        }

        /// Parses a property path or an aggregate call.
        private mutating func parseValueExpression() throws(AWSError) -> ValueExpression {
            if atAggregateCall { return .aggregate(try parseAggregate()) }
            return .path(try parsePath())
        }

        /// Parses a property path.
        private mutating func parsePath() throws(AWSError) -> PropertyPath {
            guard case .word(let word) = current.kind else { throw unexpected(current) }
            advance()
            return PropertyPath(word)
        }

        /// Parses `FUNC(path)` or `COUNT(*)`; an aggregate inside the parentheses is refused.
        private mutating func parseAggregate() throws(AWSError) -> Aggregate {
            guard case .word(let name) = current.kind, let function = AggregateFunction(rawValue: name.uppercased())
            else { throw unexpected(current) }
            advance()
            try expect(.leftParen)
            var argument: PropertyPath?
            if function == .count, current.isSymbol(.star) {
                advance()
            } else if atAggregateCall {
                throw QueryError.invalid("nested aggregate functions are not supported at position \(current.start)")
            } else {
                argument = try parsePath()
            }
            try expect(.rightParen)
            return Aggregate(function: function, argument: argument)
        }

        /// Parses the GROUP BY properties (at most ``maxGroupByProperties``).
        private mutating func parseGroupBy() throws(AWSError) -> [PropertyPath] {
            var paths: [PropertyPath] = []
            repeat {
                if !paths.isEmpty { advance() }
                if atAggregateCall {
                    throw QueryError.invalid(
                        "aggregate functions are not allowed in GROUP BY at position \(current.start)"
                    )
                }
                paths.append(try parsePath())
            } while current.isSymbol(.comma)
            if paths.count > Self.maxGroupByProperties {
                throw QueryError.invalid("GROUP BY supports at most \(Self.maxGroupByProperties) properties")
            }
            return paths
        }

        /// Parses the ORDER BY keys with their optional ASC/DESC.
        private mutating func parseOrderBy() throws(AWSError) -> [OrderKey] {
            var keys: [OrderKey] = []
            repeat {
                if !keys.isEmpty { advance() }
                let expression = try parseValueExpression()
                var descending = false
                if current.isKeyword(.asc) {
                    advance()
                } else if current.isKeyword(.desc) {
                    descending = true
                    advance()
                }
                keys.append(OrderKey(expression: expression, descending: descending))
            } while current.isSymbol(.comma)
            return keys
        }

        /// Enters one nesting level, refusing more than ``maxDepth``.
        private mutating func enter() throws(AWSError) {
            depth += 1
            if depth > Self.maxDepth { throw QueryError.invalid("conditions nest deeper than \(Self.maxDepth) levels") }
        }

        /// `or := and (OR and)*`
        private mutating func parseOr() throws(AWSError) -> Condition {
            var terms = [try parseAnd()]
            while current.isKeyword(.or) {
                advance()
                terms.append(try parseAnd())
            }
            return terms.count == 1 ? terms[0] : .or(terms)
        }

        /// `and := not (AND not)*`
        private mutating func parseAnd() throws(AWSError) -> Condition {
            var terms = [try parseNot()]
            while current.isKeyword(.and) {
                advance()
                terms.append(try parseNot())
            }
            return terms.count == 1 ? terms[0] : .and(terms)
        }

        /// `not := NOT not | '(' or ')' | predicate`
        private mutating func parseNot() throws(AWSError) -> Condition {
            if current.isKeyword(.not) {
                advance()
                try enter()
                defer { depth -= 1 }
                return .not(try parseNot())
            }
            if current.isSymbol(.leftParen) {
                advance()
                try enter()
                defer { depth -= 1 }
                let condition = try parseOr()
                try expect(.rightParen)
                return condition
            }
            return .predicate(try parsePredicate())
        }

        /// Parses `path <op> literal`, `literal <op> path`, `path [NOT] IN (…)`, `path [NOT] BETWEEN a AND b` and
        /// `path [NOT] LIKE 'pattern'`.
        private mutating func parsePredicate() throws(AWSError) -> Predicate {
            if literalValue(current) != nil, let (op, negated) = comparison(peek(1)), case .word = peek(2).kind {
                let literal = try parseLiteral()
                advance()
                let path = try parsePath()
                return Predicate(path: path, test: .compare(op.mirrored, literal), negated: negated)
            }
            if atAggregateCall {
                throw QueryError.invalid("aggregate functions are not allowed in WHERE at position \(current.start)")
            }
            let path = try parsePath()
            if let (op, negated) = comparison(current) {
                advance()
                return Predicate(path: path, test: .compare(op, try parseLiteral()), negated: negated)
            }
            var negated = false
            if current.isKeyword(.not) {
                negated = true
                advance()
            }
            switch current.kind {
            case .keyword(.in):
                advance()
                try expect(.leftParen)
                var literals = [try parseLiteral()]
                while current.isSymbol(.comma) {
                    advance()
                    literals.append(try parseLiteral())
                }
                try expect(.rightParen)
                return Predicate(path: path, test: .oneOf(literals), negated: negated)
            case .keyword(.between):
                advance()
                let low = try parseLiteral()
                try expect(.and)
                let high = try parseLiteral()
                return Predicate(path: path, test: .between(low, high), negated: negated)
            case .keyword(.like):
                advance()
                guard case .string(let pattern) = current.kind else { throw unexpected(current) }
                let like = try LikePattern(pattern, position: current.start)
                advance()
                return Predicate(path: path, test: .like(like), negated: negated)
            default:
                throw unexpected(current)
            }
        }

        /// The comparison operator of a token, with whether it is the negated `!=`/`<>`.
        private func comparison(_ token: Token) -> (ComparisonOperator, Bool)? {
            guard case .symbol(let symbol) = token.kind else { return nil }
            switch symbol {
            case .equal: return (.equal, false)
            case .notEqual: return (.equal, true)
            case .less: return (.less, false)
            case .lessOrEqual: return (.lessOrEqual, false)
            case .greater: return (.greater, false)
            case .greaterOrEqual: return (.greaterOrEqual, false)
            default: return nil
            }
        }

        /// The literal a token stands for, if any.
        private func literalValue(_ token: Token) -> Literal? {
            switch token.kind {
            case .string(let s): .string(s)
            case .number(let n): .number(n)
            case .keyword(.true): .bool(true)
            case .keyword(.false): .bool(false)
            default: nil
            }
        }

        /// Parses a string, number or boolean literal.
        private mutating func parseLiteral() throws(AWSError) -> Literal {
            guard let literal = literalValue(current) else { throw unexpected(current) }
            advance()
            return literal
        }
    }

    // MARK: - Evaluation

    /// Compares a configuration value with a literal.
    enum ValueComparison {
        /// -1, 0 or 1 when the two are comparable, else `nil`. Numbers compare numerically (a string that is a plain
        /// decimal number compares as one against a number), strings exactly and lexically, booleans with booleans
        /// and with the strings `'true'`/`'false'`.
        static func compare(_ value: JSONValue, _ literal: Literal) -> Int? {
            switch (value, literal) {
            case (.number(let a), .number(let b)): return order(a, b)
            case (.number(let a), .string(let b)): return plainNumber(b).flatMap { order(a, $0) }
            case (.string(let a), .number(let b)): return plainNumber(a).flatMap { order($0, b) }
            case (.string(let a), .string(let b)): return a == b ? 0 : (a < b ? -1 : 1)
            case (.string(let a), .bool(let b)): return boolean(a).map { order($0, b) }
            case (.bool(let a), .bool(let b)): return order(a, b)
            case (.bool(let a), .string(let b)): return boolean(b).map { order(a, $0) }
            default: return nil
            }
        }

        /// Orders two numbers; `nil` for NaN.
        static func order(_ a: Double, _ b: Double) -> Int? {
            if a < b { return -1 }
            if a > b { return 1 }
            return a == b ? 0 : nil
        }

        /// Orders two booleans (false before true).
        static func order(_ a: Bool, _ b: Bool) -> Int { a == b ? 0 : (a ? 1 : -1) }

        /// The boolean a string spells, if it is exactly `true` or `false`.
        static func boolean(_ s: String) -> Bool? {
            switch s {
            case "true": true
            case "false": false
            default: nil
            }
        }

        /// The value of a plain decimal number (`-12`, `3.5`, `1e3`); `nil` for anything else (hex, `inf`, `nan`,
        /// spaces).
        static func plainNumber(_ s: String) -> Double? {
            var sawDigit = false
            for (offset, c) in s.unicodeScalars.enumerated() {
                switch c {
                case "0"..."9": sawDigit = true
                case "-", "+", ".", "e", "E": if offset == 0, c != "-", c != "." { return nil }
                default: return nil
                }
            }
            guard sawDigit, let value = Double(s), value.isFinite else { return nil }
            return value
        }
    }

    /// Reads property paths out of configuration items.
    enum PathResolver {
        /// The values at the end of the path, expanding every array crossed on the way (null values included).
        static func values(of path: PropertyPath, in item: JSONValue) -> [JSONValue] {
            var out: [JSONValue] = []
            collect(item, path.segments[...], synthesizeTag: path.synthesizesTag, into: &out)
            return out
        }

        /// The scalar values (strings, numbers, booleans) of the path, with arrays at its end flattened.
        static func leaves(of path: PropertyPath, in item: JSONValue) -> [JSONValue] {
            var out: [JSONValue] = []
            for value in values(of: path, in: item) { flatten(value, into: &out) }
            return out
        }

        /// Appends the scalars of `value`, descending into arrays.
        private static func flatten(_ value: JSONValue, into out: inout [JSONValue]) {
            switch value {
            case .string, .number, .bool: out.append(value)
            case .array(let elements): for element in elements { flatten(element, into: &out) }
            case .null, .object: break
            }
        }

        /// Walks `segments` from `value`, crossing arrays element by element.
        private static func collect(
            _ value: JSONValue, _ segments: ArraySlice<String>, synthesizeTag: Bool, into out: inout [JSONValue]
        ) {
            guard let segment = segments.first else {
                out.append(value)
                return
            }
            switch value {
            case .object(let members):
                if let member = members[segment] {
                    collect(member, segments.dropFirst(), synthesizeTag: synthesizeTag, into: &out)
                } else if synthesizeTag, segment == "tag", segments.count == 1, let tag = tagText(members) {
                    out.append(.string(tag))
                }
            case .array(let elements):
                for element in elements { collect(element, segments, synthesizeTag: synthesizeTag, into: &out) }
            default:
                break
            }
        }

        /// `key=value` for a tag object, or `nil` without a string key.
        static func tagText(_ members: [String: JSONValue]) -> String? {
            guard let key = members["key"]?.string else { return nil }
            return "\(key)=\(members["value"]?.string ?? "")"
        }

        /// The item cut down to the path, as a row fragment: `{"a":{"b":…}}`, with arrays kept element by element.
        static func project(_ path: PropertyPath, in item: JSONValue) -> Node? {
            project(item, path.segments[...], synthesizeTag: path.synthesizesTag)
        }

        /// Projects `segments` of `value`; `nil` when the path is absent.
        private static func project(_ value: JSONValue, _ segments: ArraySlice<String>, synthesizeTag: Bool) -> Node? {
            guard let segment = segments.first else { return Node(value) }
            switch value {
            case .object(let members):
                if let member = members[segment] {
                    return project(member, segments.dropFirst(), synthesizeTag: synthesizeTag).map {
                        .object([Node.Entry(key: segment, value: $0)])
                    }
                }
                if synthesizeTag, segment == "tag", segments.count == 1, let tag = tagText(members) {
                    return .object([Node.Entry(key: segment, value: .scalar(.string(tag)))])
                }
                return nil
            case .array(let elements):
                let projected = elements.map { project($0, segments, synthesizeTag: synthesizeTag) }
                return projected.contains { $0 != nil } ? .array(projected) : nil
            default:
                return nil
            }
        }
    }


    /// A sort key value; missing values come first, then booleans, numbers and strings.
    enum SortValue {
        case missing
        case bool(Bool)
        case number(Double)
        case string(String)

        /// The sort value of an optional scalar (containers and null count as missing).
        init(_ value: JSONValue?) {
            switch value {
            case .bool(let b)?: self = .bool(b)
            case .number(let n)?: self = .number(n)
            case .string(let s)?: self = .string(s)
            default: self = .missing
            }
        }

        /// The rank of the kind, for ordering values of different kinds.
        private var rank: Int {
            switch self {
            case .missing: 0
            case .bool: 1
            case .number: 2
            case .string: 3
            }
        }

        /// -1, 0 or 1 (0 also for NaN).
        static func compare(_ a: SortValue, _ b: SortValue) -> Int {
            switch (a, b) {
            case (.bool(let x), .bool(let y)): return ValueComparison.order(x, y)
            case (.number(let x), .number(let y)): return ValueComparison.order(x, y) ?? 0
            case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
            default: return a.rank == b.rank ? 0 : (a.rank < b.rank ? -1 : 1)
            }
        }
    }

    /// A JSON tree whose objects keep key order, for building result rows. Array elements are optional so that the
    /// projections of two paths through the same array stay aligned and merge element by element.
    indirect enum Node {
        /// One object member.
        struct Entry {
            var key: String
            var value: Node
        }

        case scalar(JSONValue)
        case object([Entry])
        case array([Node?])

        /// The tree of a JSON value; object keys are sorted, as ``JSONValue`` writes them.
        init(_ value: JSONValue) {
            switch value {
            case .object(let members):
                self = .object(members.sorted { $0.key < $1.key }.map { Entry(key: $0.key, value: Node($0.value)) })
            case .array(let elements):
                self = .array(elements.map { Node($0) })
            default:
                self = .scalar(value)
            }
        }

        /// `{"<key>": value}` for a top-level field.
        static func project(_ value: JSONValue, under key: String) -> Node {
            .object([Entry(key: key, value: Node(value))])
        }

        /// Merges `b` into `a`: objects member by member (new keys appended), arrays element by element; otherwise
        /// `a` wins.
        static func merge(_ a: Node, _ b: Node) -> Node {
            switch (a, b) {
            case (.object(var entries), .object(let others)):
                for other in others {
                    if let index = entries.firstIndex(where: { $0.key == other.key }) {
                        entries[index].value = merge(entries[index].value, other.value)
                    } else {
                        entries.append(other)
                    }
                }
                return .object(entries)
            case (.array(var elements), .array(let others)):
                for (index, other) in others.enumerated() {
                    if index >= elements.count {
                        elements.append(other)
                    } else if let mine = elements[index], let other {
                        elements[index] = merge(mine, other)
                    } else if elements[index] == nil {
                        elements[index] = other
                    }
                }
                return .array(elements)
            default:
                return a
            }
        }

        /// The tree as compact JSON (absent array elements skipped).
        var json: String {
            var writer = JSONWriter(capacity: 256)
            write(to: &writer)
            return writer.string
        }

        /// Writes the tree.
        func write(to writer: inout JSONWriter) {
            switch self {
            case .scalar(let value):
                value.write(to: &writer)
            case .object(let entries):
                writer.beginObject()
                for entry in entries {
                    writer.key(entry.key)
                    entry.value.write(to: &writer)
                }
                writer.endObject()
            case .array(let elements):
                writer.beginArray()
                for element in elements {
                    guard let element else { continue }
                    writer.arrayElement()
                    element.write(to: &writer)
                }
                writer.endArray()
            }
        }
    }
}
