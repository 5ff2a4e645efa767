import AWSCore
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Storage

/// ListObjects (v1) and ListObjectsV2.
extension S3Service {
    /// What one listing page holds.
    struct ListingPage {
        var contents: [(key: String, object: StoredObject)] = []
        var prefixes: [String] = []
        var truncated = false
        /// The position after the last entry returned (a key, or a common prefix followed by the highest scalars).
        var resumeAfter: String?
        /// The last key or common prefix returned (v1's NextMarker).
        var lastEntry: String?
    }

    /// A string above every key that starts with `prefix` and that no real key exceeds, to skip a common prefix.
    static func after(commonPrefix prefix: String) -> String { prefix + "\u{10FFFF}\u{10FFFF}\u{10FFFF}\u{10FFFF}" }

    /// Reads a page of the bucket's keys under `prefix`, after `start`, rolling keys up into common prefixes at
    /// `delimiter`. Keys sort in UTF-8 byte order, as S3 lists them.
    func page(bucket: String, prefix: String, delimiter: String, start: String?, maxKeys: Int) async throws -> ListingPage {
        var page = ListingPage()
        var after = start
        var count = 0
        outer: while true {
            let batch = try await index.listObjects(bucket: bucket, prefix: prefix, after: after, limit: max(1, min(1000, maxKeys - count + 1)))
            if batch.isEmpty { break }
            for (key, record) in batch {
                if !delimiter.isEmpty, let range = key.utf8.dropFirst(prefix.utf8.count).firstRange(of: delimiter.utf8) {
                    let common = String(decoding: key.utf8[..<range.upperBound], as: UTF8.self)
                    if count == maxKeys {
                        page.truncated = true
                        break outer
                    }
                    page.prefixes.append(common)
                    page.lastEntry = common
                    count += 1
                    after = Self.after(commonPrefix: common)
                    page.resumeAfter = after
                    continue outer
                }
                if count == maxKeys {
                    page.truncated = true
                    break outer
                }
                page.contents.append((key, try JSONDecoder().decode(StoredObject.self, from: Data(record))))
                page.lastEntry = key
                count += 1
                after = key
                page.resumeAfter = key
            }
        }
        return page
    }

    func listObjects(_ call: inout S3Call, v2: Bool) async throws -> Response {
        let r = call.request
        let bucket = try bucket(&call, action: "s3:ListBucket")
        let prefix = r.query("prefix") ?? ""
        let delimiter = r.query("delimiter") ?? ""
        let encoding = r.query("encoding-type")
        if let encoding, encoding != "url" {
            throw S3Errors.invalidArgument("Invalid Encoding Method specified in Request", name: "encoding-type", value: encoding)
        }
        var maxKeys = 1000
        if let text = r.query("max-keys") {
            guard let value = Int(text), value >= 0 else {
                throw S3Errors.invalidArgument("Provided max-keys not an integer or within integer range", name: "max-keys", value: text)
            }
            maxKeys = min(value, 1000)
        }
        var start: String?
        let token = r.query("continuation-token")
        if v2 {
            if let token {
                guard let decoded = Base64URL.decode(token).map({ String(decoding: $0, as: UTF8.self) }), decoded.hasPrefix("1:") else {
                    throw S3Errors.invalidArgument("The continuation token provided is incorrect", name: "continuation-token", value: token)
                }
                start = String(decoded.dropFirst(2))
            } else if let startAfter = r.query("start-after"), !startAfter.isEmpty {
                start = startAfter
            }
        } else if let marker = r.query("marker"), !marker.isEmpty {
            start = marker
        }
        let page = try await page(bucket: bucket.name, prefix: prefix, delimiter: delimiter, start: start, maxKeys: maxKeys)
        let encode: (String) -> String = { encoding == "url" ? FormEncoding.uriEncode($0, keepSlash: true) : $0 }
        let fetchOwner = !v2 || r.query("fetch-owner") == "true"
        return Self.xml { x in
            x.open("ListBucketResult", xmlns: S3XML.namespace)
            x.element("Name", bucket.name)
            x.element("Prefix", encode(prefix))
            if v2 {
                if let token { x.element("ContinuationToken", token) }
                if let startAfter = r.query("start-after") { x.element("StartAfter", encode(startAfter)) }
                x.element("KeyCount", String(page.contents.count + page.prefixes.count))
            } else {
                x.element("Marker", encode(r.query("marker") ?? ""))
            }
            x.element("MaxKeys", String(maxKeys))
            if !delimiter.isEmpty { x.element("Delimiter", encode(delimiter)) }
            if let encoding { x.element("EncodingType", encoding) }
            x.element("IsTruncated", page.truncated ? "true" : "false")
            if page.truncated {
                if v2, let resume = page.resumeAfter {
                    x.element("NextContinuationToken", Base64URL.encode(Array(("1:" + resume).utf8)))
                } else if !v2, !delimiter.isEmpty, let last = page.lastEntry {
                    x.element("NextMarker", encode(last))
                }
            }
            for (key, object) in page.contents {
                x.open("Contents")
                x.element("Key", encode(key))
                x.element("LastModified", S3Time.iso(object.modifiedMillis))
                x.element("ETag", "\"\(object.etag)\"")
                for algorithm in object.checksums.keys.sorted() { x.element("ChecksumAlgorithm", algorithm) }
                if let type = object.checksumType, !object.checksums.isEmpty { x.element("ChecksumType", type) }
                x.element("Size", String(object.size))
                if fetchOwner {
                    x.open("Owner")
                    x.element("ID", Self.canonicalID(object.owner))
                    x.close("Owner")
                }
                x.element("StorageClass", object.storageClass)
                x.close("Contents")
            }
            for common in page.prefixes {
                x.open("CommonPrefixes")
                x.element("Prefix", encode(common))
                x.close("CommonPrefixes")
            }
            x.close("ListBucketResult")
        }
    }
}
