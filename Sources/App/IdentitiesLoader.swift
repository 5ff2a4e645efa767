import AWSCore
import Foundation
import Yams

/// Reads an identities file, in JSON or YAML, into a validated ``IdentityDirectory``.
enum IdentitiesLoader {
    /// Loads the file at `path`, or the built-in identities when `path` is nil.
    ///
    /// - Throws: ``StartupError`` naming the file and the problem.
    static func load(_ path: String?) throws -> IdentityDirectory {
        guard let path else { return try IdentityDirectory(.builtIn) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartupError("identities file \(path): cannot be read")
        }
        let file: IdentitiesFile
        do {
            let text = String(decoding: data, as: UTF8.self)
            if text.drop(while: { $0.isWhitespace }).first == "{" {
                file = try JSONDecoder().decode(IdentitiesFile.self, from: data)
            } else {
                file = try YAMLDecoder().decode(IdentitiesFile.self, from: text)
            }
        } catch {
            throw StartupError("identities file \(path): \(describe(error))")
        }
        do {
            return try IdentityDirectory(file)
        } catch {
            throw StartupError("identities file \(path): \(error.description)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context.codingPath))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return "not valid JSON or YAML (\(context.debugDescription))"
        default:
            return "not valid JSON or YAML (\(error))"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

/// A configuration problem that stops `cairn serve` before it listens.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the file or flag.
    public var description: String
    init(_ description: String) { self.description = description }
}
