import Audit

/// Event history over events held in memory (the journal's events not yet indexed), with the semantics of the SQL
/// in ``SQLiteStorage/lookup(_:)``, and the merge of both sides into one page.
extension EventQuery {
    /// Whether an event is on this query's pages: a management event of the account and region, matching the lookup
    /// attribute, inside the time range, and after the cursor in newest-first order.
    ///
    /// Text compares as SQLite's `=` does on these columns (BINARY collation): byte for byte in UTF-8, not by
    /// Swift's canonical equivalence.
    func matches(_ row: borrowing EventRow) -> Bool {
        // Fields are read in place (no copy of the event, whose strings would each be retained and released).
        let time = row.event.eventTime
        guard row.event.category == .management, time >= startTime, time <= endTime else { return false }
        if let after, !(time < after.eventTime || (time == after.eventTime && row.seq < after.seq)) {
            return false
        }
        // The attribute first: it tells most events apart, while the account and region are mostly the same.
        let attributeMatches =
            switch attribute {
            case nil: true
            case .eventId?: Self.same(row.event.eventID, value)
            case .eventName?: Self.same(row.event.eventName, value)
            case .eventSource?: Self.same(row.event.eventSource, value)
            case .readOnly?: Self.same(row.event.readOnly ? "true" : "false", value)
            case .username?: Self.same(row.event.username, value)
            case .accessKeyId?: Self.same(row.event.accessKeyId, value)
            case .resourceType?: row.event.lookupResources.contains { Self.same($0.type, value) }
            case .resourceName?: row.event.lookupResources.contains { Self.same($0.name, value) }
            }
        return attributeMatches && Self.same(row.event.accountId, accountId) && Self.same(row.event.region, region)
    }

    /// The first page (at most ``limit`` rows, newest first) of the events in `batches` numbered after `seq` that
    /// match the query.
    func matches(in batches: [[EventRow]], after seq: Int64) -> [EventRow] {
        var found: [EventRow] = []
        for batch in batches where batch[batch.count - 1].seq > seq {
            for i in batch.indices where batch[i].seq > seq && matches(batch[i]) {
                found.append(batch[i])
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
