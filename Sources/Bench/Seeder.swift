import AWSCore
import Audit
import Foundation
import Storage

/// Fills a data directory with stored events before the server starts, through Storage's own append path.
enum Seeder {
    /// The event names the seeded events are spread over: `BenchOperation0000` … (so lookups by one name match
    /// `count / names` events).
    static func eventName(_ index: Int) -> String {
        "BenchOperation" + String(repeating: "0", count: max(0, 4 - String(index).count)) + String(index)
    }

    /// What seeding wrote.
    struct Summary: Sendable {
        /// Events written.
        var events: Int
        /// Distinct event names.
        var names: Int
        /// Wall time in seconds.
        var seconds: Double
    }

    /// Fills `directory` for the LookupEvents scenario: with `count` events over `names` names over the last 80 days,
    /// or, when `kept` names a directory seeded earlier with the same counts, with a copy of it. A `kept` directory
    /// that does not exist yet is seeded first and kept.
    static func prepare(directory: String, kept: String?, count: Int, names: Int, batch: Int) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        guard let kept else {
            report(try await seed(directory: directory, count: count, names: names, days: 80, batch: batch, now: now))
            return
        }
        let marker = kept + "/bench-seed.txt"
        let wanted = "\(count) events, \(names) names"
        if let found = try? String(contentsOfFile: marker, encoding: .utf8) {
            let seededAt = Int64(found.split(separator: "\n").last ?? "") ?? 0
            guard found.hasPrefix(wanted + "\n"), now - seededAt < 5 * 86_400 else {
                throw BenchError("\(kept) holds other or older seeded data (\(found.split(separator: "\n").first ?? "")); remove it")
            }
            say("    copying the \(wanted) seeded into \(kept)")
        } else {
            report(try await seed(directory: kept, count: count, names: names, days: 80, batch: batch, now: now))
            try "\(wanted)\n\(now)".write(toFile: marker, atomically: true, encoding: .utf8)
        }
        try FileManager.default.copyItem(atPath: kept, toPath: directory)
    }

    /// Prints what seeding wrote.
    private static func report(_ summary: Summary) {
        say(
            "    seeded \(summary.events) events in "
                + String(format: "%.1f s (%.0f events/s)", summary.seconds, Double(summary.events) / summary.seconds))
    }

    /// Writes `count` management events of account 000000000000 in us-east-1, spread round-robin over `names` event
    /// names and uniformly over the `days` days before `now`, in batches of `batch` events per append (one
    /// transaction each).
    static func seed(directory: String, count: Int, names: Int, days: Int, batch: Int, now: Int64) async throws -> Summary {
        let start = ContinuousClock.now
        let storage = try SQLiteStorage(directory: directory)
        let caller = Caller(kind: .iamUser, accountId: "000000000000", accessKeyId: "test", name: "test")
        let sources = ["cloudtrail.amazonaws.com", "sts.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com"]
        let span = Int64(days) * 86_400
        var generator = SystemRandomNumberGenerator()
        var written = 0
        var lastReport = ContinuousClock.now
        while written < count {
            let n = min(batch, count - written)
            var events: [StoredEvent] = []
            events.reserveCapacity(n)
            for i in written..<(written + n) {
                let event = CloudTrailEvent(
                    caller: caller, eventTime: now - Int64.random(in: 0..<span, using: &generator),
                    eventSource: sources[i % sources.count], eventName: eventName(i % names), awsRegion: "us-east-1",
                    sourceIPAddress: "127.0.0.1", userAgent: "cairn-bench/1.0 seeded",
                    requestParameters: Array(#"{"index":\#(i)}"#.utf8), responseElements: nil, requestID: IDs.uuid(),
                    eventID: IDs.uuid(), readOnly: i % 3 != 0, category: .management, recipientAccountId: "000000000000")
                events.append(StoredEvent(event))
            }
            try await storage.append(events)
            written += n
            if ContinuousClock.now - lastReport > .seconds(10) {
                lastReport = ContinuousClock.now
                say("  seeded \(written) / \(count) events")
            }
        }
        let elapsed = ContinuousClock.now - start
        return Summary(
            events: written, names: names,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
