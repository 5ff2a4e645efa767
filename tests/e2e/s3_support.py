"""Helpers of the S3 end-to-end tests: boto3 clients in both addressing styles, raw SigV4-signed requests sent
byte for byte with http.client, aws-chunked bodies (signed chunks and unsigned trailers), and checksums."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import http.client
import re
import secrets
import socket
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any, Iterator

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.httpchecksum
from botocore.exceptions import ClientError

from cairn_harness import Creds

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MiB = 1024 * 1024


# --------------------------------------------------------------------------------------------------------------------
# Clients and names
# --------------------------------------------------------------------------------------------------------------------


def s3_client(server, creds: Creds, region: str = "us-east-1", style: str = "path", **config: Any):
    """A boto3 S3 client on the server, path-style unless `style="virtual"` (then give the server as localhost)."""
    return server.client("s3", creds, region=region, s3={"addressing_style": style}, **config)


def custom_client(server, creds: Creds, region: str = "us-east-1", *, endpoint_url: str | None = None,
                  read_timeout: float = 30, style: str = "path", **config: Any):
    """A boto3 S3 client like `server.client` but with its own endpoint URL / read timeout."""
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=read_timeout,
                 s3={"addressing_style": style}, **config)
    session = boto3.session.Session(aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                                    aws_session_token=creds.session_token, region_name=region)
    return session.client("s3", endpoint_url=endpoint_url or server.url, config=cfg)


def virtual_client(server, creds: Creds, region: str = "us-east-1", **config: Any):
    """A boto3 client that addresses buckets as `http://BUCKET.localhost:PORT/key` (use inside `localhost_subdomains`)."""
    return custom_client(server, creds, region, endpoint_url=f"http://localhost:{server.port}", style="virtual",
                         **config)


@contextlib.contextmanager
def localhost_subdomains() -> Iterator[None]:
    """Resolves `*.localhost` (and `localhost`) to 127.0.0.1 in this process, as RFC 6761 and most resolvers do.

    glibc on this machine does not resolve `bucket.localhost`, so without this boto3 could not reach a
    virtual-hosted bucket; the Host header on the wire is still `bucket.localhost:PORT`.
    """
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = fake
    try:
        yield
    finally:
        socket.getaddrinfo = real


def bucket_name(prefix: str) -> str:
    """A fresh bucket name (lower case, valid everywhere) so tests sharing a server never collide."""
    return f"{prefix}-{secrets.token_hex(4)}"


def create_bucket(s3, name: str, region: str = "us-east-1") -> str:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return name


def error_of(call, **kwargs: Any) -> ClientError:
    """Runs a call that must fail and returns its ClientError."""
    try:
        result = call(**kwargs)
    except ClientError as e:
        return e
    raise AssertionError(f"expected an error, but the call succeeded: {result!r}")


def status_of(e: ClientError) -> int:
    return e.response["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------------------------------


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def etag(data: bytes) -> str:
    """S3's ETag of a single-part upload: the quoted hex MD5 of the bytes."""
    return f'"{md5_hex(data)}"'


def multipart_etag(parts: list[bytes]) -> str:
    """S3's ETag of a completed multipart upload: MD5 of the concatenated binary part MD5s, dash, part count."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def crc32_b64(data: bytes) -> str:
    import zlib

    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def _reflected_crc(poly: int, bits: int):
    """A table-driven reflected CRC of `bits` bits (initial value and final XOR all ones), pure Python."""
    mask = (1 << bits) - 1
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)

    def crc(data: bytes) -> int:
        value = mask
        for b in data:
            value = table[(value ^ b) & 0xFF] ^ (value >> 8)
        return value ^ mask

    return crc


# CRC-32C (Castagnoli), pure Python, so the suite needs neither awscrt nor crc32c installed.
crc32c = _reflected_crc(0x82F63B78, 32)
assert crc32c(b"123456789") == 0xE3069283  # the standard check value


def crc32c_b64(data: bytes) -> str:
    return base64.b64encode(crc32c(data).to_bytes(4, "big")).decode()


# CRC-64/NVME (S3's default full-object checksum since 2025), pure Python.
crc64nvme = _reflected_crc(0x9A6C9329AC4BC9B5, 64)
assert crc64nvme(b"123456789") == 0xAE8B14860A799888  # the catalogued check value


def crc64nvme_b64(data: bytes) -> str:
    return base64.b64encode(crc64nvme(data).to_bytes(8, "big")).decode()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --------------------------------------------------------------------------------------------------------------------
# Raw requests
# --------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Raw:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def error_code(self) -> str | None:
        if not self.body:
            return None
        root = self.xml()
        node = root.find("Code")
        return node.text if node is not None else None

    def error_field(self, name: str) -> str | None:
        if not self.body:
            return None
        node = self.xml().find(name)
        return node.text if node is not None else None


class S3PayloadSigner(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer (no path normalisation) with the x-amz-content-sha256 value chosen by the caller."""

    def __init__(self, credentials, region: str, content_sha256: str):
        super().__init__(credentials, "s3", region)
        self._content_sha256 = content_sha256

    def payload(self, request) -> str:
        return self._content_sha256


