import AWSCore

/// Validation and normalisation of basic, advanced and Insights selectors (`InvalidEventSelectorsException`,
/// `InvalidInsightSelectorsException`).
enum SelectorRules {
    private static func invalid(_ message: String) -> AWSError { AWSError("InvalidEventSelectorsException", message) }

    /// Validates basic selectors and fills their defaults, as GetEventSelectors returns them.
    static func normalizeBasic(_ selectors: [JSONValue]) throws(AWSError) -> [JSONValue] {
        guard (1...5).contains(selectors.count) else {
            throw invalid("You can specify between 1 and 5 event selectors for a trail.")
        }
        var dataResourceCount = 0
        var out: [JSONValue] = []
        for selector in selectors {
            let readWrite = selector["ReadWriteType"]?.string ?? "All"
            guard ["ReadOnly", "WriteOnly", "All"].contains(readWrite) else {
                throw invalid("Value \(readWrite) for ReadWriteType is invalid.")
            }
            var resources: [JSONValue] = []
            for resource in selector["DataResources"]?.array ?? [] {
                let type = resource["Type"]?.string ?? ""
                let values = resource["Values"]?.array?.compactMap(\.string) ?? []
                try checkDataResource(type: type, values: values)
                dataResourceCount += values.count
                resources.append(.object(["Type": .string(type), "Values": .array(values.map { .string($0) })]))
            }
            let excluded = selector["ExcludeManagementEventSources"]?.array?.compactMap(\.string) ?? []
            for source in excluded where !["kms.amazonaws.com", "rdsdata.amazonaws.com"].contains(source) {
                throw invalid("Value \(source) for ExcludeManagementEventSources is invalid.")
            }
            out.append(
                .object([
                    "ReadWriteType": .string(readWrite),
                    "IncludeManagementEvents": .bool(selector["IncludeManagementEvents"]?.bool ?? true),
                    "DataResources": .array(resources),
                    "ExcludeManagementEventSources": .array(excluded.map { .string($0) }),
                ]))
        }
        if dataResourceCount > 250 {
            throw invalid("You can specify up to 250 data resources for a trail.")
        }
        return out
    }

    private static func checkDataResource(type: String, values: [String]) throws(AWSError) {
        let prefix: String
        switch type {
        case "AWS::S3::Object": prefix = "arn:aws:s3"
        case "AWS::Lambda::Function": prefix = "arn:aws:lambda"
        case "AWS::DynamoDB::Table": prefix = "arn:aws:dynamodb"
        default: throw invalid("Value \(type) for DataResources.Type is invalid.")
        }
        for value in values {
            var ok = value == prefix || value.hasPrefix(prefix + ":")
            if type == "AWS::S3::Object", value.hasPrefix("arn:aws:s3:::") {
                let rest = value.dropFirst("arn:aws:s3:::".count)
                ok = rest.isEmpty || (rest.contains("/") && !rest.hasPrefix("/") && !rest.contains("*"))
            }
            guard ok else { throw invalid("Value \(value) for DataResources.Values is invalid.") }
        }
    }

    private static let advancedFields: Set<String> = [
        "eventCategory", "eventSource", "eventName", "eventType", "readOnly", "resources.type", "resources.ARN",
        "errorCode", "sessionCredentialFromConsole", "userIdentity.arn", "vpcEndpointId",
    ]
    private static let operators = ["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"]

    /// Validates advanced selectors and returns them as stored.
    static func normalizeAdvanced(_ selectors: [JSONValue]) throws(AWSError) -> [JSONValue] {
        guard !selectors.isEmpty else { throw invalid("You must specify at least one advanced event selector.") }
        var valueCount = 0
        var out: [JSONValue] = []
        for selector in selectors {
            let fields = selector["FieldSelectors"]?.array ?? []
            guard !fields.isEmpty else { throw invalid("Each advanced event selector needs at least one field selector.") }
            var category: String?
            var storedFields: [JSONValue] = []
            for field in fields {
                let name = field["Field"]?.string ?? ""
                guard advancedFields.contains(name) else { throw invalid("Field \(name) is invalid.") }
                var stored: [String: JSONValue] = ["Field": .string(name)]
                var any = false
                for op in operators {
                    guard let values = field[op]?.array?.compactMap(\.string) else { continue }
                    guard !values.isEmpty, values.allSatisfy({ (1...2048).contains($0.count) }) else {
                        throw invalid("The \(op) operator of field \(name) needs values of 1 to 2048 characters.")
                    }
                    if ["eventCategory", "readOnly", "resources.type"].contains(name), op != "Equals" {
                        throw invalid("Field \(name) only supports the Equals operator.")
                    }
                    if name == "readOnly", !values.allSatisfy({ $0 == "true" || $0 == "false" }) {
                        throw invalid("Field readOnly only accepts the values true and false.")
                    }
                    if name == "eventCategory" {
                        for v in values where !["Management", "Data", "NetworkActivity"].contains(v) {
                            throw invalid("Value \(v) for field eventCategory is invalid.")
                        }
                        category = values.first
                    }
                    valueCount += values.count
                    stored[op] = .array(values.map { .string($0) })
                    any = true
                }
                guard any else { throw invalid("Field selector \(name) has no operator.") }
                storedFields.append(.object(stored))
            }
            guard let category else { throw invalid("Each advanced event selector must include the eventCategory field.") }
            if category == "Data", !fields.contains(where: { $0["Field"]?.string == "resources.type" }) {
                throw invalid("Advanced event selectors for data events must include the resources.type field.")
            }
            var o: [String: JSONValue] = ["FieldSelectors": .array(storedFields)]
            if let name = selector["Name"]?.string { o["Name"] = .string(name) }
            out.append(.object(o))
        }
        if valueCount > 500 { throw invalid("Advanced event selectors can have at most 500 values in all.") }
        return out
    }

    /// Validates Insights selectors against the trail's management-event logging.
    static func normalizeInsights(_ selectors: [JSONValue], trail: Trail) throws(AWSError) -> [JSONValue] {
        var out: [JSONValue] = []
        var seen = Set<String>()
        for selector in selectors {
            let type = selector["InsightType"]?.string ?? ""
            guard ["ApiCallRateInsight", "ApiErrorRateInsight"].contains(type), seen.insert(type).inserted else {
                throw AWSError("InvalidInsightSelectorsException", "Value \(type) for InsightType is invalid.")
            }
            if type == "ApiCallRateInsight", !logsManagementEvents(trail, write: true) {
                throw AWSError(
                    "InvalidInsightSelectorsException",
                    "ApiCallRateInsight requires the trail to log write management events.")
            }
            var o: [String: JSONValue] = ["InsightType": .string(type)]
            if let categories = selector["EventCategories"]?.array { o["EventCategories"] = .array(categories) }
            out.append(.object(o))
        }
        return out
    }

    private static func logsManagementEvents(_ trail: Trail, write: Bool) -> Bool {
        if trail.advancedEventSelectors != nil { return true }
        return (trail.eventSelectors ?? Trail.defaultEventSelectors).contains { s in
            s["IncludeManagementEvents"]?.bool != false && s["ReadWriteType"]?.string != (write ? "ReadOnly" : "WriteOnly")
        }
    }
}
