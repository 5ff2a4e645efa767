/// A JSON document as a Sendable value tree.
///
/// Request bodies of JSON 1.1 services decode into it (through Foundation's `JSONDecoder`), Query forms are
/// converted into it guided by the operation's input shape, and handlers build their outputs with it. Object
/// key order is not kept: every place where AWS's order matters (response bodies, `requestParameters`) walks the
/// service model's member order instead.
package enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member of an object, or `nil`.
    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string payload, or `nil` for any other kind.
    package var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The boolean payload, or `nil` for any other kind.
    package var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number payload, or `nil` for any other kind.
    package var number: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The number payload as an integer, if it is one.
    package var int: Int? {
        if case .number(let n) = self, n.rounded() == n, abs(n) < 9.0e15 { return Int(n) }
        return nil
    }

    /// The array payload, or `nil` for any other kind.
    package var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object payload, or `nil` for any other kind.
    package var object: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Whether this value is JSON `null`.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: Decodable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
}

/// Objects and arrays written as literals, as in-process callers build their inputs (`["Name": "alerts"]`).
extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue {
    /// Writes this value as compact JSON. Object keys are sorted so that the output is deterministic.
    package func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .bool(let b): writer.bool(b)
        case .number(let n): writer.number(n)
        case .string(let s): writer.string(s)
        case .array(let a):
            writer.beginArray()
            for v in a {
                writer.arrayElement()
                v.write(to: &writer)
            }
            writer.endArray()
        case .object(let o):
            writer.beginObject()
            for key in o.keys.sorted() {
                writer.key(key)
                o[key]!.write(to: &writer)
            }
            writer.endObject()
        }
    }

    /// This value as compact JSON text (keys sorted).
    package var jsonText: String {
        var writer = JSONWriter(capacity: 128)
        write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension JSONValue: Encodable {
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
