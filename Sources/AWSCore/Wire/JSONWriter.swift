/// A small, allocation-light JSON writer that keeps keys in the order they are written.
///
/// CloudTrail records and AWS JSON responses have a field order that clients and people expect; Foundation's
/// `JSONEncoder` neither keeps order nor is cheap (about 18 µs per event here), so Cairn writes JSON with this.
package struct JSONWriter: Sendable {
    /// The UTF-8 bytes written so far.
    package private(set) var bytes: [UInt8]
    private var needsComma: [Bool] = []

    /// Creates an empty writer with room for `capacity` bytes.
    package init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The written JSON as a string.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        if let last = needsComma.last {
            if last { bytes.append(UInt8(ascii: ",")) } else { needsComma[needsComma.count - 1] = true }
        }
    }

    /// Starts an object (`{`).
    package mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    /// Ends the current object (`}`).
    package mutating func endObject() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    /// Starts an array (`[`).
    package mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
    }

    /// Ends the current array (`]`).
    package mutating func endArray() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Marks the start of the next array element (writes the separating comma when needed).
    package mutating func arrayElement() { separator() }

    /// Writes an object key and its colon; the value follows.
    package mutating func key(_ key: String) {
        separator()
        writeEscaped(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes a string value.
    package mutating func string(_ s: String) { writeEscaped(s) }

    /// Writes `null`.
    package mutating func null() { bytes.append(contentsOf: [110, 117, 108, 108]) }

    /// Writes `true` or `false`.
    package mutating func bool(_ b: Bool) {
        if b { bytes.append(contentsOf: [116, 114, 117, 101]) } else { bytes.append(contentsOf: [102, 97, 108, 115, 101]) }
    }

    /// Writes a number: integers without a fraction, others with Swift's shortest round-trip form.
    package mutating func number(_ n: Double) {
        if n.isFinite, n.rounded() == n, abs(n) < 9.0e15 {
            bytes.append(contentsOf: String(Int64(n)).utf8)
        } else if n.isFinite {
            bytes.append(contentsOf: "\(n)".utf8)
        } else {
            null()
        }
    }

    /// Writes an integer.
    package mutating func integer(_ n: Int) { bytes.append(contentsOf: String(n).utf8) }

    /// Writes already-serialized JSON verbatim (for nested documents rendered earlier).
    package mutating func raw(_ json: some Sequence<UInt8>) { bytes.append(contentsOf: json) }

    /// Convenience: `"key":"value"`.
    package mutating func field(_ k: String, _ value: String) {
        key(k)
        string(value)
    }

    /// Convenience: `"key":true|false`.
    package mutating func field(_ k: String, _ value: Bool) {
        key(k)
        bool(value)
    }

    /// For each byte value, how many bytes its escape adds: 0 for a byte written as it is, 1 for `"`, `\` and the
    /// control characters with a two-byte escape, 5 for the other control characters (`\u00XX`).
    private static let escapeGrowth: [UInt8] = (0..<256).map { c in
        if c == 0x22 || c == 0x5C || [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(c) { return 1 }
        return c < 0x20 ? 5 : 0
    }

    /// Writes `s` as a JSON string: quoted, with `"`, `\` and control characters escaped.
    ///
    /// Counts the bytes the escapes add first, grows the buffer once, and writes the string into it through a
    /// pointer: copied whole when nothing needs escaping, byte by byte otherwise, both loops over a table rather than
    /// comparisons. (Appending each run between escapes to the array cost most of the CPU of a LookupEvents response,
    /// whose `CloudTrailEvent` strings are JSON documents with a quote every few bytes.)
    private mutating func writeEscaped(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            Self.escapeGrowth.withUnsafeBufferPointer { table in
                let growth = table.baseAddress!
                var extra = 0
                for c in utf8 { extra &+= Int(growth[Int(c)]) }
                let start = bytes.count
                bytes.append(contentsOf: repeatElement(0, count: utf8.count + extra + 2))
                bytes.withUnsafeMutableBufferPointer { buffer in
                    var out = buffer.baseAddress! + start
                    out.pointee = UInt8(ascii: "\"")
                    out += 1
                    if extra == 0 {
                        if let from = utf8.baseAddress { out.update(from: from, count: utf8.count) }
                        out += utf8.count
                    } else {
                        for c in utf8 {
                            let added = growth[Int(c)]
                            if added == 0 {
                                out.pointee = c
                                out += 1
                            } else if added == 1 {
                                out[0] = UInt8(ascii: "\\")
                                out[1] = Self.shortEscape(c)
                                out += 2
                            } else {
                                // \u00XX; only control characters get here, so the high nibble is 0 or 1.
                                let low = c & 0xF
                                out[0] = UInt8(ascii: "\\")
                                out[1] = UInt8(ascii: "u")
                                out[2] = UInt8(ascii: "0")
                                out[3] = UInt8(ascii: "0")
                                out[4] = UInt8(ascii: "0") + (c >> 4)
                                out[5] = low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10
                                out += 6
                            }
                        }
                    }
                    out.pointee = UInt8(ascii: "\"")
                }
            }
        }
    }

    /// The letter after the backslash of the two-byte escape of `c` (one of the bytes ``escapeGrowth`` gives 1).
    @inline(__always)
    private static func shortEscape(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x0A: UInt8(ascii: "n")
        case 0x0D: UInt8(ascii: "r")
        case 0x09: UInt8(ascii: "t")
        case 0x08: UInt8(ascii: "b")
        case 0x0C: UInt8(ascii: "f")
        default: c  // `"` and `\`
        }
    }
}
