package import AWSCore
import Audit
package import Hummingbird
package import Logging
package import Storage
import Synchronization

/// Who makes a call and from where: the facts of a call that CloudTrail records besides its input.
///
/// An HTTP request's origin is its signer, the credential scope's region, the peer address and the `User-Agent`
/// header. A call one Cairn service makes to another has an origin of its own: an AWS service principal
/// (``service(_:account:region:sourceArn:)``) or a user's identity carried by a service
/// (``onBehalf(of:region:by:)``).
package struct CallOrigin: Sendable {
    /// Who CloudTrail says made the call.
    package var caller: Caller
    /// The region the call is made in (and recorded in).
    package var region: String
    /// CloudTrail's `sourceIPAddress`: the client's address, or the name of the service that made the call.
    package var sourceIPAddress: String
    /// CloudTrail's `userAgent`, as the record writes it (S3's records bracket an SDK's user agent).
    package var userAgent: String?
    /// The service principal that made the call (`userIdentity.invokedBy`).
    package var invokedBy: String?
    /// Values the record must not show, written as `****` wherever they appear in its request parameters and
    /// response elements (the `NoEcho` parameter values of the stack CloudFormation acts for).
    package var masked: [String] = []

    /// Creates an origin.
    package init(caller: Caller, region: String, sourceIPAddress: String, userAgent: String?, invokedBy: String? = nil) {
        self.caller = caller
        self.region = region
        self.sourceIPAddress = sourceIPAddress
        self.userAgent = userAgent
        self.invokedBy = invokedBy
    }

    /// An AWS service calling as its own principal for an account (CloudTrail writing a trail's log file, AWS
    /// Config its snapshot), on behalf of `sourceArn` when the call is for one resource.
    ///
    /// CloudTrail records such calls with `{"type":"AWSService","invokedBy":<principal>}` and the principal as
    /// `sourceIPAddress` and `userAgent` (the spec's CloudTrail notes §3.4 and §4.3, from a real record of a
    /// trail's log-file PutObject).
    package static func service(_ principal: String, account: String, region: String, sourceArn: String? = nil) -> CallOrigin {
        CallOrigin(
            caller: .service(principal, account: account, sourceArn: sourceArn), region: region, sourceIPAddress: principal,
            userAgent: principal, invokedBy: principal)
    }

    /// A service calling with a user's identity (CloudFormation creating a stack's bucket as the stack's caller):
    /// the record shows the user, with the service as `invokedBy`, `sourceIPAddress` and `userAgent`.
    package static func onBehalf(of caller: Caller, region: String, by service: String) -> CallOrigin {
        CallOrigin(caller: caller, region: region, sourceIPAddress: service, userAgent: service, invokedBy: service)
    }
}

