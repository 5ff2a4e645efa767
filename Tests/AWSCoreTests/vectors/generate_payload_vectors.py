#!/usr/bin/env python3
"""Generates Tests/AWSCoreTests/PayloadVectors.swift: checksum digests and request bodies made by botocore.

Everything here comes from implementations other than Cairn's:
- checksums: botocore's own checksum classes (zlib for CRC32, awscrt for CRC32C and CRC64NVME, hashlib for the rest);
- unsigned aws-chunked bodies: what boto3's put_object and upload_part send over HTTPS (STREAMING-UNSIGNED-PAYLOAD-
  TRAILER, botocore.httpchecksum.AwsChunkedWrapper), captured with a before-send hook so nothing goes on the wire;
- plain bodies: what they send over HTTP (hex x-amz-content-sha256, x-amz-checksum-* header);
- signed aws-chunked bodies: seed signature by botocore's SigV4Auth, chunk and trailer signatures by the small
  HMAC chain below, written from the S3 API Reference (sigv4-streaming, sigv4-streaming-trailers).

CRC32C and CRC64NVME need awscrt, which botocore uses when it is importable. Install it aside so that the machine's
botocore keeps its default behaviour, and run:

    python3 -m pip install --target /tmp/awscrt awscrt
    PYTHONPATH=/tmp/awscrt python3 Tests/AWSCoreTests/vectors/generate_payload_vectors.py \
        > Tests/AWSCoreTests/PayloadVectors.swift

Body data is a fixed pattern (`pattern` below, mirrored by `PayloadVectors.pattern` in Swift), so big bodies are
stored as their framing (chunk sizes, trailer) and SHA-256: the Swift test rebuilds them and checks the hash.
"""

import base64
import calendar
import datetime
import hashlib
import hmac
import io
import json
import sys

import boto3
import botocore
import botocore.auth
import botocore.httpchecksum as httpchecksum
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

if not httpchecksum.HAS_CRT:
    sys.exit("awscrt is needed for CRC32C and CRC64NVME: see this script's docstring")

FIXED = datetime.datetime(2025, 3, 14, 15, 9, 26)
FIXED_EPOCH = calendar.timegm(FIXED.timetuple())
AMZ_DATE = FIXED.strftime("%Y%m%dT%H%M%SZ")
botocore.auth.get_current_datetime = lambda remove_tzinfo=True: FIXED
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"


def pattern(n):
    """The body data: byte i is (i * 31 + (i >> 10)) mod 256."""
    return bytes(((i * 31 + (i >> 10)) & 0xFF) for i in range(n))


def swift(value):
    """A Swift string literal."""
    return json.dumps(value)


def swift_bytes_literal(data):
    """A Swift string literal holding bytes that are all ASCII."""
    text = data.decode("ascii")
    return json.dumps(text)


# MARK: checksums

CHECKSUM_INPUTS = [
    ("empty", b""),
    ("check", b"123456789"),
    ("hello", b"hello world"),
    ("pattern-1000", pattern(1000)),
    ("pattern-1MiB+13", pattern(1024 * 1024 + 13)),
]
ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256", "sha512"]


def checksum_vectors():
    out = []
    for name, data in CHECKSUM_INPUTS:
        digests = {}
        for algorithm in ALGORITHMS:
            digests[algorithm] = httpchecksum._CHECKSUM_CLS[algorithm]().handle(data)
        digests["md5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
        out.append((name, data, digests, hashlib.md5(data).hexdigest()))
    return out


# MARK: bodies botocore sends


class _Raw:
    def stream(self, **kwargs):
        yield b""


CAPTURED = []


def _capture(request, **kwargs):
    body = request.body
    if hasattr(body, "read"):
        data = body.read()
    elif body is None:
        data = b""
    else:
        data = bytes(body)
    CAPTURED.append((dict(request.headers.items()), data))
    return botocore.awsrequest.AWSResponse(request.url, 200, {"ETag": '"0"'}, _Raw())


def client(scheme):
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, region_name=REGION)
    c = session.client(
        "s3", endpoint_url=f"{scheme}://127.0.0.1:4566", config=Config(s3={"addressing_style": "path"})
    )
    c.meta.events.register("before-send.s3", _capture)
    return c


PAYLOAD_HEADERS = [
    "content-encoding", "content-length", "content-md5", "transfer-encoding", "x-amz-content-sha256",
    "x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm",
]


def payload_headers(headers):
    out = []
    for name, value in headers.items():
        lower = name.lower()
        if isinstance(value, bytes):
            value = value.decode()
        if lower in PAYLOAD_HEADERS or lower.startswith("x-amz-checksum-"):
            out.append((lower, value))
    return sorted(out)


