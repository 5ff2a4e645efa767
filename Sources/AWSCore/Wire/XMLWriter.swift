/// A minimal XML writer for AWS Query and REST-XML responses, with proper escaping.
package struct XMLWriter: Sendable {
    /// The document written so far.
    package private(set) var text: String

    /// Creates a writer, starting with the XML declaration when `declaration` is true.
    package init(declaration: Bool = false) {
        text = declaration ? #"<?xml version="1.0" encoding="UTF-8"?>"# : ""
        text.reserveCapacity(512)
    }

    /// Opens an element, with an optional `xmlns`.
    package mutating func open(_ name: String, xmlns: String? = nil) {
        text += "<"
        text += name
        if let xmlns {
            text += #" xmlns=""#
            text += Self.escape(xmlns)
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
            text += Self.escape(value)
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
        text += Self.escape(value)
        close(name)
    }

    /// Writes character data, escaped.
    package mutating func escapedText(_ value: String) {
        text += Self.escape(value)
    }

    /// Escapes the five XML special characters.
    package static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 || $0 == 13 }) else {
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
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
