import Foundation

/// Reads keys in document order from JSON bytes, the way Python's json module keeps them, so tests can check the
/// order Cairn writes (Foundation's dictionaries forget it).
package enum JSONKeys {
    /// The keys of the top-level object, in order.
    package static func topLevel(_ bytes: [UInt8]) -> [String] { keys(bytes, path: []) }

    /// The keys of the object reached by following `path` (object keys) from the top level, in order.
    package static func keys(_ bytes: [UInt8], path: [String]) -> [String] {
        var scanner = Scanner(bytes: bytes)
        return scanner.objectKeys(path: path[...]) ?? []
    }

    /// A forward-only reader over JSON bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0

        /// Skips white space.
        mutating func skipSpace() {
            while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
        }

        /// Reads a string token (the scanner is on its opening quote).
        mutating func string() -> String {
            i += 1
            var out: [UInt8] = []
            while bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") {
                    out.append(bytes[i])
                    i += 1
                }
                out.append(bytes[i])
                i += 1
            }
            i += 1
            // Keys in these tests are plain; decode escapes through Foundation when present.
            let raw = "\"" + String(decoding: out, as: UTF8.self) + "\""
            return (try? JSONSerialization.jsonObject(with: Data(raw.utf8), options: [.fragmentsAllowed])) as? String ?? raw
        }

        /// Skips one value of any kind.
        mutating func skipValue() {
            skipSpace()
            switch bytes[i] {
            case UInt8(ascii: "\""): _ = string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                repeat {
                    switch bytes[i] {
                    case UInt8(ascii: "\""):
                        _ = string()
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    i += 1
                } while depth > 0
            default:
                while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[i]) { i += 1 }
            }
        }

        /// Keys of the object at the current position, descending into `path` first.
        mutating func objectKeys(path: ArraySlice<String>) -> [String]? {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            var keys: [String] = []
            while true {
                skipSpace()
                if bytes[i] == UInt8(ascii: "}") { break }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                let key = string()
                skipSpace()
                i += 1  // ':'
                if let first = path.first, key == first {
                    return objectKeys(path: path.dropFirst())
                }
                keys.append(key)
                skipValue()
            }
            return path.isEmpty ? keys : nil
        }
    }
}
