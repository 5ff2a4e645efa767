import AWSCore

/// The tokenizer of ``ResourceQuery``: errors in AWS's words and the tokens of the SQL subset.
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
        case select = "SELECT"
        case `where` = "WHERE"
        case group = "GROUP"
        case by = "BY"
        case order = "ORDER"
        case asc = "ASC"
        case desc = "DESC"
        case and = "AND"
        case or = "OR"
        case not = "NOT"
        case `in` = "IN"
        case between = "BETWEEN"
        case like = "LIKE"
        case `true` = "TRUE"
        case `false` = "FALSE"
        case null = "NULL"
        case from = "FROM"
        case all = "ALL"
        case `as` = "AS"
        case distinct = "DISTINCT"
        case having = "HAVING"
        case join = "JOIN"
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
                case "(":
                    kind = .symbol(.leftParen)
                    index += 1
                case ")":
                    kind = .symbol(.rightParen)
                    index += 1
                case ",":
                    kind = .symbol(.comma)
                    index += 1
                case "*":
                    kind = .symbol(.star)
                    index += 1
                case "=":
                    kind = .symbol(.equal)
                    index += 1
                case "<":
                    if next == "=" {
                        kind = .symbol(.lessOrEqual)
                        index += 2
                    } else if next == ">" {
                        kind = .symbol(.notEqual)
                        index += 2
                    } else {
                        kind = .symbol(.less)
                        index += 1
                    }
                case ">":
                    if next == "=" {
                        kind = .symbol(.greaterOrEqual)
                        index += 2
                    } else {
                        kind = .symbol(.greater)
                        index += 1
                    }
                case "!" where next == "=":
                    kind = .symbol(.notEqual)
                    index += 2
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
}
