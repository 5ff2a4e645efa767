import AWSCore
import Testing

/// Pairs as comparable values (tuples are not Equatable in `#expect`).
private func pairs(_ text: String) -> [[String]]? {
    FormEncoding.parse(Substring(text))?.map { [$0.0, $0.1] }
}

/// `application/x-www-form-urlencoded` parsing and AWS URI encoding.
@Suite("FormEncoding")
struct FormEncodingTests {
    @Test("pairs keep their order, duplicates and empty values")
    func order() {
        #expect(pairs("b=2&a=1&b=3") == [["b", "2"], ["a", "1"], ["b", "3"]])
        #expect(pairs("a=&b") == [["a", ""], ["b", ""]])
        #expect(pairs("=v") == [["", "v"]])
        #expect(pairs("") == [])
    }

    @Test("empty segments between ampersands are skipped")
    func emptySegments() {
        #expect(pairs("&&a=1&&b=2&") == [["a", "1"], ["b", "2"]])
    }

    @Test("only the first '=' separates name and value")
    func firstEquals() {
        #expect(pairs("a=1=2&b==") == [["a", "1=2"], ["b", "="]])
    }

    @Test("'+' is a space and %2B a plus, in names and values")
    func plus() {
        #expect(pairs("a+b=c+d%2Be") == [["a b", "c d+e"]])
    }

    @Test("percent escapes decode in either case to UTF-8")
    func escapes() {
        #expect(
            pairs("n=caf%C3%A9&m=caf%c3%a9&s=%E2%98%83&e=%F0%9F%98%80") == [
                ["n", "caf\u{e9}"], ["m", "caf\u{e9}"], ["s", "\u{2603}"], ["e", "\u{1F600}"],
            ])
        #expect(pairs("k=%26%3D%25") == [["k", "&=%"]])
    }

    @Test(
        "malformed escapes or invalid UTF-8 make the whole form invalid",
        arguments: ["a=%", "a=%4", "a=%G1", "a=%zz", "%=1", "a=%FF", "a=%C3", "a=%C3%28", "ok=1&a=%ED%A0%80"])
    func malformed(text: String) {
        #expect(FormEncoding.parse(Substring(text)) == nil)
    }

    @Test("percentDecode keeps '+' unless plusIsSpace")
    func percentDecodePlus() {
        #expect(FormEncoding.percentDecode("a+b%20c", plusIsSpace: false) == "a+b c")
        #expect(FormEncoding.percentDecode("a+b%20c", plusIsSpace: true) == "a b c")
        #expect(FormEncoding.percentDecode("plain", plusIsSpace: true) == "plain")
        #expect(FormEncoding.percentDecode("", plusIsSpace: true) == "")
        #expect(FormEncoding.percentDecode("100%", plusIsSpace: false) == nil)
    }

    @Test("percentDecode works on a substring of a larger string")
    func substring() {
        let text = "xx=a%20b&y"
        let start = text.index(text.startIndex, offsetBy: 3)
        let end = text.index(start, offsetBy: 5)
        #expect(FormEncoding.percentDecode(text[start..<end], plusIsSpace: false) == "a b")
    }

    /// Expected values from Python's `urllib.parse.quote(s, safe='-_.~')` (and `safe='/-_.~'`), which is what
    /// botocore's SigV4 signer uses.
    @Test(
        "uriEncode matches Python's quote with AWS's unreserved set",
        arguments: [
            ("a b", "a%20b", "a%20b"),
            ("~-_.", "~-_.", "~-_."),
            ("/", "%2F", "/"),
            ("\u{e9}", "%C3%A9", "%C3%A9"),
            ("\u{1F600}", "%F0%9F%98%80", "%F0%9F%98%80"),
            ("*", "%2A", "%2A"),
            ("a+b=c&d", "a%2Bb%3Dc%26d", "a%2Bb%3Dc%26d"),
            ("AZaz09", "AZaz09", "AZaz09"),
            ("\u{0}\u{7f}", "%00%7F", "%00%7F"),
            ("%", "%25", "%25"),
            ("/a b/c", "%2Fa%20b%2Fc", "/a%20b/c"),
        ])
    func uriEncode(input: String, encoded: String, encodedKeepingSlash: String) {
        #expect(FormEncoding.uriEncode(input) == encoded)
        #expect(FormEncoding.uriEncode(input, keepSlash: true) == encodedKeepingSlash)
    }

    @Test("uriEncode then percentDecode is the identity on every scalar class")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        let samples: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<200 {
            var s = ""
            for _ in 0..<12 {
                let range = samples[Int(generator.next(upperBound: UInt(samples.count)))]
                let value = UInt32.random(in: range, using: &generator)
                s.unicodeScalars.append(Unicode.Scalar(value)!)
            }
            let encoded = FormEncoding.uriEncode(s)
            #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
            #expect(FormEncoding.percentDecode(Substring(encoded), plusIsSpace: true) == s)
            #expect(pairs("k=\(encoded)") == [["k", s]])
        }
    }
}
