import AWSCore
import CompressNIO
import Crypto
import Foundation
import Logging
package import NIOCore
import Storage
import Synchronization

/// Where CloudTrail delivers: the hosted S3 and SNS, reached as the service principal `cloudtrail.amazonaws.com`.
///
/// The composition root implements it over the S3 and SNS services (CloudTrail never imports them).
package protocol TrailDestinations: Sendable {
    /// Writes a gzipped file into a bucket as CloudTrail does (`x-amz-acl: bucket-owner-full-control`,
    /// `Content-Type: application/json`, `Content-Encoding: gzip`, the given user metadata).
    ///
    /// - Throws: an `AWSError` whose code is S3's (`NoSuchBucket`, `AccessDenied`), recorded as the trail's
    ///   `LatestDeliveryError`.
    func putFile(bucket: String, key: String, gzipped: ByteBuffer, metadata: [(String, String)], trailARN: String, account: String)
        async throws
    /// Publishes a notification to the trail's topic.
    func notify(topicARN: String, message: String, trailARN: String, account: String) async throws
}

/// What GetTrailStatus reports about deliveries, per trail and region; every member is set only once it happened.
package struct DeliveryStatus: Codable, Sendable, Equatable {
    var latestDeliveryTime: Int64?
    var latestDeliveryAttemptTime: Int64?
    var latestDeliveryAttemptSucceeded: Int64?
    var latestDeliveryError: String?
    var latestNotificationTime: Int64?
    var latestNotificationAttemptTime: Int64?
    var latestNotificationAttemptSucceeded: Int64?
    var latestNotificationError: String?
    var latestDigestDeliveryTime: Int64?
    var latestDigestDeliveryError: String?
}

/// A delivered log file, as a later digest lists it.
struct DeliveredLogFile: Codable, Sendable, Equatable {
    var bucket: String
    var key: String
    /// Lower-case hex SHA-256 of the uncompressed file.
    var sha256: String
    var newestEventTime: Int64
    var oldestEventTime: Int64
    var deliveredAt: Int64
}

/// A trail's position in the event feed, and the batch it is delivering, if any.
///
/// A batch is written down (the events `(lastSeq, toSeq]`, the delivery time and the object keys) before any file is
/// written, and the cursor moves to `toSeq` in the same transaction that records the delivered files. A crash in
/// between replays the same batch into the same keys, so every selected event ends up in exactly one file.
struct DeliveryCursor: Codable, Sendable {
    var lastSeq: Int64
    var pending: PendingBatch?
    /// The trail as last seen, to deliver what a deleted trail still owes.
    var trail: Trail
    /// When the trail stopped (or was deleted): events after this time are not delivered.
    var stoppedAt: Int64?
    /// Whether a stopped trail has delivered everything it owed.
    var finished: Bool? = nil

    struct PendingBatch: Codable, Sendable {
        var toSeq: Int64
        var deliveredAt: Int64
        /// Object key per source region.
        var keys: [String: String]
    }
}

