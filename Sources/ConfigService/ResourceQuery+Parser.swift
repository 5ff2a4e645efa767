import AWSCore

/// The parser of ``ResourceQuery``: tokens to a ``ResourceQuery/ParsedQuery``.
extension ResourceQuery {
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
}
