import Crypto
import Foundation

/// S3's legacy Signature Version 2 query-string authentication (`AWSAccessKeyId`, `Expires`, `Signature`).
///
/// boto3's `generate_presigned_url` for S3 still produces these URLs unless a client is configured for SigV4, so
/// Cairn accepts them for S3 requests. The string to sign follows S3's REST authentication documentation: method,
/// Content-MD5, Content-Type, the expiry time, the canonicalized `x-amz-` headers and the canonicalized resource
/// (the path plus the subresources and response overrides that are part of the signature).
package enum S3SigV2 {
    /// Query parameters that are part of the canonicalized resource.
    static let subresources: Set<String> = [
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
        "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website", "encryption", "replication",
        "object-lock", "retention", "legal-hold", "select", "select-type",
    ]

    /// The string to sign of a presigned request.
    ///
    /// - Parameters:
    ///   - resourcePath: the raw (percent-encoded) request path, prefixed with `/<bucket>` for virtual-hosted
    ///     requests.
    ///   - query: the raw query string.
    ///   - headers: request headers, names in lower case.
    package static func stringToSign(
        method: String, resourcePath: String, query: String, headers: [(name: String, value: String)], expires: String
    ) -> String {
        var resource = resourcePath
        var picked: [(String, String?)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard subresources.contains(name) else { continue }
            let value = parts.count > 1 ? (FormEncoding.percentDecode(parts[1], plusIsSpace: false) ?? String(parts[1])) : nil
            picked.append((name, value))
        }
        if !picked.isEmpty {
            picked.sort { $0.0 < $1.0 }
            resource += "?" + picked.map { pair in pair.1.map { "\(pair.0)=\($0)" } ?? pair.0 }.joined(separator: "&")
        }
        let header: (String) -> String = { name in headers.first(where: { $0.name == name })?.value ?? "" }
        var amz: [String: [String]] = [:]
        for (name, value) in headers where name.hasPrefix("x-amz-") {
            amz[name, default: []].append(value.trimmingCharacters(in: .whitespaces))
        }
        let amzLines = amz.keys.sorted().map { "\($0):\(amz[$0]!.joined(separator: ","))\n" }.joined()
        return "\(method)\n\(header("content-md5"))\n\(header("content-type"))\n\(expires)\n\(amzLines)\(resource)"
    }

    /// The base64 HMAC-SHA1 signature of a string to sign.
    package static func signature(_ stringToSign: String, secret: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Data(mac).base64EncodedString()
    }
}
