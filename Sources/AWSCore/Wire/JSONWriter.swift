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

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeEscaped(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            // Copy runs of bytes that need no escaping in one go; most of a string is such a run.
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 else { continue }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                writeEscape(c)
                runStart = i + 1
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscape(_ c: UInt8) {
        switch c {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
        case 0x0A: bytes.append(contentsOf: [92, 110])
        case 0x0D: bytes.append(contentsOf: [92, 114])
        case 0x09: bytes.append(contentsOf: [92, 116])
        case 0x08: bytes.append(contentsOf: [92, 98])
        case 0x0C: bytes.append(contentsOf: [92, 102])
        default:
            bytes.append(contentsOf: [92, 117, 48, 48])
            bytes.append(Self.hex[Int(c >> 4)])
            bytes.append(Self.hex[Int(c & 0xF)])
        }
    }
}
