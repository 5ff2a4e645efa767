import AWSCore
import Audit
import Foundation
import Storage
import Testing

/// A fresh temporary directory, removed when the test's closure returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-storage-\(IDs.uuid())").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A stored event whose record is a small JSON object naming the event, so tests can tell rows apart.
func event(
    _ id: String, time: Int64, name: String = "DescribeTrails", source: String = "cloudtrail.amazonaws.com",
    readOnly: Bool = true, username: String = "test", key: String = "AKIATEST", account: String = "000000000000",
    region: String = "us-east-1", category: EventCategory = .management, resources: [LookupResource] = []
) -> StoredEvent {
    StoredEvent(
        accountId: account, region: region, category: category, eventTime: time, eventID: id, eventName: name,
        eventSource: source, readOnly: readOnly, username: username, accessKeyId: key, lookupResources: resources,
        record: Array(#"{"eventID":"\#(id)"}"#.utf8))
}

/// A query over all of 2020-2030 for the default account and region.
func query(
    _ attribute: LookupKey? = nil, _ value: String = "", after: EventQuery.Cursor? = nil, limit: Int = 50, start: Int64 = 1_577_836_800,
    end: Int64 = 1_893_456_000
) -> EventQuery {
    EventQuery(
        accountId: "000000000000", region: "us-east-1", attribute: attribute, value: value, startTime: start, endTime: end,
        after: after, limit: limit)
}

/// The event ids of rows, in order.
func ids(_ rows: [EventRow]) -> [String] { rows.map(\.event.eventID) }

/// 2025-01-01T00:00:00Z.
let t0: Int64 = 1_735_689_600

/// A mixed set of events, appended in an order that is not time order.
let sample: [StoredEvent] = [
    event(
        "e1", time: t0 + 10, name: "CreateTrail", readOnly: false, username: "alice", key: "AKIAALICE",
        resources: [LookupResource(type: "AWS::CloudTrail::Trail", name: "trail-a"), LookupResource(type: "AWS::S3::Bucket", name: "bucket-a")]),
    event("e2", time: t0 + 30, name: "DescribeTrails"),
    event(
        "e3", time: t0 + 20, name: "AssumeRole", source: "sts.amazonaws.com", readOnly: false, username: "bob", key: "AKIABOB",
        resources: [LookupResource(type: "AWS::IAM::Role", name: "arn:aws:iam::000000000000:role/Admin")]),
    event("e4", time: t0 + 30, name: "DescribeTrails", username: "alice", key: "AKIAALICE"),
    event(
        "e5", time: t0 + 40, name: "DeleteTrail", readOnly: false,
        resources: [LookupResource(type: "AWS::CloudTrail::Trail", name: "trail-a"), LookupResource(type: "AWS::CloudTrail::Trail", name: "trail-b")]),
    // Not visible to the default queries: another account, another region, a data event.
    event("x1", time: t0 + 50, account: "111122223333"),
    event("x2", time: t0 + 50, region: "eu-west-1"),
    event("x3", time: t0 + 50, name: "GetObject", source: "s3.amazonaws.com", category: .data),
]

/// The SQLite event and state store in a temporary directory.
@Suite("SQLiteStorage")
struct SQLiteStorageTests {
    @Test("commits are synced to disk: the writer runs with synchronous=FULL in WAL mode, also after a reopen")
    func synchronousFull() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let first = try SQLiteStorage(directory: dir)
                #expect(try await first.writerSynchronousMode() == 2)
            }
            let reopened = try SQLiteStorage(directory: dir)
            #expect(try await reopened.writerSynchronousMode() == 2)
        }
    }

    @Test("the delivery feed returns every event after a sequence number, oldest first, across accounts and categories")
    func feed() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            let all = try await storage.events(after: 0, limit: 100)
            #expect(all.map(\.event.eventID) == sample.map(\.eventID))
            #expect(try await storage.latestSequence() == all.last?.seq)
            let rest = try await storage.events(after: all[2].seq, limit: 2)
            #expect(rest.map(\.event.eventID) == ["e4", "e5"])
        }
    }

    @Test("apply commits puts and deletes of several namespaces together")
    func applyBatch() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.put("a", "gone", [1])
            try await storage.apply([StateChange("a", "k", [2]), StateChange("b", "k", [3]), StateChange("a", "gone", nil)])
            #expect(try await storage.all("a").map(\.key) == ["k"])
            #expect(try await storage.all("b").map(\.value) == [[3]])
        }
    }

    @Test("all management events of the account and region, newest first; equal times by insertion order, newest first")
    func newestFirst() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            #expect(ids(try await storage.lookup(query())) == ["e5", "e4", "e2", "e3", "e1"])
        }
    }

    @Test("rows carry every stored column back")
    func roundTripColumns() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            let row = try #require(try await storage.lookup(query(.eventId, "e1")).first)
            let e = row.event
            #expect(e.accountId == "000000000000")
            #expect(e.region == "us-east-1")
            #expect(e.category == .management)
            #expect(e.eventTime == t0 + 10)
            #expect(e.eventName == "CreateTrail")
            #expect(e.eventSource == "cloudtrail.amazonaws.com")
            #expect(e.readOnly == false)
            #expect(e.username == "alice")
            #expect(e.accessKeyId == "AKIAALICE")
            #expect(
                e.lookupResources == [
                    LookupResource(type: "AWS::CloudTrail::Trail", name: "trail-a"), LookupResource(type: "AWS::S3::Bucket", name: "bucket-a"),
                ])
            #expect(String(decoding: e.record, as: UTF8.self) == #"{"eventID":"e1"}"#)
        }
    }

    @Test("the time range is inclusive at both ends")
    func timeRange() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            #expect(ids(try await storage.lookup(query(start: t0 + 20, end: t0 + 30))) == ["e4", "e2", "e3"])
            #expect(ids(try await storage.lookup(query(.resourceName, "trail-a", start: t0 + 11, end: t0 + 40))) == ["e5"])
            #expect(ids(try await storage.lookup(query(start: t0 + 41))) == [])
        }
    }

    @Test("cursor paging walks every event once, newest first, also across equal times")
    func paging() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            // 25 events over 10 distinct seconds, three names.
            let events = (0..<25).map { i in
                event("p\(i)", time: t0 + Int64(i / 3), name: ["A", "B", "C"][i % 3])
            }
            try await storage.append(events)
            for (attribute, value, expectedCount) in [(LookupKey?.none, "", 25), (.eventName, "A", 9)] {
                var seen: [String] = []
                var cursor: EventQuery.Cursor?
                var pages = 0
                repeat {
                    let page = try await storage.lookup(query(attribute, value, after: cursor, limit: 4))
                    #expect(page.count <= 4)
                    seen += ids(page)
                    cursor = page.last.map { EventQuery.Cursor(eventTime: $0.event.eventTime, seq: $0.seq) }
                    pages += 1
                    if page.count < 4 { break }
                } while pages < 100
                #expect(seen.count == expectedCount)
                #expect(Set(seen).count == expectedCount)
                // Newest first: times never increase; within a time, later insertions come first.
                let expected = events.enumerated()
                    .filter { attribute == nil || $0.element.eventName == value }
                    .sorted { ($0.element.eventTime, $0.offset) > ($1.element.eventTime, $1.offset) }
                    .map(\.element.eventID)
                #expect(seen == expected)
            }
        }
    }

    @Test("an event with two resources of the same type appears once in a resource-type lookup")
    func distinctResources() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            let rows = try await storage.lookup(query(.resourceType, "AWS::CloudTrail::Trail"))
            #expect(ids(rows) == ["e5", "e1"])
        }
    }

    @Test("events survive reopening the data directory, and new ones continue after them")
    func reopen() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let storage = try SQLiteStorage(directory: dir)
                try await storage.append(sample)
                try await storage.put("ns", "k", Array("v1".utf8))
            }
            let reopened = try SQLiteStorage(directory: dir)
            #expect(ids(try await reopened.lookup(query())) == ["e5", "e4", "e2", "e3", "e1"])
            try await reopened.append([event("e6", time: t0 + 30)])
            #expect(ids(try await reopened.lookup(query(.eventName, "DescribeTrails"))) == ["e6", "e4", "e2"])
            #expect(try await reopened.all("ns").map { String(decoding: $0.value, as: UTF8.self) } == ["v1"])
        }
    }

    @Test("concurrent appends all land, each visible once its append returns")
    func concurrentAppends() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<200 {
                    tasks.addTask {
                        try await storage.append([event("c\(i)", time: t0 + Int64(i % 17), name: "N\(i % 5)")])
                        let found = try await storage.lookup(query(.eventId, "c\(i)"))
                        #expect(ids(found) == ["c\(i)"])
                    }
                }
                try await tasks.waitForAll()
            }
            var total = 0
            for n in 0..<5 { total += try await storage.lookup(query(.eventName, "N\(n)", limit: 1000)).count }
            #expect(total == 200)
        }
    }

    @Test("purge removes events older than the cutoff")
    func purge() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.append(sample)
            let removed = try await storage.purge(before: t0 + 30)
            #expect(removed == 2)
            #expect(ids(try await storage.lookup(query())) == ["e5", "e4", "e2"])
            #expect(ids(try await storage.lookup(query(.resourceName, "trail-a"))) == ["e5"])
        }
    }

    @Test("the state store puts, replaces, lists in key order and deletes")
    func stateStore() async throws {
        try await withTemporaryDirectory { dir in
            let storage = try SQLiteStorage(directory: dir)
            try await storage.put("trails", "b", [2])
            try await storage.put("trails", "a", [1])
            try await storage.put("trails", "b", [3])
            try await storage.put("other", "a", [9])
            let all = try await storage.all("trails")
            #expect(all.map(\.key) == ["a", "b"])
            #expect(all.map(\.value) == [[1], [3]])
            try await storage.delete("trails", "a")
            try await storage.delete("trails", "missing")
            #expect(try await storage.all("trails").map(\.key) == ["b"])
            #expect(try await storage.all("other").map(\.value) == [[9]])
        }
    }

    @Test("the state store puts several values at once, replacing existing ones, and survives reopening")
    func stateStoreBatch() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let storage = try SQLiteStorage(directory: dir)
                try await storage.put("outbox", "b", [1])
                try await storage.put("outbox", entries: [(key: "c", value: [3]), (key: "a", value: [2]), (key: "b", value: [4])])
                try await storage.put("outbox", entries: [])
            }
            let reopened = try SQLiteStorage(directory: dir)
            let all = try await reopened.all("outbox")
            #expect(all.map(\.key) == ["a", "b", "c"])
            #expect(all.map(\.value) == [[2], [4], [3]])
        }
    }
}
