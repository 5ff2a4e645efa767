import AWSCore
import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import _NIOFileSystem

/// Object-level operations: put, get, head, delete, copy.
extension S3Service {
    /// The object's ARN for policy checks.
    static func objectARN(_ bucket: String, _ key: String) -> String { "arn:aws:s3:::\(bucket)/\(key)" }

    /// The object a request names, or `NoSuchKey`.
    func object(_ bucket: String, _ key: String) async throws -> StoredObject {
        guard let record = try await index.object(bucket: bucket, key: key) else { throw S3Errors.noSuchKey(key) }
        return try JSONDecoder().decode(StoredObject.self, from: Data(record))
    }

    /// Commits an object's record and removes the file of the object it replaced.
    func commit(_ object: StoredObject, bucket: String, key: String) async throws {
        let replaced: [UInt8]?
        do {
            replaced = try await index.putObject(bucket: bucket, key: key, record: Array(try JSONEncoder().encode(object)))
        } catch {
            await files.remove(object.file)
            throw error
        }
        if let replaced, let old = try? JSONDecoder().decode(StoredObject.self, from: Data(replaced)), old.file != object.file {
            await files.remove(old.file)
        }
    }

    /// Streams the request body through the payload checks into a new object file.
    func receive(_ call: inout S3Call) async throws -> (file: String, summary: PayloadSummary) {
        var reader = try PayloadReader(call.request)
        var received = 0
        let body = call.request.body
        let (file, summary) = try await files.write { sink in
            for try await buffer in body {
                received += buffer.readableBytes
                let decoded = try reader.feed(buffer)
                if decoded.readableBytes > 0 { _ = try await sink.write(contentsOf: decoded) }
            }
            return try reader.finish()
        }
        call.bytesIn = received
        return (file, summary)
    }

