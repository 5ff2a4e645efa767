import AWSCore
import TestSupport
import Testing

/// Random inputs for the parsers: bytes, text with odd characters, numbers no Java `long` or `Date` holds.
extension SeededGenerator {
    /// Random bytes, `count` of them.
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// Text of printable ASCII, controls, non-ASCII letters, U+FFFF and astral characters.
    mutating func text(_ count: Int) -> String {
        var s = ""
        for _ in 0..<count {
            let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x00...0x1F, 0xA0...0x2FF, 0xFFF0...0xFFFF, 0x1F600...0x1F64F]
            let range = ranges.randomElement(using: &self)!
            s.unicodeScalars.append(Unicode.Scalar(UInt32.random(in: range, using: &self)) ?? "?")
        }
        return s
    }

    /// A JSON number token, mostly outside what AWS's front ends accept.
    mutating func numberToken() -> String {
        [
            "1e19", "-1e19", "9.3e18", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e308",
            "-1e308", "4.9e-324", "2147483648", "-2147483649", "0", "-0", "1.5", "123456789012345678901234567890",
            "9223372036854775.807", "1E400",
        ].randomElement(using: &self)!
    }
}

/// Property tests of the pure parsers with a fixed seed: whatever the input, each returns a value or throws its own
/// error type (never traps), and well-formed input round-trips.
@Suite("Parser properties (seeded)")
struct ParserPropertyTests {
    static let seed: UInt64 = 0x5EED_0C12

    /// A valid `PutThingRequest` of the demo model, as JSON members.
    private static let validMembers = [
        #""Name":"n""#, #""Count":3"#, #""Size":5"#, #""Enabled":true"#, #""Ratio":0.5"#, #""When":1700000000"#,
        #""Data":"AAEC""#, #""Names":["a","b"]"#, #""Attributes":{"k":"v"}"#, #""Config":{"Mode":"m"}"#,
    ]

