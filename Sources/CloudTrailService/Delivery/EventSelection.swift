import AWSCore
import Audit
import Foundation
import Storage

/// Which events a trail receives: its account, its regions, global service events, and its selectors.
///
/// Basic selectors admit a management event when `IncludeManagementEvents` holds, its source is not excluded and
/// `ReadWriteType` admits it; a data event when one of the `DataResources` matches one of the event's resources (type
/// and ARN prefix). Advanced selectors admit an event when every field selector of one selector holds. An event is
/// delivered when any selector admits it.
struct EventSelection: Sendable {
    /// Global service events: recorded in us-east-1, delivered only to trails that include global service events.
    static let globalSources: Set<String> = ["iam.amazonaws.com", "sts.amazonaws.com", "cloudfront.amazonaws.com", "route53.amazonaws.com"]

    let account: String
    let homeRegion: String
    let multiRegion: Bool
    let includeGlobal: Bool
    let basic: [JSONValue]?
    let advanced: [JSONValue]?

    /// The selection of a trail.
    init(_ trail: Trail) {
        account = trail.accountId
        homeRegion = trail.homeRegion
        multiRegion = trail.isMultiRegionTrail
        includeGlobal = trail.includeGlobalServiceEvents
        advanced = trail.advancedEventSelectors
        basic = trail.advancedEventSelectors == nil ? (trail.eventSelectors ?? Trail.defaultEventSelectors) : nil
    }

    /// Whether the trail receives the event.
    func selects(_ e: StoredEvent) -> Bool {
        guard e.accountId == account, multiRegion || e.region == homeRegion else { return false }
        if e.region == "us-east-1", Self.globalSources.contains(e.eventSource), !includeGlobal { return false }
        var resources: [(type: String, arn: String)]?
        let lazyResources = { () -> [(type: String, arn: String)] in
            if let resources { return resources }
            let found = Self.resources(of: e.record)
            resources = found
            return found
        }
        if let advanced {
            return advanced.contains { Self.matches(advanced: $0, e, lazyResources) }
        }
        return (basic ?? []).contains { Self.matches(basic: $0, e, lazyResources) }
    }

    private static func matches(basic s: JSONValue, _ e: StoredEvent, _ resources: () -> [(type: String, arn: String)]) -> Bool {
        switch s["ReadWriteType"]?.string ?? "All" {
        case "ReadOnly": guard e.readOnly else { return false }
        case "WriteOnly": guard !e.readOnly else { return false }
        default: break
        }
        if e.category == .management {
            guard s["IncludeManagementEvents"]?.bool ?? true else { return false }
            let excluded = s["ExcludeManagementEventSources"]?.array?.compactMap(\.string) ?? []
            return !excluded.contains(e.eventSource)
        }
        let wanted = s["DataResources"]?.array ?? []
        guard !wanted.isEmpty else { return false }
        let actual = resources()
        for resource in wanted {
            let type = resource["Type"]?.string ?? ""
            let values = resource["Values"]?.array?.compactMap(\.string) ?? []
            for r in actual where r.type == type {
                let service = type == "AWS::S3::Object" ? "arn:aws:s3" : "arn:aws:" + type.split(separator: ":")[2].lowercased()
                if values.contains(where: { $0 == service || $0 == service + ":::" || r.arn.hasPrefix($0) }) { return true }
            }
        }
        return false
    }

    private static func matches(advanced s: JSONValue, _ e: StoredEvent, _ resources: () -> [(type: String, arn: String)]) -> Bool {
        for field in s["FieldSelectors"]?.array ?? [] {
            let name = field["Field"]?.string ?? ""
            let values: [String]
            switch name {
            case "eventCategory": values = [e.category.rawValue]
            case "readOnly": values = [e.readOnly ? "true" : "false"]
            case "eventSource": values = [e.eventSource]
            case "eventName": values = [e.eventName]
            case "resources.type": values = resources().map(\.type)
            case "resources.ARN": values = resources().map(\.arn)
            default: values = []
            }
            guard fieldMatches(field, values) else { return false }
        }
        return true
    }

    /// One field selector: positive operators need some value to match one of theirs; negative operators need no
    /// value to match any of theirs.
    private static func fieldMatches(_ field: JSONValue, _ values: [String]) -> Bool {
        func list(_ key: String) -> [String]? { field[key]?.array?.compactMap(\.string) }
        if let equals = list("Equals"), !values.contains(where: equals.contains) { return false }
        if let starts = list("StartsWith"), !values.contains(where: { v in starts.contains { v.hasPrefix($0) } }) { return false }
        if let ends = list("EndsWith"), !values.contains(where: { v in ends.contains { v.hasSuffix($0) } }) { return false }
        if let not = list("NotEquals"), values.contains(where: not.contains) { return false }
        if let not = list("NotStartsWith"), values.contains(where: { v in not.contains { v.hasPrefix($0) } }) { return false }
        if let not = list("NotEndsWith"), values.contains(where: { v in not.contains { v.hasSuffix($0) } }) { return false }
        return true
    }

    /// The `resources` of a stored record (parsed only for events whose selection needs them).
    static func resources(of record: [UInt8]) -> [(type: String, arn: String)] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(record)), let list = value["resources"]?.array else {
            return []
        }
        return list.compactMap { r in
            guard let type = r["type"]?.string, let arn = r["ARN"]?.string else { return nil }
            return (type, arn)
        }
    }
}
