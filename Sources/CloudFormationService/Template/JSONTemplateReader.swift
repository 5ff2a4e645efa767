import OrderedCollections

/// A JSON reader that keeps what CloudFormation needs and Foundation's decoder drops: key order, the original text
/// of numbers, and the 1-based line and column of the first syntax error (`JSON not well-formed. (line L, column C)`).
///
/// Duplicate keys in one object are a syntax error at the second occurrence (⚠ AWS's handling is not documented).
struct JSONTemplateReader {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1

    /// Prepares to read `text`.
    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// Reads one JSON value followed only by whitespace.
    mutating func readDocument() throws(TemplateError) -> TemplateValue {
        skipWhitespace()
        let value = try readValue(depth: 0)
        skipWhitespace()
        if index < scalars.count { throw failure() }
        return value
    }

    // MARK: Values

    /// Reads any value at the current position.
    private mutating func readValue(depth: Int) throws(TemplateError) -> TemplateValue {
        guard depth < 512, let c = peek() else { throw failure() }
        switch c {
        case "{": return try readObject(depth: depth)
        case "[": return try readArray(depth: depth)
        case "\"": return .string(try readString())
        case "t": try expectWord("true"); return .boolean(true, text: "true")
        case "f": try expectWord("false"); return .boolean(false, text: "false")
        case "n": try expectWord("null"); return .null
        case "-", "0"..."9": return .number(try readNumber())
        default: throw failure()
        }
    }

    /// Reads `{…}`; a repeated key is an error at the repeat.
    private mutating func readObject(depth: Int) throws(TemplateError) -> TemplateValue {
        advance()  // {
        var members = OrderedDictionary<String, TemplateValue>()
        skipWhitespace()
        if peek() == "}" {
            advance()
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek() == "\"" else { throw failure() }
            let keyLine = line
            let keyColumn = column
            let key = try readString()
            if members[key] != nil { throw .jsonNotWellFormed(line: keyLine, column: keyColumn) }
            skipWhitespace()
            guard peek() == ":" else { throw failure() }
            advance()
            skipWhitespace()
            members[key] = try readValue(depth: depth + 1)
            skipWhitespace()
            switch peek() {
            case ",": advance()
            case "}":
                advance()
                return .object(members)
            default: throw failure()
            }
        }
    }

    /// Reads `[…]`.
    private mutating func readArray(depth: Int) throws(TemplateError) -> TemplateValue {
        advance()  // [
        var elements: [TemplateValue] = []
        skipWhitespace()
        if peek() == "]" {
            advance()
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth + 1))
            skipWhitespace()
            switch peek() {
            case ",": advance()
            case "]":
                advance()
                return .array(elements)
            default: throw failure()
            }
        }
    }

    /// Reads a quoted string with its escapes (surrogate pairs joined).
    private mutating func readString() throws(TemplateError) -> String {
        advance()  // opening quote
        var result = String.UnicodeScalarView()
        while true {
            guard let c = peek() else { throw failure() }
            switch c {
            case "\"":
                advance()
                return String(result)
            case "\\":
                advance()
                guard let escape = peek() else { throw failure() }
                switch escape {
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                case "/": result.append("/")
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "t": result.append("\t")
                case "u":
                    advance()
                    var code = try readHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard peek() == "\\" else { throw failure() }
                        advance()
                        guard peek() == "u" else { throw failure() }
                        advance()
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure() }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure() }
                    result.append(scalar)
                    continue
                default: throw failure()
                }
                advance()
            default:
                if c.value < 0x20 { throw failure() }
                result.append(c)
                advance()
            }
        }
    }

    private mutating func readHex4() throws(TemplateError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = peek(), let digit = hexValue(c) else { throw failure() }
            value = value * 16 + digit
            advance()
        }
        return value
    }

    private func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 87
        case "A"..."F": return c.value - 55
        default: return nil
        }
    }

    /// Reads a number and returns its text as written.
    private mutating func readNumber() throws(TemplateError) -> String {
        let start = index
        if peek() == "-" { advance() }
        guard let first = peek(), ("0"..."9").contains(first) else { throw failure() }
        if first == "0" {
            advance()
        } else {
            skipDigits()
        }
        if peek() == "." {
            advance()
            guard let d = peek(), ("0"..."9").contains(d) else { throw failure() }
            skipDigits()
        }
        if peek() == "e" || peek() == "E" {
            advance()
            if peek() == "+" || peek() == "-" { advance() }
            guard let d = peek(), ("0"..."9").contains(d) else { throw failure() }
            skipDigits()
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<index])
        return String(text)
    }

    private mutating func skipDigits() {
        while let d = peek(), ("0"..."9").contains(d) { advance() }
    }

    private mutating func expectWord(_ word: String) throws(TemplateError) {
        for expected in word.unicodeScalars {
            guard peek() == expected else { throw failure() }
            advance()
        }
    }

    // MARK: Position

    private func peek() -> Unicode.Scalar? {
        index < scalars.count ? scalars[index] : nil
    }

    /// Moves past one character, counting lines and columns.
    private mutating func advance() {
        if scalars[index] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        index += 1
    }

    private mutating func skipWhitespace() {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{FEFF}" { advance() }
    }

    /// The error for the current position.
    private func failure() -> TemplateError {
        .jsonNotWellFormed(line: line, column: column)
    }
}
