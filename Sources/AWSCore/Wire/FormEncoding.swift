/// Parsing and encoding of `application/x-www-form-urlencoded` data and AWS's URI encoding rules.
package enum FormEncoding {
    /// Parses a form body or query string into ordered name/value pairs, decoding `+` and percent escapes.
    ///
    /// Returns `nil` when a percent escape is malformed or a decoded value is not UTF-8.
    package static func parse(_ text: Substring) -> [(String, String)]? {
        var result: [(String, String)] = []
        for (name, value) in rawPairs(text) {
            guard let n = percentDecode(name, plusIsSpace: true), let v = percentDecode(value, plusIsSpace: true) else {
                return nil
            }
            result.append((n, v))
        }
        return result
    }

    /// Splits `a=1&b=2` into still-encoded name/value pairs (a pair without `=` has an empty value).
    package static func rawPairs(_ text: Substring) -> [(Substring, Substring)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            guard let eq = pair.firstIndex(of: "=") else { return (pair, "") }
            return (pair[..<eq], pair[pair.index(after: eq)...])
        }
    }

    /// Decodes percent escapes (and `+` as a space when `plusIsSpace`); `nil` if malformed.
    package static func percentDecode(_ s: Substring, plusIsSpace: Bool) -> String? {
        let utf8 = s.utf8
        if !utf8.contains(where: { $0 == 37 || (plusIsSpace && $0 == 43) }) { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let c = utf8[i]
            if c == 37 {
                let h1 = utf8.index(after: i)
                guard h1 < utf8.endIndex else { return nil }
                let h2 = utf8.index(after: h1)
                guard h2 < utf8.endIndex, let a = hexValue(utf8[h1]), let b = hexValue(utf8[h2]) else { return nil }
                out.append(a << 4 | b)
                i = utf8.index(after: h2)
            } else {
                out.append(plusIsSpace && c == 43 ? 32 : c)
                i = utf8.index(after: i)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// AWS URI encoding (SigV4): every byte except `A-Z a-z 0-9 - _ . ~` is `%XX` with upper-case hex;
    /// `/` is kept when `keepSlash` is true.
    package static func uriEncode(_ s: some StringProtocol, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            switch c {
            case 65...90, 97...122, 48...57, 45, 95, 46, 126: out.append(c)
            case 47 where keepSlash: out.append(c)
            default:
                out.append(37)
                out.append(upperHex[Int(c >> 4)])
                out.append(upperHex[Int(c & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
