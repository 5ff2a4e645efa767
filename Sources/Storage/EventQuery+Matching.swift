import Audit

/// Event history over events held in memory (the journal's events not yet indexed), with the semantics of the SQL
/// in ``SQLiteStorage/lookup(_:)``, and the merge of both sides into one page.
extension EventQuery {
    /// Whether the event at `row` is on this query's pages: a management event of the account and region, matching
    /// the lookup attribute, inside the time range, and after the cursor in newest-first order.
    ///
    /// Text compares as SQLite's `=` does on these columns (BINARY collation): byte for byte in UTF-8, not by
    /// Swift's canonical equivalence. The event is read in place through the pointer: a copy would retain and release
    /// each of its strings.
    func matches(_ row: UnsafePointer<EventRow>) -> Bool {
        let time = row.pointee.event.eventTime
        guard case .management = row.pointee.event.category, time >= startTime, time <= endTime else { return false }
        if let after, !(time < after.eventTime || (time == after.eventTime && row.pointee.seq < after.seq)) {
            return false
        }
        // The attribute first: it tells most events apart, while the account and region are mostly the same.
        let attributeMatches =
            switch attribute {
            case nil: true
            case .eventId?: Self.same(row.pointee.event.eventID, value)
            case .eventName?: Self.same(row.pointee.event.eventName, value)
            case .eventSource?: Self.same(row.pointee.event.eventSource, value)
            case .readOnly?: Self.same(row.pointee.event.readOnly ? "true" : "false", value)
            case .username?: Self.same(row.pointee.event.username, value)
            case .accessKeyId?: Self.same(row.pointee.event.accessKeyId, value)
            case .resourceType?: row.pointee.event.lookupResources.contains { Self.same($0.type, value) }
            case .resourceName?: row.pointee.event.lookupResources.contains { Self.same($0.name, value) }
            }
        return attributeMatches && Self.same(row.pointee.event.accountId, accountId) && Self.same(row.pointee.event.region, region)
    }

    /// The first page (at most ``limit`` rows, newest first) of the events in `batches` numbered after `seq` that
    /// match the query.
    ///
    /// The batches are read through pointers: every concurrent look-up reads the same batches, and retaining and
    /// releasing each batch or event (atomic updates of counters the cores pass back and forth) cost more than the
    /// matching.
    func matches(in batches: [[EventRow]], after seq: Int64) -> [EventRow] {
        var found: [EventRow] = []
        batches.withUnsafeBufferPointer { batches in
            for b in 0..<batches.count {
                batches[b].withUnsafeBufferPointer { rows in
                    guard let first = rows.baseAddress, first[rows.count - 1].seq > seq else { return }
                    for i in 0..<rows.count where first[i].seq > seq && matches(first + i) {
                        found.append(first[i])
                    }
                }
            }
        }
        found.sort(by: Self.newerFirst)
        return Array(found.prefix(limit))
    }

    /// Merges two pages, each newest first and without an event in common, into the first ``limit`` rows of both.
    func merge(_ a: [EventRow], _ b: [EventRow]) -> [EventRow] {
        guard !b.isEmpty else { return Array(a.prefix(limit)) }
        guard !a.isEmpty else { return Array(b.prefix(limit)) }
        var merged: [EventRow] = []
        merged.reserveCapacity(min(limit, a.count + b.count))
        var i = a.startIndex
        var j = b.startIndex
        while merged.count < limit, i < a.endIndex || j < b.endIndex {
            if j == b.endIndex || (i < a.endIndex && Self.newerFirst(a[i], b[j])) {
                merged.append(a[i])
                i += 1
            } else {
                merged.append(b[j])
                j += 1
            }
        }
        return merged
    }

    /// Newest-first order: by event time, then by `seq`, both descending (the SQL's `ORDER BY`).
    static func newerFirst(_ x: EventRow, _ y: EventRow) -> Bool {
        x.event.eventTime != y.event.eventTime ? x.event.eventTime > y.event.eventTime : x.seq > y.seq
    }

    /// Equality of two strings' UTF-8 bytes (compared as buffers: iterating `String.UTF8View`s is several times
    /// slower, and every look-up compares each unindexed event).
    private static func same(_ x: String, _ y: String) -> Bool {
        guard x.utf8.count == y.utf8.count else { return false }
        var x = x
        var y = y
        return x.withUTF8 { a in y.withUTF8 { b in a.elementsEqual(b) } }
    }
}
