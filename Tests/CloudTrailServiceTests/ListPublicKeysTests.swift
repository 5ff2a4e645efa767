import AWSCore
import Audit
import Crypto
import Foundation
import Gateway
import Storage
import Testing

@testable import CloudTrailService

/// A CloudTrail service over a fresh data directory, with the keys it lists.
private func withService<T>(
    clock: TestClock, rotationPeriod: Int64 = SigningKeys.defaultRotationPeriod,
    _ body: (CloudTrailService, SigningKeys, SQLiteStorage) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { dir in
        let (storage, keys) = try await openKeys(dir, clock: clock, rotationPeriod: rotationPeriod)
        let service = try await CloudTrailService(state: storage, events: storage, signingKeys: keys, clock: clock.function)
        return try await body(service, keys, storage)
    }
}

/// Runs ListPublicKeys.
private func listPublicKeys(
    _ service: CloudTrailService, _ input: [String: JSONValue] = [:], region: String = "us-east-1", now: Int64
) async throws -> [JSONValue] {
    let output = try await service.operations["ListPublicKeys"]!.run(call(.object(input), region: region, now: now))
    #expect(output.object.map { Array($0.keys) } == ["PublicKeyList"])
    return output["PublicKeyList"]?.array ?? []
}

/// The error code a call throws, or `nil`.
private func errorCode(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as AWSError {
        return error.code
    } catch {
        return "\(error)"
    }
}

@Suite("ListPublicKeys")
struct ListPublicKeysTests {
    @Test("without a range it returns the current key, made on the first call")
    func defaultRange() async throws {
        try await withService(clock: TestClock(t0)) { service, keys, storage in
            #expect(try await storage.all(SigningKeys.namespace).isEmpty)
            let list = try await listPublicKeys(service, now: t0)
            #expect(list.count == 1)
            let current = try await keys.current(region: "us-east-1")
            let entry = try #require(list.first)
            #expect(entry["Fingerprint"]?.string == current.fingerprint)
            #expect(entry["ValidityStartTime"]?.number == Double(t0))
            #expect(entry["ValidityEndTime"]?.number == Double(t0 + 2_592_000))
            let der = try #require(Base64.decode(entry["Value"]?.string ?? ""))
            #expect(der == current.publicKey.value)
            #expect(Hex.encode(Insecure.MD5.hash(data: der)) == entry["Fingerprint"]?.string)
            // The members come in the order of the model's PublicKey shape.
            #expect(entry.object.map { Set($0.keys) } == ["Value", "ValidityStartTime", "ValidityEndTime", "Fingerprint"])
        }
    }

    @Test("keys whose validity overlaps the range are listed, per region")
    func rangeFiltering() async throws {
        let clock = TestClock(t0)
        try await withService(clock: clock, rotationPeriod: 3600) { service, keys, _ in
            let k1 = try await keys.current(region: "us-east-1").fingerprint
            clock.advance(3600)
            let k2 = try await keys.current(region: "us-east-1").fingerprint
            clock.advance(3600)
            let now = t0 + 7200
            func fingerprints(_ start: Int64?, _ end: Int64?, region: String = "us-east-1") async throws -> [String] {
                var input: [String: JSONValue] = [:]
                if let start { input["StartTime"] = .number(Double(start)) }
                if let end { input["EndTime"] = .number(Double(end)) }
                return try await listPublicKeys(service, input, region: region, now: now).compactMap { $0["Fingerprint"]?.string }
            }
            // At t0 + 7200 the second key has just expired, so the call makes a third one.
            let all = try await fingerprints(t0, now)
            #expect(all.count == 3 && Array(all.prefix(2)) == [k1, k2])
            let k3 = all[2]
            #expect(try await fingerprints(nil, nil) == [k2, k3])
            #expect(try await fingerprints(t0 + 10, t0 + 20) == [k1])
            #expect(try await fingerprints(t0 + 3700, t0 + 3800) == [k2])
            // validate-logs asks for [start, end + 2 h].
            #expect(try await fingerprints(t0, now + 7200) == [k1, k2, k3])
            #expect(try await fingerprints(t0 - 7200, t0 - 1).isEmpty)
            // StartTime alone runs to now; a region has keys of its own.
            #expect(try await fingerprints(t0 + 3700, nil) == [k2, k3])
            let west = try await fingerprints(nil, nil, region: "us-west-2")
            #expect(west.count == 1 && !all.contains(west[0]))
        }
    }

    @Test("fractional times are compared as they are")
    func fractionalTimes() async throws {
        try await withService(clock: TestClock(t0)) { service, _, _ in
            let list = try await listPublicKeys(service, ["StartTime": .number(Double(t0) - 0.5), "EndTime": .number(Double(t0) - 0.25)], now: t0)
            #expect(list.isEmpty)
            let touching = try await listPublicKeys(service, ["StartTime": .number(Double(t0) - 0.5), "EndTime": .number(Double(t0))], now: t0)
            #expect(touching.count == 1)
        }
    }

    @Test("a start after the end is InvalidTimeRangeException; a NextToken is InvalidTokenException")
    func errors() async throws {
        try await withService(clock: TestClock(t0)) { service, _, _ in
            #expect(
                await errorCode {
                    _ = try await listPublicKeys(service, ["StartTime": .number(Double(t0 + 10)), "EndTime": .number(Double(t0))], now: t0)
                } == "InvalidTimeRangeException")
            #expect(
                await errorCode {
                    _ = try await listPublicKeys(service, ["StartTime": .number(Double(t0 + 10))], now: t0)
                } == "InvalidTimeRangeException")
            #expect(await errorCode { _ = try await listPublicKeys(service, ["NextToken": "abc"], now: t0) } == "InvalidTokenException")
        }
    }

    @Test("it is declared as a read-only management event")
    func auditDeclaration() async throws {
        try await withService(clock: TestClock(t0)) { service, _, _ in
            let audit = try #require(service.operations["ListPublicKeys"]).audit
            #expect(audit.readOnly)
            #expect(!audit.recordsResponse)
            #expect(audit.category == .management)
        }
    }
}