/// The one step every call takes, whoever makes it: the operation, its audit record and the durable append.
///
/// The HTTP gateway reads, authenticates and decodes a request, then hands it here and renders what comes back;
/// the in-process ``ServiceClient`` hands its calls here directly. Either way the operation runs with its event id
/// bound (so change records name the event), the declaration renders the CloudTrail record, and the event is on
/// disk before the result is returned.
package final class CallPipeline: Sendable {
    /// The hosted services, installed once the composition root has made them all.
    private struct Hosted {
        var services: [String: any AWSService] = [:]
        var s3: (any S3Handler)?
    }

    let events: any EventStore
    let runtime: Runtime
    let logger: Logger
    private let hosted = Mutex(Hosted())

    /// Creates the pipeline over the event store; services are installed afterwards (``install(services:s3:)``),
    /// because services that call others need a client of this pipeline when they are made.
    package init(events: any EventStore, runtime: Runtime, logger: Logger) {
        self.events = events
        self.runtime = runtime
        self.logger = logger
    }

    /// Installs the hosted services (by signing name) and S3.
    package func install(services: [any AWSService], s3: (any S3Handler)?) {
        hosted.withLock { hosted in
            for service in services { hosted.services[service.model.service] = service }
            hosted.s3 = s3
        }
    }

    /// The installed services.
    var services: [any AWSService] { hosted.withLock { Array($0.services.values) } }

    /// The installed service with this signing name (`sns`, `cloudtrail`, `config`, `sts`).
    func service(named name: String) -> (any AWSService)? {
        hosted.withLock { $0.services[name] }
    }

    /// The installed S3 service.
    var s3: (any S3Handler)? { hosted.withLock { $0.s3 } }

    // MARK: Modeled services

    /// Runs an operation of a modeled service and records it: checks the input's required members, runs the
    /// handler, appends the event (durably) and returns the output or the call's AWS error.
    ///
    /// - Parameter input: the decoded input, or the error decoding it met (the call is then recorded as failing
    ///   with it, as AWS records requests it cannot deserialize).
    /// - Throws: only when the event cannot be stored; the call's own failure is the returned error.
    package func perform(
        _ service: any AWSService, _ name: String, input decoded: Result<JSONValue, AWSError>, origin: CallOrigin, requestID: String,
        now: Int64
    ) async throws -> Result<JSONValue, AWSError> {
        guard let operation = service.operations[name], let model = service.model.operations[name] else {
            return .failure(Self.unknownOperation(service, name))
        }
        var input = JSONValue.object([:])
        var failure: AWSError?
        switch decoded {
        case .success(let value):
            input = value
            failure = Self.requiredError(value, service: service, shape: model.input)
        case .failure(let error):
            failure = error
        }
        var call = OperationCall(input: input, caller: origin.caller, region: origin.region, requestID: requestID, now: now)
        call.invokedBy = origin.invokedBy
        var output: JSONValue?
        // The event id exists before the operation runs, so the change records it publishes can name it.
        let eventID = runtime.uuid()
        if failure == nil {
            do {
                output = try await ResourceChangeFeed.$causingEventID.withValue(eventID) { try await operation.run(call) }
            } catch let error as AWSError {
                failure = error
            } catch {
                logger.error(
                    "operation failed",
                    metadata: ["aws.request.id": "\(requestID)", "aws.operation": "\(name)", "error": "\(String(reflecting: error))"])
                failure = .internalFailure
            }
        }
        let record = Auditor.record(service: service, operation: name, spec: operation.audit, call: call, output: output, failure: failure)
        try await append(record, origin: origin, requestID: requestID, eventID: eventID, now: now, failure: failure)
        if let failure { return .failure(failure) }
        return .success(output ?? .object([:]))
    }

    /// The error a call of an operation the service does not have gets, in the service's protocol.
    static func unknownOperation(_ service: any AWSService, _ name: String) -> AWSError {
        service.model.wireProtocol == "json"
            ? AWSError("UnknownOperationException", "", status: 400)
            : AWSError("InvalidAction", "Could not find operation \(name) for version \(service.model.apiVersion)", status: 400)
    }

    /// The validation error of an input missing a required member, worded as AWS words it, in the service's
    /// protocol (`ValidationException` for JSON 1.1 services, `ValidationError` for Query ones).
    static func requiredError(_ input: JSONValue, service: any AWSService, shape: String?) -> AWSError? {
        guard let missing = ShapeCodec(model: service.model).missingRequired(input, shape: shape) else { return nil }
        let message = "1 validation error detected: Value null at '\(missing)' failed to satisfy constraint: Member must not be null"
        return service.model.wireProtocol == "json" ? AWSError("ValidationException", message) : AWSError("ValidationError", message)
    }

    // MARK: S3

    /// Runs an S3 request and records it: the S3 service answers and describes the call, the event is appended
    /// (durably), and the response (or error) is returned for the caller to send or read.
    ///
    /// - Parameter hostID: the `x-amz-id-2` that goes with the request id (recorded in `additionalEventData`).
    /// - Throws: only when the event cannot be stored.
    package func perform(_ request: S3Request, origin: CallOrigin, hostID: String) async throws -> Result<Response, AWSError> {
        guard let s3 else {
            return .failure(AWSError("NotImplemented", "A header you provided implies functionality that is not implemented", status: 501))
        }
        // The event id exists before the operation runs, so the change records it publishes can name it.
        let eventID = runtime.uuid()
        let outcome = await ResourceChangeFeed.$causingEventID.withValue(eventID) { await s3.handle(request) }
        let failure: AWSError? =
            switch outcome.response {
            case .success: nil
            case .failure(let error): error
            }
        if let record = Auditor.record(s3: outcome, request: request, hostID: hostID) {
            try await append(record, origin: origin, requestID: request.requestID, eventID: eventID, now: request.now, failure: failure)
        }
        return outcome.response
    }

    // MARK: Audit

    /// Builds the call's events from its record and appends them; returns once they are on disk.
    private func append(
        _ record: Auditor.CallRecord, origin: CallOrigin, requestID: String, eventID: String, now: Int64, failure: AWSError?
    ) async throws {
        var record = record
        if !origin.masked.isEmpty {
            record.requestParameters = record.requestParameters.map { Self.mask(origin.masked, in: $0) }
            record.responseElements = record.responseElements.map { Self.mask(origin.masked, in: $0) }
        }
        let recorded = Auditor.events(record, origin: origin, requestID: requestID, eventID: eventID, now: now, failure: failure, newID: runtime.uuid)
        try await events.append(recorded.map(StoredEvent.init))
    }

    /// Replaces every occurrence of each value (as JSON writes it inside a string) with `****` in rendered JSON.
    package static func mask(_ values: [String], in json: [UInt8]) -> [UInt8] {
        var out = json
        for value in values where !value.isEmpty {
            var writer = JSONWriter(capacity: value.utf8.count + 2)
            writer.string(value)
            let needle = Array(writer.bytes.dropFirst().dropLast())  // without the quotes
            guard !needle.isEmpty else { continue }
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            var i = 0
            while i < out.count {
                if i + needle.count <= out.count, out[i] == needle[0], Array(out[i..<(i + needle.count)]) == needle {
                    result.append(contentsOf: Array("****".utf8))
                    i += needle.count
                } else {
                    result.append(out[i])
                    i += 1
                }
            }
            out = result
        }
        return out
    }
}
