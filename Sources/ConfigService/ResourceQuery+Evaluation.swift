import AWSCore

/// The evaluator of ``ResourceQuery``: paths resolved over configuration items, comparisons, sort keys and result rows.
extension ResourceQuery {
    // MARK: - Evaluation

    /// Compares a configuration value with a literal.
    enum ValueComparison {
        /// -1, 0 or 1 when the two are comparable, else `nil`. Numbers compare numerically (a string that is a plain
        /// decimal number compares as one against a number), strings exactly and lexically, booleans with booleans
        /// and with the strings `'true'`/`'false'`.
        static func compare(_ value: JSONValue, _ literal: Literal) -> Int? {
            switch (value, literal) {
            case (.number(let a), .number(let b)): return order(a, b)
            case (.number(let a), .string(let b)): return plainNumber(b).flatMap { order(a, $0) }
            case (.string(let a), .number(let b)): return plainNumber(a).flatMap { order($0, b) }
            case (.string(let a), .string(let b)): return a == b ? 0 : (a < b ? -1 : 1)
            case (.string(let a), .bool(let b)): return boolean(a).map { order($0, b) }
            case (.bool(let a), .bool(let b)): return order(a, b)
            case (.bool(let a), .string(let b)): return boolean(b).map { order(a, $0) }
            default: return nil
            }
        }

        /// Orders two numbers; `nil` for NaN.
        static func order(_ a: Double, _ b: Double) -> Int? {
            if a < b { return -1 }
            if a > b { return 1 }
            return a == b ? 0 : nil
        }

        /// Orders two booleans (false before true).
        static func order(_ a: Bool, _ b: Bool) -> Int { a == b ? 0 : (a ? 1 : -1) }

        /// The boolean a string spells, if it is exactly `true` or `false`.
        static func boolean(_ s: String) -> Bool? {
            switch s {
            case "true": true
            case "false": false
            default: nil
            }
        }

        /// The value of a plain decimal number (`-12`, `3.5`, `1e3`); `nil` for anything else (hex, `inf`, `nan`,
        /// spaces).
        static func plainNumber(_ s: String) -> Double? {
            var sawDigit = false
            for (offset, c) in s.unicodeScalars.enumerated() {
                switch c {
                case "0"..."9": sawDigit = true
                case "-", "+", ".", "e", "E": if offset == 0, c != "-", c != "." { return nil }
                default: return nil
                }
            }
            guard sawDigit, let value = Double(s), value.isFinite else { return nil }
            return value
        }
    }

    /// Reads property paths out of configuration items.
    enum PathResolver {
        /// The values at the end of the path, expanding every array crossed on the way (null values included).
        static func values(of path: PropertyPath, in item: JSONValue) -> [JSONValue] {
            var out: [JSONValue] = []
            collect(item, path.segments[...], synthesizeTag: path.synthesizesTag, into: &out)
            return out
        }

        /// The scalar values (strings, numbers, booleans) of the path, with arrays at its end flattened.
        static func leaves(of path: PropertyPath, in item: JSONValue) -> [JSONValue] {
            var out: [JSONValue] = []
            for value in values(of: path, in: item) { flatten(value, into: &out) }
            return out
        }

        /// Appends the scalars of `value`, descending into arrays.
        private static func flatten(_ value: JSONValue, into out: inout [JSONValue]) {
            switch value {
            case .string, .number, .bool: out.append(value)
            case .array(let elements): for element in elements { flatten(element, into: &out) }
            case .null, .object: break
            }
        }

        /// Walks `segments` from `value`, crossing arrays element by element.
        private static func collect(
            _ value: JSONValue, _ segments: ArraySlice<String>, synthesizeTag: Bool, into out: inout [JSONValue]
        ) {
            guard let segment = segments.first else {
                out.append(value)
                return
            }
            switch value {
            case .object(let members):
                if let member = members[segment] {
                    collect(member, segments.dropFirst(), synthesizeTag: synthesizeTag, into: &out)
                } else if synthesizeTag, segment == "tag", segments.count == 1, let tag = tagText(members) {
                    out.append(.string(tag))
                }
            case .array(let elements):
                for element in elements { collect(element, segments, synthesizeTag: synthesizeTag, into: &out) }
            default:
                break
            }
        }

        /// `key=value` for a tag object, or `nil` without a string key.
        static func tagText(_ members: [String: JSONValue]) -> String? {
            guard let key = members["key"]?.string else { return nil }
            return "\(key)=\(members["value"]?.string ?? "")"
        }

        /// The item cut down to the path, as a row fragment: `{"a":{"b":…}}`, with arrays kept element by element.
        static func project(_ path: PropertyPath, in item: JSONValue) -> Node? {
            project(item, path.segments[...], synthesizeTag: path.synthesizesTag)
        }

