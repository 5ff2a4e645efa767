import AWSCore
package import Audit
import Foundation
import GRDB

/// The embedded storage: one SQLite database in WAL mode inside the data directory.
///
/// Events are appended to the ``EventJournal`` (group commit, durable before the caller's response is sent) and
/// moved into the event tables in large transactions by ``settle()``. Event history (``lookup(_:)``) reads the tables
/// and the journal's events not yet indexed, so it never waits for indexing; the delivery feed and retention settle
/// first. Reads run concurrently with writes (WAL readers). `synchronous=FULL` makes every other commit durable on
/// disk before its caller answers.
package final class SQLiteStorage: EventStore, StateStore, ObjectIndex, Sendable {
    private let pool: DatabasePool
    /// Where appended events are durable until ``settle()`` indexes them (internal, for tests).
    let journal: EventJournal
    /// A separate connection that only checkpoints the WAL, so that checkpoints do not run inside commits.
    private let checkpointer: DatabaseQueue

    /// Opens (creating if needed) `cairn.sqlite` in `directory` and migrates it to the current schema.
    ///
    /// - Throws: when the directory cannot be created or the database cannot be opened or migrated.
    package init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Checkpoints are the job of `checkpoint()`, called in the background; this bound only keeps the WAL
            // from growing without limit should that stop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        }
        config.maximumReaderCount = 4
        let pool = try DatabasePool(path: directory + "/cairn.sqlite", configuration: config)
        // GRDB's pool turns its writer to `synchronous=NORMAL` when it switches the database to WAL, after
        // `prepareDatabase` ran. Every commit must reach the disk before its caller answers, so the writer goes back
        // to FULL (the pool keeps one writer connection for its lifetime).
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 64 MiB of page cache for the writer: each indexed event inserts into seven B-trees, one of them keyed
            // by random event ids, and a small cache turns those inserts into reads of the database file.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        try Self.migrator.migrate(pool)
        self.pool = pool
        self.checkpointer = try DatabaseQueue(path: directory + "/cairn.sqlite")
        let journal = try EventJournal(path: directory + "/events.journal")
        self.journal = journal
        // Events acknowledged but not yet indexed when the process last stopped are still in the journal.
        let journaled = try journal.recover()
        let last = try pool.write { db -> Int64 in
            let stored = try Self.indexedThrough(db)
            let missing = journaled.filter { $0.seq > stored }
            guard let newest = missing.last else { return stored }
            try Self.insert(missing, db)
            return newest.seq
        }
        journal.start(after: max(last, journaled.last?.seq ?? 0), indexedThrough: max(last, journaled.last?.seq ?? 0))
    }

    deinit {
        journal.stop()
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY,
                        account TEXT NOT NULL,
                        region TEXT NOT NULL,
                        management INTEGER NOT NULL,
                        event_time INTEGER NOT NULL,
                        event_id TEXT NOT NULL,
                        event_name TEXT NOT NULL,
                        event_source TEXT NOT NULL,
                        read_only TEXT NOT NULL,
                        username TEXT NOT NULL,
                        access_key_id TEXT NOT NULL,
                        resources TEXT NOT NULL,
                        record BLOB NOT NULL
                    );
                    CREATE INDEX events_by_time ON events(account, region, management, event_time, seq);
                    CREATE INDEX events_by_id ON events(event_id);
                    CREATE INDEX events_by_name ON events(account, region, management, event_name, event_time, seq);
                    CREATE INDEX events_by_source ON events(account, region, management, event_source, event_time, seq);
                    CREATE INDEX events_by_username ON events(account, region, management, username, event_time, seq);
                    CREATE INDEX events_by_key ON events(account, region, management, access_key_id, event_time, seq);
                    CREATE TABLE event_resources (
                        seq INTEGER NOT NULL,
                        account TEXT NOT NULL,
                        region TEXT NOT NULL,
                        management INTEGER NOT NULL,
                        event_time INTEGER NOT NULL,
                        type TEXT NOT NULL,
                        name TEXT NOT NULL
                    );
                    CREATE INDEX resources_by_type ON event_resources(account, region, management, type, event_time, seq);
                    CREATE INDEX resources_by_name ON event_resources(account, region, management, name, event_time, seq);
                    CREATE TABLE state (
                        namespace TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value BLOB NOT NULL,
                        PRIMARY KEY (namespace, key)
                    ) WITHOUT ROWID;
                    """
            )
        }
        m.registerMigration("v2-s3-objects") { db in
            // TEXT compares with memcmp (BINARY collation): the UTF-8 byte order S3 lists keys in.
            try db.execute(
                sql: """
                    CREATE TABLE s3_objects (
                        bucket TEXT NOT NULL,
                        key TEXT NOT NULL,
                        record BLOB NOT NULL,
                        PRIMARY KEY (bucket, key)
                    ) WITHOUT ROWID;
                    """
            )
        }
        return m
    }

    /// The namespace and key of the highest `seq` ever indexed, kept in the state table so that numbering goes on
    /// from it even when retention has removed every event.
    private static let highWaterKey = (namespace: "cairn.storage", key: "events.seq")

    /// The highest `seq` ever indexed (0 when none).
    private static func highWater(_ db: Database) throws -> Int64 {
        let value = try Data.fetchOne(
            db, sql: "SELECT value FROM state WHERE namespace = ? AND key = ?", arguments: [highWaterKey.namespace, highWaterKey.key])
        return value.flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? 0
    }

    /// The newest event the event tables hold or held (retention may have removed it): they hold every event up to it
    /// that retention left, since events enter them in `seq` order, and none after it.
    private static func indexedThrough(_ db: Database) throws -> Int64 {
        max(try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0, try highWater(db))
    }

    /// Writes journaled events (oldest first) into the event tables with their journal numbers, and raises the
    /// high-water mark; returns the newest one's number, nil when there is none.
    @discardableResult
    private static func insert(_ rows: some Sequence<EventRow>, _ db: Database) throws -> Int64? {
        let insertEvent = try db.cachedStatement(
            sql: """
                INSERT INTO events (seq, account, region, management, event_time, event_id, event_name, event_source,
                    read_only, username, access_key_id, resources, record)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        let insertResource = try db.cachedStatement(
            sql: "INSERT INTO event_resources (seq, account, region, management, event_time, type, name) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        var last: Int64?
        for row in rows {
            last = row.seq
            let e = row.event
            let management = e.category == .management ? 1 : 0
            let resources = Self.encodeResources(e.lookupResources)
            try insertEvent.execute(arguments: [
                row.seq, e.accountId, e.region, management, e.eventTime, e.eventID, e.eventName, e.eventSource,
                e.readOnly ? "true" : "false", e.username, e.accessKeyId, resources, Data(e.record),
            ])
            for r in e.lookupResources {
                try insertResource.execute(arguments: [row.seq, e.accountId, e.region, management, e.eventTime, r.type, r.name])
            }
        }
        if let last {
            try db.execute(
                sql: "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value",
                arguments: [highWaterKey.namespace, highWaterKey.key, Data(String(last).utf8)])
        }
        return last
    }

    /// Copies committed WAL frames into the database file (a passive checkpoint), on a connection of its own.
    ///
    /// Writers keep committing meanwhile; SQLite's own automatic checkpoint would instead run inside one of the
    /// commits and hold up every request waiting for it.
    package func checkpoint() async throws {
        try await checkpointer.writeWithoutTransaction { db in
            _ = try db.checkpoint(.passive)
        }
    }

    /// Journaled events beyond which an append indexes before it returns, so that memory stays bounded when
    /// ``settle()`` is not called in the background.
    static let maxPending = 16384

    package func append(_ events: [StoredEvent]) async throws {
        try await journal.append(events)
        if journal.pendingCount > Self.maxPending { try await settle() }
    }

    /// Moves every journaled event acknowledged so far into the event tables, in one transaction; returns at once
    /// when there is none. The delivery feed and retention run it first, so they see every acknowledged event.
    package func settle() async throws {
        let progress = journal.progress
        guard progress.acknowledged > progress.indexed else { return }
        do {
            let last = try await pool.write { db -> Int64? in
                // Chosen inside the write, which GRDB runs one at a time, after the newest event the tables hold:
                // events enter the tables in journal order, each once, even after a failed transaction.
                try Self.insert(self.journal.rowsToIndex(after: try Self.indexedThrough(db)).joined(), db)
            }
            if let last { journal.indexed(through: last) }
        } catch {
            journal.indexingFailed()
            throw error
        }
    }

    /// Indexes every acknowledged event and ends the journal's writer thread: later appends fail. Called once at a
    /// graceful shutdown, after everything that appends has stopped.
    package func close() async throws {
        do {
            try await settle()
        } catch {
            await journal.shutdown()  // the events stay journaled and are indexed at the next start
            throw error
        }
        await journal.shutdown()
    }

    /// Event history: the page from the event tables merged with the journal's events not yet indexed that match the
    /// query, newest first (by event time, then `seq`), without waiting for indexing.
    ///
    /// The journal's list is taken before the read's snapshot of the tables: an event leaves the list only after its
    /// indexing committed, so each acknowledged event is in the list or in the snapshot. Events of the list the
    /// snapshot already holds (`seq` up to its newest) are left out, so none appears twice. A cursor is a position
    /// in that order, `(eventTime, seq)`, whichever side held its event, so paging stays exact while events move
    /// from the journal into the tables between pages.
    package func lookup(_ q: EventQuery) async throws -> [EventRow] {
        let unindexed = journal.unindexedBatches()
        let (indexed, through) = try await pool.read { db -> ([EventRow], Int64) in
            let rows = try Self.lookupTables(q, db)
            return (rows, unindexed.isEmpty ? 0 : try Self.indexedThrough(db))
        }
        guard !unindexed.isEmpty else { return indexed }
        return q.merge(indexed, q.matches(in: unindexed, after: through))
    }

    /// The page of Event history the event tables hold, newest first.
    private static func lookupTables(_ q: EventQuery, _ db: Database) throws -> [EventRow] {
        var sql: String
        var args: StatementArguments = []
        let columns =
            "e.seq, e.account, e.region, e.management, e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.resources, e.record"
        var timeColumn = "e.event_time"
        var seqColumn = "e.seq"
        switch q.attribute {
        case .resourceType?, .resourceName?:
            let column = q.attribute == .resourceType ? "type" : "name"
            sql =
                "SELECT DISTINCT \(columns) FROM event_resources r JOIN events e ON e.seq = r.seq WHERE r.account = ? AND r.region = ? AND r.management = 1 AND r.\(column) = ?"
            args += [q.accountId, q.region, q.value]
            timeColumn = "r.event_time"
            seqColumn = "r.seq"
        case .eventId?:
            sql = "SELECT \(columns) FROM events e WHERE e.event_id = ? AND e.account = ? AND e.region = ? AND e.management = 1"
            args += [q.value, q.accountId, q.region]
        case let key?:
            let column =
                switch key {
                case .eventName: "event_name"
                case .eventSource: "event_source"
                case .readOnly: "read_only"
                case .username: "username"
                default: "access_key_id"
                }
            sql = "SELECT \(columns) FROM events e WHERE e.account = ? AND e.region = ? AND e.management = 1 AND e.\(column) = ?"
            args += [q.accountId, q.region, q.value]
        case nil:
            sql = "SELECT \(columns) FROM events e WHERE e.account = ? AND e.region = ? AND e.management = 1"
            args += [q.accountId, q.region]
        }
        sql += " AND \(timeColumn) >= ? AND \(timeColumn) <= ?"
        args += [q.startTime, q.endTime]
        if let after = q.after {
            sql += " AND (\(timeColumn) < ? OR (\(timeColumn) = ? AND \(seqColumn) < ?))"
            args += [after.eventTime, after.eventTime, after.seq]
        }
        sql += " ORDER BY \(timeColumn) DESC, \(seqColumn) DESC LIMIT ?"
        args += [q.limit]
        let statement = try db.cachedStatement(sql: sql)
        return try Array(Row.fetchCursor(statement, arguments: args).map(Self.eventRow))
    }

    /// Reads an event from a row of the event columns (`seq, account, ..., record`, in table order).
    ///
    /// Read from a cursor's rows, which are the statement's current row: values come straight from SQLite, where the
    /// copied rows of `fetchAll` went through `DatabaseValue` and a generic conversion for every column, and the
    /// record is copied once.
    static func eventRow(_ row: Row) throws -> EventRow {
        let resources = Self.decodeResources(row[11])
        let record = try row.withUnsafeData(atIndex: 12) { [UInt8]($0 ?? Data()) }
        let readOnly: String = row[8]
        let management: Int = row[3]
        return EventRow(
            seq: row[0],
            event: StoredEvent(
                accountId: row[1], region: row[2], category: management == 1 ? .management : .data, eventTime: row[4],
                eventID: row[5], eventName: row[6], eventSource: row[7], readOnly: readOnly == "true", username: row[9],
                accessKeyId: row[10], lookupResources: resources, record: record
            )
        )
    }

    /// The `resources` column: `type US name` entries separated by RS (ASCII unit and record separators, which
    /// resource types and names never contain), so reading a page of events parses no JSON.
    static func encodeResources(_ resources: [LookupResource]) -> String {
        resources.map { "\($0.type)\u{1F}\($0.name)" }.joined(separator: "\u{1E}")
    }

    /// Parses the `resources` column.
    static func decodeResources(_ text: String) -> [LookupResource] {
        guard !text.isEmpty else { return [] }
        return text.split(separator: "\u{1E}").compactMap { entry in
            let parts = entry.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? LookupResource(type: String(parts[0]), name: String(parts[1])) : nil
        }
    }

    package func purge(before cutoff: Int64) async throws -> Int {
        try await settle()
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM event_resources WHERE event_time < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM events WHERE event_time < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    package func put(_ namespace: String, _ key: String, _ value: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value",
                arguments: [namespace, key, Data(value)]
            )
        }
    }

    package func put(_ namespace: String, entries: [(key: String, value: [UInt8])]) async throws {
        guard !entries.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value")
            for entry in entries {
                try statement.execute(arguments: [namespace, entry.key, Data(entry.value)])
            }
        }
    }

    package func delete(_ namespace: String, _ key: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM state WHERE namespace = ? AND key = ?", arguments: [namespace, key])
        }
    }

    package func all(_ namespace: String) async throws -> [(key: String, value: [UInt8])] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM state WHERE namespace = ? ORDER BY key", arguments: [namespace])
                .map { row in
                    let data: Data = row[1]
                    return (key: row[0], value: [UInt8](data))
                }
        }
    }
}

