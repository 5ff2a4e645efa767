import AWSCore
import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Storage
import _NIOFileSystem

/// An upload in progress.
struct Upload: Codable, Sendable {
    var uploadId: String
    var bucket: String
    var key: String
    var initiatedMillis: Int64
    var owner: String
    var initiatorArn: String
    var contentType: String
    var headers: [String: String]
    var metadata: [[String]]
    var storageClass: String
    var tagging: String?
    var serverSideEncryption: String
    /// The additional checksum algorithm chosen at creation (`CRC32`, ...).
    var checksumAlgorithm: String?
}

/// One uploaded part.
struct UploadedPart: Codable, Sendable {
    var number: Int
    var file: String
    var size: Int64
    var etag: String
    var md5: [UInt8]
    var modifiedMillis: Int64
    var checksums: [String: String]
}

/// Uploads and their parts, kept in the state store (`s3.uploads`, `s3.parts` keyed `<uploadId>/<00001>`).
struct UploadStore: Sendable {
    private static let uploads = "s3.uploads"
    private static let parts = "s3.parts"
    let store: any StateStore

    func upload(_ id: String) async throws -> Upload? {
        try await store.entries(Self.uploads, prefix: id).first { $0.key == id }.map {
            try JSONDecoder().decode(Upload.self, from: Data($0.value))
        }
    }

    func all(bucket: String) async throws -> [Upload] {
        try await store.all(Self.uploads).map { try JSONDecoder().decode(Upload.self, from: Data($0.value)) }
            .filter { $0.bucket == bucket }
    }

    func put(_ upload: Upload) async throws {
        try await store.put(Self.uploads, upload.uploadId, Array(try JSONEncoder().encode(upload)))
    }

    func parts(_ id: String) async throws -> [UploadedPart] {
        try await store.entries(Self.parts, prefix: id + "/").map { try JSONDecoder().decode(UploadedPart.self, from: Data($0.value)) }
    }

    static func partKey(_ id: String, _ number: Int) -> String {
        let digits = String(number)
        return id + "/" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// Stores a part; returns the part it replaced.
    func put(_ part: UploadedPart, upload id: String) async throws -> UploadedPart? {
        let key = Self.partKey(id, part.number)
        let old = try await store.entries(Self.parts, prefix: key).first { $0.key == key }
        try await store.put(Self.parts, key, Array(try JSONEncoder().encode(part)))
        return try old.map { try JSONDecoder().decode(UploadedPart.self, from: Data($0.value)) }
    }

    /// Removes an upload and its part records (the caller removes the part files).
    func remove(_ id: String) async throws {
        for part in try await store.entries(Self.parts, prefix: id + "/") { try await store.delete(Self.parts, part.key) }
        try await store.delete(Self.uploads, id)
    }

    /// Removes every upload of a bucket.
    func removeAll(bucket: String) async throws {
        for upload in try await all(bucket: bucket) { try await remove(upload.uploadId) }
    }
}

/// Multipart upload operations.
extension S3Service {
    static let minimumPartSize: Int64 = 5 * 1024 * 1024

    static func noSuchUpload(_ id: String) -> AWSError {
        AWSError(
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
            status: 404, details: ["UploadId": id])
    }

    /// The upload a request names (by `uploadId`), which must belong to the request's bucket and key.
    func namedUpload(_ call: S3Call) async throws -> Upload {
        let id = call.request.query("uploadId") ?? ""
        guard let upload = try await uploads.upload(id), upload.bucket == call.request.bucket, upload.key == call.request.key else {
            throw Self.noSuchUpload(id)
        }
        return upload
    }

    func createMultipartUpload(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let key = r.key ?? ""
        let bucket = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", key))
        try Self.validateKey(key)
        let attributes = try Self.uploadAttributes(r)
        let algorithm = r.header("x-amz-checksum-algorithm")?.uppercased()
        if let algorithm, !["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"].contains(algorithm) {
            throw S3Errors.invalidArgument("Checksum algorithm provided is unsupported.", name: "x-amz-checksum-algorithm", value: algorithm)
        }
        let id = Base64URL.encode(Array((runtime.uuid() + runtime.uuid()).utf8)).replacingOccurrences(of: "_", with: ".")
        let encryption = r.header("x-amz-server-side-encryption") ?? bucket.encryption?.algorithm ?? "AES256"
        let upload = Upload(
            uploadId: id, bucket: bucket.name, key: key, initiatedMillis: Int64(runtime.now() * 1000), owner: r.caller.accountId,
            initiatorArn: r.caller.arn, contentType: attributes.contentType, headers: attributes.headers,
            metadata: attributes.metadata, storageClass: try Self.storageClass(r), tagging: r.header("x-amz-tagging"),
            serverSideEncryption: encryption, checksumAlgorithm: algorithm)
        try await uploads.put(upload)
        call.responseElements = Self.uploadElements(id)
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = encryption
        if let algorithm { headers[HTTPField.Name("x-amz-checksum-algorithm")!] = algorithm }
        return Self.xml { x in
            x.open("InitiateMultipartUploadResult", xmlns: S3XML.namespace)
            x.element("Bucket", bucket.name)
            x.element("Key", key)
            x.element("UploadId", id)
            x.close("InitiateMultipartUploadResult")
        }.with(headers: headers)
    }

