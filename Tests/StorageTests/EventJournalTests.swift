import AWSCore
import Audit
import Foundation
import Testing

@testable import Storage

/// The event journal: group commit, numbering, recovery after a crash, rewinding, and its use by the storage.
@Suite("EventJournal")
struct EventJournalTests {
    @Test("appends from many tasks are numbered consecutively in journal order and all reach the pending list")
    func concurrentAppends() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let journal = try EventJournal(path: dir + "/events.journal")
            journal.start(after: 41, indexedThrough: 41)
            defer { journal.stop() }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for i in 0..<300 {
                    tasks.addTask { try await journal.append([event("j\(i)", time: t0 + Int64(i))]) }
                }
                try await tasks.waitForAll()
            }
            #expect(journal.pendingCount == 300)
            let pending = Array(journal.rowsToIndex(after: 41).joined())
            #expect(pending.map(\.seq) == Array(42...341))
            #expect(Set(pending.map(\.event.eventID)) == Set((0..<300).map { "j\($0)" }))
            #expect(journal.progress.acknowledged == 341)
            #expect(journal.pendingCount == 0)
        }
    }

    @Test("events stay on the unindexed list until indexed; the indexer is handed only those after the tables' newest")
    func unindexedUntilIndexed() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let journal = try EventJournal(path: dir + "/events.journal")
            journal.start(after: 0, indexedThrough: 0)
            defer { journal.stop() }
            for i in 1...3 {
                try await journal.append([event("u\(i)a", time: t0), event("u\(i)b", time: t0)])
            }
            // Three batches of two: seq 1-2, 3-4, 5-6.
            #expect(journal.unindexedBatches().map { $0.map(\.seq) } == [[1, 2], [3, 4], [5, 6]])
            #expect(journal.rowsToIndex(after: 3).map { $0.map(\.seq) } == [[4], [5, 6]])
            #expect(journal.pendingCount == 0)
            // Handed out, not yet committed: still listed for readers.
            #expect(journal.unindexedBatches().joined().count == 6)
            journal.indexingFailed()
            #expect(journal.pendingCount == 6)
            #expect(journal.rowsToIndex(after: 0).joined().map(\.seq) == [1, 2, 3, 4, 5, 6])
            journal.indexed(through: 3)
            #expect(journal.unindexedBatches().map { $0.map(\.seq) } == [[4], [5, 6]])
            #expect(journal.progress.indexed == 3)
            journal.indexed(through: 6)
            #expect(journal.unindexedBatches().isEmpty)
            #expect(journal.progress.acknowledged == 6 && journal.progress.indexed == 6)
        }
    }

    @Test("a record round-trips every column, resources and non-ASCII text included")
    func roundTrip() {
        var original = event(
            "ü-1", time: t0, name: "PutBucketPolicy", source: "s3.amazonaws.com", readOnly: false, username: "Zoë",
            key: "ASIAEXAMPLE", account: "123456789012", region: "eu-central-1", category: .data,
            resources: [LookupResource(type: "AWS::S3::Bucket", name: "b-ü"), LookupResource(type: "AWS::S3::Object", name: "b/k")])
        original.record = Array(#"{"eventName":"PutBucketPolicy","x":"\u00fc"}"#.utf8)
        var bytes: [UInt8] = []
        EventJournal.encode(EventRow(seq: 7, event: original), into: &bytes)
        EventJournal.encode(EventRow(seq: 8, event: event("next", time: t0 + 1)), into: &bytes)
        let rows = bytes.withUnsafeBytes { EventJournal.decodeRecords($0) }
        #expect(rows.map(\.seq) == [7, 8])
        let back = rows[0].event
        #expect(back.eventID == "ü-1" && back.eventName == "PutBucketPolicy" && back.eventSource == "s3.amazonaws.com")
        #expect(back.accountId == "123456789012" && back.region == "eu-central-1" && back.category == .data)
        #expect(back.eventTime == t0 && !back.readOnly && back.username == "Zoë" && back.accessKeyId == "ASIAEXAMPLE")
        #expect(back.lookupResources == original.lookupResources)
        #expect(back.record == original.record)
    }

    @Test("recovery stops at a damaged record, a torn tail, or a number that does not follow")
    func recoveryStops() {
        var bytes: [UInt8] = []
        for seq in 1...3 { EventJournal.encode(EventRow(seq: Int64(seq), event: event("r\(seq)", time: t0)), into: &bytes) }
        let whole = bytes.withUnsafeBytes { EventJournal.decodeRecords($0) }
        #expect(whole.map(\.seq) == [1, 2, 3])

        // A torn last record (its end never reached the disk).
        let torn = Array(bytes.dropLast(5))
        #expect(torn.withUnsafeBytes { EventJournal.decodeRecords($0) }.map(\.seq) == [1, 2])

        // A flipped byte in the second record's payload: its checksum fails, and nothing after it is read.
        var flipped = bytes
        var first: [UInt8] = []
        EventJournal.encode(EventRow(seq: 1, event: event("r1", time: t0)), into: &first)
        flipped[first.count + 20] ^= 0xFF
        #expect(flipped.withUnsafeBytes { EventJournal.decodeRecords($0) }.map(\.seq) == [1])

        // Records left from before a rewind: lower numbers after the newest batch.
        var rewound: [UInt8] = []
        EventJournal.encode(EventRow(seq: 9, event: event("new", time: t0)), into: &rewound)
        rewound += bytes
        #expect(rewound.withUnsafeBytes { EventJournal.decodeRecords($0) }.map(\.seq) == [9])

        // The zeros of a preallocated file.
        let zeros = [UInt8](repeating: 0, count: 4096)
        #expect(zeros.withUnsafeBytes { EventJournal.decodeRecords($0) }.isEmpty)
    }

    @Test(
        "with indexing always behind, writing alternates between the segments, which keep their size, and a reopen recovers every event not indexed")
    func segmentsUnderSteadyLoad() async throws {
        try await withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/events.journal"
            let lag: Int64 = 100
            let total: Int64 = 600
            do {
                let journal = try EventJournal(path: path)
                journal.start(after: 0, indexedThrough: 0)
                defer { journal.stop() }
                for i in 1...total {
                    var e = event("s\(i)", time: t0 + i)
                    e.record = [UInt8](repeating: UInt8(ascii: "a"), count: 20_000)
                    try await journal.append([e])
                    // The indexer never catches up: the newest `lag` events are never in the database.
                    if i > lag { journal.indexed(through: i - lag) }
                }
            }
            // 600 events of 20 kB would not fit in one preallocated segment.
            for file in [path, path + ".1"] {
                let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int
                #expect(size == EventJournal.preallocatedBytes)
            }
            let journal = try EventJournal(path: path)
            let recovered = try journal.recover().map(\.seq).filter { $0 > total - lag }
            #expect(recovered == Array((total - lag + 1)...total))
        }
    }

    @Test("events acknowledged but never indexed are in the tables after a reopen, and numbering continues after them")
    func replayAfterReopen() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let storage = try SQLiteStorage(directory: dir)
                try await storage.append(Array(sample[0..<3]))
                try await storage.settle()
                // Only in the journal: nothing reads or settles before the storage goes away.
                try await storage.append(Array(sample[3...]))
            }
            do {
                let journal = try EventJournal(path: dir + "/events.journal")
                // The first three were indexed, so the second batch was written over them at the start of the first segment.
                #expect(try journal.recover().map(\.event.eventID) == ["e4", "e5", "x1", "x2", "x3"])
            }
            let reopened = try SQLiteStorage(directory: dir)
            #expect(ids(try await reopened.lookup(query())) == ["e5", "e4", "e2", "e3", "e1"])
            try await reopened.append([event("e6", time: t0 + 60)])
            let feed = try await reopened.events(after: 0, limit: 100)
            #expect(feed.map(\.seq) == Array(1...9))
            #expect(ids(feed) == ["e1", "e2", "e3", "e4", "e5", "x1", "x2", "x3", "e6"])
        }
    }

    @Test("a second storage on the same data directory is refused while the first is open")
    func exclusive() async throws {
        try await withTemporaryDirectory { dir in
            let first = try SQLiteStorage(directory: dir)
            #expect(throws: JournalError.self) { try SQLiteStorage(directory: dir) }
            try await first.append([event("only", time: t0)])
        }
    }

    @Test("numbering goes on after retention removed every event")
    func numberingAfterPurge() async throws {
        try await withTemporaryDirectory { dir in
            do {
                let storage = try SQLiteStorage(directory: dir)
                try await storage.append(Array(sample[0..<5]))
                #expect(try await storage.purge(before: t0 + 1000) == 5)
                #expect(try await storage.latestSequence() == 0)
            }
            let reopened = try SQLiteStorage(directory: dir)
            try await reopened.append([event("later", time: t0 + 2000)])
            #expect(try await reopened.events(after: 0, limit: 10).map(\.seq) == [6])
        }
    }

    @Test("close indexes what is pending, ends the writer and frees the directory while the storage is still alive")
    func close() async throws {
        try await withTemporaryDirectory { dir in
            let first = try SQLiteStorage(directory: dir)
            try await first.append(Array(sample[0..<3]))
            #expect(first.journal.progress.indexed == 0)
            try await first.close()
            #expect(first.journal.progress.indexed == 3)
            await #expect(throws: JournalError.self) { try await first.append([event("late", time: t0)]) }
            try await first.close()  // a second close returns too
            // The first storage is still referenced here, yet its lock is released.
            let second = try SQLiteStorage(directory: dir)
            #expect(try await second.events(after: 0, limit: 10).map(\.seq) == [1, 2, 3])
            withExtendedLifetime(first) {}
        }
    }
}