def framing(body):
    """Splits an unsigned aws-chunked body into its chunk sizes and trailer lines, checking its layout."""
    sizes, pos = [], 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end], 16)
        pos = end + 2
        if size == 0:
            break
        sizes.append(size)
        assert body[pos + size:pos + size + 2] == b"\r\n"
        pos += size + 2
    trailers = []
    while True:
        end = body.index(b"\r\n", pos)
        line = body[pos:end].decode()
        pos = end + 2
        if not line:
            break
        trailers.append(line)
    assert pos == len(body)
    return sizes, trailers


BOTOCORE_CASES = [
    ("put_object https default", "https", "put_object", {"Body": b"hello world"}),
    ("put_object https empty", "https", "put_object", {"Body": b""}),
    ("put_object https SHA256", "https", "put_object", {"Body": pattern(3000), "ChecksumAlgorithm": "SHA256"}),
    ("put_object https SHA1", "https", "put_object", {"Body": io.BytesIO(pattern(70000)), "ChecksumAlgorithm": "SHA1"}),
    ("put_object https CRC32C", "https", "put_object", {"Body": io.BytesIO(pattern(2_500_000)), "ChecksumAlgorithm": "CRC32C"}),
    ("upload_part https CRC64NVME", "https", "upload_part",
     {"Body": pattern(1024 * 1024 + 1), "ChecksumAlgorithm": "CRC64NVME", "UploadId": "u", "PartNumber": 1}),
    ("upload_part https default", "https", "upload_part", {"Body": pattern(5000), "UploadId": "u", "PartNumber": 2}),
    ("put_object http default", "http", "put_object", {"Body": b"hello world"}),
    ("put_object http SHA256 + Content-MD5", "http", "put_object",
     {"Body": pattern(3000), "ChecksumAlgorithm": "SHA256",
      "ContentMD5": base64.b64encode(hashlib.md5(pattern(3000)).digest()).decode()}),
    ("upload_part http default", "http", "upload_part", {"Body": pattern(5000), "UploadId": "u", "PartNumber": 3}),
]


def botocore_vectors():
    out = []
    for name, scheme, operation, params in BOTOCORE_CASES:
        CAPTURED.clear()
        getattr(client(scheme), operation)(Bucket="bucket", Key="key", **params)
        headers, body = CAPTURED[-1]
        body_param = params["Body"]
        data = body_param.getvalue() if isinstance(body_param, io.BytesIO) else body_param
        hdrs = payload_headers(headers)
        chunked = dict(hdrs).get("x-amz-content-sha256", "").startswith("STREAMING-")
        sizes, trailers = framing(body) if chunked else ([], [])
        out.append({
            "name": name, "headers": hdrs, "dataLength": len(data),
            "isPattern": data == pattern(len(data)) and len(data) > 0,
            "data": data if not (data == pattern(len(data)) and len(data) > 0) else None,
            "chunkSizes": sizes, "trailers": trailers,
            "body": body if len(body) <= 2048 else None,
            "bodyLength": len(body), "bodySHA256": hashlib.sha256(body).hexdigest(),
        })
    return out


# MARK: signed aws-chunked bodies


