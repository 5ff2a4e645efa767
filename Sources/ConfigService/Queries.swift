import AWSCore
import Foundation
import Gateway

/// The resource queries: history, discovered resources and counts, batch get and advanced query.
extension ConfigStore {
    /// An opaque page token: the position of the next result, base64url-encoded with a tag, so that garbage is
    /// told apart from a real token.
    static func token(_ offset: Int) -> String {
        Base64URL.encode(Array("cairn-config:\(offset)".utf8))
    }

    /// The position a page token names, or `InvalidNextTokenException`.
    static func offset(_ token: String?) throws(AWSError) -> Int {
        guard let token, !token.isEmpty else { return 0 }
        guard let bytes = Base64URL.decode(token), let text = String(bytes: bytes, encoding: .utf8), text.hasPrefix("cairn-config:"),
            let offset = Int(text.dropFirst("cairn-config:".count)), offset >= 0
        else { throw AWSError("InvalidNextTokenException", "The nextToken provided is invalid") }
        return offset
    }

    /// A `limit` member: 0 or absent means the default; above `max` is `InvalidLimitException`.
    static func limit(_ value: JSONValue?, member: String, defaultValue: Int, max: Int = 100) throws(AWSError) -> Int {
        let n = value?.int ?? 0
        if n > max || n < 0 {
            throw AWSError(
                "InvalidLimitException",
                "Value '\(n)' at '\(member)' failed to satisfy constraint: Member must have value less than or equal to \(max)")
        }
        return n == 0 ? defaultValue : n
    }

    /// One page of `items` from `offset`, with the token of the next page when more remain.
    static func page<T>(_ items: [T], offset: Int, limit: Int) -> (page: [T], next: String?) {
        let start = min(offset, items.count)
        let end = min(start + limit, items.count)
        return (Array(items[start..<end]), end < items.count ? token(end) : nil)
    }

    /// Config's resource types (the model's `ResourceType` enum).
    static let resourceTypes: [String] = ServiceModel.config.shape("ResourceType").enum ?? []

    /// Checks a `resourceType` member against the model's enum, with AWS's validation message.
    static func validateResourceType(_ type: String, member: String) throws(AWSError) {
        guard !resourceTypes.contains(type) else { return }
        throw AWSError(
            "ValidationException",
            "1 validation error detected: Value '\(type)' at '\(member)' failed to satisfy constraint: Member must satisfy enum value set: [\(resourceTypes.joined(separator: ", "))]"
        )
    }

    /// Throws `NoAvailableConfigurationRecorderException` when the account has no recorder in the region.
    private func requireRecorder(_ call: OperationCall) async throws {
        guard try await recorder(scope: Self.scope(call.caller.accountId, call.region)) != nil else {
            throw AWSError("NoAvailableConfigurationRecorderException", "There are no configuration recorders available.")
        }
    }

    /// `GetResourceConfigHistory`: a resource's items between `earlierTime` and `laterTime`, newest first unless
    /// `chronologicalOrder` is `Forward`.
    func resourceHistory(_ call: OperationCall) async throws -> JSONValue {
        let type = call.input["resourceType"]?.string ?? ""
        let id = call.input["resourceId"]?.string ?? ""
        try Self.validateResourceType(type, member: "resourceType")
        let limit = try Self.limit(call.input["limit"], member: "limit", defaultValue: 10)
        let offset = try Self.offset(call.input["nextToken"]?.string)
        let later = call.input["laterTime"]?.number ?? runtime.now()
        let earlier = call.input["earlierTime"]?.number ?? 0
        if earlier > later {
            throw AWSError("InvalidTimeRangeException", "The earlier time is not chronologically before the later time.")
        }
        let key = ResourceKey(accountId: call.caller.accountId, region: call.region, resourceType: type, resourceId: id)
        let all = try await history(key)
        guard !all.isEmpty else {
            try await requireRecorder(call)
            throw AWSError("ResourceNotDiscoveredException", "Resource \(id) of resourceType:\(type) is unknown or has not been discovered")
        }
        var window = all.filter { $0.captureTime >= earlier && $0.captureTime <= later }
        if call.input["chronologicalOrder"]?.string != "Forward" { window.reverse() }
        let (page, next) = Self.page(window, offset: offset, limit: limit)
        var out: [String: JSONValue] = ["configurationItems": .array(page.map(\.apiValue))]
        if let next { out["nextToken"] = .string(next) }
        return .object(out)
    }

