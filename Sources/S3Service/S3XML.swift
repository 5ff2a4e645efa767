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

    /// The deepest element nesting a request body may have (the root element counts as 1).
    ///
    /// No S3 input document nests more than 7 elements (botocore's model: `ReplicationConfiguration`,
    /// `LifecycleConfiguration` and `RestoreRequest` are the deepest); S3 answers a body that does not match its
    /// schema with `MalformedXML`. The limit leaves ample margin for real documents while keeping every recursion
    /// over a parsed tree (``writeValue(_:to:)``, the tree's own deinitialisation) a few dozen frames deep, whatever
    /// the body holds.
    static let maxDepth = 32

    /// Parses a document; throws ``malformed`` when it is not well-formed XML or nests elements deeper than
    /// ``maxDepth`` (the parser is stopped at the first element too deep, so no deeper tree is ever built).
    static func parse(_ bytes: [UInt8], maxDepth: Int = maxDepth) throws(AWSError) -> XMLNode {
        let delegate = TreeBuilder(maxDepth: maxDepth)
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = delegate
        let parsed = parser.parse()
        guard parsed, !delegate.tooDeep, let root = delegate.root else { throw malformed }
        return root
    }

    /// Writes an element's value as CloudTrail renders S3 bodies (the root goes under its element name):
    /// `{children..., "xmlns": "..."}`; leaves become strings; repeated children become arrays, at the position of
    /// the first of them.
    ///
    /// Recursive, but over a tree ``parse(_:maxDepth:)`` built, whose depth is at most ``maxDepth``; children are
    /// grouped by name in one pass, so a wide element costs linear time.
    static func writeValue(_ node: XMLNode, to w: inout JSONWriter) {
        if node.children.isEmpty && node.xmlns == nil {
            w.string(node.text)
            return
        }
        var order: [String] = []
        var groups: [String: [Int]] = [:]
        for (index, child) in node.children.enumerated() {
            if groups[child.name] == nil { order.append(child.name) }
            groups[child.name, default: []].append(index)
        }
        w.beginObject()
        for name in order {
            let same = groups[name] ?? []
            w.key(name)
            if same.count == 1 {
                writeValue(node.children[same[0]], to: &w)
            } else {
                w.beginArray()
                for index in same {
                    w.arrayElement()
                    writeValue(node.children[index], to: &w)
                }
                w.endArray()
            }
        }
        if let xmlns = node.xmlns { w.field("xmlns", xmlns) }
        w.endObject()
    }
}

/// Builds an ``XMLNode`` tree from parser callbacks, stopping the parser at the first element nested deeper than
/// its limit.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    /// The open elements, outermost first.
    var stack: [XMLNode] = []
    /// The document element, once closed.
    var root: XMLNode?
    /// The deepest nesting accepted.
    let maxDepth: Int
    /// Whether the document nested deeper than ``maxDepth`` (the parse was aborted).
    var tooDeep = false

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        guard !tooDeep else { return }
        guard stack.count < maxDepth else {
            tooDeep = true
            stack.removeAll()
            parser.abortParsing()
            return
        }
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLNode(name: local, xmlns: attributeDict["xmlns"]))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !tooDeep, !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard !tooDeep, var node = stack.popLast() else { return }
        // Leaf text is kept verbatim (object keys may begin or end with spaces); text between elements is not.
        if !node.children.isEmpty { node.text = "" }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }
}