    /// The representation headers and user metadata of an upload, checked against S3's limits.
    static func uploadAttributes(_ r: S3Request) throws(AWSError) -> (contentType: String, headers: [String: String], metadata: [[String]]) {
        var headers: [String: String] = [:]
        for name in ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"] {
            if let value = r.header(name) { headers[name] = value }
        }
        // aws-chunked is a transfer detail, not part of the stored representation.
        if let encoding = headers["content-encoding"] {
            let kept = encoding.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "aws-chunked" }
            headers["content-encoding"] = kept.isEmpty ? nil : kept.joined(separator: ",")
        }
        var metadata: [[String]] = []
        var size = 0
        for field in r.headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-meta-") else { continue }
            let short = String(name.dropFirst("x-amz-meta-".count))
            size += short.utf8.count + field.value.utf8.count
            if let i = metadata.firstIndex(where: { $0[0] == short }) {
                metadata[i][1] += "," + field.value
            } else {
                metadata.append([short, field.value])
            }
        }
        guard size <= 2048 else {
            throw AWSError(
                "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size",
                details: ["Size": String(size), "MaxSizeAllowed": "2048"])
        }
        return (r.header("content-type") ?? "binary/octet-stream", headers, metadata)
    }

    /// Checks a key against S3's length limit.
    static func validateKey(_ key: String) throws(AWSError) {
        guard key.utf8.count <= 1024 else {
            throw AWSError("KeyTooLongError", "Your key is too long", details: ["Size": String(key.utf8.count), "MaxSizeAllowed": "1024"])
        }
    }

    /// The storage class an upload asks for.
    static func storageClass(_ r: S3Request) throws(AWSError) -> String {
        let value = r.header("x-amz-storage-class") ?? "STANDARD"
        let known = [
            "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS",
            "SNOW", "EXPRESS_ONEZONE",
        ]
        guard known.contains(value) else {
            throw AWSError("InvalidStorageClass", "The storage class you specified is not valid", details: ["StorageClassRequested": value])
        }
        return value
    }

    /// Checks PutObject's conditional-write headers (`If-None-Match: *`, `If-Match`) against the current object.
    func checkWriteConditions(_ r: S3Request, bucket: String, key: String) async throws {
        let ifNoneMatch = r.header("if-none-match")
        let ifMatch = r.header("if-match")
        guard ifNoneMatch != nil || ifMatch != nil else { return }
        let current = try? await object(bucket, key)
        if let ifNoneMatch {
            guard ifNoneMatch == "*" else {
                throw AWSError(
                    "NotImplemented", "A header you provided implies functionality that is not implemented", status: 501,
                    details: ["Header": "If-None-Match"])
            }
            if current != nil {
                throw AWSError(
                    "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: 412,
                    details: ["Condition": "If-None-Match"])
            }
        }
        if let ifMatch {
            guard let current else { throw S3Errors.noSuchKey(key) }
            if !ETags.matches(ifMatch, current.etag) {
                throw AWSError(
                    "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: 412,
                    details: ["Condition": "If-Match"])
            }
        }
    }

    func putObject(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let key = r.key ?? ""
        let bucket = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", key))
        try Self.validateKey(key)
        let attributes = try Self.uploadAttributes(r)
        let storageClass = try Self.storageClass(r)
        try await checkWriteConditions(r, bucket: bucket.name, key: key)
        let (file, summary) = try await receive(&call)
        let encryption = r.header("x-amz-server-side-encryption") ?? bucket.encryption?.algorithm ?? "AES256"
        let object = StoredObject(
            file: file, size: summary.length, etag: summary.md5Hex, modifiedMillis: Int64(runtime.now() * 1000),
            contentType: attributes.contentType, headers: attributes.headers, metadata: attributes.metadata,
            checksums: summary.storedChecksums, checksumType: "FULL_OBJECT", partCount: nil,
            partSizes: nil, owner: Self.objectOwner(r.caller, bucket: bucket), storageClass: storageClass, tagging: r.header("x-amz-tagging"),
            serverSideEncryption: encryption)
        try await commit(object, bucket: bucket.name, key: key)
        var headers: HTTPFields = [:]
        headers[.eTag] = "\"\(object.etag)\""
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = encryption
        Self.addChecksumHeaders(object, to: &headers)
        call.responseElements = Self.encryptionElements(encryption)
        return Self.empty(headers: headers)
    }

    /// The account that owns an object a caller writes: the caller's, or the bucket owner's when an AWS service
    /// writes it (a service principal belongs to no account; CloudTrail and Config write with
    /// `bucket-owner-full-control`).
    static func objectOwner(_ caller: Caller, bucket: Bucket) -> String {
        caller.kind == .awsService ? bucket.owner : caller.accountId
    }

    /// `{"x-amz-server-side-encryption":"AES256"}`: the `responseElements` S3 writes for uploads.
    static func encryptionElements(_ algorithm: String) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.field("x-amz-server-side-encryption", algorithm)
        w.endObject()
        return w.bytes
    }

    /// Adds `x-amz-checksum-<alg>` and `x-amz-checksum-type` headers for the object's stored checksums.
    static func addChecksumHeaders(_ object: StoredObject, to headers: inout HTTPFields) {
        for (algorithm, value) in object.checksums.sorted(by: { $0.key < $1.key }) {
            headers[HTTPField.Name("x-amz-checksum-" + algorithm.lowercased())!] = value
        }
        if let type = object.checksumType, !object.checksums.isEmpty {
            headers[HTTPField.Name("x-amz-checksum-type")!] = type
        }
    }

    func getObject(_ call: inout S3Call, head: Bool) async throws -> Response {
        let r = call.request
        let key = r.key ?? ""
        if buckets.bucket(r.bucket ?? "") == nil, let template = PolicyTemplates.object(bucket: r.bucket ?? "", key: key) {
            call.bytesOut = head ? 0 : template.utf8.count
            let headers: HTTPFields = [
                .contentType: "application/json", .contentLength: String(template.utf8.count),
                .eTag: "\"\(Hex.encode(Array(Insecure.MD5.hash(data: Array(template.utf8)))))\"",
            ]
            return head
                ? Response(status: .ok, headers: headers)
                : Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: template)))
        }
        let bucket = try bucket(&call, action: "s3:GetObject", resource: Self.objectARN(r.bucket ?? "", key))
        let object = try await object(bucket.name, key)

        var headers: HTTPFields = [:]
        headers[.eTag] = "\"\(object.etag)\""
        headers[.lastModified] = S3Time.http(object.modifiedMillis)
        if let notModified = try Self.evaluateConditions(r, object: object) {
            return Self.empty(notModified, headers: headers)
        }
        headers[.acceptRanges] = "bytes"
        headers[.contentType] = object.contentType
        for (name, value) in object.headers.sorted(by: { $0.key < $1.key }) {
            headers[HTTPField.Name(name)!] = value
        }
        for pair in object.metadata {
            if let name = HTTPField.Name("x-amz-meta-" + pair[0]) { headers[name] = pair[1] }
        }
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = object.serverSideEncryption
        if object.storageClass != "STANDARD" { headers[HTTPField.Name("x-amz-storage-class")!] = object.storageClass }
        if let tagging = object.tagging, !tagging.isEmpty {
            headers[HTTPField.Name("x-amz-tagging-count")!] = String(tagging.split(separator: "&").count)
        }
        // A full-object checksum describes the whole object only: S3 sends none with a range.
        let whole = r.header("range") == nil && r.query("partNumber") == nil
        if whole, r.header("x-amz-checksum-mode")?.uppercased() == "ENABLED" { Self.addChecksumHeaders(object, to: &headers) }
        if !head {
            for (param, header) in [
                ("response-content-type", HTTPField.Name.contentType), ("response-content-language", .contentLanguage),
                ("response-expires", .expires), ("response-cache-control", .cacheControl),
                ("response-content-disposition", .contentDisposition), ("response-content-encoding", .contentEncoding),
            ] {
                if let value = r.query(param) { headers[header] = value }
            }
        }

        var range: Range<Int64> = 0..<object.size
        var status: HTTPResponse.Status = .ok
        if let partText = r.query("partNumber") {
            guard let part = Int(partText), (1...10000).contains(part) else {
                throw S3Errors.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: partText)
            }
            let sizes = object.partSizes ?? [object.size]
            guard part <= sizes.count else {
                throw AWSError(
                    "InvalidPartNumber", "The requested partnumber is not satisfiable", status: 416,
                    details: ["PartNumberRequested": partText, "ActualPartCount": String(sizes.count)])
            }
            let start = sizes.prefix(part - 1).reduce(0, +)
            range = start..<(start + sizes[part - 1])
            headers[HTTPField.Name("x-amz-mp-parts-count")!] = String(sizes.count)
            if object.partSizes != nil {
                status = .partialContent
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
            }
        } else if let rangeHeader = r.header("range"), let requested = try ByteRange.parse(rangeHeader, size: object.size) {
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
        }
        headers[.contentLength] = String(range.count)
        if head {
            return Response(status: status, headers: headers)
        }
        call.bytesOut = Int(range.count)
        return Response(status: status, headers: headers, body: files.body(object.file, range: range))
    }

    /// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since as S3 does.
    ///
    /// - Returns: `.notModified` when the client's copy is current, `nil` to answer normally.
    /// - Throws: `PreconditionFailed` (412).
    static func evaluateConditions(_ r: S3Request, object: StoredObject) throws(AWSError) -> HTTPResponse.Status? {
        let modified = object.modifiedMillis / 1000
        let failed: (String) -> AWSError = {
            AWSError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: 412, details: ["Condition": $0])
        }
        let ifMatch = r.header("if-match")
        if let ifMatch, !ETags.matches(ifMatch, object.etag) { throw failed("If-Match") }
        if ifMatch == nil, let text = r.header("if-unmodified-since"), let since = S3Time.parseHTTP(text), modified > since / 1000 {
            throw failed("If-Unmodified-Since")
        }
        let ifNoneMatch = r.header("if-none-match")
        if let ifNoneMatch, ETags.matches(ifNoneMatch, object.etag) { return .notModified }
        if ifNoneMatch == nil, let text = r.header("if-modified-since"), let since = S3Time.parseHTTP(text), modified <= since / 1000 {
            return .notModified
        }
        return nil
    }

    func deleteObject(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let key = r.key ?? ""
        let bucket = try bucket(&call, action: "s3:DeleteObject", resource: Self.objectARN(r.bucket ?? "", key))
        if let record = try await index.deleteObject(bucket: bucket.name, key: key),
            let old = try? JSONDecoder().decode(StoredObject.self, from: Data(record))
        {
            await files.remove(old.file)
        }
        return Self.empty(.noContent)
    }

    func deleteObjects(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let bucket = try bucket(&call, action: "s3:DeleteObject", resource: Self.objectARN(r.bucket ?? "", "*"))
        guard
            r.header("content-md5") != nil || r.headers.contains(where: { $0.name.canonicalName.hasPrefix("x-amz-checksum-") })
                || r.header("x-amz-sdk-checksum-algorithm") != nil
        else {
            throw AWSError("InvalidRequest", "Missing required header for this request: Content-MD5")
        }
        let body = try await xmlBody(&call)
        guard body.name == "Delete" else { throw S3XML.malformed }
        let quiet = body.value("Quiet") == "true"
        let objects = body.all("Object")
        guard !objects.isEmpty, objects.count <= 1000 else { throw S3XML.malformed }
        var deleted: [String] = []
        var errors: [(key: String, error: AWSError)] = []
        for node in objects {
            guard let key = node.value("Key") else { throw S3XML.malformed }
            if key.utf8.count > 1024 {
                errors.append((key, AWSError("KeyTooLongError", "Your key is too long")))
                continue
            }
            if let record = try await index.deleteObject(bucket: bucket.name, key: key),
                let old = try? JSONDecoder().decode(StoredObject.self, from: Data(record))
            {
                await files.remove(old.file)
            }
            deleted.append(key)
        }
        return Self.xml { x in
            x.open("DeleteResult", xmlns: S3XML.namespace)
            if !quiet {
                for key in deleted {
                    x.open("Deleted")
                    x.element("Key", key)
                    x.close("Deleted")
                }
            }
            for (key, error) in errors {
                x.open("Error")
                x.element("Key", key)
                x.element("Code", error.code)
                x.element("Message", error.message)
                x.close("Error")
            }
            x.close("DeleteResult")
        }
    }

    /// The source of a copy: `x-amz-copy-source` as `[/]bucket/key[?versionId=...]`, URL-encoded.
    func copySource(_ call: inout S3Call) async throws -> (bucket: String, key: String, object: StoredObject) {
        let raw = call.request.header("x-amz-copy-source") ?? ""
        var source = Substring(raw)
        if let q = source.firstIndex(of: "?") { source = source[..<q] }
        guard let decoded = FormEncoding.percentDecode(source, plusIsSpace: false) else {
            throw S3Errors.invalidArgument("Invalid copy source encoding", name: "x-amz-copy-source", value: raw)
        }
        var path = Substring(decoded)
        if path.hasPrefix("/") { path = path.dropFirst() }
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.index(after: slash) < path.endIndex else {
            throw S3Errors.invalidArgument("Invalid copy source object key", name: "x-amz-copy-source", value: raw)
        }
        let bucketName = String(path[..<slash])
        let key = String(path[path.index(after: slash)...])
        guard let sourceBucket = buckets.bucket(bucketName) else { throw S3Errors.noSuchBucket(bucketName) }
        if let expected = call.request.header("x-amz-source-expected-bucket-owner"), expected != sourceBucket.owner {
            throw S3Errors.accessDenied
        }
        try Self.authorize(call.request.caller, bucket: sourceBucket, action: "s3:GetObject", resource: Self.objectARN(bucketName, key))
        let object = try await object(bucketName, key)
        try Self.evaluateCopyConditions(call.request, object: object)
        return (bucketName, key, object)
    }

    /// `x-amz-copy-source-if-*`: S3 answers a failed copy condition with 412.
    static func evaluateCopyConditions(_ r: S3Request, object: StoredObject) throws(AWSError) {
        let modified = object.modifiedMillis / 1000
        let failed = AWSError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", status: 412)
        if let v = r.header("x-amz-copy-source-if-match"), !ETags.matches(v, object.etag) { throw failed }
        if let v = r.header("x-amz-copy-source-if-none-match"), ETags.matches(v, object.etag) { throw failed }
        if let v = r.header("x-amz-copy-source-if-unmodified-since").flatMap(S3Time.parseHTTP), modified > v / 1000 { throw failed }
        if let v = r.header("x-amz-copy-source-if-modified-since").flatMap(S3Time.parseHTTP), modified <= v / 1000 { throw failed }
    }

    /// Copies `range` of an object's bytes into a new file, computing its MD5.
    func copyBytes(of object: StoredObject, range: Range<Int64>) async throws -> (file: String, md5: [UInt8]) {
        let files = self.files
        let (file, md5) = try await files.write { sink in
            var hash = PartialMD5()
            try await files.read(object.file, range: range) { chunk in
                hash.update(chunk)
                _ = try await sink.write(contentsOf: chunk)
            }
            return hash.finalize()
        }
        return (file, md5)
    }

    func copyObject(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let key = r.key ?? ""
        let bucket = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", key))
        try Self.validateKey(key)
        let source = try await copySource(&call)
        let directive = r.header("x-amz-metadata-directive") ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else {
            throw S3Errors.invalidArgument("Unknown metadata directive.", name: "x-amz-metadata-directive", value: directive)
        }
        let storageClass = try Self.storageClass(r)
        if source.bucket == bucket.name, source.key == key, directive == "COPY", r.header("x-amz-storage-class") == nil,
            r.header("x-amz-server-side-encryption") == nil, r.header("x-amz-website-redirect-location") == nil
        {
            throw AWSError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        }
        let (file, md5) = try await copyBytes(of: source.object, range: 0..<source.object.size)
        var object = source.object
        object.file = file
        object.etag = Hex.encode(md5)
        object.partCount = nil
        object.partSizes = nil
        object.modifiedMillis = Int64(runtime.now() * 1000)
        object.owner = r.caller.accountId
        object.storageClass = storageClass
        if object.checksumType == "COMPOSITE" {
            object.checksums = [:]
            object.checksumType = nil
        }
        if directive == "REPLACE" {
            let attributes = try Self.uploadAttributes(r)
            object.contentType = attributes.contentType
            object.headers = attributes.headers
            object.metadata = attributes.metadata
        }
        if let tagging = r.header("x-amz-tagging"), r.header("x-amz-tagging-directive") == "REPLACE" { object.tagging = tagging }
        object.serverSideEncryption = r.header("x-amz-server-side-encryption") ?? bucket.encryption?.algorithm ?? "AES256"
        try await commit(object, bucket: bucket.name, key: key)
        call.responseElements = Self.encryptionElements(object.serverSideEncryption)
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = object.serverSideEncryption
        return Self.xml { x in
            x.open("CopyObjectResult", xmlns: S3XML.namespace)
            x.element("ETag", "\"\(object.etag)\"")
            x.element("LastModified", S3Time.iso(object.modifiedMillis))
            for (algorithm, value) in object.checksums.sorted(by: { $0.key < $1.key }) {
                x.element("Checksum" + algorithm, value)
            }
            x.close("CopyObjectResult")
        }.with(headers: headers)
    }
}

