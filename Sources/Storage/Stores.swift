import AWSCore
package import Audit

/// An event as the event store keeps it: the rendered record plus the columns Event history looks up by.
package struct StoredEvent: Sendable {
    /// The account whose history holds the event (`recipientAccountId`).
    package var accountId: String
    /// The event's region.
    package var region: String
    /// Management or data.
    package var category: EventCategory
    /// Epoch seconds.
    package var eventTime: Int64
    /// `eventID`.
    package var eventID: String
    /// `eventName`.
    package var eventName: String
    /// `eventSource`.
    package var eventSource: String
    /// `readOnly`.
    package var readOnly: Bool
    /// Event history's `Username`.
    package var username: String
    /// `userIdentity.accessKeyId`.
    package var accessKeyId: String
    /// Event history's `Resources`.
    package var lookupResources: [LookupResource]
    /// The record JSON.
    package var record: [UInt8]

    /// Renders an event for storage.
    package init(_ event: CloudTrailEvent) {
        accountId = event.recipientAccountId
        region = event.awsRegion
        category = event.category
        eventTime = event.eventTime
        eventID = event.eventID
        eventName = event.eventName
        eventSource = event.eventSource
        readOnly = event.readOnly
        username = event.username
        accessKeyId = event.accessKeyId
        lookupResources = event.lookupResources
        record = event.render()
    }
}

/// A stored event read back, with its position in the store.
package struct EventRow: Sendable {
    /// The monotonic sequence number of the event in the store.
    package var seq: Int64
    /// The stored event.
    package var event: StoredEvent
}

/// The lookup attributes of `LookupEvents`.
package enum LookupKey: String, Sendable, CaseIterable {
    case eventId = "EventId"
    case eventName = "EventName"
    case readOnly = "ReadOnly"
    case username = "Username"
    case resourceType = "ResourceType"
    case resourceName = "ResourceName"
    case eventSource = "EventSource"
    case accessKeyId = "AccessKeyId"
}

/// One page request of Event history: newest first.
package struct EventQuery: Sendable, Hashable {
    /// The account whose history is read.
    package var accountId: String
    /// The region whose history is read.
    package var region: String
    /// At most one attribute to match exactly.
    package var attribute: LookupKey?
    /// The attribute's value.
    package var value: String
    /// Inclusive lower bound of `eventTime`.
    package var startTime: Int64
    /// Inclusive upper bound of `eventTime`.
    package var endTime: Int64
    /// Continue after this `(eventTime, seq)` position (exclusive), for paging.
    package var after: Cursor?
    /// Page size.
    package var limit: Int

    /// A position in newest-first order.
    package struct Cursor: Sendable, Hashable {
        package var eventTime: Int64
        package var seq: Int64
        package init(eventTime: Int64, seq: Int64) {
            self.eventTime = eventTime
            self.seq = seq
        }
    }

    /// Creates a query.
    package init(
        accountId: String, region: String, attribute: LookupKey?, value: String, startTime: Int64, endTime: Int64,
        after: Cursor?, limit: Int
    ) {
        self.accountId = accountId
        self.region = region
        self.attribute = attribute
        self.value = value
        self.startTime = startTime
        self.endTime = endTime
        self.after = after
        self.limit = limit
    }
}

/// The append-only store of CloudTrail events.
package protocol EventStore: Sendable {
    /// Appends events durably: when this returns, they survive a crash of the process.
    ///
    /// Concurrent calls share transactions (group commit); each returns only after its own events are committed.
    func append(_ events: [StoredEvent]) async throws
    /// Management events of one account and region, newest first, matching the query: every event appended so far,
    /// indexed or not.
    func lookup(_ query: EventQuery) async throws -> [EventRow]
    /// Removes management and data events older than the cutoff (epoch seconds); returns how many.
    func purge(before cutoff: Int64) async throws -> Int
    /// Does the store's periodic housekeeping off the request path (SQLite: a WAL checkpoint).
    func checkpoint() async throws
    /// Indexes the events appended so far, off the request path (the delivery feed, ``latestSequence()`` and retention
    /// do it first themselves; ``lookup(_:)`` also reads the events not yet indexed).
    func settle() async throws
    /// Indexes what is pending and releases the store's background writer at a graceful shutdown; appends fail after.
    func close() async throws
    /// Every event (all accounts, regions and categories) after `seq`, oldest first, at most `limit`: the feed
    /// trail delivery reads.
    func events(after seq: Int64, limit: Int) async throws -> [EventRow]
    /// The sequence number of the newest event (0 when there is none).
    func latestSequence() async throws -> Int64
}

/// One change of a ``StateStore`` batch: a value to store, or (`value == nil`) a key to remove.
package struct StateChange: Sendable {
    package var namespace: String
    package var key: String
    package var value: [UInt8]?

    /// Creates a change.
    package init(_ namespace: String, _ key: String, _ value: [UInt8]?) {
        self.namespace = namespace
        self.key = key
        self.value = value
    }
}

/// A small durable key/value store for service state (trails, temporary credentials, ...).
///
/// Services keep their working state in memory and write every change through before they answer.
package protocol StateStore: Sendable {
    /// Stores or replaces a value.
    func put(_ namespace: String, _ key: String, _ value: [UInt8]) async throws
    /// Stores or replaces several values of a namespace in one transaction: all of them are durable, or none.
    func put(_ namespace: String, entries: [(key: String, value: [UInt8])]) async throws
    /// Applies puts and deletes across namespaces in one transaction: all of them are durable, or none.
    func apply(_ changes: [StateChange]) async throws
    /// Removes a value (no error when it does not exist).
    func delete(_ namespace: String, _ key: String) async throws
    /// Every key and value of a namespace, in key order.
    func all(_ namespace: String) async throws -> [(key: String, value: [UInt8])]
    /// The keys and values of a namespace whose keys start with `prefix`, in key order.
    func entries(_ namespace: String, prefix: String) async throws -> [(key: String, value: [UInt8])]
}

/// The metadata index of S3 objects: one record per bucket and key, listed in the byte order of keys.
///
/// The object bytes live elsewhere (files in the data directory); a record says where, and what S3 returns about
/// the object. Records are opaque to the store.
package protocol ObjectIndex: Sendable {
    /// The record of one object, or `nil`.
    func object(bucket: String, key: String) async throws -> [UInt8]?
    /// Stores or replaces an object's record durably; returns the record it replaced.
    @discardableResult
    func putObject(bucket: String, key: String, record: [UInt8]) async throws -> [UInt8]?
    /// Removes an object's record; returns it, or `nil` when there was none.
    @discardableResult
    func deleteObject(bucket: String, key: String) async throws -> [UInt8]?
    /// Up to `limit` objects of a bucket whose keys start with `prefix` and sort after `after` (byte order).
    func listObjects(bucket: String, prefix: String, after: String?, limit: Int) async throws -> [(key: String, record: [UInt8])]
}
