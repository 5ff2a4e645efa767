import AWSCore
import Audit
import Crypto
import Gateway
import Storage

/// CloudTrail's Event history: `LookupEvents` over the management events of the caller's account and region.
struct EventHistory: Sendable {
    /// How far back Event history reaches.
    static let retention: Int64 = 90 * 86400

    let events: any EventStore
    let clock: @Sendable () -> Double

    private static func lookupError(_ message: String) -> AWSError {
        AWSError("InvalidLookupAttributesException", message)
    }

    /// LookupEvents: management events of the caller's account and region, newest first, at most one lookup
    /// attribute, bounded by the 90-day window, paged with a NextToken bound to the query's parameters.
    @Sendable func lookupEvents(_ call: OperationCall) async throws -> JSONValue {
        let input = call.input
        let attributes = input["LookupAttributes"]?.array ?? []
        if attributes.count > 1 {
            throw Self.lookupError("You cannot perform a lookup using more than one lookup attribute.")
        }
        var key: LookupKey?
        var value = ""
        if let attribute = attributes.first {
            let name = attribute["AttributeKey"]?.string ?? ""
            guard let k = LookupKey(rawValue: name) else {
                throw Self.lookupError(
                    "Lookup attribute key \(name) is not valid. Valid keys are: \(LookupKey.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            value = attribute["AttributeValue"]?.string ?? ""
            guard (1...2000).contains(value.count) else {
                throw Self.lookupError("The lookup attribute value must be between 1 and 2000 characters.")
            }
            key = k
        }
        let maxResults = input["MaxResults"]?.int ?? 50
        if input["MaxResults"] != nil, !(1...50).contains(maxResults) {
            throw AWSError(
                "InvalidMaxResultsException",
                "A max results value of \(input["MaxResults"]?.number.map { String(Int($0)) } ?? "") is invalid. Specify max results between 1 and 50."
            )
        }
        let category = input["EventCategory"]?.string
        if let category, category != "insight" {
            throw AWSError("InvalidEventCategoryException", "Event category \(category) is not valid. The only valid value is insight.")
        }
        let start = input["StartTime"]?.number
        let end = input["EndTime"]?.number
        if let start, let end, start > end {
            throw AWSError("InvalidTimeRangeException", "Start time must be earlier than or equal to end time.")
        }
        let bindings = Self.fingerprint(key: key, value: value, start: start, end: end, category: category)
        var cursor: EventQuery.Cursor?
        if let token = input["NextToken"]?.string {
            guard let c = Self.decodeToken(token, fingerprint: bindings) else {
                throw AWSError("InvalidNextTokenException", "Invalid NextToken. The token is not valid for this request.")
            }
            cursor = c
        }
        if category == "insight" { return .object(["Events": .array([])]) }

        let now = Int64(clock())
        let lower = max(start.map { Int64($0.rounded(.up)) } ?? 0, now - Self.retention)
        let upper = end.map { Int64($0.rounded(.down)) } ?? Int64.max
        let rows = try await events.lookup(
            EventQuery(
                accountId: call.caller.accountId, region: call.region, attribute: key, value: value, startTime: lower,
                endTime: upper, after: cursor, limit: maxResults + 1))
        var out: [String: JSONValue] = [
            "Events": .array(rows.prefix(maxResults).map { Self.summary($0.event) })
        ]
        if rows.count > maxResults, let last = rows.prefix(maxResults).last {
            out["NextToken"] = .string(
                Self.encodeToken(
                    EventQuery.Cursor(eventTime: last.event.eventTime, seq: last.seq), fingerprint: bindings))
        }
        return .object(out)
    }

    /// One entry of `Events`, as CloudTrail's `Event` shape.
    private static func summary(_ e: StoredEvent) -> JSONValue {
        var o: [String: JSONValue] = [
            "EventId": .string(e.eventID),
            "EventName": .string(e.eventName),
            "ReadOnly": .string(e.readOnly ? "true" : "false"),
            "EventTime": .number(Double(e.eventTime)),
            "EventSource": .string(e.eventSource),
            "Username": .string(e.username),
            "Resources": .array(
                e.lookupResources.map {
                    .object(["ResourceType": .string($0.type), "ResourceName": .string($0.name)])
                }),
            "CloudTrailEvent": .string(String(decoding: e.record, as: UTF8.self)),
        ]
        if !e.accessKeyId.isEmpty { o["AccessKeyId"] = .string(e.accessKeyId) }
        return .object(o)
    }

    // MARK: NextToken

    /// A digest of the parameters a token is bound to.
    private static func fingerprint(key: LookupKey?, value: String, start: Double?, end: Double?, category: String?) -> String {
        let text =
            "\(key?.rawValue ?? "")\u{0}\(value)\u{0}\(start.map { String($0) } ?? "")\u{0}\(end.map { String($0) } ?? "")\u{0}\(category ?? "")"
        return Hex.encode(SHA256.hash(data: Array(text.utf8)).prefix(8))
    }

    private static func encodeToken(_ cursor: EventQuery.Cursor, fingerprint: String) -> String {
        let text = "1:\(cursor.eventTime):\(cursor.seq):\(fingerprint)"
        return Base64URL.encode(Array(text.utf8))
    }

    private static func decodeToken(_ token: String, fingerprint: String) -> EventQuery.Cursor? {
        guard let bytes = Base64URL.decode(token) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":")
        guard parts.count == 4, parts[0] == "1", let time = Int64(parts[1]), let seq = Int64(parts[2]),
            parts[3] == fingerprint
        else { return nil }
        return EventQuery.Cursor(eventTime: time, seq: seq)
    }
}
