import AWSCore
import Foundation
import TestSupport
import Testing

/// Random identifiers.
@Suite("IDs")
struct IDsTests {
    private static let hexDigits = Set("0123456789abcdef")

    @Test("uuid is a lower-case RFC 4122 version-4 UUID")
    func uuidFormat() throws {
        for _ in 0..<2_000 {
            let id = IDs.uuid()
            let chars = Array(id)
            #expect(chars.count == 36)
            for (i, c) in chars.enumerated() {
                if [8, 13, 18, 23].contains(i) {
                    #expect(c == "-")
                } else {
                    #expect(Self.hexDigits.contains(c), "\(id)")
                }
            }
            #expect(chars[14] == "4", "version nibble of \(id)")
            #expect("89ab".contains(chars[19]), "variant bits of \(id)")
            // Foundation parses it and agrees on every byte, version and variant included.
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: parsed.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4)
            #expect(bytes[8] >> 6 == 0b10)
        }
    }

    @Test("uuid is unique and every random nibble varies")
    func uuidUniqueness() {
        let ids = (0..<20_000).map { _ in IDs.uuid() }
        #expect(Set(ids).count == ids.count)
        // Every position but the dashes and the version nibble takes several values; the variant nibble exactly 4.
        for position in 0..<36 where ![8, 13, 14, 18, 23].contains(position) {
            let values = Set(ids.map { Array($0)[position] })
            if position == 19 {
                #expect(values == Set("89ab"))
            } else {
                #expect(values.count == 16, "position \(position) takes \(values.count) values")
            }
        }
    }

    @Test("alphanumeric and upperAlphanumeric draw from their alphabets")
    func alphabets() {
        let lower = IDs.alphanumeric(4_000)
        #expect(lower.count == 4_000)
        #expect(lower.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(Set(lower).count == 62)
        let upper = IDs.upperAlphanumeric(2_000)
        #expect(upper.count == 2_000)
        #expect(upper.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) })
        #expect(Set(upper).count == 36)
        #expect(IDs.alphanumeric(0) == "")
        #expect(IDs.alphanumeric(40) != IDs.alphanumeric(40))
    }
}

/// Decodes JSON text with Foundation, the independent reference for the writer's output.
private func decode(_ bytes: [UInt8]) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

/// The ordered JSON writer.
@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("every control character, quote, backslash and non-ASCII text survives a round trip")
    func escaping() throws {
        var all = ""
        for c in 0..<0x20 { all.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        let samples = [
            all, "\"quoted\"", "back\\slash", "a/b", "caf\u{e9}", "\u{1F600} emoji", "\u{2028}\u{2029}", "\u{7f}",
            "mixed \"\\\n\t\u{0}\u{1f}\u{e9}",
        ]
        for s in samples {
            var w = JSONWriter()
            w.string(s)
            #expect(try decode(w.bytes) as? String == s, "\(s.debugDescription)")
            // No raw control character is left in the output.
            #expect(!w.bytes.contains(where: { $0 < 0x20 }))
        }
    }

    @Test("control characters use the short escapes where JSON has them and \\u00XX otherwise")
    func escapeForms() {
        var w = JSONWriter()
        w.string("\u{8}\u{c}\n\r\t\u{0}\u{1f}\"\\")
        #expect(w.string == #""\b\f\n\r\t\u0000\u001f\"\\""#)
    }

    @Test("random strings, escape-heavy and not, are written exactly as a byte-by-byte reference escaper writes them")
    func escapingMatchesReference() throws {
        /// The JSON string form of `s`, one byte at a time.
        func reference(_ s: String) -> [UInt8] {
            var out: [UInt8] = [34]
            for c in s.utf8 {
                switch c {
                case 34: out += [92, 34]
                case 92: out += [92, 92]
                case 10: out += [92, 110]
                case 13: out += [92, 114]
                case 9: out += [92, 116]
                case 8: out += [92, 98]
                case 12: out += [92, 102]
                case ..<0x20: out += Array(String(format: "\\u%04x", c).utf8)
                default: out.append(c)
                }
            }
            return out + [34]
        }
        var random = SeededGenerator(seed: 0x15C4)
        let pieces = ["\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{b}", "a", "key", "\u{e9}", "\u{1F600}", "/", " ", "{\"k\":\"v\"}"]
        for _ in 0..<500 {
            let s = (0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            var w = JSONWriter()
            w.beginObject()
            w.key(s)
            w.string(s)
            w.endObject()
            let written = reference(s)
            #expect(w.bytes == [123] + written + [58] + written + [125], "\(s.debugDescription)")
            #expect(try decode(w.bytes) as? [String: String] == [s: s])
        }
    }

    @Test("objects and arrays nest with commas in the right places and keep key order")
    func structure() throws {
        var w = JSONWriter()
        w.beginObject()
        w.field("z", "last-first")
        w.key("list")
        w.beginArray()
        for i in 0..<3 {
            w.arrayElement()
            w.beginObject()
            w.key("i")
            w.integer(i)
            w.key("empty")
            w.beginArray()
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.field("flag", true)
        w.key("nothing")
        w.null()
        w.key("raw")
        w.raw(Array(#"{"pre":"rendered"}"#.utf8))
        w.field("a", false)
        w.endObject()
        let object = try #require(try decode(w.bytes) as? [String: Any])
        #expect(object["z"] as? String == "last-first")
        #expect((object["list"] as? [[String: Any]])?.map { $0["i"] as? Int } == [0, 1, 2])
        #expect(object["flag"] as? Bool == true)
        #expect(object["nothing"] is NSNull)
        #expect((object["raw"] as? [String: String]) == ["pre": "rendered"])
        #expect(object["a"] as? Bool == false)
        #expect(JSONKeys.topLevel(w.bytes) == ["z", "list", "flag", "nothing", "raw", "a"])
    }

    @Test("numbers: integers without a fraction, others round-trip, non-finite as null")
    func numbers() throws {
        for n in [0.0, 1.0, -7.0, 0.5, -2.25, 1.0 / 3.0, 123_456_789_012.0, 1e20, Double.leastNonzeroMagnitude, 8.9e15, 9.1e15] {
            var w = JSONWriter()
            w.number(n)
            #expect((try decode(w.bytes) as? NSNumber)?.doubleValue == n, "\(n) -> \(w.string)")
        }
        var w = JSONWriter()
        w.number(42)
        #expect(w.string == "42")
        for n in [Double.nan, .infinity, -.infinity] {
            var w = JSONWriter()
            w.number(n)
            #expect(w.string == "null")
        }
    }
}
