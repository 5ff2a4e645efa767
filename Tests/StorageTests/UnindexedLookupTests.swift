import AWSCore
import Audit
import Foundation
import TestSupport
import Testing

@testable import Storage

/// Event history over the event tables plus the journal's events not yet indexed: lookups never settle, yet see every
/// acknowledged event once, with the same filters and order as the tables alone.
@Suite("Event history over unindexed events")
struct UnindexedLookupTests {
    @Test("a lookup sees events that are only in the journal, and does not index them")
    func journalOnly() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            #expect(ids(try await storage.lookup(query())) == ["e5", "e4", "e2", "e3", "e1"])
            #expect(ids(try await storage.lookup(query(.eventId, "e3"))) == ["e3"])
            // Nothing was indexed: the lookup read the journal's list, it did not settle.
            #expect(storage.journal.progress.indexed == 0)
            #expect(storage.journal.unindexedBatches().joined().count == sample.count)
        }
    }

    @Test("indexed and unindexed events interleave in one newest-first page, each once")
    func mixedPage() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(Array(sample[0..<3]))
            try await storage.settle()
            try await storage.append(Array(sample[3...]))
            #expect(storage.journal.progress.indexed == 3)
            #expect(ids(try await storage.lookup(query())) == ["e5", "e4", "e2", "e3", "e1"])
            // e2 (indexed) and e4 (not) share a second: the later append comes first.
            #expect(ids(try await storage.lookup(query(.eventName, "DescribeTrails"))) == ["e4", "e2"])
            #expect(ids(try await storage.lookup(query(limit: 2))) == ["e5", "e4"])
            #expect(ids(try await storage.lookup(query(.resourceName, "trail-a", limit: 1))) == ["e5"])
        }
    }

    @Test(
        "each lookup attribute filters unindexed events as the tables do",
        arguments: [
            (LookupKey.eventId, "e3", ["e3"]),
            (.eventId, "x1", []),
            (.eventName, "DescribeTrails", ["e4", "e2"]),
            (.eventName, "GetObject", []),
            (.eventSource, "sts.amazonaws.com", ["e3"]),
            (.readOnly, "false", ["e5", "e3", "e1"]),
            (.readOnly, "true", ["e4", "e2"]),
            (.readOnly, "True", []),
            (.username, "alice", ["e4", "e1"]),
            (.accessKeyId, "AKIABOB", ["e3"]),
            (.resourceType, "AWS::CloudTrail::Trail", ["e5", "e1"]),
            (.resourceType, "AWS::S3::Bucket", ["e1"]),
            (.resourceName, "trail-a", ["e5", "e1"]),
            (.resourceName, "arn:aws:iam::000000000000:role/Admin", ["e3"]),
            (.resourceName, "nothing", []),
        ])
    func byAttribute(key: LookupKey, value: String, expected: [String]) async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            let unindexed = ids(try await storage.lookup(query(key, value)))
            #expect(storage.journal.progress.indexed == 0)
            try await storage.settle()
            let indexed = ids(try await storage.lookup(query(key, value)))
            #expect(unindexed == expected)
            #expect(indexed == expected)
        }
    }

    @Test("the unindexed events the tables' snapshot already holds are left out, and the merge keeps one newest-first page")
    func overlapLeftOut() {
        // Batches 1-3 and 4-6; the snapshot holds up to 4 (committed, not yet dropped from the list).
        let rows = (1...6).map { EventRow(seq: Int64($0), event: event("o\($0)", time: t0 + Int64($0 % 2))) }
        let q = query(limit: 3)
        let pending = q.matches(in: [Array(rows[0..<3]), Array(rows[3..<6])], after: 4)
        #expect(pending.map(\.seq) == [5, 6])
        // Odd numbers at t0 + 1, even ones at t0. The tables' page, newest first: 3, then 4 and 2.
        let tables = [rows[2], rows[3], rows[1]]
        #expect(q.merge(tables, pending).map(\.seq) == [5, 3, 6])
        #expect(q.merge([], pending).map(\.seq) == [5, 6])
        #expect(query(limit: 10).merge(tables, pending).map(\.seq) == [5, 3, 6, 4, 2])
    }

    @Test("text matches byte for byte, as SQLite compares it, not by canonical equivalence")
    func bytewiseText() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            // "é" as one scalar, and as "e" and a combining accent: equal Swift strings, different bytes.
            try await storage.append([event("n1", time: t0, username: "Jos\u{E9}"), event("n2", time: t0 + 1, username: "Jose\u{301}")])
            let pending = ids(try await storage.lookup(query(.username, "Jos\u{E9}")))
            try await storage.settle()
            let indexed = ids(try await storage.lookup(query(.username, "Jos\u{E9}")))
            #expect(pending == ["n1"])
            #expect(indexed == ["n1"])
        }
    }

    @Test("paging walks every event once while events move from the journal into the tables between pages")
    func pagingAcrossSettles() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            // 40 events over 12 distinct seconds, in four appends: times do not follow the order of appends.
            let events = (0..<40).map { i in event("p\(i)", time: t0 + Int64((i * 7) % 12), name: ["A", "B"][i % 2]) }
            for part in 0..<4 {
                try await storage.append(Array(events[(part * 10)..<(part * 10 + 10)]))
                if part == 0 { try await storage.settle() }
            }
            for (attribute, value) in [(LookupKey?.none, ""), (.eventName, "A")] {
                let expected = events.enumerated()
                    .filter { attribute == nil || $0.element.eventName == value }
                    .sorted { ($0.element.eventTime, $0.offset) > ($1.element.eventTime, $1.offset) }
                    .map(\.element.eventID)
                var seen: [String] = []
                var cursor: EventQuery.Cursor?
                var pages = 0
                repeat {
                    let page = try await storage.lookup(query(attribute, value, after: cursor, limit: 3))
                    seen += ids(page)
                    cursor = page.last.map { EventQuery.Cursor(eventTime: $0.event.eventTime, seq: $0.seq) }
                    pages += 1
                    // Between pages: index what is pending, or append an event newer than every other (outside
                    // the walk, which started before it, and of another name).
                    if pages % 2 == 1 {
                        try await storage.settle()
                    } else {
                        try await storage.append([event("late\(pages)", time: t0 + 100, name: "Late")])
                    }
                    if page.count < 3 { break }
                } while pages < 100
                #expect(seen == expected)
            }
            #expect(storage.journal.progress.indexed > 10)
        }
    }

    @Test("lookups racing the indexer see every acknowledged event exactly once")
    func racingIndexer() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            let total = 300
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    // The indexer, without pause, until every event is indexed.
                    while storage.journal.progress.indexed < Int64(total) {
                        try await storage.settle()
                        await Task.yield()
                    }
                }
                for i in 0..<total {
                    tasks.addTask {
                        try await storage.append([event("r\(i)", time: t0 + Int64(i % 7), name: "N\(i % 3)")])
                        #expect(ids(try await storage.lookup(query(.eventId, "r\(i)"))) == ["r\(i)"])
                        let all = try await storage.lookup(query(.eventName, "N\(i % 3)", limit: 1000))
                        #expect(all.contains { $0.event.eventID == "r\(i)" })
                        #expect(Set(all.map(\.seq)).count == all.count)
                    }
                }
                try await tasks.waitForAll()
            }
            var found = 0
            for n in 0..<3 { found += try await storage.lookup(query(.eventName, "N\(n)", limit: 1000)).count }
            #expect(found == total)
        }
    }

    @Test("random queries over a random split of indexed and unindexed events return what the tables alone return")
    func differential() async throws {
        var random = SeededGenerator(seed: 0xCA1B)
        let names = ["A", "B", "C"]
        let users = ["alice", "bob", "Jos\u{E9}", "Jose\u{301}"]
        let resourceNames = ["r1", "r2", "r3"]
        for round in 0..<4 {
            try await withTemporaryDirectory { dir in
                let storage = try SQLiteStorage(directory: dir)
                var events: [StoredEvent] = []
                for i in 0..<120 {
                    let resources = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                        LookupResource(
                            type: ["AWS::S3::Bucket", "AWS::IAM::Role"].randomElement(using: &random)!,
                            name: resourceNames.randomElement(using: &random)!)
                    }
                    events.append(
                        event(
                            "d\(round)-\(i)", time: t0 + Int64.random(in: 0..<20, using: &random),
                            name: names.randomElement(using: &random)!,
                            source: ["s3.amazonaws.com", "sts.amazonaws.com"].randomElement(using: &random)!,
                            readOnly: Bool.random(using: &random), username: users.randomElement(using: &random)!,
                            key: ["AKIA1", "AKIA2"].randomElement(using: &random)!,
                            account: Int.random(in: 0..<8, using: &random) == 0 ? "111122223333" : "000000000000",
                            region: Int.random(in: 0..<8, using: &random) == 0 ? "eu-west-1" : "us-east-1",
                            category: Int.random(in: 0..<8, using: &random) == 0 ? .data : .management, resources: resources))
                }
                // The first part indexed, the rest only in the journal, in appends of random sizes.
                let split = Int.random(in: 0...events.count, using: &random)
                try await storage.append(Array(events[..<split]))
                try await storage.settle()
                var next = split
                while next < events.count {
                    let end = min(events.count, next + Int.random(in: 1...30, using: &random))
                    try await storage.append(Array(events[next..<end]))
                    next = end
                }
                var queries: [EventQuery] = []
                for _ in 0..<150 {
                    let attribute = ([nil] + LookupKey.allCases.map(Optional.some)).randomElement(using: &random)!
                    let value: String =
                        switch attribute {
                        case nil: ""
                        case .eventId?: "d\(round)-\(Int.random(in: 0..<130, using: &random))"
                        case .eventName?: names.randomElement(using: &random)!
                        case .eventSource?: ["s3.amazonaws.com", "sts.amazonaws.com"].randomElement(using: &random)!
                        case .readOnly?: ["true", "false"].randomElement(using: &random)!
                        case .username?: users.randomElement(using: &random)!
                        case .accessKeyId?: ["AKIA1", "AKIA2", "AKIA3"].randomElement(using: &random)!
                        case .resourceType?: ["AWS::S3::Bucket", "AWS::IAM::Role"].randomElement(using: &random)!
                        case .resourceName?: resourceNames.randomElement(using: &random)!
                        }
                    let start = t0 + Int64.random(in: 0..<10, using: &random)
                    let end = start + Int64.random(in: 0..<15, using: &random)
                    let after =
                        Bool.random(using: &random)
                        ? EventQuery.Cursor(
                            eventTime: t0 + Int64.random(in: 0..<20, using: &random), seq: Int64.random(in: 1...120, using: &random))
                        : nil
                    queries.append(query(attribute, value, after: after, limit: Int.random(in: 1...60, using: &random), start: start, end: end))
                }
                var mixed: [[Int64]] = []
                for q in queries { mixed.append(try await storage.lookup(q).map(\.seq)) }
                #expect(storage.journal.progress.indexed == Int64(split))
                try await storage.settle()
                #expect(storage.journal.unindexedBatches().isEmpty)
                var matched = 0
                for (q, seen) in zip(queries, mixed) {
                    let indexed = try await storage.lookup(q).map(\.seq)
                    #expect(seen == indexed, "query \(q)")
                    if !indexed.isEmpty { matched += 1 }
                }
                // Most queries find something, so the comparison is not between empty pages.
                #expect(matched > queries.count / 2)
            }
        }
    }
}
