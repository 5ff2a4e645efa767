import AWSCore
import Foundation
import TestSupport
import Testing

@testable import ConfigService

/// Configuration items shared by the tests: six current resources plus three that queries must never return.
private let fixtureTexts: [String] = [
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T10:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000001","arn":"arn:aws:s3:::b1",
     "resourceType":"AWS::S3::Bucket","resourceId":"b1","resourceName":"b1","awsRegion":"us-east-1",
     "availabilityZone":"Regional","resourceCreationTime":"2026-11-21T09:00:00.000Z",
     "tags":[{"key":"env","value":"prod"},{"key":"team","value":"core"}],"relationships":[],
     "configuration":{"name":"b1","owner":{"displayName":"me"}},
     "supplementaryConfiguration":{"BucketVersioningConfiguration":{"status":"Enabled","isMfaDeleteEnabled":null}}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-20T08:00:00.000Z",
     "configurationItemStatus":"ResourceDiscovered","configurationStateId":"1700000000000","arn":"arn:aws:s3:::b2",
     "resourceType":"AWS::S3::Bucket","resourceId":"b2","resourceName":"b2","awsRegion":"us-east-1",
     "availabilityZone":"Regional","resourceCreationTime":"2026-11-20T07:00:00.000Z",
     "tags":[{"key":"env","value":"dev"}],"relationships":[],"configuration":{"name":"b2"},
     "supplementaryConfiguration":{"BucketVersioningConfiguration":{"status":"Suspended","isMfaDeleteEnabled":false}}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T10:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000000",
     "arn":"arn:aws:ec2:us-east-1:123456789012:instance/i-1","resourceType":"AWS::EC2::Instance","resourceId":"i-1",
     "awsRegion":"us-east-1","availabilityZone":"us-east-1a","resourceCreationTime":"2026-11-21T09:00:00.000Z",
     "tags":[{"key":"env","value":"prod"},{"key":"owner","value":"alice"}],
     "relationships":[{"resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-1","relationshipName":"Is associated with SecurityGroup"}],
     "configuration":{"instanceType":"t3.micro","placement":{"tenancy":"default","availabilityZone":"us-east-1a"},
       "cpuOptions":{"coreCount":2},"ebsOptimized":true,
       "securityGroups":[{"groupId":"sg-1","groupName":"web"},{"groupId":"sg-2","groupName":"db"}],
       "blockDeviceMappings":[{"deviceName":"/dev/xvda","ebs":{"volumeId":"vol-1"}},{"deviceName":"/dev/sdb","ebs":{"volumeId":"vol-2"}}]},
     "supplementaryConfiguration":{}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T11:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000000",
     "arn":"arn:aws:ec2:us-east-1:123456789012:instance/i-2","resourceType":"AWS::EC2::Instance","resourceId":"i-2",
     "awsRegion":"us-east-1","availabilityZone":"us-east-1b","resourceCreationTime":"2026-11-21T09:00:00.000Z",
     "tags":[{"key":"env","value":"dev"}],"relationships":[],
     "configuration":{"instanceType":"m5.large","placement":{"tenancy":"dedicated"},"cpuOptions":{"coreCount":4},
       "ebsOptimized":false,"securityGroups":[{"groupId":"sg-2","groupName":"web"}]}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T10:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000000","resourceType":"AWS::EC2::Volume",
     "resourceId":"vol-1","resourceName":"it's","awsRegion":"us-east-1","configuration":{"size":8,"state":"in-use"}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T10:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000000","resourceType":"AWS::EC2::Volume",
     "resourceId":"vol-2","resourceName":"data \"vol\"\\2","awsRegion":"us-east-1","tags":[],
     "configuration":{"size":100,"state":"available"}}
    """#,
    #"""
    {"version":"1.3","configurationItemStatus":"ResourceDeleted","resourceType":"AWS::EC2::Instance","resourceId":"i-3",
     "configuration":{"instanceType":"t3.micro","cpuOptions":{"coreCount":8}}}
    """#,
    #"""
    {"version":"1.3","configurationItemStatus":"ResourceNotRecorded","resourceType":"AWS::EC2::Volume","resourceId":"vol-9",
     "configuration":{"size":500}}
    """#,
    #"""
    {"version":"1.3","configurationItemStatus":"ResourceDeletedNotRecorded","resourceType":"AWS::EC2::Instance",
     "resourceId":"i-4","configuration":{"instanceType":"t3.micro"}}
    """#,
    #"""
    {"version":"1.3","accountId":"123456789012","configurationItemCaptureTime":"2026-11-21T12:00:00.000Z",
     "configurationItemStatus":"OK","configurationStateId":"1700000000000","resourceType":"AWS::EC2::Volume",
     "resourceId":"vol-3","awsRegion":"us-east-1","configuration":{"size":31,"state":"available"}}
    """#,
]

/// The decoded fixtures.
private let fixtures: [JSONValue] = fixtureTexts.map { text in
    (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
}

/// Runs a query over the fixtures.
private func run(_ expression: String) throws(AWSError) -> [String] {
    try ResourceQuery(expression).evaluate(fixtures)
}

/// Checks that `SELECT resourceId WHERE <condition>` returns exactly the given resources, in order.
private func expectIDs(_ condition: String, _ ids: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let rows = try run("SELECT resourceId WHERE \(condition)")
    #expect(rows == ids.map { #"{"resourceId":"\#($0)"}"# }, "\(condition)", sourceLocation: sourceLocation)
}

/// Checks that the expression is refused with InvalidExpressionException (and the given message, when one is given).
private func expectInvalid(_ expression: String, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ResourceQuery(expression)
        Issue.record("expected InvalidExpressionException for \(expression)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == "InvalidExpressionException", sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix("Invalid expression: "), sourceLocation: sourceLocation)
        if let message { #expect(error.message == message, sourceLocation: sourceLocation) }
    }
}

@Suite struct ResourceQuerySelectTests {
    @Test func selectListAndRowShape() throws {
        let query = try ResourceQuery("  SELECT resourceId,configuration.placement.tenancy  WHERE resourceType = 'AWS::EC2::Instance' ")
        #expect(query.selectFields == ["resourceId", "configuration.placement.tenancy"])
        #expect(
            query.evaluate(fixtures) == [
                #"{"resourceId":"i-1","configuration":{"placement":{"tenancy":"default"}}}"#,
                #"{"resourceId":"i-2","configuration":{"placement":{"tenancy":"dedicated"}}}"#,
            ])
    }

    @Test func selectFieldsAreVerbatim() throws {
        let query = try ResourceQuery("select  resourceType ,  count( * )  group by resourceType")
        #expect(query.selectFields == ["resourceType", "count( * )"])
        #expect(query.evaluate(fixtures).first == #"{"resourceType":"AWS::S3::Bucket","count( * )":2}"#)
    }

    @Test func nestedPathsMergeInSelectOrder() throws {
        let rows = try run(
            "SELECT configuration.placement.tenancy, resourceId, configuration.instanceType, "
                + "configuration.placement.availabilityZone WHERE resourceId = 'i-1'"
        )
        #expect(
            rows == [
                #"{"configuration":{"placement":{"tenancy":"default","availabilityZone":"us-east-1a"},"instanceType":"t3.micro"},"resourceId":"i-1"}"#
            ])
    }

    @Test func pathsThroughArraysBuildArraysOfSubObjects() throws {
        #expect(try run("SELECT tags.key WHERE resourceId = 'i-1'") == [#"{"tags":[{"key":"env"},{"key":"owner"}]}"#])
        #expect(
            try run("SELECT tags.key, tags.value WHERE resourceId = 'i-1'") == [
                #"{"tags":[{"key":"env","value":"prod"},{"key":"owner","value":"alice"}]}"#
            ])
        #expect(
            try run("SELECT tags WHERE resourceId = 'i-1'") == [
                #"{"tags":[{"key":"env","value":"prod"},{"key":"owner","value":"alice"}]}"#
            ])
        #expect(try run("SELECT tags.tag WHERE resourceId = 'i-1'") == [#"{"tags":[{"tag":"env=prod"},{"tag":"owner=alice"}]}"#])
        #expect(
            try run("SELECT configuration.blockDeviceMappings.ebs.volumeId WHERE resourceId = 'i-1'") == [
                #"{"configuration":{"blockDeviceMappings":[{"ebs":{"volumeId":"vol-1"}},{"ebs":{"volumeId":"vol-2"}}]}}"#
            ])
        #expect(
            try run("SELECT configuration.securityGroups.groupName, configuration.securityGroups.groupId WHERE resourceId = 'i-1'") == [
                #"{"configuration":{"securityGroups":[{"groupName":"web","groupId":"sg-1"},{"groupName":"db","groupId":"sg-2"}]}}"#
            ])
    }

    @Test func absentPathsAreOmittedAndNullsKept() throws {
        #expect(
            try run("SELECT resourceId, configuration.size WHERE resourceType IN ('AWS::EC2::Volume', 'AWS::S3::Bucket')") == [
                #"{"resourceId":"b1"}"#, #"{"resourceId":"b2"}"#,
                #"{"resourceId":"vol-1","configuration":{"size":8}}"#,
                #"{"resourceId":"vol-2","configuration":{"size":100}}"#,
                #"{"resourceId":"vol-3","configuration":{"size":31}}"#,
            ])
        #expect(
            try run("SELECT supplementaryConfiguration.BucketVersioningConfiguration WHERE resourceId = 'b1'") == [
                #"{"supplementaryConfiguration":{"BucketVersioningConfiguration":{"isMfaDeleteEnabled":null,"status":"Enabled"}}}"#
            ])
        #expect(try run("SELECT configuration.nothing WHERE resourceId = 'b1'") == ["{}"])
    }

    @Test func selectStarReturnsTopLevelScalars() throws {
        let query = try ResourceQuery("SELECT * WHERE resourceId = 'b1'")
        #expect(query.selectFields == ["*"])
        #expect(
            query.evaluate(fixtures) == [
                #"{"accountId":"123456789012","awsRegion":"us-east-1","arn":"arn:aws:s3:::b1","availabilityZone":"Regional","#
                    + #""configurationItemCaptureTime":"2026-11-21T10:00:00.000Z","resourceCreationTime":"2026-11-21T09:00:00.000Z","#
                    + #""resourceId":"b1","resourceName":"b1","resourceType":"AWS::S3::Bucket","version":"1.3"}"#
            ])
        #expect(
            try run("SELECT * WHERE resourceId = 'vol-3'") == [
                #"{"accountId":"123456789012","awsRegion":"us-east-1","configurationItemCaptureTime":"2026-11-21T12:00:00.000Z","#
                    + #""resourceId":"vol-3","resourceType":"AWS::EC2::Volume","version":"1.3"}"#
            ])
    }

    @Test func stringsAreEscapedInRows() throws {
        #expect(try run("SELECT resourceName WHERE resourceId = 'vol-2'") == [#"{"resourceName":"data \"vol\"\\2"}"#])
    }

    @Test func deletedAndNotRecordedItemsAreExcluded() throws {
        #expect(
            try run("SELECT resourceId") == [
                #"{"resourceId":"b1"}"#, #"{"resourceId":"b2"}"#, #"{"resourceId":"i-1"}"#, #"{"resourceId":"i-2"}"#,
                #"{"resourceId":"vol-1"}"#, #"{"resourceId":"vol-2"}"#, #"{"resourceId":"vol-3"}"#,
            ])
        try expectIDs("configuration.instanceType = 't3.micro'", ["i-1"])
        #expect(try run("SELECT COUNT(*) WHERE resourceType = 'AWS::EC2::Instance'") == [#"{"COUNT(*)":2}"#])
    }
}

@Suite struct ResourceQueryConditionTests {
    @Test func comparisonOperators() throws {
        try expectIDs("configuration.cpuOptions.coreCount = 2", ["i-1"])
        try expectIDs("configuration.cpuOptions.coreCount != 2", ["i-2"])
        try expectIDs("configuration.cpuOptions.coreCount <> 2", ["i-2"])
        try expectIDs("configuration.size < 100", ["vol-1", "vol-3"])
        try expectIDs("configuration.size <= 100", ["vol-1", "vol-2", "vol-3"])
        try expectIDs("configuration.size > 8", ["vol-2", "vol-3"])
        try expectIDs("configuration.size >= 31", ["vol-2", "vol-3"])
        try expectIDs("configuration.size = 8.0", ["vol-1"])
        try expectIDs("configuration.size = '8'", ["vol-1"])
        try expectIDs("configurationStateId = 1700000000001", ["b1"])
        try expectIDs("resourceType = 'aws::s3::bucket'", [])
        try expectIDs("resourceName = 'it''s'", ["vol-1"])
    }

    @Test func literalOnTheLeft() throws {
        try expectIDs("8 = configuration.size", ["vol-1"])
        try expectIDs("100 > configuration.size", ["vol-1", "vol-3"])
    }

    @Test func booleans() throws {
        try expectIDs("configuration.ebsOptimized = true", ["i-1"])
        try expectIDs("configuration.ebsOptimized = FALSE", ["i-2"])
        try expectIDs("configuration.ebsOptimized = 'false'", ["i-2"])
        try expectIDs("supplementaryConfiguration.BucketVersioningConfiguration.isMfaDeleteEnabled = false", ["b2"])
    }

    @Test func timesCompareLexically() throws {
        try expectIDs("configurationItemCaptureTime > '2026-11-21T10:30'", ["i-2", "vol-3"])
        try expectIDs("configurationItemCaptureTime BETWEEN '2026-11-20' AND '2026-11-21'", ["b2"])
        try expectIDs("configurationItemCaptureTime < '2026-11-21'", ["b2"])
    }

    @Test func inAndBetween() throws {
        try expectIDs("resourceId IN ('b1', 'i-2', 'nope')", ["b1", "i-2"])
        try expectIDs("resourceId NOT IN ('b1', 'b2', 'vol-3')", ["i-1", "i-2", "vol-1", "vol-2"])
        try expectIDs("configuration.size IN (8, 31)", ["vol-1", "vol-3"])
        try expectIDs("configuration.cpuOptions.coreCount BETWEEN 1 AND 3", ["i-1"])
        try expectIDs("configuration.cpuOptions.coreCount NOT BETWEEN 1 AND 3", ["i-2"])
        try expectIDs("configuration.size BETWEEN 8 AND 31", ["vol-1", "vol-3"])
    }

    @Test func like() throws {
        try expectIDs("resourceType LIKE 'AWS::EC2::%'", ["i-1", "i-2", "vol-1", "vol-2", "vol-3"])
        try expectIDs("configuration.instanceType LIKE 't3.%'", ["i-1"])
        try expectIDs("resourceId LIKE 'vol__'", ["vol-1", "vol-2", "vol-3"])
        try expectIDs("resourceId LIKE 'vol_'", [])
        try expectIDs("resourceId LIKE 'vol%_'", ["vol-1", "vol-2", "vol-3"])
        try expectIDs("resourceId LIKE 'vol-1'", ["vol-1"])
        try expectIDs("resourceId NOT LIKE 'vol%'", ["b1", "b2", "i-1", "i-2"])
        try expectIDs("tags.value like 'ali%'", ["i-1"])
    }

    @Test func logicalPrecedence() throws {
        try expectIDs("resourceId = 'b1' OR resourceId = 'b2' AND resourceType = 'AWS::EC2::Instance'", ["b1"])
        try expectIDs("(resourceId = 'b1' OR resourceId = 'b2') AND resourceType = 'AWS::S3::Bucket'", ["b1", "b2"])
        try expectIDs("NOT resourceType = 'AWS::S3::Bucket' AND configuration.size > 10", ["vol-2", "vol-3"])
        try expectIDs("NOT (resourceType = 'AWS::S3::Bucket' OR resourceType = 'AWS::EC2::Volume')", ["i-1", "i-2"])
        try expectIDs("NOT configuration.size = 8", ["b1", "b2", "i-1", "i-2", "vol-2", "vol-3"])
        try expectIDs("NOT NOT resourceId = 'b2'", ["b2"])
        try expectIDs("resourceId = 'b1' or (resourceId = 'i-1' and (tags.key = 'owner' or tags.key = 'x'))", ["b1", "i-1"])
    }

    @Test func arrayValuesMatchIfAnyValueMatches() throws {
        try expectIDs("tags.key = 'owner'", ["i-1"])
        try expectIDs("tags.value = 'prod'", ["b1", "i-1"])
        try expectIDs("tags.key != 'env'", ["b1", "i-1"])
        try expectIDs("relationships.resourceId = 'sg-1'", ["i-1"])
        try expectIDs("configuration.blockDeviceMappings.ebs.volumeId = 'vol-2'", ["i-1"])
    }

    @Test func conditionsOnOneArrayMayMatchDifferentElements() throws {
        try expectIDs("tags.key = 'env' AND tags.value = 'alice'", ["i-1"])
        try expectIDs("configuration.securityGroups.groupName = 'db' AND configuration.securityGroups.groupId = 'sg-1'", ["i-1"])
    }

    @Test func tagsTag() throws {
        try expectIDs("tags.tag = 'env=prod'", ["b1", "i-1"])
        try expectIDs("tags.tag = 'env=alice'", [])
        try expectIDs("tags.tag IN ('team=core', 'env=dev')", ["b1", "b2", "i-2"])
    }

    @Test func missingPathsFailEveryComparison() throws {
        try expectIDs("configuration.size != 5", ["vol-1", "vol-2", "vol-3"])
        try expectIDs("configuration.nothing != 'x'", [])
        try expectIDs("configuration.nothing NOT IN ('x')", [])
        try expectIDs("configuration.nothing NOT LIKE 'xyz%'", [])
    }
}

@Suite struct ResourceQueryAggregateTests {
    @Test func countWithoutGroupBy() throws {
        #expect(try run("SELECT COUNT(*)") == [#"{"COUNT(*)":7}"#])
        #expect(try run("SELECT COUNT(*) WHERE resourceId = 'nope'") == [#"{"COUNT(*)":0}"#])
        #expect(try run("SELECT COUNT(tags.key)") == [#"{"COUNT(tags.key)":4}"#])
        #expect(try run("SELECT COUNT(configuration.size), COUNT(*)") == [#"{"COUNT(configuration.size)":3,"COUNT(*)":7}"#])
    }

    @Test func groupByKeepsFirstAppearanceOrder() throws {
        #expect(
            try run("SELECT COUNT(*), resourceType GROUP BY resourceType") == [
                #"{"COUNT(*)":2,"resourceType":"AWS::S3::Bucket"}"#,
                #"{"COUNT(*)":2,"resourceType":"AWS::EC2::Instance"}"#,
                #"{"COUNT(*)":3,"resourceType":"AWS::EC2::Volume"}"#,
            ])
        #expect(try run("SELECT resourceType, COUNT(*) WHERE resourceId = 'nope' GROUP BY resourceType") == [])
    }

    @Test func orderByAggregate() throws {
        #expect(
            try run("SELECT resourceType, COUNT(*) GROUP BY resourceType ORDER BY COUNT(*) DESC") == [
                #"{"resourceType":"AWS::EC2::Volume","COUNT(*)":3}"#,
                #"{"resourceType":"AWS::S3::Bucket","COUNT(*)":2}"#,
                #"{"resourceType":"AWS::EC2::Instance","COUNT(*)":2}"#,
            ])
        #expect(
            try run("SELECT resourceType, COUNT(*) GROUP BY resourceType ORDER BY count(*) DESC, resourceType") == [
                #"{"resourceType":"AWS::EC2::Volume","COUNT(*)":3}"#,
                #"{"resourceType":"AWS::EC2::Instance","COUNT(*)":2}"#,
                #"{"resourceType":"AWS::S3::Bucket","COUNT(*)":2}"#,
            ])
        #expect(
            try run("SELECT resourceType GROUP BY resourceType ORDER BY SUM(configuration.size) DESC") == [
                #"{"resourceType":"AWS::EC2::Volume"}"#, #"{"resourceType":"AWS::S3::Bucket"}"#,
                #"{"resourceType":"AWS::EC2::Instance"}"#,
            ])
    }

    @Test func groupByNestedAndMissingValues() throws {
        #expect(
            try run("SELECT configuration.state, COUNT(*) WHERE resourceType = 'AWS::EC2::Volume' GROUP BY configuration.state") == [
                #"{"configuration":{"state":"in-use"},"COUNT(*)":1}"#,
                #"{"configuration":{"state":"available"},"COUNT(*)":2}"#,
            ])
        #expect(
            try run("SELECT configuration.size, COUNT(*) GROUP BY configuration.size ORDER BY configuration.size") == [
                #"{"COUNT(*)":4}"#,
                #"{"configuration":{"size":8},"COUNT(*)":1}"#,
                #"{"configuration":{"size":31},"COUNT(*)":1}"#,
                #"{"configuration":{"size":100},"COUNT(*)":1}"#,
            ])
        #expect(
            try run(
                "SELECT resourceType, configuration.ebsOptimized, COUNT(*) WHERE resourceType = 'AWS::EC2::Instance' "
                    + "GROUP BY resourceType, configuration.ebsOptimized ORDER BY configuration.ebsOptimized"
            ) == [
                #"{"resourceType":"AWS::EC2::Instance","configuration":{"ebsOptimized":false},"COUNT(*)":1}"#,
                #"{"resourceType":"AWS::EC2::Instance","configuration":{"ebsOptimized":true},"COUNT(*)":1}"#,
            ])
    }

    @Test func sumAvgMinMax() throws {
        #expect(
            try run(
                "SELECT SUM(configuration.size), AVG(configuration.size), MIN(configuration.size), MAX(configuration.size) "
                    + "WHERE resourceType = 'AWS::EC2::Volume'"
            ) == [
                #"{"SUM(configuration.size)":139,"AVG(configuration.size)":46.333333333333336,"MIN(configuration.size)":8,"MAX(configuration.size)":100}"#
            ])
        #expect(try run("SELECT AVG(configuration.cpuOptions.coreCount)") == [#"{"AVG(configuration.cpuOptions.coreCount)":3}"#])
        #expect(
            try run("SELECT MIN(configurationItemCaptureTime), MAX(resourceId)") == [
                #"{"MIN(configurationItemCaptureTime)":"2026-11-20T08:00:00.000Z","MAX(resourceId)":"vol-3"}"#
            ])
        #expect(try run("SELECT COUNT(*), SUM(configuration.size) WHERE resourceType = 'AWS::S3::Bucket'") == [#"{"COUNT(*)":2}"#])
        #expect(
            try run("SELECT resourceType, MAX(configuration.size) GROUP BY resourceType") == [
                #"{"resourceType":"AWS::S3::Bucket"}"#, #"{"resourceType":"AWS::EC2::Instance"}"#,
                #"{"resourceType":"AWS::EC2::Volume","MAX(configuration.size)":100}"#,
            ])
    }
}

@Suite struct ResourceQueryOrderTests {
    @Test func orderByPropertyIsStableWithMissingFirst() throws {
        #expect(
            try run("SELECT resourceId ORDER BY configuration.size") == [
                #"{"resourceId":"b1"}"#, #"{"resourceId":"b2"}"#, #"{"resourceId":"i-1"}"#, #"{"resourceId":"i-2"}"#,
                #"{"resourceId":"vol-1"}"#, #"{"resourceId":"vol-3"}"#, #"{"resourceId":"vol-2"}"#,
            ])
        #expect(
            try run("SELECT resourceId, configuration.size ORDER BY configuration.size DESC") == [
                #"{"resourceId":"vol-2","configuration":{"size":100}}"#,
                #"{"resourceId":"vol-3","configuration":{"size":31}}"#,
                #"{"resourceId":"vol-1","configuration":{"size":8}}"#,
                #"{"resourceId":"b1"}"#, #"{"resourceId":"b2"}"#, #"{"resourceId":"i-1"}"#, #"{"resourceId":"i-2"}"#,
            ])
    }

    @Test func orderByMultipleKeys() throws {
        #expect(
            try run("select resourceId where resourceType like 'AWS::%' order by resourceType asc, resourceId desc") == [
                #"{"resourceId":"i-2"}"#, #"{"resourceId":"i-1"}"#,
                #"{"resourceId":"vol-3"}"#, #"{"resourceId":"vol-2"}"#, #"{"resourceId":"vol-1"}"#,
                #"{"resourceId":"b2"}"#, #"{"resourceId":"b1"}"#,
            ])
    }
}

@Suite struct ResourceQueryRejectionTests {
    @Test func exactMessages() {
        expectInvalid("SELECT * FROM x", "Invalid expression: unexpected token 'FROM' at position 9")
        expectInvalid("SELECT resourceId WHERE resourceName = NULL", "Invalid expression: comparison with NULL is not supported at position 39")
        expectInvalid("SELECT", "Invalid expression: empty select list")
        expectInvalid("SELECT resourceId WHERE (resourceId = 'a'", "Invalid expression: unbalanced parentheses")
        expectInvalid("SELECT resourceId WHERE resourceId = 'a", "Invalid expression: unterminated string literal at position 37")
        expectInvalid("SELECT resourceId # x", "Invalid expression: unexpected character '#' at position 18")
        expectInvalid(
            "SELECT resourceId WHERE resourceId LIKE 'ab%'",
            "Invalid expression: LIKE pattern 'ab%' at position 40 must have at least 3 characters before its wildcards, which may only end the pattern"
        )
        expectInvalid(
            "SELECT COUNT(*) GROUP BY a, b, c, d",
            "Invalid expression: GROUP BY supports at most 3 properties"
        )
        expectInvalid("SELECT COUNT(MAX(configuration.size))", "Invalid expression: nested aggregate functions are not supported at position 13")
        expectInvalid(
            "SELECT resourceId, COUNT(*)",
            "Invalid expression: 'resourceId' must be in GROUP BY or inside an aggregate function"
        )
        expectInvalid("SELECT resourceId WHERE", "Invalid expression: unexpected end of expression")
    }

    @Test(arguments: [
        "SELECT * FROM x", "SELECT ALL resourceId", "SELECT resourceId AS r", "SELECT DISTINCT resourceType",
        "SELECT resourceType, COUNT(*) GROUP BY resourceType HAVING COUNT(*) > 1", "SELECT resourceId JOIN x",
        "SELECT resourceId UNION SELECT resourceId", "SELECT COUNT(DISTINCT resourceType)", "SELECT resourceId from x",
    ])
    func unsupportedKeywords(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: [
        "SELECT resourceId WHERE resourceName = NULL", "SELECT resourceId WHERE resourceName IS NULL",
        "SELECT resourceId WHERE resourceName IS NOT NULL", "SELECT resourceId WHERE resourceName != null",
        "SELECT resourceId WHERE resourceName IN ('a', NULL)",
    ])
    func nullComparisons(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: ["SELECT", "  select  ", "SELECT WHERE resourceId = 'a'", "SELECT ORDER BY resourceId", "SELECT resourceId,"])
    func emptySelectList(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: [
        "SELECT resourceId WHERE (resourceId = 'a'", "SELECT resourceId WHERE resourceId = 'a')", "SELECT COUNT(*",
        "SELECT COUNT(*))", "SELECT resourceId WHERE ((resourceId = 'a')", "SELECT resourceId WHERE resourceId = 'a",
        "SELECT resourceId WHERE resourceId = 'it''s", "SELECT resourceId WHERE resourceId = '",
    ])
    func unbalancedParenthesesAndQuotes(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: [
        "SELECT resourceId # x", "SELECT resourceId WHERE resourceId == 'a'", "SELECT resourceId WHERE resourceId = \"a\"",
        "SELECT resourceId;", "SELECT resourceId WHERE resourceId ! 'a'", "SELECT a..b", "SELECT a.", "SELECT .a",
        "SELECT resourceId WHERE resourceId = 1e999", "SELECT 1", "SELECT 'x'", "resourceId", "", "SELECT resourceId WHERE resourceId",
        "SELECT resourceId WHERE resourceId IN ()", "SELECT resourceId WHERE resourceId IN 'a'", "SELECT SUM(*)",
        "SELECT resourceId WHERE COUNT(*) > 1", "SELECT resourceId WHERE resourceId = resourceName",
        "SELECT resourceId WHERE resourceId BETWEEN 1 OR 2", "SELECT resourceId WHERE resourceId LIKE 5",
        "SELECT resourceId ORDER BY resourceId ASC DESC", "SELECT resourceId WHERE resourceId = 'a' WHERE x = 1",
        "SELECT resourceId ORDER BY resourceId GROUP BY resourceId", "SELECT *, resourceId", "SELECT resourceId, *",
        "SELECT resourceId WHERE NOT", "SELECT resourceId WHERE ()", "SELECT resourceId LIMIT 5", "SELECT résumé",
        "SELECT COUNT()", "SELECT resourceId GROUP resourceId", "SELECT resourceId WHERE resourceId = 'a' AND",
    ])
    func unknownOrMisplacedTokens(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: ["'%abc'", "'ab%'", "'abc%def'", "'_bcd'", "'a_c%'", "'%'", "'ab_'", "'abc_d'"])
    func likePatterns(_ pattern: String) { expectInvalid("SELECT resourceId WHERE resourceId LIKE \(pattern)") }

    @Test func groupByLimit() throws {
        expectInvalid("SELECT COUNT(*) GROUP BY a, b, c, d")
        _ = try ResourceQuery("SELECT a, b, c, COUNT(*) GROUP BY a, b, c")
    }

    @Test(arguments: ["SELECT COUNT(MAX(configuration.size))", "SELECT SUM(COUNT(*))", "SELECT AVG(min(x))"])
    func nestedAggregates(_ expression: String) { expectInvalid(expression) }

    @Test(arguments: [
        "SELECT resourceId, COUNT(*)", "SELECT resourceId, COUNT(*) GROUP BY resourceType", "SELECT * GROUP BY resourceType",
        "SELECT resourceId GROUP BY resourceType", "SELECT resourceType, COUNT(*) GROUP BY resourceType ORDER BY resourceId",
        "SELECT COUNT(*) GROUP BY COUNT(*)", "SELECT resourceId ORDER BY COUNT(*)",
    ])
    func ungroupedFields(_ expression: String) { expectInvalid(expression) }

    @Test func deepNestingIsRefusedNotOverflowed() {
        let deep =
            "SELECT resourceId WHERE " + String(repeating: "(", count: 5000) + "resourceId = 'a'"
            + String(repeating: ")", count: 5000)
        expectInvalid(deep, "Invalid expression: conditions nest deeper than 64 levels")
        expectInvalid("SELECT resourceId WHERE " + String(repeating: "NOT ", count: 5000) + "resourceId = 'a'")
    }

    @Test func moderateNestingIsFine() throws {
        try expectIDs(String(repeating: "(", count: 30) + "resourceId = 'b1'" + String(repeating: ")", count: 30), ["b1"])
        let wide = (0..<2000).map { "resourceId = 'x\($0)'" }.joined(separator: " OR ") + " OR resourceId = 'b2'"
        try expectIDs(wide, ["b2"])
    }
}

/// Random queries from a fixed seed (SplitMix64), so that fuzz failures reproduce.
@Suite struct ResourceQueryFuzzTests {
    static let fragments = [
        "SELECT", "select", "WHERE", "GROUP", "BY", "ORDER", "ASC", "DESC", "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE",
        "NULL", "FROM", "*", ",", "(", ")", "=", "!=", "<>", "<", "<=", ">", ">=", "'abc%'", "'a''b'", "'", "''", "12",
        "-3.5", "1e3", "true", "FALSE", "COUNT(*)", "COUNT", "SUM", "MAX", "resourceId", "resourceType", "tags.key",
        "tags.tag", "tags", "configuration.size", "configuration.securityGroups.groupId", "a..b", ".", "#", "\"", "é",
        "\u{301}", "'AWS::EC2::%'", "relationships.resourceId", "configurationItemCaptureTime", " ",
    ]

    static let validQueries = [
        "SELECT resourceId, configuration.size WHERE configuration.size BETWEEN 1 AND 50 ORDER BY configuration.size DESC",
        "SELECT resourceType, COUNT(*) WHERE tags.key = 'env' AND NOT (resourceId IN ('b1', 'b2')) GROUP BY resourceType ORDER BY COUNT(*)",
        "SELECT tags.tag, configuration.securityGroups.groupId WHERE resourceType LIKE 'AWS::EC2::%' OR tags.value != 'dev'",
        "SELECT SUM(configuration.size), MIN(resourceId) WHERE configurationItemCaptureTime >= '2026-11-21'",
    ]

    @Test func randomInputNeverTraps() throws {
        var generator = SeededGenerator(seed: 0xC0FFEE)
        var parsed = 0
        for round in 0..<1500 {
            let expression: String
            switch round % 3 {
            case 0:
                let count = Int.random(in: 1...14, using: &generator)
                var parts: [String] = []
                for _ in 0..<count { parts.append(Self.fragments.randomElement(using: &generator) ?? "") }
                expression = parts.joined(separator: Bool.random(using: &generator) ? " " : "")
            case 1:
                var scalars = String.UnicodeScalarView()
                for _ in 0..<Int.random(in: 0...40, using: &generator) {
                    let value =
                        Bool.random(using: &generator)
                        ? UInt32.random(in: 0x20...0x7E, using: &generator) : UInt32.random(in: 0...0x2FFF, using: &generator)
                    if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
                }
                expression = "SELECT " + String(scalars)
            default:
                var characters = Array(Self.validQueries.randomElement(using: &generator) ?? "")
                for _ in 0..<Int.random(in: 1...4, using: &generator) where !characters.isEmpty {
                    let index = Int.random(in: 0..<characters.count, using: &generator)
                    if Bool.random(using: &generator) {
                        characters.remove(at: index)
                    } else {
                        characters.insert(Array("'(),.*%_ ").randomElement(using: &generator) ?? " ", at: index)
                    }
                }
                expression = String(characters)
            }
            do {
                let query = try ResourceQuery(expression)
                parsed += 1
                for row in query.evaluate(fixtures) {
                    #expect((try? JSONSerialization.jsonObject(with: Data(row.utf8))) != nil, "\(expression) → \(row)")
                }
            } catch {
                #expect(error.code == "InvalidExpressionException", "\(expression)")
            }
        }
        #expect(parsed > 0)
    }

    @Test func validQueriesParse() throws {
        for query in Self.validQueries { _ = try ResourceQuery(query).evaluate(fixtures) }
    }
}