    @Test("ShapeCodec.decodeJSON: a checked value or SerializationException, never a trap; numbers stay in range")
    func decodeJSON() {
        var rng = SeededGenerator(seed: Self.seed)
        for _ in 0..<600 {
            var members = Self.validMembers.shuffled(using: &rng).prefix(Int.random(in: 1...10, using: &rng)).map { $0 }
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                let name = ["Count", "Size", "When", "Ratio", "Enabled", "Name"].randomElement(using: &rng)!
                members.append("\"\(name)\":\(rng.numberToken())")
            case 1:
                let depth = [10, 100, 600].randomElement(using: &rng)!
                members.append("\"Names\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            case 2:
                let escaped = rng.text(Int.random(in: 0...40, using: &rng)).unicodeScalars.map { s -> String in
                    s.value < 0x20 || s == "\"" || s == "\\" ? "\\u" + String(s.value, radix: 16).leftPadded(4) : String(s)
                }
                members.append("\"Name\":\"\(escaped.joined())\"")
            case 3:
                members.append("\"\(rng.text(5).filter { $0.isLetter })\":{\"x\":[1,{\"y\":null}]}")
            default:
                break
            }
            var body = Array(("{" + members.joined(separator: ",") + "}").utf8)
            if Int.random(in: 0..<4, using: &rng) == 0, !body.isEmpty {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            do {
                let value = try DemoModel.codec.decodeJSON(body, shape: "PutThingRequest")
                for name in ["Count", "Size", "When"] {
                    if let n = value[name]?.number { #expect(n.isFinite && abs(n) < 9_223_372_036_854_775_808, "\(name)=\(n)") }
                }
            } catch {
                #expect(error.code == "SerializationException", "\(error.code): \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
        }
    }

    @Test("ShapeCodec.decodeQuery: random parameters give a value or the codec's error, never a trap")
    func decodeQuery() {
        var rng = SeededGenerator(seed: Self.seed &+ 1)
        let names = [
            "Name", "Count", "Size", "Enabled", "Ratio", "When", "Names.member.1", "Names.member.2", "Bucket",
            "Attributes.entry.1.key", "Attributes.entry.1.value", "Config.Mode", "Items.member.1.Id",
        ]
        for _ in 0..<600 {
            var params: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let value = Bool.random(using: &rng) ? rng.numberToken() : rng.text(Int.random(in: 0...12, using: &rng))
                params[names.randomElement(using: &rng)!] = value
            }
            do {
                let value = try DemoModel.codec.decodeQuery(params, shape: "PutThingRequest")
                if let n = value["Count"]?.number { #expect(abs(n) <= 2_147_483_648, "Count=\(n)") }
            } catch {
                #expect(!error.code.isEmpty)
            }
        }
    }

    @Test("FormEncoding: uriEncode then parse gives back every pair; random bytes never trap")
    func formEncoding() {
        var rng = SeededGenerator(seed: Self.seed &+ 2)
        for _ in 0..<500 {
            let pairs = (0..<Int.random(in: 1...5, using: &rng)).map { _ in
                (rng.text(Int.random(in: 1...10, using: &rng)), rng.text(Int.random(in: 0...20, using: &rng)))
            }
            let text = pairs.map { FormEncoding.uriEncode($0.0) + "=" + FormEncoding.uriEncode($0.1) }.joined(separator: "&")
            let parsed = FormEncoding.parse(Substring(text))
            #expect(parsed?.map(\.0) == pairs.map(\.0) && parsed?.map(\.1) == pairs.map(\.1), "\(text)")
            let junk = String(decoding: rng.bytes(Int.random(in: 0...60, using: &rng)), as: UTF8.self) + "%" + "%z"
            _ = FormEncoding.parse(Substring(junk))
        }
    }

    @Test("SigV4Verifier.parseAuthorization: mutated headers parse or fail with a SigV4Failure, never trap")
    func parseAuthorization() throws {
        var rng = SeededGenerator(seed: Self.seed &+ 3)
        let date = "20250314T150926Z"
        let good =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250314/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
            + String(repeating: "ab", count: 32)
        func request(_ header: String, date: String? = date) -> SigV4Request {
            var headers: [(name: String, value: String)] = [("authorization", header), ("host", "localhost")]
            if let date { headers.append(("x-amz-date", date)) }
            return SigV4Request(method: "POST", rawPath: "/", rawQuery: "", headers: headers)
        }
        let parsed = try SigV4Verifier.parseAuthorization(request(good))
        #expect(parsed.accessKeyId == "AKIDEXAMPLE" && parsed.service == "sts" && parsed.region == "us-east-1")
        let pieces = ["AWS4-HMAC-SHA256", "Credential=", "/", ",", " ", "SignedHeaders=", ";", "Signature=", "=", "aws4_request", "\u{0}", "é"]
        for _ in 0..<1000 {
            var header = Array(good)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...header.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: header.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
                case 1: if at < header.count { header.remove(at: at) }
                default: header.replaceSubrange(at..<min(header.count, at + Int.random(in: 1...20, using: &rng)), with: rng.text(3))
                }
            }
            let dateValue: String? = [date, nil, "garbage", "99991231T235959Z", ""].randomElement(using: &rng)!
            do {
                _ = try SigV4Verifier.parseAuthorization(request(String(header), date: dateValue))
            } catch {
                _ = error  // a SigV4Failure: the property is that no input traps
            }
        }
    }

    @Test("AWSChunkedDecoder: any data in any chunking round-trips; corrupted framing throws, never traps")
    func awsChunked() {
        var rng = SeededGenerator(seed: Self.seed &+ 4)
        for _ in 0..<200 {
            let data = rng.bytes(Int.random(in: 0...3000, using: &rng))
            var sizes: [Int] = []
            var left = data.count
            while left > 0 {
                let size = min(left, Int.random(in: 1...700, using: &rng))
                sizes.append(size)
                left -= size
            }
            let body = Wire.unsigned(data: data, chunkSizes: sizes, trailers: [])
            let piece = [0, 1, 7, 512].randomElement(using: &rng)!
            var decoder = AWSChunkedDecoder(framing: .unsignedWithTrailer, minimumChunkSize: 0)
            #expect((try? Wire.decode(&decoder, body, piece: piece).data) == data)
            var broken = body
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !broken.isEmpty {
                let at = Int.random(in: 0..<broken.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: broken[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: broken.remove(at: at)
                default: broken.insert(contentsOf: Array(["ffffffffffffffff", "-1", ";", "\r\n", "zz"].randomElement(using: &rng)!.utf8), at: at)
                }
            }
            var other = AWSChunkedDecoder(framing: .unsignedWithTrailer, minimumChunkSize: 0)
            _ = try? Wire.decode(&other, broken, piece: piece)
        }
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