extension StoredEvent {
    /// Rebuilds a stored event from its columns.
    package init(
        accountId: String, region: String, category: EventCategory, eventTime: Int64, eventID: String, eventName: String,
        eventSource: String, readOnly: Bool, username: String, accessKeyId: String, lookupResources: [LookupResource],
        record: [UInt8]
    ) {
        self.accountId = accountId
        self.region = region
        self.category = category
        self.eventTime = eventTime
        self.eventID = eventID
        self.eventName = eventName
        self.eventSource = eventSource
        self.readOnly = readOnly
        self.username = username
        self.accessKeyId = accessKeyId
        self.lookupResources = lookupResources
        self.record = record
    }
}

extension SQLiteStorage {
    package func events(after seq: Int64, limit: Int) async throws -> [EventRow] {
        try await settle()
        return try await pool.read { db in
            try Array(
                Row.fetchCursor(
                    db,
                    sql: """
                        SELECT seq, account, region, management, event_time, event_id, event_name, event_source, read_only,
                            username, access_key_id, resources, record
                        FROM events WHERE seq > ? ORDER BY seq LIMIT ?
                        """, arguments: [seq, limit]
                ).map(Self.eventRow))
        }
    }

    /// The writer connection's `synchronous` setting (2 = FULL: every commit is synced before it returns).
    package func writerSynchronousMode() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    package func latestSequence() async throws -> Int64 {
        try await settle()
        return try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
    }

