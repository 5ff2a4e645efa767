package import AWSCore
import Audit
import HTTPTypes
package import Hummingbird
import Logging
import NIOCore
import Storage

/// Cairn's single HTTP responder: every request takes the same path.
///
/// ```
/// authenticate -> route -> decode -> operation -> audit (durable append) -> encode -> respond
/// ```
/// Requests that fail authentication, or name no operation, are answered but not recorded. Every other call,
/// successful or not, becomes a CloudTrail event that is on disk before the response is sent.
package struct Gateway: HTTPResponder {
    package typealias Context = CairnRequestContext

    /// Largest request body accepted by the JSON and Query services (AWS's documented limits are lower).
    package static let maxBodySize = 4 * 1024 * 1024

    /// The most parameters a Query request may carry. The largest real calls carry a few hundred (a batch of ten
    /// messages with their attributes, a stack's parameters and tags); the bound keeps the memory of decoding one
    /// request small.
    package static let maxQueryParameters = 10_000

    private let jsonServices: [String: any AWSService]
    /// The signing names of the JSON 1.1 services, for routing requests that carry no `X-Amz-Target`.
    private let jsonSigningNames: Set<String>
    private let queryServices: [String: any AWSService]
    /// The step every call takes after it is read and authenticated: operation, audit, durable append.
    let pipeline: CallPipeline
    let vault: CredentialVault
    let verifier = SigV4Verifier()
    let runtime: Runtime
    private let flush: @Sendable () async throws -> Void
    private let routes: [CairnRoute]

    /// Creates the gateway over the services installed in the pipeline.
    ///
    /// - Parameters:
    ///   - pipeline: the call pipeline, with the hosted services installed: JSON 1.1 services are routed by target
    ///     prefix, Query services by signing name, every other request goes to S3.
    ///   - runtime: the clock and id generator (injected so tests control them).
    ///   - flush: runs every due background step now, for `POST /_cairn/flush`.
    ///   - routes: extra `GET /_cairn/...` endpoints modules serve (SNS's signing certificate), matched by prefix.
    package init(
        pipeline: CallPipeline, vault: CredentialVault, runtime: Runtime, flush: @escaping @Sendable () async throws -> Void,
        routes: [CairnRoute] = []
    ) {
        var json: [String: any AWSService] = [:]
        var query: [String: any AWSService] = [:]
        for service in pipeline.services {
            if let prefix = service.model.targetPrefix, service.model.wireProtocol == "json" {
                json[prefix] = service
            } else {
                query[service.model.service] = service
            }
        }
        self.jsonServices = json
        self.jsonSigningNames = Set(json.values.map(\.model.service))
        self.queryServices = query
        self.pipeline = pipeline
        self.vault = vault
        self.runtime = runtime
        self.flush = flush
        self.routes = routes
    }

    package func respond(to request: Request, context: Context) async throws -> Response {
        if request.uri.path.hasPrefix("/_cairn/") { return try await cairnEndpoint(request) }
        let wire = WireProtocol.detect(request, jsonServices: jsonSigningNames)
        if wire == .s3 { return await respondS3(to: request, context: context) }
        let requestID = runtime.uuid()
        do {
            return try await handle(request, wire: wire, requestID: requestID, context: context)
        } catch let error as AWSError {
            return render(error, wire: wire, requestID: requestID, service: nil)
        } catch {
            context.logger.error("request failed", metadata: ["aws.request.id": "\(requestID)", "error": "\(String(reflecting: error))"])
            return render(.internalFailure, wire: wire, requestID: requestID, service: nil)
        }
    }

    // MARK: The request path

    private func handle(_ request: Request, wire: WireProtocol, requestID: String, context: Context) async throws -> Response {
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: Self.maxBodySize)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw AWSError("RequestEntityTooLarge", "Request body is larger than \(Self.maxBodySize) bytes", status: 413)
        }

        // Unsigned calls of the few operations AWS allows without a signature: answered, never recorded.
        if wire == .query, !Self.carriesSignature(request), let response = try await unsignedCall(request, body: body, requestID: requestID) {
            return response
        }

        // Authenticate.
        let now = runtime.now()
        let (caller, auth, _) = try authenticate(
            request, payloadHash: SigV4Verifier.payloadHash(body), wire: wire, now: Int64(now))

        // Route and decode.
        let service: any AWSService
        let operationName: String
        let decoded: Result<JSONValue, AWSError>
        switch wire {
        case .json:
            let target = request.headers[HeaderNames.amzTarget] ?? ""
            guard let dot = target.lastIndex(of: "."), let s = jsonServices[String(target[..<dot])] else {
                throw AWSError("UnknownOperationException", "", status: 400)
            }
            service = s
            guard auth.service == s.model.service else {
                throw AWSError(
                    "InvalidSignatureException", "Credential should be scoped to correct service: '\(s.model.service)'. ")
            }
            operationName = String(target[target.index(after: dot)...])
            guard let model = s.model.operations[operationName], s.operations[operationName] != nil else {
                throw AWSError("UnknownOperationException", "", status: 400)
            }
            let contentType = request.headers[.contentType] ?? ""
            guard contentType.hasPrefix("application/x-amz-json-1.") || contentType.hasPrefix("application/json") else {
                throw AWSError("UnknownOperationException", "", status: 400)
            }
            decoded = Result { () throws(AWSError) in try ShapeCodec(model: s.model).decodeJSON(body, shape: model.input) }
        case .query:
            guard let s = queryServices[auth.service] else {
                throw AWSError("InvalidAction", "The action is not valid for this endpoint.", status: 400)
            }
            service = s
            let params = try Self.queryParameters(request, body: body)
            operationName = params["Action"] ?? ""
            guard let model = s.model.operations[operationName], s.operations[operationName] != nil,
                params["Version"] == s.model.apiVersion
            else {
                let error = AWSError(
                    "InvalidAction", "Could not find operation \(operationName) for version \(params["Version"] ?? "NO_VERSION_SPECIFIED")",
                    status: 400)
                return render(error, wire: wire, requestID: requestID, service: s)
            }
            decoded = Result { () throws(AWSError) in try ShapeCodec(model: s.model).decodeQuery(params, shape: model.input) }
        case .s3:
            preconditionFailure("S3 is answered above")
        }
        // Run, audit (the event is durable before the response leaves) and respond.
        let origin = CallOrigin(caller: caller, region: auth.region, sourceIPAddress: Self.sourceIP(context), userAgent: request.headers[.userAgent])
        let result = try await pipeline.perform(service, operationName, input: decoded, origin: origin, requestID: requestID, now: Int64(now))
        switch result {
        case .failure(let failure):
            return render(failure, wire: wire, requestID: requestID, service: service)
        case .success(let output):
            return encode(
                output, service: service, operation: operationName, model: service.model.operations[operationName]!, wire: wire, requestID: requestID)
        }
    }

    /// The parameters of a Query request: those of the URI's query string (less the `X-Amz-` presign parameters)
    /// and, when the body is a form (or says nothing of its type), the body's. Another type's body is not read, so
    /// its call names no action.
    ///
    /// - Throws: `MalformedQueryString` for a body that is not a form, or one with more than
    ///   ``maxQueryParameters`` parameters.
    private static func queryParameters(_ request: Request, body: [UInt8]) throws(AWSError) -> [String: String] {
        var params: [String: String] = [:]
        if let q = request.uri.query, let pairs = FormEncoding.parse(Substring(q)) {
            for (k, v) in pairs where !k.hasPrefix("X-Amz-") { params[k] = v }
        }
        let contentType = request.headers[.contentType] ?? "application/x-www-form-urlencoded"
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else { return params }
        guard let pairs = FormEncoding.parse(Substring(decoding: body, as: UTF8.self)) else {
            throw AWSError("MalformedQueryString", "The query string is malformed.", status: 400)
        }
        guard pairs.count <= maxQueryParameters else {
            throw AWSError("MalformedQueryString", "The request has more than \(maxQueryParameters) parameters.", status: 400)
        }
        for (k, v) in pairs { params[k] = v }
        return params
    }

    /// Whether the request carries SigV4 authentication (an `Authorization` header or a presigned query string);
    /// a malformed one still counts, so that it is answered with the signature error it deserves.
    private static func carriesSignature(_ request: Request) -> Bool {
        if request.headers[.authorization] != nil { return true }
        let query = request.uri.query ?? ""
        return query.contains("X-Amz-Signature=") || query.contains("X-Amz-Credential=") || query.contains("X-Amz-Algorithm=")
    }

    /// Runs an unsigned Query call when its `Action` names an operation declared with ``UnsignedAccess`` (and its
    /// `Version`, when given, matches); returns `nil` for every other request, which then fails authentication.
    ///
    /// The call is answered like a signed one but not audited: AWS leaves unauthenticated `ConfirmSubscription`
    /// and `Unsubscribe` calls out of CloudTrail.
    private func unsignedCall(_ request: Request, body: [UInt8], requestID: String) async throws -> Response? {
        guard let params = try? Self.queryParameters(request, body: body) else { return nil }
        guard let action = params["Action"] else { return nil }
        let candidates = queryServices.values.filter { service in
            service.operations[action]?.unsigned != nil && (params["Version"] == nil || params["Version"] == service.model.apiVersion)
        }
        guard candidates.count == 1, let service = candidates.first, let operation = service.operations[action],
            let access = operation.unsigned, let opModel = service.model.operations[action]
        else { return nil }
        do {
            let codec = ShapeCodec(model: service.model)
            let input = try codec.decodeQuery(params, shape: opModel.input)
            if let missing = CallPipeline.requiredError(input, service: service, shape: opModel.input) { throw missing }
            guard let scope = access.scope(input) else { return nil }
            let caller = Caller(kind: .root, accountId: scope.account, accessKeyId: "", name: "")
            let call = OperationCall(
                input: input, caller: caller, region: scope.region, requestID: requestID, now: Int64(runtime.now()), isSigned: false)
            let output = try await operation.run(call)
            return encode(output, service: service, operation: action, model: opModel, wire: .query, requestID: requestID)
        } catch let error as AWSError {
            return render(error, wire: .query, requestID: requestID, service: service)
        }
    }

    static func sourceIP(_ context: Context) -> String {
        context.remoteAddress?.ipAddress ?? "127.0.0.1"
    }

    /// Verifies the request's signature and returns who signed it, the parsed authorization and the key's secret.
    ///
    /// - Parameter payloadHash: the hash the signature covers: the body's SHA-256 for JSON and Query services;
    ///   `nil` for S3, which signs the hash the client declares in `x-amz-content-sha256` (the S3 service checks the
    ///   body against it while streaming it).
    func authenticate(_ request: Request, payloadHash: String?, wire: WireProtocol, now: Int64) throws -> (Caller, SigV4Authorization, String) {
        var headers: [(name: String, value: String)] = [("host", request.head.authority ?? "")]
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let path = request.uri.path
        let sigRequest = SigV4Request(
            method: request.method.rawValue, rawPath: path.isEmpty ? "/" : path, rawQuery: request.uri.query ?? "",
            headers: headers)
        var parsed: SigV4Authorization?
        do {
            let auth = try SigV4Verifier.parseAuthorization(sigRequest)
            parsed = auth
            guard let credential = vault.credential(for: auth.accessKeyId) else {
                throw SigV4Failure.unknownAccessKey(auth.accessKeyId)
            }
            try SigV4Verifier.checkTime(auth, now: now)
            let signedHash: String
            if let payloadHash {
                signedHash = payloadHash
            } else if let declared = sigRequest.header("x-amz-content-sha256") {
                signedHash = declared
            } else if auth.isPresigned {
                signedHash = "UNSIGNED-PAYLOAD"
            } else {
                throw AWSError("InvalidRequest", "Missing required header for this request: x-amz-content-sha256", status: 400)
            }
            try verifier.verify(sigRequest, auth: auth, secret: credential.secretAccessKey, payloadHash: signedHash)
            if let token = credential.sessionToken {
                guard auth.sessionToken == token else { throw SigV4Failure.invalidToken }
                if let expiration = credential.expiration, expiration <= now { throw SigV4Failure.expiredToken }
            } else if auth.sessionToken != nil {
                throw SigV4Failure.invalidToken
            }
            return (credential.caller, auth, credential.secretAccessKey)
        } catch let failure as SigV4Failure {
            guard wire == .s3 else { throw WireRenderer.authError(failure, protocol: wire) }
            var error = WireRenderer.s3AuthError(failure)
            if let parsed {
                error.details["AWSAccessKeyId"] = parsed.accessKeyId
                if case .signatureMismatch(let canonical, let toSign) = failure {
                    error.details["SignatureProvided"] = parsed.signature
                    error.details["StringToSign"] = toSign
                    error.details["CanonicalRequest"] = canonical
                }
            }
            throw error
        }
    }

    // MARK: Rendering

    private func render(_ error: AWSError, wire: WireProtocol, requestID: String, service: (any AWSService)?) -> Response {
        switch wire {
        case .json:
            let modeled = service?.model.shapes[error.code]?.exception == true
            return WireRenderer.jsonError(error, requestID: requestID, capitalMessage: modeled)
        case .query:
            return WireRenderer.queryError(error, requestID: requestID, xmlns: service?.model.xmlNamespace)
        case .s3:
            return WireRenderer.s3Error(error, requestID: requestID, hostID: S3RequestIDs.hostID(for: requestID))
        }
    }

    private func encode(
        _ output: JSONValue, service: any AWSService, operation: String, model: ServiceModel.Operation, wire: WireProtocol,
        requestID: String
    ) -> Response {
        let codec = ShapeCodec(model: service.model)
        switch wire {
        case .json:
            var w = JSONWriter(capacity: 512)
            if let shape = model.output { codec.writeJSON(output, shape: shape, to: &w) } else { w.raw("{}".utf8) }
            return WireRenderer.response(status: 200, contentType: "application/x-amz-json-1.1", body: w.bytes, requestID: requestID)
        default:
            var x = XMLWriter()
            x.open("\(operation)Response", xmlns: service.model.xmlNamespace)
            if let wrapper = model.resultWrapper, let shape = model.output {
                x.open(wrapper)
                codec.writeXML(output, shape: shape, to: &x)
                x.close(wrapper)
            }
            x.open("ResponseMetadata")
            x.element("RequestId", requestID)
            x.close("ResponseMetadata")
            x.close("\(operation)Response")
            return WireRenderer.response(status: 200, contentType: "text/xml", body: Array(x.text.utf8), requestID: requestID)
        }
    }

    // MARK: Cairn's own endpoints

    private func cairnEndpoint(_ request: Request) async throws -> Response {
        switch (request.method, request.uri.path) {
        case (.get, "/_cairn/health"):
            var w = JSONWriter()
            w.beginObject()
            w.field("status", "ok")
            w.key("services")
            w.beginArray()
            let modeled = jsonServices.values.map(\.model.service) + queryServices.values.map(\.model.service)
            for name in (modeled + (pipeline.s3 == nil ? [] : ["s3"])).sorted() {
                w.arrayElement()
                w.string(name)
            }
            w.endArray()
            w.endObject()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
        case (.post, "/_cairn/flush"):
            try await flush()
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"flushed"}"#)))
        default:
            let path = request.uri.path
            if request.method == .get, let route = routes.first(where: { path.hasPrefix($0.prefix) }),
                let (contentType, body) = try await route.serve(path)
            {
                return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
            return Response(
                status: .notFound, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"not found"}"#)))
        }
    }
}