/// Trail log-file delivery: every interval (and on flush, StopLogging, DeleteTrail and shutdown), each logging
/// trail's newly selected events become one gzipped `{"Records":[...]}` file per region in the trail's bucket,
/// followed by an SNS notification when the trail has a topic.
package final class TrailDelivery: Sendable {
    static let cursors = "cloudtrail.cursors"
    static let statuses = "cloudtrail.status"
    static let logFiles = "cloudtrail.logfiles"
    static let digests = "cloudtrail.digests"
    /// Events read per page of the feed.
    static let pageSize = 10_000
    /// At most this many events go into one batch (files stay well under CloudTrail's 50 MB limit).
    static let maxBatch = 100_000

    private let registry: TrailRegistry
    private let events: any EventStore
    private let state: any StateStore
    private let destinations: (any TrailDestinations)?
    private let clock: @Sendable () -> Double
    private let logger: Logger
    private let interval: Int64
    private let digestInterval: Int64
    private let signingKeys: SigningKeys
    /// Held by delivery runs and by changes of a trail's logging: whoever holds it owns the cursors and digest chains.
    private let lock = AsyncLock()
    /// GetTrailStatus's facts, by `trailKey|region`, with a writer of their own.
    private let deliveryStatus: StateRegistry<DeliveryStatus>
    private let lastRun = Mutex<[String: Int64]>([:])

    init(
        registry: TrailRegistry, events: any EventStore, state: any StateStore, destinations: (any TrailDestinations)?,
        signingKeys: SigningKeys, interval: Int, digestInterval: Int, clock: @escaping @Sendable () -> Double, logger: Logger
    ) async throws {
        self.signingKeys = signingKeys
        self.digestInterval = Int64(max(1, digestInterval))
        self.registry = registry
        self.events = events
        self.state = state
        self.destinations = destinations
        self.interval = Int64(max(1, interval))
        self.clock = clock
        self.logger = logger
        deliveryStatus = try await StateRegistry(Self.statuses, store: state)
    }

    /// The delivery status of a trail in a region.
    func status(trailKey: String, region: String) -> DeliveryStatus {
        deliveryStatus[trailKey + "|" + region] ?? DeliveryStatus()
    }

    // MARK: Logging state changes

    /// What a call does to a trail's logging.
    enum LoggingChange: Sendable {
        /// StartLogging: the trail logs from now on.
        case start
        /// StopLogging: the trail stops logging.
        case stop
        /// DeleteTrail: the trail is removed.
        case delete
    }

    /// StartLogging, StopLogging and DeleteTrail: changes the trail and its delivery state in one transaction, under
    /// the delivery lock (so no delivery run moves the cursor meanwhile); nothing when the trail is gone or already
    /// in that state.
    ///
    /// - Starting: what a previous logging period still owed is delivered first (when that fails, the call fails and
    ///   the trail does not start); then the trail (`IsLogging`, `StartLoggingTime`), a cursor at the newest event
    ///   (the StartLogging call included), and new digest chains.
    /// - Stopping or deleting: the trail (`IsLogging` and `StopLoggingTime`, or its removal) and the cursor's stop
    ///   time, up to which the trail still delivers (a deleted trail with its last configuration).
    func changeLogging(of key: String, _ change: LoggingChange, at time: Int64) async throws {
        try await lock.withLock {
            // Only these calls change whether a trail logs, and they hold the delivery lock: the trail as it is now
            // tells whether logging starts.
            guard let current = registry.trail(key: key) else { return }
            let starts = change == .start && !current.isLogging
            var stored = try await cursor(key)
            if starts, var owed = stored, owed.stoppedAt != nil || owed.pending != nil {
                // Delivered as a run would deliver it, to the trail's current configuration. If that fails, so does
                // the call, before the trail changes.
                owed.trail = current
                try await deliver(owed, final: true)
                stored = try await cursor(key)
            }
            let latest = starts ? try await events.latestSequence() : 0
            let chains = starts ? try await state.entries(Self.digests, prefix: key + "|").map(\.key) : []
            let encoder = JSONEncoder()
            try await registry.writer.transaction { transaction in
                guard var trail = transaction[registry, key] else { return }
                switch change {
                case .start:
                    guard starts else { return }
                    trail.isLogging = true
                    trail.startLoggingTime = time
                    transaction[registry, key] = trail
                    let started = DeliveryCursor(lastSeq: latest, pending: nil, trail: trail, stoppedAt: nil, finished: nil)
                    transaction.write(StateChange(Self.cursors, key, Array(try encoder.encode(started))))
                    // Digests start new chains.
                    for chain in chains { transaction.write(StateChange(Self.digests, chain, nil)) }
                    if trail.logFileValidationEnabled {
                        let chain = DigestChain(windowStart: Int64(clock()), previous: nil)
                        transaction.write(StateChange(Self.digests, key + "|" + trail.homeRegion, Array(try encoder.encode(chain))))
                    }
                case .stop:
                    guard trail.isLogging else { return }
                    trail.isLogging = false
                    trail.stopLoggingTime = time
                    transaction[registry, key] = trail
                case .delete:
                    transaction[registry, key] = nil
                }
                // A stopped or deleted trail still delivers what it captured until now.
                if change != .start, var stopped = stored {
                    stopped.trail = trail
                    stopped.stoppedAt = stopped.stoppedAt ?? time
                    transaction.write(StateChange(Self.cursors, key, Array(try encoder.encode(stopped))))
                }
            }
            // The first file comes one interval after logging starts.
            if starts { lastRun.withLock { $0[key] = Int64(clock()) } }
        }
    }

    // MARK: Running

    /// Delivers for every trail whose interval has passed.
    package func deliverDue() async throws {
        try await run(force: false)
    }

    /// Delivers everything pending now (`/_cairn/flush`, shutdown).
    package func flush() async throws {
        try await run(force: true)
    }

    private func run(force: Bool) async throws {
        try await lock.withLock {
            let now = Int64(clock())
            for (_, value) in try await state.all(Self.cursors) {
                var cursor = try JSONDecoder().decode(DeliveryCursor.self, from: Data(value))
                let key = cursor.trail.key
                // Follow configuration changes; a trail that is gone keeps its last configuration.
                let current = registry.trail(key: key)
                if let current { cursor.trail = current }
                if current == nil, cursor.stoppedAt == nil { cursor.stoppedAt = now }
                if cursor.finished == true { continue }
                let last = lastRun.withLock { $0[key] } ?? 0
                guard force || cursor.stoppedAt != nil || cursor.pending != nil || now - last >= interval else { continue }
                lastRun.withLock { $0[key] = now }
                do {
                    try await deliver(cursor, final: cursor.stoppedAt != nil)
                } catch {
                    logger.debug("trail delivery failed", metadata: ["trail": "\(key)", "error": "\(error)"])
                }
                do {
                    // The final digest waits until the stopped trail's last file is surely delivered (see `deliver`).
                    let finishing = cursor.stoppedAt.flatMap { now >= $0 + 1 ? $0 + 1 : nil }
                    try await writeDigests(cursor.trail, now: now, final: finishing)
                } catch {
                    logger.debug("digest delivery failed", metadata: ["trail": "\(key)", "error": "\(error)"])
                }
            }
        }
    }

    /// Delivers one trail's pending batch and then its new events, batch by batch, until it is up to date.
    private func deliver(_ start: DeliveryCursor, final: Bool) async throws {
        var cursor = start
        if let pending = cursor.pending {
            cursor = try await write(cursor, pending: pending)
        }
        let latest = try await events.latestSequence()
        while cursor.lastSeq < latest {
            let batch = try await collect(cursor, upTo: latest)
            guard batch.toSeq > cursor.lastSeq else { break }  // nothing readable after the cursor
            if batch.byRegion.isEmpty {
                cursor.lastSeq = batch.toSeq
                try await save(cursor)
                continue
            }
            let deliveredAt = Int64(clock())
            var keys: [String: String] = [:]
            for region in batch.byRegion.keys {
                keys[region] = LogFileName.key(
                    prefix: cursor.trail.s3KeyPrefix, accountId: cursor.trail.accountId, region: region, deliveryTime: deliveredAt,
                    uniqueString: LogFileName.uniqueString())
            }
            cursor.pending = .init(toSeq: batch.toSeq, deliveredAt: deliveredAt, keys: keys)
            try await save(cursor)
            cursor = try await write(cursor, pending: cursor.pending!, collected: batch)
        }
        // A stopped trail owes nothing more once the events of its last second are surely in: it is finished (and a
        // deleted trail's cursor goes away).
        if final, let stopped = cursor.stoppedAt, Int64(clock()) >= stopped + 1 {
            if registry.trail(key: cursor.trail.key) == nil {
                try await state.delete(Self.cursors, cursor.trail.key)
            } else {
                cursor.finished = true
                try await save(cursor)
            }
        }
    }

    /// The selected events after the cursor, up to `latest` and at most ``maxBatch``, grouped by region.
    private func collect(_ cursor: DeliveryCursor, upTo latest: Int64) async throws -> (toSeq: Int64, byRegion: [String: [StoredEvent]]) {
        let selection = EventSelection(cursor.trail)
        var after = cursor.lastSeq
        var byRegion: [String: [StoredEvent]] = [:]
        var count = 0
        while after < latest, count < Self.maxBatch {
            let page = try await events.events(after: after, limit: min(Self.pageSize, Self.maxBatch - count))
            if page.isEmpty { break }
            for row in page {
                if row.seq > latest { break }
                after = row.seq
                count += 1
                if let stop = cursor.stoppedAt, row.event.eventTime > stop { continue }
                if selection.selects(row.event) { byRegion[row.event.region, default: []].append(row.event) }
            }
            if page.last.map({ $0.seq >= latest }) ?? true { break }
        }
        return (after, byRegion)
    }

    /// Writes a batch's files (re-collecting its events when replaying after a crash), then commits the cursor, the
    /// delivered files and the status in one transaction, then notifies.
    private func write(
        _ start: DeliveryCursor, pending: DeliveryCursor.PendingBatch,
        collected: (toSeq: Int64, byRegion: [String: [StoredEvent]])? = nil
    ) async throws -> DeliveryCursor {
        var cursor = start
        let batch: [String: [StoredEvent]]
        if let collected {
            batch = collected.byRegion
        } else {
            batch = try await replay(cursor, upTo: pending.toSeq)
        }
        let trail = cursor.trail
        let attempt = Int64(clock())
        var files: [(region: String, file: DeliveredLogFile)] = []
        do {
            guard let destinations else { throw AWSError("NoSuchBucket", "No S3 service is hosted") }
            for region in batch.keys.sorted() {
                guard let key = pending.keys[region], let records = batch[region], !records.isEmpty else { continue }
                var body = ByteBuffer()
                body.writeString(#"{"Records":["#)
                for (i, e) in records.enumerated() {
                    if i > 0 { body.writeString(",") }
                    body.writeBytes(e.record)
                }
                body.writeString("]}")
                let sha = Hex.encode(body.withUnsafeReadableBytes { Array(SHA256.hash(data: $0)) })
                var plain = body
                let gzipped = try plain.compress(with: .gzip())
                try await destinations.putFile(
                    bucket: trail.s3BucketName, key: key, gzipped: gzipped, metadata: [], trailARN: trail.arn, account: trail.accountId)
                let times = records.map(\.eventTime)
                files.append(
                    (
                        region,
                        DeliveredLogFile(
                            bucket: trail.s3BucketName, key: key, sha256: sha, newestEventTime: times.max() ?? 0,
                            oldestEventTime: times.min() ?? 0, deliveredAt: pending.deliveredAt)
                    ))
            }
        } catch {
            let code = (error as? AWSError)?.code ?? "InternalFailure"
            try await updateStatus(trail, regions: Array(batch.keys)) {
                $0.latestDeliveryAttemptTime = attempt
                $0.latestDeliveryError = code
            }
            throw error
        }
        // Commit: cursor, delivered files and status together.
        cursor.lastSeq = pending.toSeq
        cursor.pending = nil
        var changes: [StateChange] = [StateChange(Self.cursors, trail.key, Array(try JSONEncoder().encode(cursor)))]
        for (region, file) in files {
            let recordKey = "\(trail.key)|\(region)|\(Self.pad(file.deliveredAt))|\(file.key)"
            changes.append(StateChange(Self.logFiles, recordKey, Array(try JSONEncoder().encode(file))))
        }
        let regions = files.map(\.region)
        try await deliveryStatus.writer.transaction { transaction in
            for change in changes { transaction.write(change) }
            for region in regions {
                var s = transaction[deliveryStatus, trail.key + "|" + region] ?? DeliveryStatus()
                s.latestDeliveryTime = attempt
                s.latestDeliveryAttemptTime = attempt
                s.latestDeliveryAttemptSucceeded = attempt
                s.latestDeliveryError = nil
                transaction[deliveryStatus, trail.key + "|" + region] = s
            }
        }
        if let topic = trail.snsTopicARN, !files.isEmpty {
            await notify(trail, topic: topic, files: files.map(\.file), regions: regions)
        }
        return cursor
    }

    /// Re-collects a pending batch's events after a restart: the events `(lastSeq, toSeq]` the trail selects.
    private func replay(_ cursor: DeliveryCursor, upTo toSeq: Int64) async throws -> [String: [StoredEvent]] {
        let selection = EventSelection(cursor.trail)
        var after = cursor.lastSeq
        var byRegion: [String: [StoredEvent]] = [:]
        while after < toSeq {
            let page = try await events.events(after: after, limit: Self.pageSize)
            if page.isEmpty { break }
            for row in page where row.seq <= toSeq {
                if let stop = cursor.stoppedAt, row.event.eventTime > stop { continue }
                if selection.selects(row.event) { byRegion[row.event.region, default: []].append(row.event) }
            }
            after = page.last!.seq
        }
        return byRegion
    }

    /// Publishes `{"s3Bucket":…,"s3ObjectKey":[…]}` to the trail's topic and records the outcome.
    private func notify(_ trail: Trail, topic: String, files: [DeliveredLogFile], regions: [String]) async {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.field("s3Bucket", trail.s3BucketName)
        w.key("s3ObjectKey")
        w.beginArray()
        for file in files {
            w.arrayElement()
            w.string(file.key)
        }
        w.endArray()
        w.endObject()
        let attempt = Int64(clock())
        var failure: String?
        do {
            try await destinations?.notify(
                topicARN: topic, message: String(decoding: w.bytes, as: UTF8.self), trailARN: trail.arn, account: trail.accountId)
        } catch {
            failure = (error as? AWSError)?.code ?? "InternalFailure"
        }
        try? await updateStatus(trail, regions: regions) { s in
            s.latestNotificationAttemptTime = attempt
            if let failure {
                s.latestNotificationError = failure
            } else {
                s.latestNotificationTime = attempt
                s.latestNotificationAttemptSucceeded = attempt
                s.latestNotificationError = nil
            }
        }
    }

    /// Changes the delivery status of a trail in some regions (durable before GetTrailStatus shows it).
    private func updateStatus(_ trail: Trail, regions: [String], _ change: (inout DeliveryStatus) -> Void) async throws {
        try await deliveryStatus.writer.transaction { transaction in
            for region in regions {
                var s = transaction[deliveryStatus, trail.key + "|" + region] ?? DeliveryStatus()
                change(&s)
                transaction[deliveryStatus, trail.key + "|" + region] = s
            }
        }
    }

    // MARK: Digests

    /// Where a trail's digest chain stands in one region.
    struct DigestChain: Codable, Sendable {
        var windowStart: Int64
        var previous: PreviousDigest?
    }

    /// Writes the digests a validating trail owes: one per region and digest interval, also for windows without log
    /// files, chained to the previous one; with `final` (the trail stopped or was deleted at that time) a last digest
    /// up to it, after which the chain ends.
    private func writeDigests(_ trail: Trail, now: Int64, final: Int64?) async throws {
        guard trail.logFileValidationEnabled, destinations != nil else { return }
        let prefix = trail.key + "|"
        var chains: [String: DigestChain] = [:]
        for (key, value) in try await state.entries(Self.digests, prefix: prefix) {
            chains[String(key.dropFirst(prefix.count))] = try JSONDecoder().decode(DigestChain.self, from: Data(value))
        }
        // Regions: the home region, and every region the trail has delivered log files for.
        var regions: Set<String> = [trail.homeRegion]
        for (key, _) in try await state.entries(Self.logFiles, prefix: prefix) {
            if let region = key.dropFirst(prefix.count).split(separator: "|").first { regions.insert(String(region)) }
        }
        let start = trail.startLoggingTime ?? now
        for region in regions.sorted() {
            // A stopped trail closes the chains it has; a logging trail starts chains where it has none.
            guard var chain = chains[region] ?? (final == nil ? DigestChain(windowStart: max(start, now - digestInterval), previous: nil) : nil)
            else { continue }
            if chains[region] == nil { try await saveChain(trail, region, chain) }
            while chain.windowStart + digestInterval <= (final ?? now) {
                chain = try await writeDigest(trail, region: region, chain: chain, end: chain.windowStart + digestInterval)
                try await saveChain(trail, region, chain)
            }
            if let final {
                // The final digest ends after the previous one (its key holds the end time, to the second).
                _ = try await writeDigest(trail, region: region, chain: chain, end: max(final, chain.windowStart + 1), final: true)
                try await state.delete(Self.digests, trail.key + "|" + region)
            }
        }
    }

    /// Writes one digest covering the log files delivered in `[chain.windowStart, end)` (a `final` digest: every file
    /// delivered since the window started, its end moved past the last one) and returns the chain after it.
    private func writeDigest(_ trail: Trail, region: String, chain: DigestChain, end requestedEnd: Int64, final: Bool = false) async throws
        -> DigestChain
    {
        guard let destinations else { return chain }
        let files = try await state.entries(Self.logFiles, prefix: trail.key + "|" + region + "|").compactMap { entry -> DeliveredLogFile? in
            guard let file = try? JSONDecoder().decode(DeliveredLogFile.self, from: Data(entry.value)) else { return nil }
            return file.deliveredAt >= chain.windowStart && (final || file.deliveredAt < requestedEnd) ? file : nil
        }
        let end = final ? max(requestedEnd, (files.map(\.deliveredAt).max() ?? 0) + 1) : requestedEnd
        let digest = try DigestFile(
            accountId: trail.accountId, trailName: trail.name, homeRegion: trail.homeRegion, sourceRegion: region,
            bucket: trail.s3BucketName, prefix: trail.s3KeyPrefix, startTime: chain.windowStart, endTime: end,
            logFiles: files.map {
                DigestLogFile(
                    s3Bucket: $0.bucket, s3Object: $0.key, hashValue: $0.sha256, newestEventTime: $0.newestEventTime,
                    oldestEventTime: $0.oldestEventTime)
            }, previous: chain.previous, signingKey: try await signingKeys.current(region: region))
        var body = ByteBuffer(bytes: digest.body)
        do {
            try await destinations.putFile(
                bucket: digest.bucket, key: digest.key, gzipped: try body.compress(with: .gzip()),
                metadata: digest.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, trailARN: trail.arn,
                account: trail.accountId)
        } catch {
            let code = (error as? AWSError)?.code ?? "InternalFailure"
            try await updateStatus(trail, regions: [region]) { $0.latestDigestDeliveryError = code }
            throw error
        }
        try await updateStatus(trail, regions: [region]) { s in
            s.latestDigestDeliveryTime = Int64(clock())
            s.latestDigestDeliveryError = nil
        }
        return DigestChain(windowStart: end, previous: digest.chainLink)
    }

    private func saveChain(_ trail: Trail, _ region: String, _ chain: DigestChain) async throws {
        try await state.put(Self.digests, trail.key + "|" + region, Array(try JSONEncoder().encode(chain)))
    }

    // MARK: Persistence and names

    private func cursor(_ key: String) async throws -> DeliveryCursor? {
        try await state.entries(Self.cursors, prefix: key).first { $0.key == key }.map {
            try JSONDecoder().decode(DeliveryCursor.self, from: Data($0.value))
        }
    }

    private func save(_ cursor: DeliveryCursor) async throws {
        try await state.put(Self.cursors, cursor.trail.key, Array(try JSONEncoder().encode(cursor)))
    }

    static func pad(_ n: Int64) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 12 - s.count)) + s
    }

}