    /// `ListDiscoveredResources`: the resources of one type, by id, optionally filtered by ids or name.
    func listDiscovered(_ call: OperationCall) async throws -> JSONValue {
        let type = call.input["resourceType"]?.string ?? ""
        try Self.validateResourceType(type, member: "resourceType")
        try await requireRecorder(call)
        let ids = call.input["resourceIds"]?.array?.compactMap(\.string)
        let name = call.input["resourceName"]?.string
        if ids != nil, name != nil {
            throw AWSError("ValidationException", "Both Resource ID and Resource Name cannot be specified in the request")
        }
        if let ids, ids.count > 20 {
            throw AWSError("ValidationException", "The specified list had more than 20 resource ID's. It must have '20' or less items")
        }
        let limit = try Self.limit(call.input["limit"], member: "limit", defaultValue: 100)
        let offset = try Self.offset(call.input["nextToken"]?.string)
        let includeDeleted = call.input["includeDeletedResources"]?.bool ?? false
        let items = try await currentItems(account: call.caller.accountId, region: call.region)
            .filter { $0.resource.resourceType == type && (includeDeleted || !$0.isDeleted) }
            .filter { ids?.contains($0.resource.resourceId) ?? true }
            .filter { name == nil || $0.resource.resourceName == name }
        let (page, next) = Self.page(items, offset: offset, limit: limit)
        var out: [String: JSONValue] = [
            "resourceIdentifiers": .array(
                page.map { item in
                    var o: [String: JSONValue] = ["resourceType": .string(type), "resourceId": .string(item.resource.resourceId)]
                    if let n = item.resource.resourceName { o["resourceName"] = .string(n) }
                    if item.isDeleted {
                        o["resourceDeletionTime"] = .number(item.captureTime)
                    }
                    return .object(o)
                })
        ]
        if let next { out["nextToken"] = .string(next) }
        return .object(out)
    }

    /// The current items with configuration of an account and region, as advanced queries and counts see them.
    private func liveItems(_ call: OperationCall) async throws -> [ConfigurationItem] {
        try await currentItems(account: call.caller.accountId, region: call.region).filter { !$0.isDeleted }
    }

    /// `GetDiscoveredResourceCounts`: resources per type, largest count first.
    func discoveredCounts(_ call: OperationCall) async throws -> JSONValue {
        let types = call.input["resourceTypes"]?.array?.compactMap(\.string) ?? []
        let limit = try Self.limit(call.input["limit"], member: "limit", defaultValue: 100)
        let offset = try Self.offset(call.input["nextToken"]?.string)
        var counts: [String: Int] = [:]
        for item in try await liveItems(call) where types.isEmpty || types.contains(item.resource.resourceType) {
            counts[item.resource.resourceType, default: 0] += 1
        }
        let sorted = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        let (page, next) = Self.page(sorted, offset: offset, limit: limit)
        var out: [String: JSONValue] = [
            "totalDiscoveredResources": .number(Double(counts.values.reduce(0, +))),
            "resourceCounts": .array(page.map { .object(["resourceType": .string($0.key), "count": .number(Double($0.value))]) }),
        ]
        if let next { out["nextToken"] = .string(next) }
        return .object(out)
    }

    /// `BatchGetResourceConfig`: the current item of each key that names a recorded, existing resource.
    func batchGet(_ call: OperationCall) async throws -> JSONValue {
        try await requireRecorder(call)
        let keys = call.input["resourceKeys"]?.array ?? []
        if keys.isEmpty || keys.count > 100 {
            throw AWSError(
                "ValidationException",
                "1 validation error detected: Value '[...]' at 'resourceKeys' failed to satisfy constraint: Member must have length \(keys.isEmpty ? "greater than or equal to 1" : "less than or equal to 100")"
            )
        }
        var found: [JSONValue] = []
        for key in keys {
            guard let type = key["resourceType"]?.string, let id = key["resourceId"]?.string else { continue }
            let resource = ResourceKey(accountId: call.caller.accountId, region: call.region, resourceType: type, resourceId: id)
            if let item = try await currentItem(resource), item.hasConfiguration { found.append(item.baseValue) }
        }
        return .object(["baseConfigurationItems": .array(found), "unprocessedResourceKeys": .array([])])
    }
}

extension ConfigStore {
    /// `SelectResourceConfig`: evaluates the advanced query over the current items of the account and region.
    func select(_ call: OperationCall) async throws -> JSONValue {
        let query = try ResourceQuery(call.input["Expression"]?.string ?? "")
        let limit = try Self.limit(call.input["Limit"], member: "limit", defaultValue: 100)
        let offset = try Self.offset(call.input["NextToken"]?.string)
        let rows = query.evaluate(try await currentItems(account: call.caller.accountId, region: call.region).map(\.queryValue))
        let (page, next) = Self.page(rows, offset: offset, limit: limit)
        var out: [String: JSONValue] = [
            "Results": .array(page.map(JSONValue.string)),
            "QueryInfo": .object(["SelectFields": .array(query.selectFields.map { .object(["Name": .string($0)]) })]),
        ]
        if let next { out["NextToken"] = .string(next) }
        return .object(out)
    }
}
