import AWSCore
import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@Suite struct ListPublicKeysGatewayTests {
    let sign = TestSigner()

    @Test func listPublicKeysAnswersOverJSON11AndIsRecordedAsAReadOnlyCall() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let app = try await buildApplication(AppConfiguration(port: 0, dataDirectory: dir), logger: Logger(label: "test"))
        let now = Int64(Date().timeIntervalSince1970)
        try await app.test(.router) { client in
            let body = #"{"StartTime":\#(now - 3600),"EndTime":\#(now + 7200)}"#
            let fingerprint = try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("ListPublicKeys", body: body), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.hasPrefix(#"{"PublicKeyList":[{"Value":"MIIBCgKCAQEA"#))
                let keys = try json(response.body)["PublicKeyList"] as? [[String: Any]] ?? []
                #expect(keys.count == 1)
                let key = keys.first ?? [:]
                let start = key["ValidityStartTime"] as? Double ?? 0
                #expect(abs(start - Double(now)) < 60)
                #expect(key["ValidityEndTime"] as? Double == start + 2_592_000)
                return key["Fingerprint"] as? String ?? ""
            }
            #expect(fingerprint.count == 32)
            // The key was stored: the private key under <data-dir>/cloudtrail/keys, owner-only.
            let pem = dir + "/cloudtrail/keys/\(fingerprint).pem"
            let attributes = try FileManager.default.attributesOfItem(atPath: pem)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let bad = #"{"StartTime":\#(now),"EndTime":\#(now - 1)}"#
            try await client.execute(uri: "/", method: .post, headers: sign.cloudTrail("ListPublicKeys", body: bad), body: ByteBuffer(string: bad)) {
                response in
                #expect(response.status == .badRequest)
                let parsed = try json(response.body)
                #expect(parsed["__type"] as? String == "InvalidTimeRangeException")
            }

            let lookup = #"{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"ListPublicKeys"}]}"#
            try await client.execute(
                uri: "/", method: .post, headers: sign.cloudTrail("LookupEvents", body: lookup), body: ByteBuffer(string: lookup)
            ) { response in
                let events = try json(response.body)["Events"] as? [[String: Any]] ?? []
                #expect(events.count == 2)
                for event in events {
                    #expect(event["ReadOnly"] as? String == "true")
                    let record = try JSONSerialization.jsonObject(with: Data((event["CloudTrailEvent"] as? String ?? "").utf8)) as? [String: Any]
                    #expect(record?["managementEvent"] as? Bool == true)
                    #expect(record?["responseElements"] is NSNull)
                    #expect(record?["eventSource"] as? String == "cloudtrail.amazonaws.com")
                }
            }
        }
    }
}