        /// Projects `segments` of `value`; `nil` when the path is absent.
        private static func project(_ value: JSONValue, _ segments: ArraySlice<String>, synthesizeTag: Bool) -> Node? {
            guard let segment = segments.first else { return Node(value) }
            switch value {
            case .object(let members):
                if let member = members[segment] {
                    return project(member, segments.dropFirst(), synthesizeTag: synthesizeTag).map {
                        .object([Node.Entry(key: segment, value: $0)])
                    }
                }
                if synthesizeTag, segment == "tag", segments.count == 1, let tag = tagText(members) {
                    return .object([Node.Entry(key: segment, value: .scalar(.string(tag)))])
                }
                return nil
            case .array(let elements):
                let projected = elements.map { project($0, segments, synthesizeTag: synthesizeTag) }
                return projected.contains { $0 != nil } ? .array(projected) : nil
            default:
                return nil
            }
        }
    }

    /// A sort key value; missing values come first, then booleans, numbers and strings.
    enum SortValue {
        case missing
        case bool(Bool)
        case number(Double)
        case string(String)

        /// The sort value of an optional scalar (containers and null count as missing).
        init(_ value: JSONValue?) {
            switch value {
            case .bool(let b)?: self = .bool(b)
            case .number(let n)?: self = .number(n)
            case .string(let s)?: self = .string(s)
            default: self = .missing
            }
        }

        /// The rank of the kind, for ordering values of different kinds.
        private var rank: Int {
            switch self {
            case .missing: 0
            case .bool: 1
            case .number: 2
            case .string: 3
            }
        }

        /// -1, 0 or 1 (0 also for NaN).
        static func compare(_ a: SortValue, _ b: SortValue) -> Int {
            switch (a, b) {
            case (.bool(let x), .bool(let y)): return ValueComparison.order(x, y)
            case (.number(let x), .number(let y)): return ValueComparison.order(x, y) ?? 0
            case (.string(let x), .string(let y)): return x == y ? 0 : (x < y ? -1 : 1)
            default: return a.rank == b.rank ? 0 : (a.rank < b.rank ? -1 : 1)
            }
        }
    }

    /// A JSON tree whose objects keep key order, for building result rows. Array elements are optional so that the
    /// projections of two paths through the same array stay aligned and merge element by element.
    indirect enum Node {
        /// One object member.
        struct Entry {
            var key: String
            var value: Node
        }

        case scalar(JSONValue)
        case object([Entry])
        case array([Node?])

        /// The tree of a JSON value; object keys are sorted, as ``JSONValue`` writes them.
        init(_ value: JSONValue) {
            switch value {
            case .object(let members):
                self = .object(members.sorted { $0.key < $1.key }.map { Entry(key: $0.key, value: Node($0.value)) })
            case .array(let elements):
                self = .array(elements.map { Node($0) })
            default:
                self = .scalar(value)
            }
        }

        /// `{"<key>": value}` for a top-level field.
        static func project(_ value: JSONValue, under key: String) -> Node {
            .object([Entry(key: key, value: Node(value))])
        }

        /// Merges `b` into `a`: objects member by member (new keys appended), arrays element by element; otherwise
        /// `a` wins.
        static func merge(_ a: Node, _ b: Node) -> Node {
            switch (a, b) {
            case (.object(var entries), .object(let others)):
                for other in others {
                    if let index = entries.firstIndex(where: { $0.key == other.key }) {
                        entries[index].value = merge(entries[index].value, other.value)
                    } else {
                        entries.append(other)
                    }
                }
                return .object(entries)
            case (.array(var elements), .array(let others)):
                for (index, other) in others.enumerated() {
                    if index >= elements.count {
                        elements.append(other)
                    } else if let mine = elements[index], let other {
                        elements[index] = merge(mine, other)
                    } else if elements[index] == nil {
                        elements[index] = other
                    }
                }
                return .array(elements)
            default:
                return a
            }
        }

        /// The tree as compact JSON (absent array elements skipped).
        var json: String {
            var writer = JSONWriter(capacity: 256)
            write(to: &writer)
            return writer.string
        }

        /// Writes the tree.
        func write(to writer: inout JSONWriter) {
            switch self {
            case .scalar(let value):
                value.write(to: &writer)
            case .object(let entries):
                writer.beginObject()
                for entry in entries {
                    writer.key(entry.key)
                    entry.value.write(to: &writer)
                }
                writer.endObject()
            case .array(let elements):
                writer.beginArray()
                for element in elements {
                    guard let element else { continue }
                    writer.arrayElement()
                    element.write(to: &writer)
                }
                writer.endArray()
            }
        }
    }
}
