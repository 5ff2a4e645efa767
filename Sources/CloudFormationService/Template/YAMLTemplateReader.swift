import OrderedCollections
import Yams

/// Reads a YAML template into a ``TemplateValue``, rewriting CloudFormation's short-form tags into their long form.
///
/// Plain scalars are typed with YAML 1.1's rules (what CloudFormation's parser uses: `yes`/`off` are booleans,
/// `0x1F` and `1_000` are numbers) but keep their text. Quoted and block scalars are strings. `!GetAtt A.B.C`
/// splits at the first dot. A short form written directly on another (`!Base64 !Sub …`) is not valid YAML (a node has
/// one tag) and fails as a syntax error, as it does on AWS.
enum YAMLTemplateReader {
    /// The short-form tags and the keys they stand for.
    static let shortForms: [String: String] = [
        "!Ref": "Ref", "!Condition": "Condition", "!Sub": "Fn::Sub", "!GetAtt": "Fn::GetAtt", "!Join": "Fn::Join",
        "!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap", "!If": "Fn::If",
        "!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not", "!Base64": "Fn::Base64",
        "!Cidr": "Fn::Cidr", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Transform": "Fn::Transform",
        // Rule-specific functions, as AWS's Rules examples write them.
        "!Contains": "Fn::Contains", "!EachMemberEquals": "Fn::EachMemberEquals", "!EachMemberIn": "Fn::EachMemberIn",
        "!RefAll": "Fn::RefAll", "!ValueOf": "Fn::ValueOf", "!ValueOfAll": "Fn::ValueOfAll",
    ]

    /// How many nodes a document may expand to (aliases can multiply a small body).
    static let nodeBudget = 1_000_000

    /// Parses `text` as a single YAML document.
    static func read(_ text: String) throws(TemplateError) -> TemplateValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw positioned(error)
        } catch {
            throw .yamlNotWellFormed(line: 1, column: 1)
        }
        guard let root else { return .null }
        var budget = nodeBudget
        return try convert(root, budget: &budget)
    }

    /// The AWS error for a libyaml failure, at its mark.
    private static func positioned(_ error: YamlError) -> TemplateError {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return .yamlNotWellFormed(line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(_, let context):
            return .yamlNotWellFormed(line: context.mark.line, column: context.mark.column)
        case .reader(_, let offset, _, let yaml):
            let prefix = yaml.utf8.prefix(offset ?? 0)
            let line = prefix.count(where: { $0 == UInt8(ascii: "\n") }) + 1
            let column = prefix.reversed().prefix(while: { $0 != UInt8(ascii: "\n") }).count + 1
            return .yamlNotWellFormed(line: line, column: column)
        default:
            return .yamlNotWellFormed(line: 1, column: 1)
        }
    }

    private static func convert(_ node: Node, budget: inout Int) throws(TemplateError) -> TemplateValue {
        budget -= 1
        if budget < 0 { throw .format("YAML document is too large once its aliases are expanded") }
        let tag = node.tag.rawValue
        if tag.hasPrefix("!"), tag != "!" {
            guard let key = shortForms[tag] else {
                let mark = node.mark
                throw .yamlNotWellFormed(line: mark?.line ?? 1, column: mark?.column ?? 1)
            }
            let content = try untagged(node, budget: &budget)
            if key == "Fn::GetAtt", case .string(let dotted) = content {
                let parts = dotted.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map {
                    TemplateValue.string(String($0))
                }
                return .object([key: .array(parts)])
            }
            return .object([key: content])
        }
        return try untagged(node, budget: &budget)
    }

    /// Converts a node ignoring its own short-form tag (the tag's content).
    private static func untagged(_ node: Node, budget: inout Int) throws(TemplateError) -> TemplateValue {
        switch node {
        case .scalar(let scalar):
            return resolve(scalar)
        case .sequence(let sequence):
            var elements: [TemplateValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence { elements.append(try convert(element, budget: &budget)) }
            return .array(elements)
        case .mapping(let mapping):
            var members = OrderedDictionary<String, TemplateValue>()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw .yamlNotWellFormed(line: key.mark?.line ?? 1, column: key.mark?.column ?? 1)
                }
                members[keyScalar.string] = try convert(value, budget: &budget)
            }
            return .object(members)
        case .alias(let alias):
            throw .yamlNotWellFormed(line: alias.mark?.line ?? 1, column: alias.mark?.column ?? 1)
        }
    }

    /// Types a scalar: explicit standard tags win, quoted and block scalars are strings, plain ones follow YAML 1.1.
    private static func resolve(_ scalar: Node.Scalar) -> TemplateValue {
        let text = scalar.string
        switch scalar.tag.rawValue {
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float": return .number(text)
        case "tag:yaml.org,2002:bool": return boolean(text).map { .boolean($0, text: text) } ?? .string(text)
        case "tag:yaml.org,2002:null": return .null
        case "": break
        default: return .string(text)
        }
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        return plain(text)
    }

    /// A plain scalar typed with YAML 1.1's implicit resolvers.
    static func plain(_ text: String) -> TemplateValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        default: break
        }
        if let b = boolean(text) { return .boolean(b, text: text) }
        if isYAML11Number(text) { return .number(text) }
        return .string(text)
    }

    /// YAML 1.1 booleans.
    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return true
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// YAML 1.1 integers (decimal, octal, hex, binary, base 60, with `_` separators) and floats.
    static func isYAML11Number(_ text: String) -> Bool {
        text.wholeMatch(of: yaml11Int) != nil || text.wholeMatch(of: yaml11Float) != nil
    }

    nonisolated(unsafe) private static let yaml11Int =
        #/[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+/#
    nonisolated(unsafe) private static let yaml11Float =
        #/[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)/#
}