def quote_key(key: str) -> str:
    return urllib.parse.quote(key, safe="/~")


def sign(
    server, creds: Creds, method: str, path: str, *, query: str = "", body: bytes = b"",
    headers: dict[str, str] | None = None, region: str = "us-east-1", content_sha256: str | None = "auto",
    host: str | None = None,
) -> dict[str, str]:
    """The request headers (Host included) of a SigV4 header-signed S3 request; see `raw_request`."""
    hdrs = dict(headers or {})
    netloc = host or f"127.0.0.1:{server.port}"
    url = f"http://{netloc}{path}" + (f"?{query}" if query else "")
    creds_obj = botocore.credentials.Credentials(creds.access_key, creds.secret_key, creds.session_token)
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=hdrs)
    if content_sha256 is None:
        botocore.auth.SigV4Auth(creds_obj, "s3", region).add_auth(req)
    else:
        value = hashlib.sha256(body).hexdigest() if content_sha256 == "auto" else content_sha256
        S3PayloadSigner(creds_obj, region, value).add_auth(req)
    out = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()}
    out["Host"] = netloc
    return out


def raw_request(
    server, creds: Creds | None, method: str, path: str, *, query: str = "", body: bytes = b"",
    headers: dict[str, str] | None = None, region: str = "us-east-1", content_sha256: str | None = "auto",
    host: str | None = None,
) -> Raw:
    """Signs (SigV4 header auth) and sends one request to the server over http.client, exactly as given.

    - `path` is already percent-encoded; `query` is the raw query string.
    - `content_sha256`: "auto" signs the SHA-256 of `body`; any other string is sent and signed as the
      x-amz-content-sha256 value (UNSIGNED-PAYLOAD, STREAMING-…, a wrong hash); None omits the header (the
      payload hash is still part of the signature, as a generic SigV4 signer does).
    - `host`: the Host header (virtual-hosted style), signed; the connection still goes to 127.0.0.1.
    - `creds` None sends the request unsigned (anonymous).
    """
    if creds is None:
        hdrs = dict(headers or {})
        hdrs["Host"] = host or f"127.0.0.1:{server.port}"
    else:
        hdrs = sign(server, creds, method, path, query=query, body=body, headers=headers, region=region,
                    content_sha256=content_sha256, host=host)
    return send(server, method, path + (f"?{query}" if query else ""), body, hdrs)


def read_head(reader) -> tuple[int, dict[str, str]] | None:
    """The status and lower-case headers of the next response head on `reader`; None at the end of the stream."""
    line = reader.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers: dict[str, str] = {}
    while True:
        h = reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


class RawConn:
    """One keep-alive TCP connection to the server, written and read byte for byte (for Expect: 100-continue and
    connection-reuse checks that http.client would hide)."""

    def __init__(self, server, timeout: float = 10):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def send_head(self, method: str, target: str, headers: dict[str, str]) -> None:
        lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes] | None:
        """(status, lower-case headers, body) of the next response; None if the server closed the connection."""
        try:
            head = read_head(self.reader)
        except ConnectionResetError:
            return None
        if head is None:
            return None
        status, headers = head
        body = b""
        if status >= 200 and status not in (204, 304) and not head_only:
            body = self.reader.read(int(headers.get("content-length", "0")))
        return status, headers, body

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def send(server, method: str, target: str, body: bytes, headers: dict[str, str]) -> Raw:
    """Sends one request to the server's loopback port and reads the whole response."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request(method, target, body=body if body or method in ("PUT", "POST") else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return Raw(resp.status, resp.headers, data)
    finally:
        conn.close()


def _signing_key(secret: str, date: str, region: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def chunk_signatures(secret: str, amz_date: str, region: str, seed: str, chunks: list[bytes]) -> list[str]:
    """The chunk signatures of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body (S3 API reference, "Transferring Payload in
    Multiple Chunks"): each signs the previous signature and the chunk's SHA-256; the last chunk is empty."""
    key = _signing_key(secret, amz_date[:8], region)
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    out, prev = [], seed
    for chunk in chunks:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                         hashlib.sha256(chunk).hexdigest()])
        prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        out.append(prev)
    return out


def _chunked_body(chunks: list[bytes], signatures: list[str]) -> bytes:
    return b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(c), s.encode(), c) for c, s in zip(chunks, signatures))


