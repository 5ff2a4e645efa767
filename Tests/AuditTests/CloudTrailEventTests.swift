import AWSCore
import Audit
import Foundation
import TestSupport
import Testing

/// Fixed facts shared by the events of these tests.
private enum Fixture {
    /// 2025-03-14T15:09:26Z (epoch from Python's calendar.timegm).
    static let eventTime: Int64 = 1_741_964_966
    /// 2025-03-14T14:00:00Z.
    static let issuedAt: Int64 = 1_741_960_800
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
    static let sessionToken = "FwoGZXIvYXdzEJr//////////SESSIONTOKEN"

    /// An event of `caller` with fixed ids and time; every optional field can be set.
    static func event(
        _ caller: Caller, errorCode: String? = nil, errorMessage: String? = nil, requestParameters: String? = nil,
        responseElements: String? = nil, resources: [EventResource]? = nil, readOnly: Bool = true,
        userAgent: String? = "aws-cli/2.15.0", additionalEventData: String? = nil, sharedEventID: String? = nil,
        apiVersion: String? = nil, invokedBy: String? = nil, category: EventCategory = .management
    ) -> CloudTrailEvent {
        CloudTrailEvent(
            caller: caller, eventTime: eventTime, eventSource: "sts.amazonaws.com", eventName: "GetCallerIdentity",
            awsRegion: "us-east-1", sourceIPAddress: "127.0.0.1", userAgent: userAgent, errorCode: errorCode,
            errorMessage: errorMessage, requestParameters: requestParameters.map { Array($0.utf8) },
            responseElements: responseElements.map { Array($0.utf8) }, additionalEventData: additionalEventData.map { Array($0.utf8) },
            requestID: "11111111-2222-4333-8444-555555555555", eventID: "66666666-7777-4888-9999-000000000000",
            readOnly: readOnly, resources: resources, apiVersion: apiVersion, category: category, recipientAccountId: caller.accountId,
            sharedEventID: sharedEventID, invokedBy: invokedBy)
    }

    static let user = Caller(kind: .iamUser, accountId: "111122223333", accessKeyId: "AKIAIOSFODNN7EXAMPLE", name: "Alice")
}

