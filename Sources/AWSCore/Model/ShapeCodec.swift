import Foundation

/// Converts between wire formats and ``JSONValue`` trees by walking a ``ServiceModel``'s shapes.
///
/// Decoding checks value types (and required members) the way AWS's front ends do; encoding writes members in model
/// order, which is the order AWS sends them in; rendering for CloudTrail lower-cases the first letter of each member
/// name and leaves out secrets.
package struct ShapeCodec: Sendable {
    /// The model whose shapes are walked.
    package let model: ServiceModel

    /// Creates a codec for a model.
    package init(model: ServiceModel) { self.model = model }

    // MARK: JSON 1.1 input

    /// Decodes and type-checks a JSON 1.1 request body against an input shape.
    ///
    /// An empty body counts as `{}`. Unknown members are dropped, as AWS ignores them.
    /// - Throws: `SerializationException` for malformed JSON or a value of the wrong type.
    package func decodeJSON(_ body: [UInt8], shape shapeName: String?) throws(AWSError) -> JSONValue {
        var value = JSONValue.object([:])
        let isEmptyObject = body.count == 2 && body[0] == UInt8(ascii: "{") && body[1] == UInt8(ascii: "}")
        if !isEmptyObject, !body.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) {
            let size = Self.jsonSize(body, atMost: Self.maxJSONValues)
            guard size.values <= Self.maxJSONValues else {
                throw AWSError("SerializationException", "Request document has more than \(Self.maxJSONValues) values")
            }
            guard size.depth <= Self.maxJSONDepth else {
                throw AWSError("SerializationException", "Request document is nested more than \(Self.maxJSONDepth) levels deep")
            }
            do {
                value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
            } catch {
                throw AWSError("SerializationException", "")
            }
        }
        guard case .object = value else {
            throw AWSError("SerializationException", "Start of list found where not expected")
        }
        guard let shapeName else { return .object([:]) }
        return try check(value, shapeName: shapeName, path: "")
    }

    /// A value with its string scalars read as the booleans and numbers the shape declares where they parse
    /// (`"true"` for a boolean member, `"60"` for an integer one); everything else is left as it is. For callers
    /// whose values are text by nature (CloudFormation hands resource properties to services as strings).
    package func coercingScalars(_ value: JSONValue, shape shapeName: String) -> JSONValue {
        let shape = model.shape(shapeName)
        switch (shape.type, value) {
        case ("structure", .object(let members)):
            var out = members
            for member in shape.members ?? [] {
                if let v = members[member.name] { out[member.name] = coercingScalars(v, shape: member.shape) }
            }
            return .object(out)
        case ("list", .array(let items)):
            return .array(items.map { coercingScalars($0, shape: shape.member!) })
        case ("map", .object(let entries)):
            return .object(entries.mapValues { coercingScalars($0, shape: shape.value!) })
        case ("boolean", .string(let text)):
            switch text.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return value
            }
        case ("integer", .string(let text)), ("long", .string(let text)), ("double", .string(let text)), ("float", .string(let text)):
            return Double(text).map(JSONValue.number) ?? value
        default:
            return value
        }
    }

    /// Type-checks an input built in process (by another service) against an input shape, exactly as a decoded
    /// JSON body is checked: unknown members are dropped and timestamps given as text become epoch seconds.
    /// - Throws: `SerializationException` for a value of the wrong type.
    package func validate(_ value: JSONValue, shape shapeName: String?) throws(AWSError) -> JSONValue {
        guard case .object = value else { throw AWSError("SerializationException", "Start of list found where not expected") }
        guard let shapeName else { return .object([:]) }
        return try check(value, shapeName: shapeName, path: "")
    }

    /// The most values (objects, arrays, members and elements) a JSON request body may hold. The largest real
    /// requests of the hosted services hold a few thousand (500 event-selector conditions, 100 evaluations); the
    /// bound keeps the memory and time of decoding one request small whatever its body.
    package static let maxJSONValues = 50_000
    /// The deepest nesting of objects and arrays a JSON request body may have. The hosted services' input shapes
    /// nest fewer than ten levels; decoding cost grows with the square of the depth.
    package static let maxJSONDepth = 64

    /// Counts the values of a JSON document by its structure (commas, colons and openings outside strings) and
    /// measures its deepest nesting, stopping early once the count passes `limit`. Malformed documents are measured
    /// as far as they go; the decoder rejects them afterwards.
    static func jsonSize(_ body: [UInt8], atMost limit: Int) -> (values: Int, depth: Int) {
        body.withUnsafeBufferPointer { jsonSize($0, atMost: limit) }
    }

    /// ``jsonSize(_:atMost:)`` over raw bytes (a plain loop, without an iterator per byte in debug builds).
    private static func jsonSize(_ body: UnsafeBufferPointer<UInt8>, atMost limit: Int) -> (values: Int, depth: Int) {
        var count = 1
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in body {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
                count += 1
                if count > limit { return (count, deepest) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                count += 1
                if count > limit { return (count, deepest) }
            default: break
            }
        }
        return (count, deepest)
    }

    private func check(_ value: JSONValue, shapeName: String, path: String) throws(AWSError) -> JSONValue {
        let shape = model.shape(shapeName)
        if case .null = value { return .null }
        switch shape.type {
        case "structure":
            guard case .object(let members) = value else { throw mismatch("Start of structure or map", value) }
            var out: [String: JSONValue] = [:]
            for member in shape.members ?? [] {
                if let v = members[member.name], !v.isNull {
                    out[member.name] = try check(v, shapeName: member.shape, path: path + "." + member.name)
                }
            }
            return .object(out)
        case "list":
            guard case .array(let items) = value else { throw mismatch("Start of list", value) }
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try check(item, shapeName: shape.member!, path: path)) }
            return .array(out)
        case "map":
            guard case .object(let entries) = value else { throw mismatch("Start of structure or map", value) }
            var out: [String: JSONValue] = [:]
            for (k, v) in entries { out[k] = try check(v, shapeName: shape.value!, path: path) }
            return .object(out)
        case "string":
            guard case .string = value else { throw mismatch("", value, expected: "String") }
            return value
        case "boolean":
            guard case .bool = value else { throw mismatch("", value, expected: "Boolean") }
            return value
        case "integer", "long":
            guard case .number(let n) = value else { throw mismatch("", value, expected: "Number") }
            // A number out of the member's range fails deserialisation (as a Java `int` or `long` would).
            let limit: Double = shape.type == "integer" ? 2_147_483_648 : 9_223_372_036_854_775_808
            guard n.isFinite, n >= -limit, n < limit else {
                throw AWSError("SerializationException", "Numeric value out of range of \(shape.type == "integer" ? "int" : "long")")
            }
            return value
        case "double", "float":
            guard case .number = value else { throw mismatch("", value, expected: "Number") }
            return value
        case "timestamp":
            switch value {
            case .number(let n):
                // An instant a Java `Date` cannot hold fails deserialisation on AWS's side as well.
                guard Timestamp.representable(n) != nil else {
                    throw AWSError("SerializationException", "Unable to parse date value")
                }
                return value
            case .string(let s):
                if let n = Double(s).flatMap(Timestamp.representable) { return .number(n) }
                if let t = Timestamp.parseISO8601(s) { return .number(t) }
                throw AWSError("SerializationException", "Unable to parse date '\(s)'")
            default: throw mismatch("", value, expected: "Timestamp")
            }
        case "blob":
            guard case .string = value else { throw mismatch("", value, expected: "Blob") }
            return value
        default:
            return value
        }
    }

    private func mismatch(_ what: String, _ value: JSONValue, expected: String? = nil) -> AWSError {
        let found: String =
            switch value {
            case .object: "Start of structure or map"
            case .array: "Start of list"
            case .string: "STRING_VALUE"
            case .number: "NUMBER_VALUE"
            case .bool: "BOOLEAN_VALUE"
            case .null: "NULL_VALUE"
            }
        if let expected {
            return AWSError("SerializationException", "\(found) can not be converted to \(expected)")
        }
        return AWSError("SerializationException", "\(found) found where not expected")
    }

    /// The first required member (depth first, model order) that is missing, as a lower-camel path.
    package func missingRequired(_ value: JSONValue, shape shapeName: String?) -> String? {
        guard let shapeName else { return nil }
        let shape = model.shape(shapeName)
        if shape.type == "list", case .array(let items) = value, let element = shape.member {
            // AWS names a list element's member `list.N.member.name`, counting from 1.
            for (index, item) in items.enumerated() {
                if let inner = missingRequired(item, shape: element) { return "\(index + 1).member.\(inner)" }
            }
            return nil
        }
        if shape.type == "map", case .object(let entries) = value, let valueShape = shape.value {
            for key in entries.keys.sorted() {
                if let inner = missingRequired(entries[key]!, shape: valueShape) { return "\(key).member.\(inner)" }
            }
            return nil
        }
        guard shape.type == "structure", case .object(let members) = value else { return nil }
        for member in shape.members ?? [] {
            if member.required == true, members[member.name] == nil { return Self.lowerCamel(member.name) }
            if let v = members[member.name], let inner = missingRequired(v, shape: member.shape) {
                return Self.lowerCamel(member.name) + "." + inner
            }
        }
        return nil
    }

    // MARK: Query input

    /// Builds an input value from Query form parameters (`Name`, `List.member.1`, `Map.entry.1.key`).
    ///
    /// - Throws: `ValidationError`-style ``AWSError`` (code given by `errorCode`) for values that do not parse.
    package func decodeQuery(_ params: [String: String], shape shapeName: String?) throws(AWSError) -> JSONValue {
        guard let shapeName else { return .object([:]) }
        return try queryValue(params, prefix: "", shapeName: shapeName) ?? .object([:])
    }

    private func queryValue(_ params: [String: String], prefix: String, shapeName: String) throws(AWSError) -> JSONValue? {
        let shape = model.shape(shapeName)
        switch shape.type {
        case "structure":
            var out: [String: JSONValue] = [:]
            for member in shape.members ?? [] {
                let name = member.locationName ?? member.name
                let key = prefix.isEmpty ? name : prefix + "." + name
                let memberShape = model.shape(member.shape)
                if memberShape.type == "list" {
                    let flattened = member.flattened == true || memberShape.flattened == true
                    let base = flattened ? key + "." : key + "." + (memberShape.memberName ?? "member") + "."
                    var items: [JSONValue] = []
                    var index = 1
                    while let item = try queryValue(params, prefix: base + String(index), shapeName: memberShape.member!) {
                        items.append(item)
                        index += 1
                    }
                    if !items.isEmpty || params[key] != nil { out[member.name] = .array(items) }
                } else if memberShape.type == "map" {
                    if let entries = try queryMap(params, key: key, shape: memberShape) { out[member.name] = .object(entries) }
                } else if let v = try queryValue(params, prefix: key, shapeName: member.shape) {
                    out[member.name] = v
                }
            }
            if prefix.isEmpty { return .object(out) }
            return out.isEmpty ? nil : .object(out)
        default:
            guard let raw = params[prefix] else { return nil }
            return try scalar(raw, shape: shape, name: prefix)
        }
    }

    /// Reads a Query map: `Key.entry.N.key` / `Key.entry.N.value` from N = 1 until an entry has no key, with the
    /// key and value element names the model gives (SNS's `MessageAttributes.entry.1.Name` and
    /// `MessageAttributes.entry.1.Value.DataType`). An entry without a value is skipped; `nil` when there is none.
    private func queryMap(_ params: [String: String], key: String, shape: ServiceModel.Shape) throws(AWSError) -> [String: JSONValue]? {
        let keyName = shape.keyName ?? "key"
        let valueName = shape.valueName ?? "value"
        var entries: [String: JSONValue] = [:]
        var index = 1
        while let k = params["\(key).entry.\(index).\(keyName)"] {
            if let v = try queryValue(params, prefix: "\(key).entry.\(index).\(valueName)", shapeName: shape.value!) {
                entries[k] = v
            }
            index += 1
        }
        return entries.isEmpty ? nil : entries
    }

    private func scalar(_ raw: String, shape: ServiceModel.Shape, name: String) throws(AWSError) -> JSONValue {
        switch shape.type {
        case "integer", "long":
            guard let n = Int(raw), shape.type == "long" || Int32(exactly: n) != nil else {
                throw AWSError("MalformedInput", "Invalid value for parameter \(name): \(raw)")
            }
            return .number(Double(n))
        case "double", "float":
            guard let n = Double(raw) else { throw AWSError("MalformedInput", "Invalid value for parameter \(name): \(raw)") }
            return .number(n)
        case "boolean":
            switch raw.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw AWSError("MalformedInput", "Invalid value for parameter \(name): \(raw)")
            }
        case "timestamp":
            if let n = Double(raw).flatMap(Timestamp.representable) { return .number(n) }
            if let t = Timestamp.parseISO8601(raw) { return .number(t) }
            throw AWSError("MalformedInput", "Invalid value for parameter \(name): \(raw)")
        default:
            return .string(raw)
        }
    }

    // MARK: Output encoding

    /// Writes a value as JSON 1.1 output of a shape: members in model order, timestamps as epoch seconds.
    package func writeJSON(_ value: JSONValue, shape shapeName: String, to writer: inout JSONWriter) {
        let shape = model.shape(shapeName)
        switch (shape.type, value) {
        case ("structure", .object(let members)):
            writer.beginObject()
            for member in shape.members ?? [] {
                guard let v = members[member.name], !v.isNull else { continue }
                writer.key(member.name)
                writeJSON(v, shape: member.shape, to: &writer)
            }
            writer.endObject()
        case ("list", .array(let items)):
            writer.beginArray()
            for item in items {
                writer.arrayElement()
                writeJSON(item, shape: shape.member!, to: &writer)
            }
            writer.endArray()
        case ("map", .object(let entries)):
            writer.beginObject()
            for k in entries.keys.sorted() {
                writer.key(k)
                writeJSON(entries[k]!, shape: shape.value!, to: &writer)
            }
            writer.endObject()
        default:
            value.write(to: &writer)
        }
    }

    /// Writes a value as the XML body of a Query response's result element.
    package func writeXML(_ value: JSONValue, shape shapeName: String, to writer: inout XMLWriter) {
        let shape = model.shape(shapeName)
        guard shape.type == "structure", case .object(let members) = value else { return }
        for member in shape.members ?? [] {
            guard let v = members[member.name], !v.isNull else { continue }
            let name = member.locationName ?? member.name
            let memberShape = model.shape(member.shape)
            switch (memberShape.type, v) {
            case ("structure", _):
                writer.open(name)
                writeXML(v, shape: member.shape, to: &writer)
                writer.close(name)
            case ("map", .object(let entries)):
                // `<Name><entry><key>k</key><value>v</value></entry>...</Name>`, keys in sorted order (AWS sends
                // SNS's attribute maps this way; the element names come from the model's locationName).
                let keyName = memberShape.keyName ?? "key"
                let valueName = memberShape.valueName ?? "value"
                let valueShape = model.shape(memberShape.value!)
                writer.open(name)
                for k in entries.keys.sorted() {
                    writer.open("entry")
                    writer.element(keyName, k)
                    writer.open(valueName)
                    if valueShape.type == "structure" {
                        writeXML(entries[k]!, shape: memberShape.value!, to: &writer)
                    } else {
                        writer.escapedText(Self.xmlScalar(entries[k]!, type: valueShape.type))
                    }
                    writer.close(valueName)
                    writer.close("entry")
                }
                writer.close(name)
            case ("list", .array(let items)):
                let itemName = memberShape.memberName ?? "member"
                let itemShape = model.shape(memberShape.member!)
                writer.open(name)
                for item in items {
                    writer.open(itemName)
                    if itemShape.type == "structure" {
                        writeXML(item, shape: memberShape.member!, to: &writer)
                    } else {
                        writer.escapedText(Self.xmlScalar(item, type: itemShape.type))
                    }
                    writer.close(itemName)
                }
                writer.close(name)
            default:
                writer.element(name, Self.xmlScalar(v, type: memberShape.type))
            }
        }
    }

    private static func xmlScalar(_ value: JSONValue, type: String) -> String {
        switch value {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n):
            if type == "timestamp" {
                return n.rounded() == n ? Timestamp.iso8601(Int64(n)) : Timestamp.iso8601Millis(n)
            }
            var w = JSONWriter(capacity: 16)
            w.number(n)
            return w.string
        default: return ""
        }
    }

    // MARK: CloudTrail rendering

    /// `S3BucketName` → `s3BucketName`: CloudTrail's spelling of member names in events.
    package static func lowerCamel(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }

    /// What CloudTrail writes in place of a request member it hides (SNS's `message`, `subject` and
    /// `messageAttributes` in `Publish` events).
    package static let hiddenValue = "HIDDEN_DUE_TO_SECURITY_REASONS"

    /// Writes a value as CloudTrail renders parameters: lower-camel member names in model order, timestamps in the
    /// Java style CloudTrail uses, members whose shape is sensitive (or listed in `omit`, as `Member.Path` names)
    /// left out, and members listed in `redact` written as ``hiddenValue``. Members of list elements are named by
    /// the list member's path (`PublishBatchRequestEntries.Message`).
    package func writeCloudTrail(
        _ value: JSONValue, shape shapeName: String, omit: Set<String> = [], redact: Set<String> = [], path: String = "",
        to writer: inout JSONWriter
    ) {
        let shape = model.shape(shapeName)
        switch (shape.type, value) {
        case ("structure", .object(let members)):
            writer.beginObject()
            for member in shape.members ?? [] {
                guard let v = members[member.name], !v.isNull else { continue }
                let memberPath = path.isEmpty ? member.name : path + "." + member.name
                if omit.contains(memberPath) || model.shape(member.shape).sensitive == true { continue }
                writer.key(Self.lowerCamel(member.name))
                if redact.contains(memberPath) {
                    writer.string(Self.hiddenValue)
                    continue
                }
                writeCloudTrail(v, shape: member.shape, omit: omit, redact: redact, path: memberPath, to: &writer)
            }
            writer.endObject()
        case ("list", .array(let items)):
            writer.beginArray()
            for item in items {
                writer.arrayElement()
                writeCloudTrail(item, shape: shape.member!, omit: omit, redact: redact, path: path, to: &writer)
            }
            writer.endArray()
        case ("map", .object(let entries)):
            writer.beginObject()
            for k in entries.keys.sorted() {
                writer.key(k)
                writeCloudTrail(entries[k]!, shape: shape.value!, omit: omit, redact: redact, path: path, to: &writer)
            }
            writer.endObject()
        case ("timestamp", .number(let n)):
            writer.string(Timestamp.javaStyle(Int64(n)))
        default:
            value.write(to: &writer)
        }
    }
}