# The worked example of AWS's documentation (65 KiB of 'a' in 64 KiB chunks), checked once at import so a mistake
# in this signer cannot pass for a server bug.
_EXAMPLE = chunk_signatures(
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z", "us-east-1",
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", [b"a" * 65536, b"a" * 1024, b""])
assert _EXAMPLE == [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
], _EXAMPLE


def chunked_put(
    server, creds: Creds, bucket: str, key: str, data: bytes, *, chunk_size: int = 64 * 1024,
    corrupt_chunk: int | None = None, region: str = "us-east-1", headers: dict[str, str] | None = None,
) -> Raw:
    """PutObject with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD (signed aws-chunked) body.

    `corrupt_chunk`: index of a chunk whose signature is altered (one hex digit flipped).
    """
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    encoded_len = sum(len(b"%x;chunk-signature=" % len(c)) + 64 + 2 + len(c) + 2 for c in chunks)
    hdrs = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Length": str(encoded_len),
        **(headers or {}),
    }
    netloc = f"127.0.0.1:{server.port}"
    path = f"/{bucket}/{quote_key(key)}"
    req = botocore.awsrequest.AWSRequest(method="PUT", url=f"http://{netloc}{path}", data=b"", headers=hdrs)
    creds_obj = botocore.credentials.Credentials(creds.access_key, creds.secret_key, creds.session_token)
    S3PayloadSigner(creds_obj, region, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD").add_auth(req)
    signed = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()}
    seed = re.search(r"Signature=([0-9a-f]{64})", signed["Authorization"]).group(1)
    sigs = chunk_signatures(creds.secret_key, signed["X-Amz-Date"], region, seed, chunks)
    if corrupt_chunk is not None:
        s = sigs[corrupt_chunk]
        sigs[corrupt_chunk] = ("0" if s[0] != "0" else "1") + s[1:]
    body = _chunked_body(chunks, sigs)
    assert len(body) == encoded_len
    signed["Host"] = netloc
    return send(server, "PUT", path, body, signed)


def unsigned_trailer_put(
    server, creds: Creds, bucket: str, key: str, data: bytes, *, algorithm: str = "crc32",
    wrong_checksum: bool = False, region: str = "us-east-1",
) -> Raw:
    """PutObject as boto3 sends it over HTTPS by default: STREAMING-UNSIGNED-PAYLOAD-TRAILER, an aws-chunked body
    built by botocore's own AwsChunkedWrapper, and the checksum in the `x-amz-checksum-<algorithm>` trailer."""
    import io

    checksum_cls = {"crc32": botocore.httpchecksum.Crc32Checksum, "sha256": botocore.httpchecksum.Sha256Checksum}[algorithm]
    name = f"x-amz-checksum-{algorithm}"
    body = botocore.httpchecksum.AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=checksum_cls, checksum_name=name, chunk_size=16 * 1024).read()
    if wrong_checksum:
        good = checksum_cls()
        good.update(data)
        other = checksum_cls()
        other.update(data + b"!")
        body = body.replace(good.b64digest().encode(), other.b64digest().encode())
    hdrs = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": name,
        "x-amz-sdk-checksum-algorithm": algorithm.upper(),
        "Content-Length": str(len(body)),
    }
    path = f"/{bucket}/{quote_key(key)}"
    netloc = f"127.0.0.1:{server.port}"
    req = botocore.awsrequest.AWSRequest(method="PUT", url=f"http://{netloc}{path}", data=b"", headers=hdrs)
    creds_obj = botocore.credentials.Credentials(creds.access_key, creds.secret_key, creds.session_token)
    S3PayloadSigner(creds_obj, region, "STREAMING-UNSIGNED-PAYLOAD-TRAILER").add_auth(req)
    signed = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()}
    signed["Host"] = netloc
    return send(server, "PUT", path, body, signed)


def list_keys(s3, bucket: str, **kw: Any) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


# --------------------------------------------------------------------------------------------------------------------
# aws CLI with standard input, binary output or extra configuration
# --------------------------------------------------------------------------------------------------------------------


def run_aws(server, *args: str, creds: Creds, region: str = "us-east-1", stdin: bytes | None = None,
            config_file: str | None = None, timeout: float = 120):
    """Runs the aws CLI like `server.aws` (same isolated environment) but with bytes in and out, and optionally an
    AWS config file (e.g. `s3 = signature_version = s3v4`). Returns the CompletedProcess."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=creds.access_key, AWS_SECRET_ACCESS_KEY=creds.secret_key,
        AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE=config_file or "/nonexistent/cairn-e2e-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/cairn-e2e-credentials", AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard", AWS_PAGER="",
    )
    if creds.session_token:
        env["AWS_SESSION_TOKEN"] = creds.session_token
    return subprocess.run(["aws", *args], env=env, input=stdin, capture_output=True, timeout=timeout)
