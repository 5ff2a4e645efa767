package import OrderedCollections

/// A template document as read from JSON or YAML, before any intrinsic function is interpreted.
///
/// Objects keep the order their keys appear in the template (CloudFormation reports parameters, resources and
/// outputs in template order). Scalars keep their original text: CloudFormation hands property values to
/// resource providers as strings, so `Port: 0080` or `Enabled: yes` must reach them as written (B6.1).
/// YAML short forms (`!Ref X`) are already rewritten into their long form (`{"Ref": "X"}`) here.
package indirect enum TemplateValue: Sendable, Hashable {
    /// JSON `null`, YAML `~`/`null`/empty.
    case null
    /// A string scalar (quoted, or plain text that is neither a number, a boolean nor null).
    case string(String)
    /// A number scalar, as written (`1`, `1.50`, `0x1F`, `1e3`).
    case number(String)
    /// A boolean scalar with its original text (`true`, `yes`, `Off`).
    case boolean(Bool, text: String)
    /// A list.
    case array([TemplateValue])
    /// A map in document order.
    case object(OrderedDictionary<String, TemplateValue>)

    /// The text of a scalar as CloudFormation stringifies it, or `nil` for lists, maps and null.
    package var scalarText: String? {
        switch self {
        case .string(let s), .number(let s): return s
        case .boolean(_, let text): return text
        case .null, .array, .object: return nil
        }
    }

    /// The string payload, or `nil` for any other kind.
    package var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The members of a map, or `nil`.
    package var object: OrderedDictionary<String, TemplateValue>? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements of a list, or `nil`.
    package var array: [TemplateValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The member of a map, or `nil`.
    package subscript(key: String) -> TemplateValue? {
        object?[key]
    }

    /// Reads a template body: JSON when its first non-blank character is `{`, YAML otherwise (B6.1).
    package static func read(_ body: String) throws(TemplateError) -> TemplateValue {
        let first = body.unicodeScalars.first { !($0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{FEFF}") }
        if first == "{" {
            var reader = JSONTemplateReader(body)
            return try reader.readDocument()
        }
        return try YAMLTemplateReader.read(body)
    }
}