/// Parses a rendered record with Foundation.
private func object(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

/// The top-level keys of a successful management event, in CloudTrail's order (CloudTrail record contents docs).
private let successKeys = [
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
    "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType", "managementEvent",
    "recipientAccountId", "eventCategory",
]

/// The rendered record against CloudTrail's documented field order and contents.
@Suite("CloudTrailEvent.render")
struct CloudTrailEventTests {
    @Test("IAM user: the record's fields and userIdentity in CloudTrail's order")
    func iamUser() throws {
        let bytes = Fixture.event(Fixture.user).render()
        #expect(JSONKeys.topLevel(bytes) == successKeys)
        #expect(JSONKeys.keys(bytes, path: ["userIdentity"]) == ["type", "principalId", "arn", "accountId", "accessKeyId", "userName"])
        let record = try object(bytes)
        #expect(record["eventVersion"] as? String == "1.11")
        #expect(record["eventTime"] as? String == "2025-03-14T15:09:26Z")
        #expect(record["eventType"] as? String == "AwsApiCall")
        #expect(record["readOnly"] as? Bool == true)
        #expect(record["managementEvent"] as? Bool == true)
        #expect(record["eventCategory"] as? String == "Management")
        #expect(record["recipientAccountId"] as? String == "111122223333")
        #expect(record["requestParameters"] is NSNull)
        #expect(record["responseElements"] is NSNull)
        let identity = try #require(record["userIdentity"] as? [String: String])
        #expect(identity["type"] == "IAMUser")
        #expect(identity["principalId"] == PrincipalIds.userId(account: "111122223333", name: "Alice"))
        #expect(identity["arn"] == "arn:aws:iam::111122223333:user/Alice")
        #expect(identity["accountId"] == "111122223333")
        #expect(identity["accessKeyId"] == "AKIAIOSFODNN7EXAMPLE")
        #expect(identity["userName"] == "Alice")
    }

    @Test("Root without an alias has no userName; with an alias, userName is the alias")
    func root() throws {
        let plain = Caller(kind: .root, accountId: "111122223333", accessKeyId: "AKIAROOT", name: "")
        let bytes = Fixture.event(plain).render()
        #expect(JSONKeys.keys(bytes, path: ["userIdentity"]) == ["type", "principalId", "arn", "accountId", "accessKeyId"])
        let identity = try #require(try object(bytes)["userIdentity"] as? [String: String])
        #expect(
            identity == [
                "type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333",
                "accessKeyId": "AKIAROOT",
            ])
        var aliased = plain
        aliased.accountAlias = "prod-account"
        let withAlias = Fixture.event(aliased).render()
        #expect(JSONKeys.keys(withAlias, path: ["userIdentity"]) == ["type", "principalId", "arn", "accountId", "accessKeyId", "userName"])
        #expect((try object(withAlias)["userIdentity"] as? [String: String])?["userName"] == "prod-account")
    }

    @Test("AssumedRole: principalId role-id:session and a sessionContext naming the role")
    func assumedRole() throws {
        let caller = Caller(
            kind: .assumedRole, accountId: "111122223333", accessKeyId: "ASIAEXAMPLE", name: "Admin", path: "/ops/",
            sessionName: "my-session", sessionIssuedAt: Fixture.issuedAt)
        let bytes = Fixture.event(caller).render()
        #expect(JSONKeys.topLevel(bytes) == successKeys)
        #expect(JSONKeys.keys(bytes, path: ["userIdentity"]) == ["type", "principalId", "arn", "accountId", "accessKeyId", "sessionContext"])
        #expect(JSONKeys.keys(bytes, path: ["userIdentity", "sessionContext"]) == ["sessionIssuer", "webIdFederationData", "attributes"])
        #expect(
            JSONKeys.keys(bytes, path: ["userIdentity", "sessionContext", "sessionIssuer"])
                == ["type", "principalId", "arn", "accountId", "userName"])
        #expect(JSONKeys.keys(bytes, path: ["userIdentity", "sessionContext", "attributes"]) == ["creationDate", "mfaAuthenticated"])
        let identity = try #require(try object(bytes)["userIdentity"] as? [String: Any])
        let roleId = PrincipalIds.roleId(account: "111122223333", name: "Admin")
        #expect(identity["type"] as? String == "AssumedRole")
        #expect(identity["principalId"] as? String == "\(roleId):my-session")
        #expect(identity["arn"] as? String == "arn:aws:sts::111122223333:assumed-role/Admin/my-session")
        let context = try #require(identity["sessionContext"] as? [String: Any])
        #expect(
            (context["sessionIssuer"] as? [String: String]) == [
                "type": "Role", "principalId": roleId, "arn": "arn:aws:iam::111122223333:role/ops/Admin", "accountId": "111122223333",
                "userName": "Admin",
            ])
        #expect((context["webIdFederationData"] as? [String: Any])?.isEmpty == true)
        #expect((context["attributes"] as? [String: String]) == ["creationDate": "2025-03-14T14:00:00Z", "mfaAuthenticated": "false"])
    }

    @Test("an IAM user with GetSessionToken credentials has a sessionContext with an empty sessionIssuer")
    func sessionTokenUser() throws {
        var caller = Fixture.user
        caller.accessKeyId = "ASIASESSION"
        caller.sessionIssuedAt = Fixture.issuedAt
        let bytes = Fixture.event(caller).render()
        #expect(
            JSONKeys.keys(bytes, path: ["userIdentity"])
                == ["type", "principalId", "arn", "accountId", "accessKeyId", "userName", "sessionContext"])
        #expect(JSONKeys.keys(bytes, path: ["userIdentity", "sessionContext", "sessionIssuer"]) == [])
        let identity = try #require(try object(bytes)["userIdentity"] as? [String: Any])
        #expect(identity["type"] as? String == "IAMUser")
        #expect(identity["accessKeyId"] as? String == "ASIASESSION")
        let context = try #require(identity["sessionContext"] as? [String: Any])
        #expect((context["sessionIssuer"] as? [String: Any])?.isEmpty == true)
        #expect((context["attributes"] as? [String: String])?["creationDate"] == "2025-03-14T14:00:00Z")
    }

    @Test("a failed call has errorCode and errorMessage right after userAgent")
    func failure() throws {
        let bytes = Fixture.event(
            Fixture.user, errorCode: "AccessDenied", errorMessage: "User: arn:aws:iam::111122223333:user/Alice is not \"authorized\"",
            requestParameters: #"{"roleArn":"arn:aws:iam::111122223333:role/Admin"}"#
        ).render()
        var expected = successKeys
        expected.insert(contentsOf: ["errorCode", "errorMessage"], at: expected.firstIndex(of: "requestParameters")!)
        #expect(JSONKeys.topLevel(bytes) == expected)
        let record = try object(bytes)
        #expect(record["errorCode"] as? String == "AccessDenied")
        #expect(record["errorMessage"] as? String == "User: arn:aws:iam::111122223333:user/Alice is not \"authorized\"")
        #expect((record["requestParameters"] as? [String: String]) == ["roleArn": "arn:aws:iam::111122223333:role/Admin"])
        #expect(record["responseElements"] is NSNull)
    }

    @Test("resources sit between readOnly and eventType, each as accountId, type, ARN")
    func resources() throws {
        let bytes = Fixture.event(
            Fixture.user,
            resources: [
                EventResource(type: "AWS::IAM::Role", arn: "arn:aws:iam::111122223333:role/Admin", accountId: "111122223333"),
                EventResource(type: "AWS::S3::Bucket", arn: "arn:aws:s3:::bucket", accountId: nil),
            ],
            readOnly: false
        ).render()
        var expected = successKeys
        expected.insert("resources", at: expected.firstIndex(of: "eventType")!)
        #expect(JSONKeys.topLevel(bytes) == expected)
        // The element key order, read straight from the bytes.
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(
            text.contains(
                #""resources":[{"accountId":"111122223333","type":"AWS::IAM::Role","ARN":"arn:aws:iam::111122223333:role/Admin"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::bucket"}]"#
            ))
        let record = try object(bytes)
        #expect(record["readOnly"] as? Bool == false)
        #expect((record["resources"] as? [[String: String]])?.count == 2)
    }

    @Test("optional fields: no userAgent; additionalEventData, apiVersion, sharedEventID, invokedBy, data events")
    func optionalFields() throws {
        let bytes = Fixture.event(
            Fixture.user, userAgent: nil, additionalEventData: #"{"x":1}"#, sharedEventID: "shared-1", apiVersion: "2006-03-01",
            invokedBy: "cloudtrail.amazonaws.com", category: .data
        ).render()
        #expect(
            JSONKeys.topLevel(bytes) == [
                "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
                "requestParameters", "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "eventType",
                "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID", "eventCategory",
            ])
        #expect(JSONKeys.keys(bytes, path: ["userIdentity"]).last == "invokedBy")
        let record = try object(bytes)
        #expect(record["managementEvent"] as? Bool == false)
        #expect(record["eventCategory"] as? String == "Data")
        #expect((record["additionalEventData"] as? [String: Int]) == ["x": 1])
    }

    @Test("userAgent, errorCode and errorMessage are cut at 1024 UTF-8 bytes on a character boundary")
    func caps() throws {
        let long = String(repeating: "\u{e9}", count: 700)  // 1400 bytes
        let record = try object(Fixture.event(Fixture.user, errorCode: "E", errorMessage: long, userAgent: long).render())
        let agent = try #require(record["userAgent"] as? String)
        #expect(agent.utf8.count == 1024)
        #expect(agent == String(repeating: "\u{e9}", count: 512))
        #expect((record["errorMessage"] as? String)?.utf8.count == 1024)
        let odd = "a" + long
        let cut = try #require(try object(Fixture.event(Fixture.user, userAgent: odd).render())["userAgent"] as? String)
        #expect(cut.utf8.count == 1023)
    }

    @Test("no secret reaches the record: rendered parameters leave out sensitive members")
    func noSecrets() throws {
        let model = ServiceModel.load(
            json: #"""
                {"service":"sts","apiVersion":"2011-06-15","protocol":"query","targetPrefix":null,"xmlNamespace":null,
                 "operations":{"GetSessionToken":{"input":"In","output":"Out","resultWrapper":"GetSessionTokenResult","errors":[]}},
                 "shapes":{
                   "In":{"type":"structure","members":[{"name":"DurationSeconds","shape":"Int"}]},
                   "Out":{"type":"structure","members":[{"name":"Credentials","shape":"Creds"}]},
                   "Creds":{"type":"structure","members":[
                     {"name":"AccessKeyId","shape":"Str"},{"name":"SecretAccessKey","shape":"Secret"},
                     {"name":"SessionToken","shape":"Str"},{"name":"Expiration","shape":"Time"}]},
                   "Str":{"type":"string"},"Secret":{"type":"string","sensitive":true},"Int":{"type":"integer"},"Time":{"type":"timestamp"}}}
                """#)
        let output: JSONValue = .object([
            "Credentials": .object([
                "AccessKeyId": "ASIANEW", "SecretAccessKey": .string(Fixture.secret), "SessionToken": .string(Fixture.sessionToken),
                "Expiration": .number(Double(Fixture.eventTime + 3600)),
            ])
        ])
        var w = JSONWriter()
        ShapeCodec(model: model).writeCloudTrail(output, shape: "Out", omit: ["Credentials.SessionToken"], to: &w)
        var caller = Fixture.user
        caller.accessKeyId = "ASIACALLER"
        caller.sessionIssuedAt = Fixture.issuedAt
        let bytes = Fixture.event(caller, requestParameters: #"{"durationSeconds":3600}"#, responseElements: w.string, readOnly: false).render()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains(Fixture.secret))
        #expect(!text.contains("SECRETKEY"))
        #expect(!text.contains(Fixture.sessionToken))
        let credentials = try #require((try object(bytes)["responseElements"] as? [String: Any])?["credentials"] as? [String: String])
        #expect(credentials == ["accessKeyId": "ASIANEW", "expiration": "Mar 14, 2025, 4:09:26 PM"])
    }

    @Test("the resource owner's copy of a cross-account call shows the caller as AWSAccount, without key or user name")
    func otherAccount() throws {
        var event = Fixture.event(Fixture.user, sharedEventID: "shared-1")
        event.identityAsOtherAccount = true
        event.recipientAccountId = "444455556666"
        let bytes = event.render()
        #expect(JSONKeys.keys(bytes, path: ["userIdentity"]) == ["type", "principalId", "accountId"])
        let record = try object(bytes)
        #expect(
            (record["userIdentity"] as? [String: String]) == [
                "type": "AWSAccount", "principalId": PrincipalIds.userId(account: "111122223333", name: "Alice"), "accountId": "111122223333",
            ])
        #expect(record["recipientAccountId"] as? String == "444455556666")
        #expect(record["sharedEventID"] as? String == "shared-1")
        #expect(!String(decoding: bytes, as: UTF8.self).contains("AKIAIOSFODNN7EXAMPLE"))
        #expect(event.username == "")
        #expect(event.accessKeyId == "")
    }

    @Test("the record's username is the user, 'root' or the role session name")
    func username() {
        #expect(Fixture.event(Fixture.user).username == "Alice")
        #expect(Fixture.event(Caller(kind: .root, accountId: "111122223333", accessKeyId: "K", name: "")).username == "root")
        #expect(
            Fixture.event(Caller(kind: .assumedRole, accountId: "111122223333", accessKeyId: "K", name: "R", sessionName: "sess")).username
                == "sess")
    }

    @Test("an object over 100 KB is written as the omitted marker; one at the limit is written whole")
    func oversizedObjects() throws {
        let limit = CloudTrailEvent.maxObjectBytes
        let atLimit = "{\"name\":\"" + String(repeating: "a", count: limit - 11) + "\"}"
        let over = "{\"name\":\"" + String(repeating: "a", count: limit - 10) + "\"}"
        #expect(atLimit.utf8.count == limit)
        let whole = try object(Fixture.event(Fixture.user, requestParameters: atLimit).render())
        #expect((whole["requestParameters"] as? [String: Any])?["name"] as? String == String(repeating: "a", count: limit - 11))
        for field in ["requestParameters", "responseElements", "additionalEventData"] {
            let event = Fixture.event(
                Fixture.user, requestParameters: field == "requestParameters" ? over : nil,
                responseElements: field == "responseElements" ? over : nil, additionalEventData: field == "additionalEventData" ? over : nil)
            let record = try object(event.render())
            #expect(record[field] as? [String: Bool] == ["omitted": true], "\(field)")
        }
    }

    @Test("a whole event stays within 256 KB: the largest objects are omitted until it fits")
    func wholeEventBound() throws {
        let big = "{\"name\":\"" + String(repeating: "b", count: 95 * 1024) + "\"}"
        let small = "{\"name\":\"" + String(repeating: "s", count: 70 * 1024) + "\"}"
        let event = Fixture.event(
            Fixture.user, errorMessage: String(repeating: "m", count: 5000), requestParameters: big, responseElements: big,
            userAgent: String(repeating: "u", count: 5000), additionalEventData: small)
        let bytes = event.render()
        #expect(bytes.count <= CloudTrailEvent.maxEventBytes)
        let record = try object(bytes)
        let omitted = ["requestParameters", "responseElements", "additionalEventData"].filter {
            record[$0] as? [String: Bool] == ["omitted": true]
        }
        #expect(omitted == ["requestParameters"] || omitted == ["responseElements"])
        #expect((record["additionalEventData"] as? [String: Any])?["name"] as? String == String(repeating: "s", count: 70 * 1024))
        #expect((record["userAgent"] as? String)?.utf8.count == 1024)
        #expect((record["errorMessage"] as? String)?.utf8.count == 1024)
    }

    @Test("Event history's resource names are cut at 1024 bytes")
    func lookupResourceNames() {
        let event = CloudTrailEvent(
            caller: Fixture.user, eventTime: Fixture.eventTime, eventSource: "cloudtrail.amazonaws.com", eventName: "CreateTrail",
            awsRegion: "us-east-1", sourceIPAddress: "127.0.0.1", userAgent: nil, requestParameters: nil, responseElements: nil,
            requestID: "r", eventID: "e", readOnly: false, category: .management, recipientAccountId: "111122223333",
            lookupResources: [LookupResource(type: "AWS::CloudTrail::Trail", name: String(repeating: "é", count: 4000))])
        #expect(event.lookupResources[0].name.utf8.count == 1024)
        #expect(event.lookupResources[0].name == String(repeating: "é", count: 512))
    }
}