    package func apply(_ changes: [StateChange]) async throws {
        try await pool.write { db in
            for change in changes {
                if let value = change.value {
                    try db.execute(
                        sql:
                            "INSERT INTO state (namespace, key, value) VALUES (?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value",
                        arguments: [change.namespace, change.key, Data(value)])
                } else {
                    try db.execute(sql: "DELETE FROM state WHERE namespace = ? AND key = ?", arguments: [change.namespace, change.key])
                }
            }
        }
    }

    /// The least string above every string that starts with `prefix` (in UTF-8 byte order, which is code point
    /// order): the prefix with its last scalar replaced by the next one. `nil` for an empty prefix.
    package static func upperBound(ofPrefix prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }
            if let scalar = Unicode.Scalar(next) {
                var result = String.UnicodeScalarView()
                result.append(contentsOf: scalars)
                result.append(scalar)
                return String(result)
            }
        }
        return nil
    }

    package func entries(_ namespace: String, prefix: String) async throws -> [(key: String, value: [UInt8])] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT key, value FROM state WHERE namespace = ? AND key >= ? AND key < ? ORDER BY key",
                arguments: [namespace, prefix, Self.upperBound(ofPrefix: prefix) ?? "\u{10FFFF}\u{10FFFF}"]
            ).map { row in
                let data: Data = row[1]
                return (key: row[0], value: [UInt8](data))
            }
        }
    }

    package func object(bucket: String, key: String) async throws -> [UInt8]? {
        try await pool.read { db in
            let data = try Data.fetchOne(db, sql: "SELECT record FROM s3_objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            return data.map { [UInt8]($0) }
        }
    }

    @discardableResult
    package func putObject(bucket: String, key: String, record: [UInt8]) async throws -> [UInt8]? {
        try await pool.write { db in
            let old = try Data.fetchOne(db, sql: "SELECT record FROM s3_objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            try db.execute(
                sql: "INSERT INTO s3_objects (bucket, key, record) VALUES (?, ?, ?) ON CONFLICT(bucket, key) DO UPDATE SET record = excluded.record",
                arguments: [bucket, key, Data(record)])
            return old.map { [UInt8]($0) }
        }
    }

    @discardableResult
    package func deleteObject(bucket: String, key: String) async throws -> [UInt8]? {
        try await pool.write { db in
            let old = try Data.fetchOne(db, sql: "SELECT record FROM s3_objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            if old != nil {
                try db.execute(sql: "DELETE FROM s3_objects WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            }
            return old.map { [UInt8]($0) }
        }
    }

    package func listObjects(bucket: String, prefix: String, after: String?, limit: Int) async throws -> [(key: String, record: [UInt8])] {
        try await pool.read { db in
            // Keys compare as UTF-8 bytes, so the keys with a prefix are one contiguous range of the index.
            var sql = "SELECT key, record FROM s3_objects WHERE bucket = ? AND key >= ?"
            var args: StatementArguments = [bucket, prefix]
            if let upper = Self.upperBound(ofPrefix: prefix) {
                sql += " AND key < ?"
                args += [upper]
            }
            if let after {
                sql += " AND key > ?"
                args += [after]
            }
            sql += " ORDER BY key LIMIT ?"
            args += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                let data: Data = row[1]
                return (key: row[0], record: [UInt8](data))
            }
        }
    }
}
