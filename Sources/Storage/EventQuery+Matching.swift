import Audit

/// Event history over events held in memory (the journal's events not yet indexed), with the semantics of the SQL
/// in ``SQLiteStorage/lookup(_:)``, and the merge of both sides into one page.
extension EventQuery {
    /// Whether an event is on this query's pages: a management event of the account and region, matching the lookup
    /// attribute, inside the time range, and after the cursor in newest-first order.
    ///
    /// Text compares as SQLite's `=` does on these columns (BINARY collation): byte for byte in UTF-8, not by
    /// Swift's canonical equivalence.
    func matches(_ row: EventRow) -> Bool {
        let e = row.event
        guard e.category == .management, Self.same(e.accountId, accountId), Self.same(e.region, region),
            e.eventTime >= startTime, e.eventTime <= endTime
        else { return false }
        if let after, !(e.eventTime < after.eventTime || (e.eventTime == after.eventTime && row.seq < after.seq)) {
            return false
        }
        switch attribute {
        case nil: return true
        case .eventId?: return Self.same(e.eventID, value)
        case .eventName?: return Self.same(e.eventName, value)
        case .eventSource?: return Self.same(e.eventSource, value)
        case .readOnly?: return Self.same(e.readOnly ? "true" : "false", value)
        case .username?: return Self.same(e.username, value)
        case .accessKeyId?: return Self.same(e.accessKeyId, value)
        case .resourceType?: return e.lookupResources.contains { Self.same($0.type, value) }
        case .resourceName?: return e.lookupResources.contains { Self.same($0.name, value) }
        }
    }

    /// The first page (at most ``limit`` rows, newest first) of the events in `batches` numbered after `seq` that
    /// match the query.
    func matches(in batches: [[EventRow]], after seq: Int64) -> [EventRow] {
        var found: [EventRow] = []
        for batch in batches where batch.last!.seq > seq {
            for row in batch where row.seq > seq && matches(row) {
                found.append(row)
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

    /// Equality of two strings' UTF-8 bytes.
    private static func same(_ x: String, _ y: String) -> Bool {
        x.utf8.elementsEqual(y.utf8)
    }
}