def hmac_sha256(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key():
    key = ("AWS4" + SECRET).encode()
    for part in [AMZ_DATE[:8], REGION, "s3", "aws4_request"]:
        key = hmac_sha256(key, part)
    return key


def signed_vector(name, content_sha256, chunk_sizes, trailer_algorithm=None):
    data = pattern(sum(chunk_sizes))
    headers = {
        "Host": "127.0.0.1:4566",
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": content_sha256,
        "X-Amz-Decoded-Content-Length": str(len(data)),
    }
    if trailer_algorithm:
        headers["X-Amz-Trailer"] = f"x-amz-checksum-{trailer_algorithm}"
    request = AWSRequest(method="PUT", url="http://127.0.0.1:4566/bucket/signed-key", headers=headers)
    botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", REGION).add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{AMZ_DATE[:8]}/{REGION}/s3/aws4_request"
    key = signing_key()
    empty = hashlib.sha256(b"").hexdigest()
    previous, signatures, body, pos = seed, [], bytearray(), 0
    for size in chunk_sizes + [0]:
        chunk = data[pos:pos + size]
        pos += size
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", AMZ_DATE, scope, previous, empty, hashlib.sha256(chunk).hexdigest()])
        previous = hmac_sha256(key, to_sign).hex()
        signatures.append(previous)
        body += f"{size:x};chunk-signature={previous}\r\n".encode()
        if size:
            body += chunk + b"\r\n"
    trailers, trailer_signature = [], None
    if trailer_algorithm:
        value = httpchecksum._CHECKSUM_CLS[trailer_algorithm]().handle(data)
        canonical = f"x-amz-checksum-{trailer_algorithm}:{value}\n"
        to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", AMZ_DATE, scope, previous, hashlib.sha256(canonical.encode()).hexdigest()])
        trailer_signature = hmac_sha256(key, to_sign).hex()
        trailers = [f"x-amz-checksum-{trailer_algorithm}:{value}", f"x-amz-trailer-signature:{trailer_signature}"]
        for line in trailers:
            body += line.encode() + b"\r\n"
    body += b"\r\n"
    sent = sorted((k.lower(), v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items())
    return {
        "name": name, "headers": sent, "dataLength": len(data), "chunkSizes": chunk_sizes,
        "chunkSignatures": signatures, "trailers": trailers, "seed": seed,
        "bodyLength": len(body), "bodySHA256": hashlib.sha256(bytes(body)).hexdigest(),
    }


def signed_vectors():
    return [
        signed_vector("signed 64 KiB chunks", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", [65536, 65536, 1000]),
        signed_vector("signed one small chunk", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", [100]),
        signed_vector("signed with CRC32 trailer", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", [8192, 8192, 100], "crc32"),
        signed_vector("signed with SHA256 trailer", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", [20000, 5], "sha256"),
    ]


# MARK: output


def pairs(items):
    return "[" + ", ".join(f"({swift(a)}, {swift(b)})" for a, b in items) + "]"


def strings(items):
    return "[" + ", ".join(swift(s) for s in items) + "]"


def main():
    p = print
    p(f"// Generated by vectors/generate_payload_vectors.py with botocore {botocore.__version__}. Do not edit by hand.")
    p()
    p("/// Checksums and request bodies produced by botocore (see vectors/generate_payload_vectors.py).")
    p("enum PayloadVectors {")
    p("    /// The access key id of the signed vectors.")
    p(f"    static let accessKeyId = {swift(ACCESS_KEY)}")
    p("    /// The secret access key of the signed vectors.")
    p(f"    static let secret = {swift(SECRET)}")
    p("    /// The signing time of the signed vectors, 2025-03-14T15:09:26Z, in epoch seconds.")
    p(f"    static let signingTime: Int64 = {FIXED_EPOCH}")
    p()
    p("    /// The body data of the vectors: byte i is (i * 31 + (i >> 10)) mod 256.")
    p("    static func pattern(_ count: Int) -> [UInt8] {")
    p("        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 10)) }")
    p("    }")
    p()
    p("    /// Digests computed by botocore's checksum classes (awscrt for CRC32C and CRC64NVME).")
    p("    static let checksums: [ChecksumVector] = [")
    for name, data, digests, md5hex in checksum_vectors():
        if name.startswith("pattern-"):
            data_expr = f"pattern({len(data)})"
        else:
            data_expr = f"Array({swift_bytes_literal(data)}.utf8)"
        entries = ", ".join(f"{swift(k.upper())}: {swift(v)}" for k, v in digests.items())
        p(f"        ChecksumVector(name: {swift(name)}, data: {data_expr}, base64: [{entries}], md5Hex: {swift(md5hex)}),")
    p("    ]")
    p()
    p("    /// Requests boto3's put_object and upload_part make, captured before sending.")
    p("    static let botocore: [BodyVector] = [")
    for v in botocore_vectors():
        data_expr = f"pattern({v['dataLength']})" if v["isPattern"] else f"Array({swift_bytes_literal(v['data'])}.utf8)"
        body_expr = "nil" if v["body"] is None else f"Array({swift_bytes_literal(v['body'])}.utf8)"
        p("        BodyVector(")
        p(f"            name: {swift(v['name'])},")
        p(f"            headers: {pairs(v['headers'])},")
        p(f"            data: {data_expr},")
        p(f"            chunkSizes: {v['chunkSizes']},")
        p(f"            trailers: {strings(v['trailers'])},")
        p(f"            body: {body_expr},")
        p(f"            bodyLength: {v['bodyLength']},")
        p(f"            bodySHA256: {swift(v['bodySHA256'])}")
        p("        ),")
    p("    ]")
    p()
    p("    /// Signed aws-chunked bodies: seed signature by botocore's SigV4Auth, chunk signatures by the script.")
    p("    static let signed: [SignedBodyVector] = [")
    for v in signed_vectors():
        p("        SignedBodyVector(")
        p(f"            name: {swift(v['name'])},")
        p(f"            headers: {pairs(v['headers'])},")
        p(f"            seed: {swift(v['seed'])},")
        p(f"            data: pattern({v['dataLength']}),")
        p(f"            chunkSizes: {v['chunkSizes']},")
        p(f"            chunkSignatures: {strings(v['chunkSignatures'])},")
        p(f"            trailers: {strings(v['trailers'])},")
        p(f"            bodyLength: {v['bodyLength']},")
        p(f"            bodySHA256: {swift(v['bodySHA256'])}")
        p("        ),")
    p("    ]")
    p("}")


if __name__ == "__main__":
    main()