    /// `{"uploadId": "..."}`: CreateMultipartUpload's `responseElements`.
    static func uploadElements(_ id: String) -> [UInt8] {
        var w = JSONWriter(capacity: 96)
        w.beginObject()
        w.field("uploadId", id)
        w.endObject()
        return w.bytes
    }

    /// The part number of an UploadPart request, checked.
    static func partNumber(_ r: S3Request) throws(AWSError) -> Int {
        let text = r.query("partNumber") ?? ""
        guard let n = Int(text), (1...10000).contains(n) else {
            throw S3Errors.invalidArgument("Part number must be an integer between 1 and 10000, inclusive", name: "partNumber", value: text)
        }
        return n
    }

    /// Records a new part, removing the file of a part it replaces.
    func storePart(_ part: UploadedPart, upload: Upload) async throws {
        do {
            if let old = try await uploads.put(part, upload: upload.uploadId), old.file != part.file { await files.remove(old.file) }
        } catch {
            await files.remove(part.file)
            throw error
        }
    }

    func uploadPart(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        _ = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", r.key ?? ""))
        let number = try Self.partNumber(r)
        let upload = try await namedUpload(call)
        let (file, summary) = try await receive(&call)
        let part = UploadedPart(
            number: number, file: file, size: summary.length, etag: summary.md5Hex, md5: summary.md5,
            modifiedMillis: Int64(runtime.now() * 1000),
            checksums: upload.checksumAlgorithm.flatMap { alg in summary.storedChecksums[alg].map { [alg: $0] } } ?? [:])
        try await storePart(part, upload: upload)
        var headers: HTTPFields = [:]
        headers[.eTag] = "\"\(part.etag)\""
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = upload.serverSideEncryption
        for (algorithm, value) in part.checksums { headers[HTTPField.Name("x-amz-checksum-" + algorithm.lowercased())!] = value }
        return Self.empty(headers: headers)
    }

