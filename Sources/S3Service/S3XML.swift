import AWSCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of an S3 request body (CreateBucketConfiguration, Tagging, Delete, CompleteMultipartUpload, ...).
struct XMLNode: Sendable {
    /// The element name without namespace prefix.
    var name: String
    /// The `xmlns` attribute, if present.
    var xmlns: String?
    /// Child elements, in document order.
    var children: [XMLNode] = []
    /// The element's text, for leaf elements.
    var text: String = ""

    /// The first child of that name.
    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    /// Every child of that name.
    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    /// The text of the first child of that name.
    func value(_ name: String) -> String? { child(name)?.text }
}

/// Parses S3 request bodies and renders them as CloudTrail writes them in `requestParameters`.
enum S3XML {
    /// S3's XML namespace.
    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// The `MalformedXML` error S3 answers an unparsable or invalid body with.
    static let malformed = AWSError(
        "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")

    /// Parses a document; throws ``malformed`` when it is not well-formed XML.
    static func parse(_ bytes: [UInt8]) throws(AWSError) -> XMLNode {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else { throw malformed }
        return root
    }

    /// Writes an element's value as CloudTrail renders S3 bodies (the root goes under its element name):
    /// `{children..., "xmlns": "..."}`; leaves become strings; repeated children become arrays.
    static func writeValue(_ node: XMLNode, to w: inout JSONWriter) {
        if node.children.isEmpty && node.xmlns == nil {
            w.string(node.text)
            return
        }
        w.beginObject()
        var seen: Set<String> = []
        for child in node.children where !seen.contains(child.name) {
            seen.insert(child.name)
            let same = node.all(child.name)
            w.key(child.name)
            if same.count == 1 {
                writeValue(child, to: &w)
            } else {
                w.beginArray()
                for s in same {
                    w.arrayElement()
                    writeValue(s, to: &w)
                }
                w.endArray()
            }
        }
        if let xmlns = node.xmlns { w.field("xmlns", xmlns) }
        w.endObject()
    }
}

/// Builds an ``XMLNode`` tree from parser callbacks.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLNode(name: local, xmlns: attributeDict["xmlns"]))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard var node = stack.popLast() else { return }
        // Leaf text is kept verbatim (object keys may begin or end with spaces); text between elements is not.
        if !node.children.isEmpty { node.text = "" }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }
}
