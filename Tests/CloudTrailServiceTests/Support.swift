import AWSCore
import Foundation
import Gateway
import Storage
import Synchronization

@testable import CloudTrailService

/// 2026-01-01T00:00:00Z.
let t0: Int64 = 1_767_225_600

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let value: Mutex<Double>

    /// Starts at `start` (epoch seconds).
    init(_ start: Int64) { value = Mutex(Double(start)) }

    /// The current time.
    var now: Double { value.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    func advance(_ seconds: Int64) { value.withLock { $0 += Double(seconds) } }

    /// The clock as the services take it.
    var function: @Sendable () -> Double { { [self] in now } }
}

/// A fresh temporary directory, removed when the test's closure returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-ct-\(IDs.uuid())").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// The keys directory of a data directory, as `buildApplication` lays it out.
func keysDirectory(_ dataDirectory: String) -> String { dataDirectory + "/cloudtrail/keys" }

/// Opens the keys of a data directory over its SQLite state.
func openKeys(_ dataDirectory: String, clock: TestClock, rotationPeriod: Int64 = SigningKeys.defaultRotationPeriod) async throws -> (
    SQLiteStorage, SigningKeys
) {
    let storage = try SQLiteStorage(directory: dataDirectory)
    let keys = try await SigningKeys(
        directory: keysDirectory(dataDirectory), store: storage, rotationPeriod: rotationPeriod, clock: clock.function)
    return (storage, keys)
}

/// A signed-in IAM user of account 111122223333.
let testCaller = Caller(kind: .iamUser, accountId: "111122223333", accessKeyId: "AKIATEST", name: "alice")

/// A call of an operation with `input`, in `region`, at `now`.
func call(_ input: JSONValue, region: String = "us-east-1", now: Int64) -> OperationCall {
    OperationCall(input: input, caller: testCaller, region: region, requestID: "req", now: now)
}

/// Lower-case hex to bytes (test inputs are well-formed).
func unhex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}
