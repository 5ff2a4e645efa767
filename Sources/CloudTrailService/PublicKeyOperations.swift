import AWSCore
import Gateway

/// `ListPublicKeys`: the public keys of the region's digest-signing keys.
struct PublicKeyOperations: Sendable {
    let keys: SigningKeys

    /// ListPublicKeys: the keys of the call's region whose validity overlaps `[StartTime, EndTime]`, both
    /// defaulting to the request time (so no range means the current key).
    ///
    /// AWS always has a current key in every region, and validate-logs gives up when the list is empty, so the
    /// region's key is made here if no delivery has needed one yet (or the last one's validity has ended).
    /// `InvalidTimeRangeException` when the start is after the end. `NextToken` is "reserved for future use": AWS
    /// never returns one, so any token sent is invalid (`InvalidTokenException`). No lookback limit is documented
    /// and none is applied.
    @Sendable func listPublicKeys(_ call: OperationCall) async throws -> JSONValue {
        let now = Double(call.now)
        let start = call.input["StartTime"]?.number ?? now
        let end = call.input["EndTime"]?.number ?? now
        if start > end {
            throw AWSError("InvalidTimeRangeException", "Start time must be earlier than or equal to end time.")
        }
        if let token = call.input["NextToken"]?.string, !token.isEmpty {
            throw AWSError("InvalidTokenException", "The NextToken is not valid.")
        }
        _ = try await keys.current(region: call.region)
        let list = try await keys.publicKeys(region: call.region, from: start, to: end)
        return .object([
            "PublicKeyList": .array(
                list.map { key in
                    .object([
                        "Value": .string(Base64.encode(key.value)),
                        "ValidityStartTime": .number(Double(key.validityStart)),
                        "ValidityEndTime": .number(Double(key.validityEnd)),
                        "Fingerprint": .string(key.fingerprint),
                    ])
                })
        ])
    }
}