    func uploadPartCopy(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        _ = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", r.key ?? ""))
        let number = try Self.partNumber(r)
        let upload = try await namedUpload(call)
        let source = try await copySource(&call)
        var range: Range<Int64> = 0..<source.object.size
        if let text = r.header("x-amz-copy-source-range") {
            let parts = text.hasPrefix("bytes=") ? text.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false) : []
            guard parts.count == 2, let first = Int64(parts[0]), let last = Int64(parts[1]), first <= last else {
                throw S3Errors.invalidArgument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                    name: "x-amz-copy-source-range", value: text)
            }
            guard last < source.object.size else {
                throw AWSError(
                    "InvalidRange", "The requested range is not satisfiable", status: 416,
                    details: ["RangeRequested": text, "ActualObjectSize": String(source.object.size)])
            }
            range = first..<(last + 1)
        }
        let (file, md5) = try await copyBytes(of: source.object, range: range)
        let part = UploadedPart(
            number: number, file: file, size: range.upperBound - range.lowerBound, etag: Hex.encode(md5), md5: md5,
            modifiedMillis: Int64(runtime.now() * 1000), checksums: [:])
        try await storePart(part, upload: upload)
        return Self.xml { x in
            x.open("CopyPartResult", xmlns: S3XML.namespace)
            x.element("LastModified", S3Time.iso(part.modifiedMillis))
            x.element("ETag", "\"\(part.etag)\"")
            x.close("CopyPartResult")
        }
    }

    func completeMultipartUpload(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let bucket = try bucket(&call, action: "s3:PutObject", resource: Self.objectARN(r.bucket ?? "", r.key ?? ""))
        let upload = try await namedUpload(call)
        let body = try await xmlBody(&call)
        guard body.name == "CompleteMultipartUpload" else { throw S3XML.malformed }
        let requested = body.all("Part")
        guard !requested.isEmpty else {
            throw AWSError("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
        }
        let stored = Dictionary(try await uploads.parts(upload.uploadId).map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        var chosen: [UploadedPart] = []
        let invalidPart = AWSError(
            "InvalidPart",
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        )
        for node in requested {
            guard let numberText = node.value("PartNumber"), let number = Int(numberText) else { throw S3XML.malformed }
            if let last = chosen.last, number <= last.number {
                throw AWSError("InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
            }
            guard let part = stored[number], let etag = node.value("ETag"), ETags.matches(etag, part.etag) else {
                var error = invalidPart
                error.details = ["UploadId": upload.uploadId, "PartNumber": numberText]
                throw error
            }
            if let algorithm = upload.checksumAlgorithm, node.value("Checksum" + algorithm) == nil {
                throw AWSError(
                    "InvalidRequest",
                    "The upload was created using a \(algorithm.lowercased()) checksum. The complete request must include the checksum for each part. It was missing for part \(number) in the request."
                )
            }
            chosen.append(part)
        }
        for part in chosen.dropLast() where part.size < Self.minimumPartSize {
            throw AWSError(
                "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size",
                details: ["ProposedSize": String(part.size), "MinSizeAllowed": String(Self.minimumPartSize), "PartNumber": String(part.number)])
        }
        // Concatenate the parts into the object's file.
        let files = self.files
        let (file, _) = try await files.write { sink in
            for part in chosen {
                try await files.read(part.file, range: 0..<part.size) { chunk in _ = try await sink.write(contentsOf: chunk) }
            }
        }
        let etag = Hex.encode(Array(Insecure.MD5.hash(data: chosen.flatMap(\.md5)))) + "-\(chosen.count)"
        var checksums: [String: String] = [:]
        if let algorithm = upload.checksumAlgorithm, let composite = Checksums.composite(algorithm, parts: chosen.map { $0.checksums[algorithm] }) {
            checksums[algorithm] = composite
        }
        let object = StoredObject(
            file: file, size: chosen.reduce(0) { $0 + $1.size }, etag: etag, modifiedMillis: Int64(runtime.now() * 1000),
            contentType: upload.contentType, headers: upload.headers, metadata: upload.metadata, checksums: checksums,
            checksumType: checksums.isEmpty ? nil : "COMPOSITE", partCount: chosen.count, partSizes: chosen.map(\.size),
            owner: upload.owner, storageClass: upload.storageClass, tagging: upload.tagging,
            serverSideEncryption: upload.serverSideEncryption)
        try await commit(object, bucket: bucket.name, key: upload.key)
        let allParts = try await uploads.parts(upload.uploadId)
        try await uploads.remove(upload.uploadId)
        for part in allParts { await files.remove(part.file) }
        call.responseElements = Self.encryptionElements(upload.serverSideEncryption)
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("x-amz-server-side-encryption")!] = upload.serverSideEncryption
        let location = "http://\(r.host)/\(bucket.name)/\(FormEncoding.uriEncode(upload.key, keepSlash: true))"
        return Self.xml { x in
            x.open("CompleteMultipartUploadResult", xmlns: S3XML.namespace)
            x.element("Location", location)
            x.element("Bucket", bucket.name)
            x.element("Key", upload.key)
            x.element("ETag", "\"\(etag)\"")
            for (algorithm, value) in checksums { x.element("Checksum" + algorithm, value) }
            if !checksums.isEmpty { x.element("ChecksumType", "COMPOSITE") }
            x.close("CompleteMultipartUploadResult")
        }.with(headers: headers)
    }

    func abortMultipartUpload(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        _ = try bucket(&call, action: "s3:AbortMultipartUpload", resource: Self.objectARN(r.bucket ?? "", r.key ?? ""))
        let upload = try await namedUpload(call)
        let parts = try await uploads.parts(upload.uploadId)
        try await uploads.remove(upload.uploadId)
        for part in parts { await files.remove(part.file) }
        return Self.empty(.noContent)
    }

    func listParts(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        _ = try bucket(&call, action: "s3:ListMultipartUploadParts", resource: Self.objectARN(r.bucket ?? "", r.key ?? ""))
        let upload = try await namedUpload(call)
        let marker = Int(r.query("part-number-marker") ?? "0") ?? 0
        var maxParts = 1000
        if let text = r.query("max-parts") {
            guard let value = Int(text), value >= 0 else {
                throw S3Errors.invalidArgument("Provided max-parts not an integer or within integer range", name: "max-parts", value: text)
            }
            maxParts = min(value, 1000)
        }
        let all = try await uploads.parts(upload.uploadId).filter { $0.number > marker }
        let page = Array(all.prefix(maxParts))
        let truncated = all.count > page.count
        let owner = Self.canonicalID(upload.owner)
        return Self.xml { x in
            x.open("ListPartsResult", xmlns: S3XML.namespace)
            x.element("Bucket", upload.bucket)
            x.element("Key", upload.key)
            x.element("UploadId", upload.uploadId)
            x.element("PartNumberMarker", String(marker))
            x.element("NextPartNumberMarker", String(page.last?.number ?? 0))
            x.element("MaxParts", String(maxParts))
            x.element("IsTruncated", truncated ? "true" : "false")
            for part in page {
                x.open("Part")
                x.element("PartNumber", String(part.number))
                x.element("LastModified", S3Time.iso(part.modifiedMillis))
                x.element("ETag", "\"\(part.etag)\"")
                for (algorithm, value) in part.checksums.sorted(by: { $0.key < $1.key }) { x.element("Checksum" + algorithm, value) }
                x.element("Size", String(part.size))
                x.close("Part")
            }
            x.open("Initiator")
            x.element("ID", upload.initiatorArn)
            x.close("Initiator")
            x.open("Owner")
            x.element("ID", owner)
            x.close("Owner")
            x.element("StorageClass", upload.storageClass)
            if let algorithm = upload.checksumAlgorithm { x.element("ChecksumAlgorithm", algorithm) }
            x.close("ListPartsResult")
        }
    }

    func listMultipartUploads(_ call: inout S3Call) async throws -> Response {
        let r = call.request
        let bucket = try bucket(&call, action: "s3:ListBucketMultipartUploads")
        let prefix = r.query("prefix") ?? ""
        let keyMarker = r.query("key-marker") ?? ""
        let idMarker = r.query("upload-id-marker") ?? ""
        var maxUploads = 1000
        if let text = r.query("max-uploads") {
            guard let value = Int(text), value >= 0 else {
                throw S3Errors.invalidArgument("Provided max-uploads not an integer or within integer range", name: "max-uploads", value: text)
            }
            maxUploads = min(value, 1000)
        }
        let all = try await uploads.all(bucket: bucket.name)
            .filter { $0.key.hasPrefix(prefix) }
            .sorted { ($0.key, $0.initiatedMillis, $0.uploadId) < ($1.key, $1.initiatedMillis, $1.uploadId) }
            .filter { keyMarker.isEmpty || $0.key > keyMarker || ($0.key == keyMarker && !idMarker.isEmpty && $0.uploadId > idMarker) }
        let page = Array(all.prefix(maxUploads))
        let truncated = all.count > page.count
        return Self.xml { x in
            x.open("ListMultipartUploadsResult", xmlns: S3XML.namespace)
            x.element("Bucket", bucket.name)
            x.element("KeyMarker", keyMarker)
            x.element("UploadIdMarker", idMarker)
            if truncated, let last = page.last {
                x.element("NextKeyMarker", last.key)
                x.element("NextUploadIdMarker", last.uploadId)
            }
            if !prefix.isEmpty { x.element("Prefix", prefix) }
            x.element("MaxUploads", String(maxUploads))
            x.element("IsTruncated", truncated ? "true" : "false")
            for upload in page {
                x.open("Upload")
                x.element("Key", upload.key)
                x.element("UploadId", upload.uploadId)
                x.open("Initiator")
                x.element("ID", upload.initiatorArn)
                x.close("Initiator")
                x.open("Owner")
                x.element("ID", Self.canonicalID(upload.owner))
                x.close("Owner")
                x.element("StorageClass", upload.storageClass)
                x.element("Initiated", S3Time.iso(upload.initiatedMillis))
                if let algorithm = upload.checksumAlgorithm { x.element("ChecksumAlgorithm", algorithm) }
                x.close("Upload")
            }
            x.close("ListMultipartUploadsResult")
        }
    }
}

/// Composite checksums of multipart objects.
enum Checksums {
    /// The checksum of the parts' concatenated raw checksums, `-N` appended (S3's COMPOSITE type); `nil` unless
    /// every part has one.
    static func composite(_ algorithm: String, parts: [String?]) -> String? {
        guard let kind = ChecksumAlgorithm(name: algorithm) else { return nil }
        var combined = PayloadChecksum(kind)
        for part in parts {
            guard let part, let raw = Data(base64Encoded: part) else { return nil }
            combined.update(Array(raw))
        }
        return combined.base64Digest() + "-\(parts.count)"
    }
}