/// An incremental MD5 over ByteBuffers.
struct PartialMD5 {
    private var md5 = Insecure.MD5()
    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
    }
    func finalize() -> [UInt8] { Array(md5.finalize()) }
}

/// ETag comparison as HTTP conditionals use it (quotes optional, `*` matches anything, lists allowed).
enum ETags {
    static func matches(_ header: String, _ etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var value = candidate.trimmingCharacters(in: .whitespaces)
            if value == "*" { return true }
            if value.hasPrefix("W/") { value.removeFirst(2) }
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if value == etag { return true }
        }
        return false
    }
}

/// The `Range` header of a GET.
enum ByteRange {
    /// The byte range a `Range` header asks for; `nil` when the header is not a single byte range S3 honours
    /// (S3 then sends the whole object).
    ///
    /// - Throws: `InvalidRange` (416) when the range starts past the end of the object.
    static func parse(_ header: String, size: Int64) throws(AWSError) -> Range<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst("bytes=".count)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let unsatisfiable = AWSError(
            "InvalidRange", "The requested range is not satisfiable", status: 416,
            details: ["RangeRequested": header, "ActualObjectSize": String(size)])
        if first.isEmpty {
            guard let suffix = Int64(last) else { return nil }
            guard suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)..<size
        }
        guard let start = Int64(first) else { return nil }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let e = Int64(last), e >= start else { return nil }
            end = min(e, size - 1)
        }
        guard start < size else { throw unsatisfiable }
        return start..<(end + 1)
    }
}

extension Response {
    /// The response with extra headers added.
    func with(headers extra: HTTPFields) -> Response {
        var copy = self
        for field in extra { copy.headers[field.name] = field.value }
        return copy
    }
}
