import Storage

/// The object index as S3 uses it: every key goes through ``ObjectKeyIndex/stored(_:)`` on the way in and
/// ``ObjectKeyIndex/key(_:)`` on the way out.
///
/// An S3 key may hold any Unicode character, U+0000 included, but the index keeps keys as SQLite text bound as C
/// strings, which end at the first NUL: `a\0b` and `a\0c` would both be stored, found and listed as `a`. Keys are
/// therefore stored escaped, U+0000 as `01 01` and U+0001 as `01 02` (every other byte as it is). The escape is
/// prefix-free and keeps the byte order of keys, so the index still lists keys in S3's order and a prefix of a key
/// is still a prefix of its stored form; keys without U+0000 and U+0001 are stored unchanged.
struct ObjectKeyIndex: Sendable {
    /// The index underneath.
    let base: any ObjectIndex

    /// The record of one object, or `nil`.
    func object(bucket: String, key: String) async throws -> [UInt8]? {
        try await base.object(bucket: bucket, key: Self.stored(key))
    }

    /// Stores or replaces an object's record; returns the record it replaced.
    @discardableResult
    func putObject(bucket: String, key: String, record: [UInt8]) async throws -> [UInt8]? {
        try await base.putObject(bucket: bucket, key: Self.stored(key), record: record)
    }

    /// Removes an object's record; returns it, or `nil` when there was none.
    @discardableResult
    func deleteObject(bucket: String, key: String) async throws -> [UInt8]? {
        try await base.deleteObject(bucket: bucket, key: Self.stored(key))
    }

    /// Up to `limit` objects whose keys start with `prefix` and sort after `after`, in S3's key order.
    func listObjects(bucket: String, prefix: String, after: String?, limit: Int) async throws -> [(key: String, record: [UInt8])] {
        try await base.listObjects(bucket: bucket, prefix: Self.stored(prefix), after: after.map(Self.stored), limit: limit)
            .map { (key: Self.key($0.key), record: $0.record) }
    }

    /// The escape byte.
    private static let escape: UInt8 = 0x01

    /// A key as the index stores it: U+0000 as `01 01`, U+0001 as `01 02`.
    static func stored(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 <= escape }) else { return key }
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count + 4)
        for byte in key.utf8 {
            if byte <= escape {
                out.append(escape)
                out.append(byte + 1)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The key a stored form stands for (the inverse of ``stored(_:)``; a lone escape byte is kept as it is).
    static func key(_ stored: String) -> String {
        guard stored.utf8.contains(escape) else { return stored }
        var out: [UInt8] = []
        out.reserveCapacity(stored.utf8.count)
        var bytes = stored.utf8.makeIterator()
        var pending = bytes.next()
        while let byte = pending {
            pending = bytes.next()
            if byte == escape, let next = pending, next == 1 || next == 2 {
                out.append(next - 1)
                pending = bytes.next()
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
