import AWSCore
import Audit
import Foundation
import Storage
import Testing

@testable import CloudTrailService

/// A stored event for selection tests.
private func stored(
    _ name: String, source: String = "cloudtrail.amazonaws.com", region: String = "us-east-1", account: String = "111111111111",
    category: EventCategory = .management, readOnly: Bool = true, resources: String = "[]"
) -> StoredEvent {
    StoredEvent(
        accountId: account, region: region, category: category, eventTime: 0, eventID: name, eventName: name,
        eventSource: source, readOnly: readOnly, username: "alice", accessKeyId: "AKIA", lookupResources: [],
        record: Array(#"{"eventName":"\#(name)","resources":\#(resources)}"#.utf8))
}

private func trail(
    multiRegion: Bool = false, global: Bool = true, basic: [JSONValue]? = nil, advanced: [JSONValue]? = nil
) -> Trail {
    var t = Trail(
        name: "t", accountId: "111111111111", homeRegion: "us-east-1", s3BucketName: "b", includeGlobalServiceEvents: global,
        isMultiRegionTrail: multiRegion, logFileValidationEnabled: false, isOrganizationTrail: false)
    t.eventSelectors = basic
    t.advancedEventSelectors = advanced
    return t
}

private let objectIn =
    #"[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::logs/in/x"},{"accountId":"111111111111","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::logs"}]"#

@Suite("Which events a trail receives")
struct EventSelectionTests {
    @Test("the default selects every management event of the trail's account and home region, and no data event")
    func defaults() {
        let s = EventSelection(trail())
        #expect(s.selects(stored("DescribeTrails")))
        #expect(s.selects(stored("DeleteTrail", readOnly: false)))
        #expect(!s.selects(stored("DescribeTrails", region: "eu-west-1")))
        #expect(!s.selects(stored("DescribeTrails", account: "222222222222")))
        #expect(!s.selects(stored("GetObject", source: "s3.amazonaws.com", category: .data, resources: objectIn)))
    }

    @Test("multi-region trails take every region; global service events need IncludeGlobalServiceEvents")
    func regionsAndGlobal() {
        #expect(EventSelection(trail(multiRegion: true)).selects(stored("ListTrails", region: "ap-south-1")))
        #expect(!EventSelection(trail(global: false)).selects(stored("GetCallerIdentity", source: "sts.amazonaws.com")))
        #expect(EventSelection(trail(global: true)).selects(stored("GetCallerIdentity", source: "sts.amazonaws.com")))
    }

    @Test("basic selectors: ReadWriteType, excluded sources and S3 DataResources prefixes")
    func basic() {
        let s = EventSelection(
            trail(basic: [
                .object([
                    "ReadWriteType": "WriteOnly", "IncludeManagementEvents": true,
                    "DataResources": .array([.object(["Type": "AWS::S3::Object", "Values": .array(["arn:aws:s3:::logs/in/"])])]),
                    "ExcludeManagementEventSources": .array(["kms.amazonaws.com"]),
                ])
            ]))
        #expect(!s.selects(stored("DescribeTrails")))
        #expect(s.selects(stored("DeleteTrail", readOnly: false)))
        #expect(!s.selects(stored("Encrypt", source: "kms.amazonaws.com", readOnly: false)))
        #expect(s.selects(stored("PutObject", source: "s3.amazonaws.com", category: .data, readOnly: false, resources: objectIn)))
        #expect(!s.selects(stored("GetObject", source: "s3.amazonaws.com", category: .data, readOnly: true, resources: objectIn)))
        let elsewhere = objectIn.replacingOccurrences(of: "logs/in/x", with: "logs/out/x")
        #expect(!s.selects(stored("PutObject", source: "s3.amazonaws.com", category: .data, readOnly: false, resources: elsewhere)))
    }

    @Test("advanced selectors: every field selector of one selector must hold; any selector may admit")
    func advanced() {
        let s = EventSelection(
            trail(advanced: [
                .object([
                    "FieldSelectors": .array([
                        .object(["Field": "eventCategory", "Equals": .array(["Data"])]),
                        .object(["Field": "resources.type", "Equals": .array(["AWS::S3::Object"])]),
                        .object(["Field": "resources.ARN", "StartsWith": .array(["arn:aws:s3:::logs/"])]),
                        .object(["Field": "eventName", "NotEquals": .array(["GetObject"])]),
                    ])
                ]),
                .object([
                    "FieldSelectors": .array([
                        .object(["Field": "eventCategory", "Equals": .array(["Management"])]),
                        .object(["Field": "readOnly", "Equals": .array(["false"])]),
                    ])
                ]),
            ]))
        #expect(s.selects(stored("PutObject", source: "s3.amazonaws.com", category: .data, readOnly: false, resources: objectIn)))
        #expect(!s.selects(stored("GetObject", source: "s3.amazonaws.com", category: .data, resources: objectIn)))
        #expect(s.selects(stored("CreateTrail", readOnly: false)))
        #expect(!s.selects(stored("DescribeTrails")))
    }
}
