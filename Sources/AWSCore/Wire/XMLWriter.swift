/// A minimal XML writer for AWS Query and REST-XML responses, with proper escaping.
package struct XMLWriter: Sendable {
    /// The document written so far.
    package private(set) var text: String

    /// Whether values' C0 control characters are written as character references (see ``escape(_:controls:)``).
    private let referencesControlCharacters: Bool

    /// Creates a writer, starting with the XML declaration when `declaration` is true; with
    /// `referencesControlCharacters`, control characters in values are written as S3 writes them (`&#x0;`).
    package init(declaration: Bool = false, referencesControlCharacters: Bool = false) {
        text = declaration ? #"<?xml version="1.0" encoding="UTF-8"?>"# : ""
        text.reserveCapacity(512)
        self.referencesControlCharacters = referencesControlCharacters
    }

    /// A value escaped as this writer writes values.
    private func escape(_ value: String) -> String {
        Self.escape(value, controls: referencesControlCharacters)
    }

    /// Opens an element, with an optional `xmlns`.
    package mutating func open(_ name: String, xmlns: String? = nil) {
        text += "<"
        text += name
        if let xmlns {
            text += #" xmlns=""#
            text += escape(xmlns)
            text += "\""
        }
        text += ">"
    }

    /// Opens an element with attributes (names verbatim, values escaped).
    package mutating func open(_ name: String, attributes: [(String, String)]) {
        text += "<"
        text += name
        for (key, value) in attributes {
            text += " "
            text += key
            text += "=\""
            text += escape(value)
            text += "\""
        }
        text += ">"
    }

    /// Writes an empty element `<name xmlns="..."/>`.
    package mutating func empty(_ name: String, xmlns: String? = nil) {
        open(name, xmlns: xmlns)
        text.removeLast()
        text += "/>"
    }

    /// Closes an element.
    package mutating func close(_ name: String) {
        text += "</"
        text += name
        text += ">"
    }

    /// Writes `<name>value</name>` with the value escaped.
    package mutating func element(_ name: String, _ value: String) {
        open(name)
        text += escape(value)
        close(name)
    }

    /// Writes character data, escaped.
    package mutating func escapedText(_ value: String) {
        text += escape(value)
    }

    /// Escapes the five XML special characters (and carriage returns).
    ///
    /// With `controls`, the other C0 control characters XML 1.0 cannot carry (all but tab and line feed) are written
    /// as the character references S3 writes for them (`&#x0;`, `&#x1b;`): object keys may hold any Unicode character,
    /// and S3 lists such keys this way when the client does not ask for `encoding-type=url` (strict XML parsers then
    /// reject the document, which is why SDKs ask for `url`).
    package static func escape(_ s: String, controls: Bool = false) -> String {
        guard
            s.utf8.contains(where: {
                $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 || $0 == 13 || (controls && $0 < 0x20 && $0 != 0x09 && $0 != 0x0A)
            })
        else {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case _ where controls && ch.value < 0x20 && ch != "\t" && ch != "\n": out += "&#x\(String(ch.value, radix: 16));"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
