"""S3 through boto3 (and raw signed requests): buckets, objects, listings, multipart, payload and signing forms,
bad credentials, cross-account access and restart persistence, each with the errors real S3 returns.

Expectations come from the S3 API reference and user guide; where moto (used to check these tests) differs from
AWS, AWS wins and a comment says so.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import botocore.auth
import pytest

from cairn_harness import ACCOUNT_A, ACCOUNT_B, Creds, _key_id, expect_error, strip_meta
from s3_support import (
    MiB, RawConn, chunked_put, crc32_b64, crc32c_b64, crc64nvme_b64, create_bucket, bucket_name, error_of, etag,
    list_keys, localhost_subdomains, md5_b64, multipart_etag, quote_key, raw_request, s3_client, sha256_b64, sign,
    status_of, unsigned_trailer_put, virtual_client,
)

CHECKSUM_MEMBERS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256")

NOT_FOUND_BUCKET = "The specified bucket does not exist"
NOT_FOUND_KEY = "The specified key does not exist."
NO_SUCH_UPLOAD = ("The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
                  "aborted or completed.")
PRECONDITION = "At least one of the pre-conditions you specified did not hold"
S3_SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                         "Check your key and signing method.")


# ---------------------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------------------


# Clients are made per test: a connection that a server bug leaves out of step must not fail the next test.
@pytest.fixture
def s3(server, ids):
    """Alice (IAM user of account A), path-style, boto3 defaults (CRC32 request checksums)."""
    return s3_client(server, ids.a_alice)


@pytest.fixture
def s3_plain(server, ids):
    """Alice without flexible checksums (what boto3 sent before 1.36): classic multipart semantics."""
    return s3_client(server, ids.a_alice, request_checksum_calculation="when_required",
                     response_checksum_validation="when_required")


@pytest.fixture
def bucket(s3):
    return create_bucket(s3, bucket_name("t"))


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def assert_s3_request_ids(resp: dict) -> None:
    meta = resp["ResponseMetadata"]
    assert re.fullmatch(r"[0-9A-Z]{16}", meta.get("RequestId", "")), meta  # S3's request ids: 16 upper-case chars
    assert meta.get("HostId"), meta  # x-amz-id-2


def head_missing(s3, bucket: str) -> None:
    e = expect_error(s3.head_bucket, "404", 404, Bucket=bucket)
    assert e.response["Error"]["Message"] == "Not Found"


# ---------------------------------------------------------------------------------------------------------------------
# Buckets
# ---------------------------------------------------------------------------------------------------------------------


def test_create_list_head_delete_bucket(s3):
    """CreateBucket answers Location /name; ListBuckets, HeadBucket (x-amz-bucket-region) see it; DeleteBucket 204, then 404."""
    name = bucket_name("life")
    before = now_utc()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    assert_s3_request_ids(created)
    listed = s3.list_buckets()
    entry = [b for b in listed["Buckets"] if b["Name"] == name]
    assert len(entry) == 1
    assert before - datetime.timedelta(seconds=5) <= entry[0]["CreationDate"] <= now_utc() + datetime.timedelta(seconds=5)
    assert re.fullmatch(r"[0-9a-f]{64}", listed["Owner"]["ID"]), listed["Owner"]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["BucketRegion"] == "us-east-1"
    deleted = s3.delete_bucket(Bucket=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    head_missing(s3, name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_sorted_with_account_owner(server, ids, s3):
    """ListBuckets lists names in order; Owner is the account's canonical id (same for every user of the account)."""
    stem = bucket_name("sort")
    for suffix in ("m", "b", "x", "a"):
        s3.create_bucket(Bucket=f"{stem}-{suffix}")
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert names == sorted(names)  # (moto lists in creation order)
    assert [n for n in names if n.startswith(stem)] == [f"{stem}-{s}" for s in "abmx"]
    owner = listed["Owner"]["ID"]
    assert s3_client(server, ids.a_bob).list_buckets()["Owner"]["ID"] == owner
    assert s3_client(server, ids.a_root).list_buckets()["Owner"]["ID"] == owner
    other = s3_client(server, ids.b_carol).list_buckets()
    assert other["Owner"]["ID"] != owner
    assert not [b for b in other["Buckets"] if b["Name"].startswith(stem)]


def test_list_buckets_prefix_pages_and_region(server, ids, s3):
    """ListBuckets with Prefix / MaxBuckets / ContinuationToken / BucketRegion pages and filters, with BucketRegion."""
    stem = bucket_name("lbp")
    create_bucket(s3, f"{stem}-c")
    create_bucket(s3_client(server, ids.a_alice, region="eu-west-1"), f"{stem}-a", region="eu-west-1")
    create_bucket(s3, f"{stem}-b")
    first = s3.list_buckets(Prefix=stem, MaxBuckets=2)
    assert [(b["Name"], b["BucketRegion"]) for b in first["Buckets"]] == [
        (f"{stem}-a", "eu-west-1"), (f"{stem}-b", "us-east-1")]
    assert first["Prefix"] == stem
    assert first.get("ContinuationToken")
    second = s3.list_buckets(Prefix=stem, MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == [f"{stem}-c"]
    assert "ContinuationToken" not in second
    eu = s3.list_buckets(Prefix=stem, BucketRegion="eu-west-1")
    assert [b["Name"] for b in eu["Buckets"]] == [f"{stem}-a"]


def test_create_bucket_in_region_and_get_location(server, ids, s3):
    """A LocationConstraint bucket reports its region (GetBucketLocation, HeadBucket); us-east-1 reports null."""
    eu = s3_client(server, ids.a_alice, region="eu-west-1")
    name = create_bucket(eu, bucket_name("eu"), region="eu-west-1")
    assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert eu.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    us = create_bucket(s3, bucket_name("us"))
    assert s3.get_bucket_location(Bucket=us)["LocationConstraint"] is None
    # A client configured for us-east-1 still reaches the eu-west-1 bucket (real S3 answers a wrong-region request
    # with a redirect or AuthorizationHeaderMalformed that boto3 follows; either way the call succeeds).
    s3.put_object(Bucket=name, Key="k", Body=b"eu data")
    assert eu.get_object(Bucket=name, Key="k")["Body"].read() == b"eu data"
    expect_error(s3.get_bucket_location, "NoSuchBucket", 404, Bucket=bucket_name("nope"))


def test_create_bucket_location_constraint_errors(server, ids, s3):
    """us-east-1 as constraint -> InvalidLocationConstraint; a constraint not matching the endpoint's region -> IllegalLocationConstraintException."""
    eu = s3_client(server, ids.a_alice, region="eu-west-1")
    names = [bucket_name("loc") for _ in range(4)]
    e = expect_error(s3.create_bucket, "InvalidLocationConstraint", 400, Bucket=names[0],
                     CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert e.response["Error"]["Message"] == "The specified location-constraint is not valid"
    expect_error(s3.create_bucket, "InvalidLocationConstraint", 400, Bucket=names[1],
                 CreateBucketConfiguration={"LocationConstraint": "mars-north-1"})
    e = expect_error(eu.create_bucket, "IllegalLocationConstraintException", 400, Bucket=names[2])
    assert e.response["Error"]["Message"] == (
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
    e = expect_error(eu.create_bucket, "IllegalLocationConstraintException", 400, Bucket=names[3],
                     CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert e.response["Error"]["Message"] == (
        "The ap-south-1 location constraint is incompatible for the region specific endpoint this request was sent to.")
    for name in names:
        head_missing(s3, name)


INVALID_BUCKET_NAMES = [
    "ab", "a" * 64, "UpperCase-bucket", "under_score", "-leading-dash", "trailing-dash-", ".leading-dot",
    "two..dots", "192.168.5.4", "xn--punycode", "sthree-reserved", "amzn-s3-demo-reserved", "alias-s3alias",
    "lambda--ol-s3", "region.mrap",
]  # (the --x-s3 / --table-s3 suffixes are left out: botocore routes such names as directory buckets)


@pytest.mark.parametrize("name", INVALID_BUCKET_NAMES)
def test_create_bucket_invalid_name(s3, name):
    """Names breaking S3's bucket naming rules are refused with 400 InvalidBucketName and nothing is created."""
    e = expect_error(s3.create_bucket, "InvalidBucketName", 400, Bucket=name)
    assert e.response["Error"]["Message"] == "The specified bucket is not valid."
    assert e.response["Error"].get("BucketName") == name
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_bucket_edge_valid_names(s3):
    """The shortest, longest and dotted names the rules allow are accepted."""
    tag = os.urandom(3).hex()
    for name in (tag[:3], ("x" + tag) + "a" * (63 - 7), f"dots.and-{tag}.9"):
        assert len(name) in range(3, 64)
        s3.create_bucket(Bucket=name)
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3.delete_bucket(Bucket=name)


def test_create_existing_bucket(server, ids, s3):
    """Same account again: 200 in us-east-1, 409 BucketAlreadyOwnedByYou elsewhere; another account: 409 BucketAlreadyExists."""
    name = create_bucket(s3, bucket_name("dup"))
    s3.put_object(Bucket=name, Key="keep", Body=b"still here")
    assert s3.create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3_client(server, ids.a_bob).create_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=name, Key="keep")["Body"].read() == b"still here"  # re-creating kept the contents
    taken = ("The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
             "Please select a different name and try again.")
    for creds in (ids.b_carol, ids.c_mallory):
        e = expect_error(s3_client(server, creds).create_bucket, "BucketAlreadyExists", 409, Bucket=name)
        assert e.response["Error"]["Message"] == taken

    eu = s3_client(server, ids.a_alice, region="eu-west-1")
    eu_name = create_bucket(eu, bucket_name("dupeu"), region="eu-west-1")
    e = expect_error(eu.create_bucket, "BucketAlreadyOwnedByYou", 409, Bucket=eu_name,
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert e.response["Error"]["Message"] == "Your previous request to create the named bucket succeeded and you already own it."
    e = expect_error(s3_client(server, ids.b_carol, region="eu-west-1").create_bucket, "BucketAlreadyExists", 409,
                     Bucket=eu_name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    # Ownership did not move.
    expect_error(s3_client(server, ids.b_carol).head_bucket, "403", 403, Bucket=name)


def test_delete_bucket_errors(s3, bucket):
    """DeleteBucket: 404 NoSuchBucket for a missing bucket, 409 BucketNotEmpty while it holds an object, then 204."""
    missing = bucket_name("gone")
    e = expect_error(s3.delete_bucket, "NoSuchBucket", 404, Bucket=missing)
    assert e.response["Error"]["Message"] == NOT_FOUND_BUCKET
    assert e.response["Error"].get("BucketName") == missing
    s3.put_object(Bucket=bucket, Key="x/y", Body=b"1")
    e = expect_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=bucket)
    assert e.response["Error"]["Message"] == "The bucket you tried to delete is not empty"
    assert e.response["Error"].get("BucketName") == bucket
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_object(Bucket=bucket, Key="x/y")
    assert s3.delete_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    head_missing(s3, bucket)


def policy_doc(bucket: str, principal: str = f"arn:aws:iam::{ACCOUNT_B}:root", actions=("s3:GetObject",),
               resource_suffix: str = "/*", effect: str = "Allow", sid: str = "Grant") -> dict:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": sid, "Effect": effect, "Principal": {"AWS": principal}, "Action": list(actions),
        "Resource": f"arn:aws:s3:::{bucket}{resource_suffix}"}]}


def test_bucket_policy_round_trip(s3, bucket):
    """GetBucketPolicy 404 NoSuchBucketPolicy until PutBucketPolicy (204) stores the document; DeleteBucketPolicy 204, idempotent."""
    e = expect_error(s3.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=bucket)
    assert e.response["Error"]["Message"] == "The bucket policy does not exist"
    doc = policy_doc(bucket)
    put = s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc, indent=2))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == doc
    # A second put replaces the first.
    doc2 = policy_doc(bucket, actions=("s3:GetObject", "s3:PutObject"), sid="Second")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc2))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == doc2
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=bucket)
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    missing = bucket_name("nopol")
    expect_error(s3.put_bucket_policy, "NoSuchBucket", 404, Bucket=missing, Policy=json.dumps(policy_doc(missing)))
    expect_error(s3.get_bucket_policy, "NoSuchBucket", 404, Bucket=missing)


def test_bucket_policy_malformed(s3, bucket):
    """PutBucketPolicy refuses non-JSON, foreign resources and unknown actions with 400 MalformedPolicy and stores nothing."""
    cases = [
        ("not json at all", "Policies must be valid JSON and the first byte must be '{'"),
        (json.dumps(policy_doc("some-other-bucket-entirely")), "Policy has invalid resource"),
        (json.dumps(policy_doc(bucket, actions=("s3:NoSuchAction",))), "Policy has invalid action"),
    ]
    for document, message in cases:
        e = expect_error(s3.put_bucket_policy, "MalformedPolicy", 400, Bucket=bucket, Policy=document)
        assert e.response["Error"]["Message"] == message, document
    missing_effect = {"Version": "2012-10-17", "Statement": [{"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
                                                              "Action": "s3:GetObject",
                                                              "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    expect_error(s3.put_bucket_policy, "MalformedPolicy", 400, Bucket=bucket, Policy=json.dumps(missing_effect))
    expect_error(s3.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=bucket)


def test_bucket_tagging(s3, bucket):
    """GetBucketTagging 404 NoSuchTagSet until tags are put; a put replaces the set; duplicates -> 400 InvalidTag."""
    e = expect_error(s3.get_bucket_tagging, "NoSuchTagSet", 404, Bucket=bucket)
    assert e.response["Error"]["Message"] == "The TagSet does not exist"
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "cost center", "Value": "42 / é"}]
    assert s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]
    e = expect_error(s3.put_bucket_tagging, "InvalidTag", 400, Bucket=bucket,
                     Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]})
    assert e.response["Error"]["Message"] == "Cannot provide multiple Tags with the same key"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_bucket_tagging, "NoSuchTagSet", 404, Bucket=bucket)


def test_bucket_versioning_configuration(s3, bucket):
    """GetBucketVersioning is empty on a new bucket, then Enabled / Suspended as put; a bad status is MalformedXML."""
    assert strip_meta(s3.get_bucket_versioning(Bucket=bucket)) == {}
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    expect_error(s3.put_bucket_versioning, "MalformedXML", 400, Bucket=bucket,
                 VersioningConfiguration={"Status": "Sometimes"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    expect_error(s3.get_bucket_versioning, "NoSuchBucket", 404, Bucket=bucket_name("nover"))


def test_bucket_encryption_defaults_to_sse_s3(s3, bucket):
    """Since January 2023 every bucket has SSE-S3 (AES256) default encryption; Put replaces it, Delete resets to SSE-S3."""
    # (moto still answers ServerSideEncryptionConfigurationNotFoundError here, as S3 did before 2023.)
    default = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    custom = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=custom)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == custom
    expect_error(s3.put_bucket_encryption, "MalformedXML", 400, Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "ROT13"}}]})
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == default
    assert s3.put_object(Bucket=bucket, Key="enc", Body=b"x")["ServerSideEncryption"] == "AES256"
    expect_error(s3.get_bucket_encryption, "NoSuchBucket", 404, Bucket=bucket_name("noenc"))


# ---------------------------------------------------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------------------------------------------------


def test_put_get_object_round_trip(server, ids, s3, bucket):
    """PutObject/GetObject keep bytes, Content-Type and headers; ETag is the quoted MD5; metadata names come back lower-case."""
    data = os.urandom(3000) + b"\x00\r\n\xff"
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data, ContentType="text/plain; charset=utf-8",
                        Metadata={"Color": "Blue", "X-Mixed-Case": "Value With Spaces"}, CacheControl="max-age=60",
                        ContentDisposition='attachment; filename="obj.bin"', ContentLanguage="en")
    assert put["ETag"] == etag(data)
    assert put["ServerSideEncryption"] == "AES256"
    assert_s3_request_ids(put)
    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == etag(data)
    assert got["ContentLength"] == len(data)
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["Metadata"] == {"color": "Blue", "x-mixed-case": "Value With Spaces"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == 'attachment; filename="obj.bin"'
    assert got["ContentLanguage"] == "en"
    assert got["AcceptRanges"] == "bytes"
    assert got["ServerSideEncryption"] == "AES256"
    assert abs((now_utc() - got["LastModified"]).total_seconds()) < 30
    assert_s3_request_ids(got)
    # On the wire the metadata header names are lower-case.
    raw = raw_request(server, ids.a_alice, "GET", f"/{bucket}/dir/obj.bin")
    assert raw.status == 200 and raw.body == data
    meta_names = [k for k in raw.headers.keys() if k.lower().startswith("x-amz-meta-")]
    assert sorted(meta_names) == ["x-amz-meta-color", "x-amz-meta-x-mixed-case"], raw.headers.items()
    assert raw.header("x-amz-request-id") and raw.header("x-amz-id-2")

    # No Content-Type given: S3 stores binary/octet-stream. Empty bodies are objects too. Overwrites replace.
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"abc")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"
    empty = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"second version")
    assert s3.get_object(Bucket=bucket, Key="untyped")["Body"].read() == b"second version"
    assert s3.head_object(Bucket=bucket, Key="untyped")["Metadata"] == {}


ODD_KEYS = [
    "with space.txt", "plus+sign", "100%.txt", "percent%20literal", "question?mark", "hash#tag", "amp&eq=x;semi",
    "unicode/é/日本.txt", "emoji-😀", "a/b/c/d/e.txt", "/leading-slash", "double//slash", "trailing/", "tilde~star*",
    "quote'\"", "back\\slash", "<xml>&amp;", "tab\tand\nnewline", "ctrl\x01char", "caf\u00e9", "cafe\u0301",
]


def test_odd_keys_round_trip(s3, bucket):
    """Keys are byte strings: spaces, reserved URL characters, unicode (NFC and NFD stay distinct), slashes, control characters."""
    for i, key in enumerate(ODD_KEYS):
        s3.put_object(Bucket=bucket, Key=key, Body=f"{i}:{key}".encode())
    for i, key in enumerate(ODD_KEYS):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"{i}:{key}".encode(), key
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(f"{i}:{key}".encode())
    expected = sorted(ODD_KEYS, key=lambda k: k.encode())
    assert list_keys(s3, bucket) == expected
    v1 = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in v1["Contents"]] == expected


def test_list_encoding_type_url(s3, bucket):
    """encoding-type=url percent-encodes keys (non-ASCII, '+', control characters) and echoes EncodingType."""
    keys = ["plain", "a+b", "a b", "é/日本", "ctrl\x01x", "pre fix/x"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    for page in (s3.list_objects_v2(Bucket=bucket, EncodingType="url"), s3.list_objects(Bucket=bucket, EncodingType="url")):
        assert page["EncodingType"] == "url"
        raw_keys = [o["Key"] for o in page["Contents"]]
        assert all(k.isascii() and " " not in k and "\x01" not in k for k in raw_keys), raw_keys
        assert "a%2Bb" in raw_keys  # a literal '+' must not read back as a space
        assert [urllib.parse.unquote_plus(k) for k in raw_keys] == sorted(keys, key=lambda k: k.encode())
    delim = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Delimiter="/")
    prefixes = [urllib.parse.unquote_plus(p["Prefix"]) for p in delim["CommonPrefixes"]]
    assert prefixes == ["pre fix/", "é/"]
    assert all(p["Prefix"].isascii() for p in delim["CommonPrefixes"])


def test_keys_listed_in_utf8_byte_order(s3, bucket):
    """Listings are sorted by UTF-8 bytes (so U+FFFD sorts before an emoji, unlike UTF-16 order)."""
    keys = ["a", "B", "é", "z", "~", "ab", "a/b", "a-b", "\ufffd", "😀", "Z", "0", "a b", "A"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert expected.index("\ufffd") < expected.index("😀")
    assert list_keys(s3, bucket) == expected
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == expected
    # Paging keeps the order across pages.
    assert list_keys(s3, bucket, PaginationConfig={"PageSize": 3}) == expected


def test_key_length_limit(s3, bucket):
    """A 1024-byte key is accepted; 1025 bytes is 400 KeyTooLongError."""
    ok = "k/" + "é" * 511  # 2 + 1022 bytes
    assert len(ok.encode()) == 1024
    s3.put_object(Bucket=bucket, Key=ok, Body=b"long")
    assert s3.get_object(Bucket=bucket, Key=ok)["Body"].read() == b"long"
    expect_error(s3.put_object, "KeyTooLongError", 400, Bucket=bucket, Key=ok + "x", Body=b"x")


def test_get_object_range(s3, bucket):
    """Range GETs answer 206 with Content-Range (first, suffix, open, clamped); a start past the end is 416 InvalidRange."""
    data = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    for rng, expected, content_range in [
        ("bytes=0-9", data[:10], "bytes 0-9/100"),
        ("bytes=90-", data[90:], "bytes 90-99/100"),
        ("bytes=-5", data[-5:], "bytes 95-99/100"),
        ("bytes=95-200", data[95:], "bytes 95-99/100"),
        ("bytes=10-10", data[10:11], "bytes 10-10/100"),
    ]:
        got = s3.get_object(Bucket=bucket, Key="r", Range=rng)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert got["ContentRange"] == content_range, rng
        assert got["ContentLength"] == len(expected), rng
        assert got["Body"].read() == expected, rng
        assert got["ETag"] == etag(data)
    # The stored whole-object checksum is not sent with a partial body (SDKs would validate the range against it).
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert part["Body"].read() == data[:10]
    assert not [m for m in CHECKSUM_MEMBERS if m in part], part
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-9", ChecksumMode="ENABLED")
    assert not [m for m in CHECKSUM_MEMBERS if m in head], head
    e = expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="r", Range="bytes=100-")
    assert e.response["Error"]["Message"] == "The requested range is not satisfiable"
    assert e.response["Error"].get("ActualObjectSize") == "100"
    assert e.response["Error"].get("RangeRequested") == "bytes=100-"
    expect_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key="r", Range="bytes=500-600")


def test_conditional_get_and_head(s3, bucket):
    """If-Match / If-Unmodified-Since failures are 412 PreconditionFailed; If-None-Match / If-Modified-Since hits are 304."""
    s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    tag = etag(b"conditional")
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    day = datetime.timedelta(days=1)

    def body(**kw):
        return s3.get_object(Bucket=bucket, Key="c", **kw)["Body"].read()

    assert body(IfMatch=tag) == b"conditional"
    e = expect_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert e.response["Error"]["Message"] == PRECONDITION
    assert e.response["Error"].get("Condition") == "If-Match"
    expect_error(s3.get_object, "304", 304, Bucket=bucket, Key="c", IfNoneMatch=tag)
    assert body(IfNoneMatch='"0123456789abcdef0123456789abcdef"') == b"conditional"
    expect_error(s3.get_object, "304", 304, Bucket=bucket, Key="c", IfModifiedSince=lm)
    assert body(IfModifiedSince=lm - day) == b"conditional"
    e = expect_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key="c", IfUnmodifiedSince=lm - day)
    assert e.response["Error"].get("Condition") == "If-Unmodified-Since"
    assert body(IfUnmodifiedSince=lm) == b"conditional"
    # Documented combinations (GetObject API reference): If-Match true wins over If-Unmodified-Since false (200;
    # moto answers 412 here); If-None-Match false with If-Modified-Since true is 304.
    assert body(IfMatch=tag, IfUnmodifiedSince=lm - day) == b"conditional"
    expect_error(s3.get_object, "304", 304, Bucket=bucket, Key="c", IfNoneMatch=tag, IfModifiedSince=lm - day)
    # HEAD answers the same statuses without a body.
    expect_error(s3.head_object, "412", 412, Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"')
    expect_error(s3.head_object, "304", 304, Bucket=bucket, Key="c", IfNoneMatch=tag)
    assert s3.head_object(Bucket=bucket, Key="c", IfMatch=tag)["ETag"] == tag


def test_head_object(server, ids, s3, bucket):
    """HeadObject returns the object's headers; a missing key or bucket is 404 with an empty body."""
    s3.put_object(Bucket=bucket, Key="h", Body=b"12345", ContentType="application/json", Metadata={"k": "v"})
    head = s3.head_object(Bucket=bucket, Key="h")
    assert (head["ContentLength"], head["ETag"], head["ContentType"], head["Metadata"]) == (
        5, etag(b"12345"), "application/json", {"k": "v"})
    e = expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="missing")
    assert e.response["Error"]["Message"] == "Not Found"
    raw = raw_request(server, ids.a_alice, "HEAD", f"/{bucket}/missing")
    assert raw.status == 404 and raw.body == b""
    assert raw.header("x-amz-request-id")
    raw = raw_request(server, ids.a_alice, "HEAD", f"/{bucket_name('nohead')}/missing")
    assert raw.status == 404 and raw.body == b""


def test_missing_key_and_bucket_errors(server, ids, s3, bucket):
    """GetObject: 404 NoSuchKey (with Key) and 404 NoSuchBucket (with BucketName), as S3 XML with x-amz-request-id."""
    e = expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="nope/é")
    assert e.response["Error"]["Message"] == NOT_FOUND_KEY
    assert e.response["Error"].get("Key") == "nope/é"
    missing = bucket_name("nobkt")
    e = expect_error(s3.get_object, "NoSuchBucket", 404, Bucket=missing, Key="k")
    assert e.response["Error"]["Message"] == NOT_FOUND_BUCKET
    assert e.response["Error"].get("BucketName") == missing
    expect_error(s3.put_object, "NoSuchBucket", 404, Bucket=missing, Key="k", Body=b"x")
    expect_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket=missing)
    expect_error(s3.list_objects, "NoSuchBucket", 404, Bucket=missing)
    raw = raw_request(server, ids.a_alice, "GET", f"/{bucket}/nope")
    assert raw.status == 404
    assert raw.header("Content-Type", ).startswith("application/xml")
    assert raw.xml().tag == "Error" and raw.error_code() == "NoSuchKey"
    assert raw.error_field("RequestId") == raw.header("x-amz-request-id")


def test_delete_object(s3, bucket):
    """DeleteObject answers 204 whether or not the key exists; a missing bucket is NoSuchBucket."""
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="d")
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error(s3.delete_object, "NoSuchBucket", 404, Bucket=bucket_name("nodel"), Key="d")


def test_delete_objects(s3, bucket):
    """DeleteObjects reports every key (missing ones too) as Deleted; Quiet reports nothing; >1000 keys is MalformedXML."""
    keys = ["one", "two", "a&b<c>\"'", "é/日本", "keep"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:3] + ["ghost"]]})
    assert sorted(d["Key"] for d in out["Deleted"]) == sorted(keys[:3] + ["ghost"])
    assert "Errors" not in out
    assert list_keys(s3, bucket) == sorted(["é/日本", "keep"], key=lambda k: k.encode())
    # Quiet mode reports only errors (moto lists the deleted keys anyway).
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "é/日本"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert list_keys(s3, bucket) == ["keep"]
    expect_error(s3.delete_objects, "MalformedXML", 400, Bucket=bucket,
                 Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert list_keys(s3, bucket) == ["keep"]
    expect_error(s3.delete_objects, "NoSuchBucket", 404, Bucket=bucket_name("nomulti"),
                 Delete={"Objects": [{"Key": "k"}]})


def test_copy_object_metadata_directives(s3, bucket):
    """CopyObject copies metadata (COPY) or takes the request's (REPLACE); the ETag is the source's."""
    src_key = "dir/é space+plus.txt"
    data = b"copy me " * 100
    s3.put_object(Bucket=bucket, Key=src_key, Body=data, ContentType="text/x-src", Metadata={"origin": "source"})
    other = create_bucket(s3, bucket_name("copydst"))
    out = s3.copy_object(Bucket=other, Key="copied", CopySource={"Bucket": bucket, "Key": src_key})
    assert out["CopyObjectResult"]["ETag"] == etag(data)
    assert abs((now_utc() - out["CopyObjectResult"]["LastModified"]).total_seconds()) < 30
    got = s3.get_object(Bucket=other, Key="copied")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (data, "text/x-src", {"origin": "source"})

    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": src_key},
                   MetadataDirective="REPLACE", ContentType="text/x-new", Metadata={"fresh": "yes"})
    got = s3.get_object(Bucket=bucket, Key="replaced")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (data, "text/x-new", {"fresh": "yes"})


def test_copy_object_errors(s3, bucket):
    """Copying onto itself without REPLACE is 400 InvalidRequest; missing sources are NoSuchKey/NoSuchBucket; copy-source conditions 412."""
    s3.put_object(Bucket=bucket, Key="self", Body=b"same", Metadata={"v": "1"})
    e = expect_error(s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key="self",
                     CopySource={"Bucket": bucket, "Key": "self"})
    assert e.response["Error"]["Message"] == (
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's "
        "metadata, storage class, website redirect location or encryption attributes.")
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"v": "2"})
    got = s3.get_object(Bucket=bucket, Key="self")
    assert (got["Body"].read(), got["Metadata"]) == (b"same", {"v": "2"})

    expect_error(s3.copy_object, "NoSuchKey", 404, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "nope"})
    expect_error(s3.copy_object, "NoSuchBucket", 404, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket_name("nosrc"), "Key": "self"})
    expect_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "self"}, CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    expect_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "self"}, CopySourceIfNoneMatch=etag(b"same"))
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="dst")


def test_conditional_put(s3, bucket):
    """PutObject If-None-Match: * refuses to overwrite (412); If-Match writes only over the expected ETag."""
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    e = expect_error(s3.put_object, "PreconditionFailed", 412, Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert e.response["Error"]["Message"] == PRECONDITION
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"
    expect_error(s3.put_object, "PreconditionFailed", 412, Bucket=bucket, Key="once", Body=b"third",
                 IfMatch='"0123456789abcdef0123456789abcdef"')
    s3.put_object(Bucket=bucket, Key="once", Body=b"fourth", IfMatch=etag(b"first"))
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"fourth"


# ---------------------------------------------------------------------------------------------------------------------
# Listings
# ---------------------------------------------------------------------------------------------------------------------

LISTING_KEYS = ["a/1", "a/2", "a/b/3", "b", "c/4", "d"]


@pytest.fixture(scope="module")
def listing_bucket(server, ids):
    s3 = s3_client(server, ids.a_alice)
    name = create_bucket(s3, bucket_name("list"))
    for k in LISTING_KEYS:
        s3.put_object(Bucket=name, Key=k, Body=k.encode())
    return name


def keys_of(page: dict) -> list[str]:
    return [o["Key"] for o in page.get("Contents", [])]


def prefixes_of(page: dict) -> list[str]:
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


def test_list_objects_v1(s3, listing_bucket):
    """ListObjects: prefix, delimiter with CommonPrefixes, marker, max-keys with IsTruncated, NextMarker only with a delimiter."""
    b = listing_bucket
    full = s3.list_objects(Bucket=b)
    assert keys_of(full) == LISTING_KEYS
    assert (full["Name"], full["MaxKeys"], full["IsTruncated"]) == (b, 1000, False)
    first = full["Contents"][0]
    assert first["ETag"] == etag(b"a/1") and first["Size"] == 3 and first["StorageClass"] == "STANDARD"
    assert keys_of(s3.list_objects(Bucket=b, Prefix="a/")) == ["a/1", "a/2", "a/b/3"]
    top = s3.list_objects(Bucket=b, Delimiter="/")
    assert (keys_of(top), prefixes_of(top)) == (["b", "d"], ["a/", "c/"])
    sub = s3.list_objects(Bucket=b, Prefix="a/", Delimiter="/")
    assert (keys_of(sub), prefixes_of(sub), sub["Prefix"], sub["Delimiter"]) == (["a/1", "a/2"], ["a/b/"], "a/", "/")
    page = s3.list_objects(Bucket=b, MaxKeys=2)
    assert (keys_of(page), page["IsTruncated"], page["MaxKeys"]) == (["a/1", "a/2"], True, 2)
    assert "NextMarker" not in page  # only returned when a delimiter is given (API reference; moto always sends it)
    rest = s3.list_objects(Bucket=b, Marker="a/2")
    assert (keys_of(rest), rest["IsTruncated"], rest["Marker"]) == (["a/b/3", "b", "c/4", "d"], False, "a/2")
    d1 = s3.list_objects(Bucket=b, Delimiter="/", MaxKeys=2)
    assert (prefixes_of(d1), keys_of(d1), d1["IsTruncated"], d1["NextMarker"]) == (["a/"], ["b"], True, "b")
    d2 = s3.list_objects(Bucket=b, Delimiter="/", MaxKeys=2, Marker=d1["NextMarker"])
    assert (prefixes_of(d2), keys_of(d2), d2["IsTruncated"]) == (["c/"], ["d"], False)
    assert keys_of(s3.list_objects(Bucket=b, Prefix="zzz")) == []
    paged = [k for p in s3.get_paginator("list_objects").paginate(Bucket=b, PaginationConfig={"PageSize": 2})
             for k in keys_of(p)]
    assert paged == LISTING_KEYS


def test_list_objects_v2(server, ids, s3, listing_bucket):
    """ListObjectsV2: KeyCount, continuation tokens, StartAfter, delimiter, FetchOwner; a bad token is 400 InvalidArgument."""
    b = listing_bucket
    full = s3.list_objects_v2(Bucket=b)
    assert (keys_of(full), full["KeyCount"], full["IsTruncated"], full["MaxKeys"]) == (LISTING_KEYS, 6, False, 1000)
    assert "Owner" not in full["Contents"][0]
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=b, MaxKeys=2, **kw)
        pages += 1
        assert page["KeyCount"] == len(keys_of(page))
        if token:
            assert page["ContinuationToken"] == token
        seen += keys_of(page)
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            break
        token = page["NextContinuationToken"]
    assert (seen, pages) == (LISTING_KEYS, 3)
    after = s3.list_objects_v2(Bucket=b, StartAfter="a/b/3")
    assert (keys_of(after), after["StartAfter"], after["KeyCount"]) == (["b", "c/4", "d"], "a/b/3", 3)
    top = s3.list_objects_v2(Bucket=b, Delimiter="/")
    assert (keys_of(top), prefixes_of(top), top["KeyCount"]) == (["b", "d"], ["a/", "c/"], 4)
    sub = s3.list_objects_v2(Bucket=b, Prefix="a/", Delimiter="/", MaxKeys=1)
    assert (keys_of(sub), prefixes_of(sub), sub["IsTruncated"]) == (["a/1"], [], True)
    owned = s3.list_objects_v2(Bucket=b, FetchOwner=True)
    owner_id = s3.list_buckets()["Owner"]["ID"]
    assert {o["Owner"]["ID"] for o in owned["Contents"]} == {owner_id}
    expect_error(s3.list_objects_v2, "InvalidArgument", 400, Bucket=b, ContinuationToken="not-a-real-token")


# ---------------------------------------------------------------------------------------------------------------------
# Multipart uploads
# ---------------------------------------------------------------------------------------------------------------------


def test_multipart_upload_complete(s3_plain, bucket):
    """Create/UploadPart/ListParts/ListMultipartUploads/Complete: part ETags are MD5s, the object ETag is md5(md5s)-N."""
    s3 = s3_plain
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail" * 100]
    up = s3.create_multipart_upload(Bucket=bucket, Key="big/obj", ContentType="application/x-big",
                                    Metadata={"stage": "multi"})
    uid = up["UploadId"]
    assert (up["Bucket"], up["Key"]) == (bucket, "big/obj") and uid
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("big/obj", uid)]
    s3.upload_part(Bucket=bucket, Key="big/obj", UploadId=uid, PartNumber=2, Body=b"replaced later")
    etags = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="big/obj", UploadId=uid, PartNumber=n, Body=body)
        assert r["ETag"] == etag(body)
        etags.append(r["ETag"])
    lp = s3.list_parts(Bucket=bucket, Key="big/obj", UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] == [
        (n, etag(b), len(b)) for n, b in enumerate(parts, start=1)]
    assert (lp["UploadId"], lp["Key"], lp["IsTruncated"]) == (uid, "big/obj", False)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="big/obj")  # not visible before completion
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big/obj", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in enumerate(etags, start=1)]})
    assert done["ETag"] == multipart_etag(parts)
    assert (done["Bucket"], done["Key"]) == (bucket, "big/obj")
    head = s3.head_object(Bucket=bucket, Key="big/obj")
    assert (head["ContentLength"], head["ETag"], head["ContentType"], head["Metadata"]) == (
        sum(map(len, parts)), multipart_etag(parts), "application/x-big", {"stage": "multi"})
    assert hashlib.sha256(s3.get_object(Bucket=bucket, Key="big/obj")["Body"].read()).digest() == \
        hashlib.sha256(b"".join(parts)).digest()
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="big/obj", UploadId=uid)


def test_single_small_part_upload(s3_plain, bucket):
    """A one-part upload may be smaller than 5 MiB (the last part has no minimum); its ETag ends in -1."""
    s3 = s3_plain
    uid = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    t = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=1, Body=b"tiny")["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": t}]})
    assert done["ETag"] == multipart_etag([b"tiny"])
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"tiny"


def test_upload_part_copy(s3_plain, bucket):
    """UploadPartCopy copies a source range (CopySourceRange) into a part; the completed object equals the source."""
    s3 = s3_plain
    source = os.urandom(6 * MiB + 123)
    s3.put_object(Bucket=bucket, Key="src object", Body=source)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    cut = 5 * MiB
    r1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src object"}, CopySourceRange=f"bytes=0-{cut - 1}")
    assert r1["CopyPartResult"]["ETag"] == etag(source[:cut])
    r2 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src object"},
                             CopySourceRange=f"bytes={cut}-{len(source) - 1}")
    assert r2["CopyPartResult"]["ETag"] == etag(source[cut:])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert done["ETag"] == multipart_etag([source[:cut], source[cut:]])
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source
    expect_error(s3.upload_part_copy, "NoSuchKey", 404, Bucket=bucket, Key="assembled2",
                 UploadId=s3.create_multipart_upload(Bucket=bucket, Key="assembled2")["UploadId"], PartNumber=1,
                 CopySource={"Bucket": bucket, "Key": "no such source"})


def test_complete_multipart_errors(s3_plain, bucket):
    """Complete: wrong ETag or unknown part -> InvalidPart, descending order -> InvalidPartOrder, small non-last part -> EntityTooSmall, bad id -> NoSuchUpload."""
    s3 = s3_plain
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"end"]
    t1, t2, t3 = (s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=n, Body=b)["ETag"]
                  for n, b in enumerate(bodies, start=1))

    def complete(parts, upload_id=uid):
        return s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload_id,
                                            MultipartUpload={"Parts": parts})

    wrong = '"0123456789abcdef0123456789abcdef"'
    e = error_of(complete, parts=[{"PartNumber": 1, "ETag": wrong}, {"PartNumber": 2, "ETag": t2},
                                  {"PartNumber": 3, "ETag": t3}])
    assert (e.response["Error"]["Code"], status_of(e)) == ("InvalidPart", 400)
    assert e.response["Error"]["Message"].startswith("One or more of the specified parts could not be found.")
    e = error_of(complete, parts=[{"PartNumber": 1, "ETag": t1}, {"PartNumber": 2, "ETag": t2},
                                  {"PartNumber": 4, "ETag": t3}])
    assert (e.response["Error"]["Code"], status_of(e)) == ("InvalidPart", 400)
    e = error_of(complete, parts=[{"PartNumber": 2, "ETag": t2}, {"PartNumber": 1, "ETag": t1},
                                  {"PartNumber": 3, "ETag": t3}])
    assert (e.response["Error"]["Code"], status_of(e)) == ("InvalidPartOrder", 400)
    assert e.response["Error"]["Message"] == (
        "The list of parts was not in ascending order. Parts must be ordered by part number.")
    e = error_of(complete, parts=[{"PartNumber": 1, "ETag": t1}], upload_id="bogus-upload-id")
    assert (e.response["Error"]["Code"], status_of(e)) == ("NoSuchUpload", 404)
    assert e.response["Error"]["Message"] == NO_SUCH_UPLOAD
    # The failed completions left the upload intact.
    assert len(s3.list_parts(Bucket=bucket, Key="m", UploadId=uid)["Parts"]) == 3

    uid2 = s3.create_multipart_upload(Bucket=bucket, Key="small-parts")["UploadId"]
    s1 = s3.upload_part(Bucket=bucket, Key="small-parts", UploadId=uid2, PartNumber=1, Body=b"a" * 1024)["ETag"]
    s2 = s3.upload_part(Bucket=bucket, Key="small-parts", UploadId=uid2, PartNumber=2, Body=b"b" * 1024)["ETag"]
    e = error_of(s3.complete_multipart_upload, Bucket=bucket, Key="small-parts", UploadId=uid2,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": s1}, {"PartNumber": 2, "ETag": s2}]})
    assert (e.response["Error"]["Code"], status_of(e)) == ("EntityTooSmall", 400)
    assert e.response["Error"]["Message"] == "Your proposed upload is smaller than the minimum allowed size"
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="small-parts")

    # Part numbers outside 1..10000 are refused at upload time.
    for bad in (0, 10001):
        e = expect_error(s3.upload_part, "InvalidArgument", 400, Bucket=bucket, Key="m", UploadId=uid, PartNumber=bad,
                         Body=b"x")
        assert e.response["Error"]["Message"] == "Part number must be an integer between 1 and 10000, inclusive"

    # A subset of the uploaded parts may be completed (part 2 left out).
    done = complete([{"PartNumber": 1, "ETag": t1}, {"PartNumber": 3, "ETag": t3}])
    assert done["ETag"] == multipart_etag([bodies[0], bodies[2]])
    assert s3.get_object(Bucket=bucket, Key="m")["Body"].read() == bodies[0] + bodies[2]


def test_abort_multipart_upload(s3_plain, bucket):
    """AbortMultipartUpload answers 204 and forgets the parts; afterwards the upload id is 404 NoSuchUpload everywhere."""
    s3 = s3_plain
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1, Body=b"part")
    assert s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    e = expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="ab", UploadId=uid)
    assert e.response["Error"]["Message"] == NO_SUCH_UPLOAD
    expect_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="ab", UploadId=uid)
    expect_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key="ab", UploadId=uid, PartNumber=2, Body=b"x")
    expect_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="ab", UploadId="never-existed")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="ab")


def test_list_parts_and_uploads_paging(s3_plain, bucket):
    """ListParts pages with MaxParts/PartNumberMarker; ListMultipartUploads filters by Prefix and pages with KeyMarker."""
    s3 = s3_plain
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mpu/a")["UploadId"]
    for n in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="mpu/a", UploadId=uid, PartNumber=n, Body=f"part {n}".encode())
    p1 = s3.list_parts(Bucket=bucket, Key="mpu/a", UploadId=uid, MaxParts=2)
    assert ([p["PartNumber"] for p in p1["Parts"]], p1["IsTruncated"], p1["NextPartNumberMarker"], p1["MaxParts"]) == (
        [1, 2], True, 2, 2)
    p2 = s3.list_parts(Bucket=bucket, Key="mpu/a", UploadId=uid, PartNumberMarker=2)
    assert ([p["PartNumber"] for p in p2["Parts"]], p2["IsTruncated"]) == ([3], False)
    uid_b = s3.create_multipart_upload(Bucket=bucket, Key="mpu/b")["UploadId"]
    uid_c = s3.create_multipart_upload(Bucket=bucket, Key="other/c")["UploadId"]
    everything = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in everything["Uploads"]] == [
        ("mpu/a", uid), ("mpu/b", uid_b), ("other/c", uid_c)]
    pref = s3.list_multipart_uploads(Bucket=bucket, Prefix="mpu/")
    assert [u["Key"] for u in pref["Uploads"]] == ["mpu/a", "mpu/b"]
    first = s3.list_multipart_uploads(Bucket=bucket, Prefix="mpu/", MaxUploads=1)
    assert ([u["Key"] for u in first["Uploads"]], first["IsTruncated"], first["NextKeyMarker"]) == (["mpu/a"], True, "mpu/a")
    second = s3.list_multipart_uploads(Bucket=bucket, Prefix="mpu/", KeyMarker="mpu/a")
    assert ([u["Key"] for u in second["Uploads"]], second["IsTruncated"]) == (["mpu/b"], False)


def test_multipart_with_crc32_checksums(s3, bucket):
    """An upload created with ChecksumAlgorithm=CRC32 completes with per-part checksums into a composite CRC32 (b64-N)."""
    parts = [os.urandom(5 * MiB), b"last part"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="crc", ChecksumAlgorithm="CRC32")["UploadId"]
    done_parts = []
    for n, body in enumerate(parts, start=1):
        r = s3.upload_part(Bucket=bucket, Key="crc", UploadId=uid, PartNumber=n, Body=body, ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == crc32_b64(body)
        done_parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
    expect_error(s3.complete_multipart_upload, "InvalidRequest", 400, Bucket=bucket, Key="crc", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in done_parts]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="crc", UploadId=uid, MultipartUpload={"Parts": done_parts})
    composite = crc32_b64(b"".join(base64.b64decode(crc32_b64(p)) for p in parts)) + "-2"
    assert done["ChecksumCRC32"] == composite
    assert done["ETag"] == multipart_etag(parts)
    head = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == composite


def test_boto3_managed_transfer(s3, bucket, tmp_path):
    """boto3's upload_file/download_file (s3transfer, default checksums) move a 12 MiB file through multipart and ranged GETs."""
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(12 * MiB)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "managed/up.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="managed/up.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == multipart_etag([data[:5 * MiB], data[5 * MiB:10 * MiB], data[10 * MiB:]])
    dst = tmp_path / "down.bin"
    s3.download_file(bucket, "managed/up.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


# ---------------------------------------------------------------------------------------------------------------------
# Payload and signing forms
# ---------------------------------------------------------------------------------------------------------------------


def test_put_with_default_crc32_checksum(s3, bucket):
    """boto3's default PutObject (x-amz-checksum-crc32) is stored and the CRC32 comes back with ChecksumMode=ENABLED."""
    sent = []
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers)))
    try:
        data = os.urandom(10_000)
        put = s3.put_object(Bucket=bucket, Key="crc32-default", Body=data)
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject")
    assert sent and "x-amz-checksum-crc32" in {k.lower() for k in sent[0]}
    assert put["ChecksumCRC32"] == crc32_b64(data)
    got = s3.get_object(Bucket=bucket, Key="crc32-default", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(data)
    assert got["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="crc32-default", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32_b64(data)


def test_put_when_required_sends_no_checksum(server, ids, bucket):
    """Without a checksum header (request_checksum_calculation=when_required) the object is stored and S3 adds its default CRC64NVME."""
    plain = s3_client(server, ids.a_alice, request_checksum_calculation="when_required")
    sent = []
    plain.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers)))
    data = os.urandom(4096)
    put = plain.put_object(Bucket=bucket, Key="no-checksum", Body=data)
    assert sent and not [k for k in sent[0] if k.lower().startswith("x-amz-checksum")]
    assert put["ETag"] == etag(data)
    assert plain.get_object(Bucket=bucket, Key="no-checksum")["Body"].read() == data
    head = plain.head_object(Bucket=bucket, Key="no-checksum", ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC64NVME") == crc64nvme_b64(data), head
    assert head.get("ChecksumType") == "FULL_OBJECT", head


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_put_with_checksum_algorithm(s3, bucket, algorithm):
    """PutObject with a CRC32 / CRC32C / SHA1 / SHA256 checksum echoes it and returns it on GET/HEAD with ChecksumMode=ENABLED."""
    data = os.urandom(20_000)
    expected = {
        "CRC32": crc32_b64(data), "CRC32C": crc32c_b64(data), "SHA256": sha256_b64(data),
        "SHA1": base64.b64encode(hashlib.sha1(data).digest()).decode(),
    }[algorithm]
    member = f"Checksum{algorithm}"
    key = f"sum-{algorithm}"
    if algorithm == "CRC32C":  # botocore needs awscrt to compute CRC32C itself; give it the value instead
        put = s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumCRC32C=expected)
    else:
        put = s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    assert put[member] == expected
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got[member] == expected
    assert got["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")[member] == expected


@pytest.mark.parametrize("member,value", [
    ("ChecksumCRC32", crc32_b64(b"something else")),
    ("ChecksumCRC32C", crc32c_b64(b"something else")),
    ("ChecksumSHA256", sha256_b64(b"something else")),
])
def test_put_with_wrong_checksum(s3, bucket, member, value):
    """A checksum header that does not match the body is 400 BadDigest and nothing is stored."""
    e = expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key=f"bad-{member}", Body=b"the real body",
                     **{member: value})
    assert "did not match" in e.response["Error"]["Message"]
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=f"bad-{member}")


def test_content_md5(s3_plain, bucket):
    """Content-MD5 right -> stored; wrong digest -> 400 BadDigest; not an MD5 at all -> 400 InvalidDigest."""
    s3 = s3_plain
    data = b"md5 checked body"
    s3.put_object(Bucket=bucket, Key="md5", Body=data, ContentMD5=md5_b64(data))
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == data
    e = expect_error(s3.put_object, "BadDigest", 400, Bucket=bucket, Key="md5", Body=b"tampered", ContentMD5=md5_b64(data))
    assert e.response["Error"]["Message"] == "The Content-MD5 you specified did not match what we received."
    e = expect_error(s3.put_object, "InvalidDigest", 400, Bucket=bucket, Key="md5", Body=b"x", ContentMD5="bm90LW1kNQ==")
    assert e.response["Error"]["Message"] == "The Content-MD5 you specified was invalid."
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == data


def presigner(server, creds):
    """A client that presigns with SigV4 (botocore's own default for S3 presigning is still SigV2 query auth)."""
    return s3_client(server, creds, signature_version="s3v4")


def test_presigned_get_and_put(server, ids, s3, bucket):
    """Presigned (SigV4 query) GET/PUT URLs work with plain HTTP clients; a tampered signature is 403 SignatureDoesNotMatch."""
    import http.client

    s3 = presigner(server, ids.a_alice)

    s3.put_object(Bucket=bucket, Key="pre/sign é.txt", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/sign é.txt"}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=10) as r:
        assert (r.status, r.read()) == (200, b"presigned body")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/uploaded",
                                                              "ContentType": "text/plain"}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(put_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=b"uploaded via presigned PUT",
                 headers={"Content-Type": "text/plain"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 200
    assert resp.getheader("ETag") == etag(b"uploaded via presigned PUT")
    got = s3.get_object(Bucket=bucket, Key="pre/uploaded")
    assert (got["Body"].read(), got["ContentType"]) == (b"uploaded via presigned PUT", "text/plain")

    sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url).group(1)
    tampered = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(tampered, timeout=10)
    assert info.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in info.value.read()
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/none"}, ExpiresIn=300)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(missing, timeout=10)
    assert info.value.code == 404 and b"<Code>NoSuchKey</Code>" in info.value.read()


def test_presigned_url_expired(server, ids, s3, bucket):
    """A presigned URL past X-Amz-Expires is 403 AccessDenied "Request has expired"."""
    p = presigner(server, ids.a_alice)
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    real = botocore.auth.get_current_datetime
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: real(*a, **k) - datetime.timedelta(hours=2)):
        url = p.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "old"}, ExpiresIn=3600)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    body = info.value.read()
    assert info.value.code == 403
    assert b"<Code>AccessDenied</Code>" in body and b"<Message>Request has expired</Message>" in body


def test_unsigned_payload(server, ids, s3, bucket):
    """x-amz-content-sha256: UNSIGNED-PAYLOAD uploads are accepted and stored as sent."""
    data = os.urandom(2048)
    r = raw_request(server, ids.a_alice, "PUT", f"/{bucket}/unsigned", body=data, content_sha256="UNSIGNED-PAYLOAD")
    assert r.status == 200, r.body
    assert r.header("ETag") == etag(data)
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == data


def test_content_sha256_mismatch(server, ids, s3, bucket):
    """A signed x-amz-content-sha256 that is not the body's hash is 400 XAmzContentSHA256Mismatch; nothing is stored."""
    r = raw_request(server, ids.a_alice, "PUT", f"/{bucket}/mismatch", body=b"actual body",
                    content_sha256=hashlib.sha256(b"claimed body").hexdigest())
    assert (r.status, r.error_code()) == (400, "XAmzContentSHA256Mismatch"), r.body
    assert r.error_field("Message") == "The provided 'x-amz-content-sha256' header does not match what was computed."
    assert r.header("x-amz-request-id")
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="mismatch")


def test_missing_content_sha256_header(server, ids, s3, bucket):
    """A SigV4 header-signed S3 request without x-amz-content-sha256 is 400 InvalidRequest."""
    r = raw_request(server, ids.a_alice, "PUT", f"/{bucket}/nohash", body=b"body", content_sha256=None)
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r.body
    assert r.error_field("Message") == "Missing required header for this request: x-amz-content-sha256"
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="nohash")


def test_expect_100_continue(server, ids, s3, bucket):
    """A PUT with Expect: 100-continue gets an interim 100 Continue before its body is sent (boto3 waits for it)."""
    body = os.urandom(1000)
    hdrs = sign(server, ids.a_alice, "PUT", f"/{bucket}/expect", body=body,
                headers={"Expect": "100-continue", "Content-Length": str(len(body))})
    conn = RawConn(server, timeout=5)
    try:
        conn.send_head("PUT", f"/{bucket}/expect", hdrs)
        first = conn.read_response()
        assert first is not None and first[0] == 100, first
        conn.send(body)
        status, headers, _ = conn.read_response()
        assert (status, headers.get("etag")) == (200, etag(body))
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == body


def test_expect_100_continue_empty_body(server, ids, s3, bucket):
    """An empty-body PUT with Expect: 100-continue is answered 100 Continue first, or its final answer closes the connection."""
    # botocore keeps the early final answer's status line for the next Expect request on the same connection, so a
    # 200 without 100 Continue on a kept-alive connection makes the following PutObject hang or misparse.
    hdrs = sign(server, ids.a_alice, "PUT", f"/{bucket}/expect-empty", headers={
        "Expect": "100-continue", "Content-Length": "0"})
    conn = RawConn(server, timeout=5)
    try:
        conn.send_head("PUT", f"/{bucket}/expect-empty", hdrs)
        first = conn.read_response()
        assert first is not None, "connection closed without an answer"
        if first[0] == 100:
            final = conn.read_response()
            assert final is not None and final[0] == 200, final
        else:
            assert first[0] == 200, first
            assert first[1].get("connection", "").lower() == "close", first[1]
            assert conn.read_response() is None
    finally:
        conn.close()
    assert s3.head_object(Bucket=bucket, Key="expect-empty")["ContentLength"] == 0


def test_early_error_on_expect_request_keeps_connection_in_sync(server, ids, s3, bucket):
    """An error answered before the body of an Expect: 100-continue PUT either closes the connection or leaves it usable."""
    s3.put_object(Bucket=bucket, Key="next", Body=b"next object")
    missing = bucket_name("early")
    body = b"PAYLOAD-NEVER-SENT"
    hdrs = sign(server, ids.a_alice, "PUT", f"/{missing}/k", body=body,
                headers={"Expect": "100-continue", "Content-Length": str(len(body))})
    conn = RawConn(server, timeout=5)
    try:
        conn.send_head("PUT", f"/{missing}/k", hdrs)
        status, headers, err = conn.read_response()
        if status == 100:  # the server asked for the body after all
            conn.send(body)
            status, headers, err = conn.read_response()
        assert status == 404 and b"<Code>NoSuchBucket</Code>" in err, (status, err)
        if headers.get("connection", "").lower() == "close":
            assert conn.read_response() is None
            return
        # Like boto3, the client never sends the body it was not asked for, and reuses the connection.
        conn.send_head("GET", f"/{bucket}/next", sign(server, ids.a_alice, "GET", f"/{bucket}/next"))
        nxt = conn.read_response()
        assert nxt is not None and (nxt[0], nxt[2]) == (200, b"next object"), nxt
    finally:
        conn.close()


def test_chunked_signed_upload(server, ids, s3, bucket):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD (aws-chunked, signed chunks) stores the decoded bytes; aws-chunked is not kept."""
    data = os.urandom(200 * 1024 + 17)
    r = chunked_put(server, ids.a_alice, bucket, "chunked/obj", data,
                    headers={"Content-Type": "application/x-chunked", "x-amz-meta-mode": "streaming"})
    assert r.status == 200, r.body
    assert r.header("ETag") == etag(data)
    got = s3.get_object(Bucket=bucket, Key="chunked/obj")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    assert got["ContentType"] == "application/x-chunked"
    assert got["Metadata"] == {"mode": "streaming"}
    assert "aws-chunked" not in (got.get("ContentEncoding") or "")
    # A body that is exactly one chunk plus the final empty one.
    r = chunked_put(server, ids.a_alice, bucket, "chunked/small", b"hello chunks", chunk_size=8192)
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key="chunked/small")["Body"].read() == b"hello chunks"


@pytest.mark.parametrize("corrupt", [0, 2, 3])
def test_chunked_upload_bad_chunk_signature(server, ids, s3, bucket, corrupt):
    """A wrong chunk signature (first, middle or final empty chunk) is 403 SignatureDoesNotMatch and nothing is stored."""
    data = os.urandom(3 * 64 * 1024 - 5)  # chunks 0, 1, 2 and the final empty chunk 3
    key = f"chunked/bad-{corrupt}"
    r = chunked_put(server, ids.a_alice, bucket, key, data, corrupt_chunk=corrupt)
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r.body
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)


def test_unsigned_trailer_upload(server, ids, s3, bucket):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER (boto3's default over HTTPS) stores the bytes and the trailing CRC32; a wrong trailer is BadDigest."""
    data = os.urandom(40 * 1024 + 3)
    r = unsigned_trailer_put(server, ids.a_alice, bucket, "trailer/ok", data)
    assert r.status == 200, r.body
    assert r.header("ETag") == etag(data)
    assert r.header("x-amz-checksum-crc32") == crc32_b64(data)
    got = s3.get_object(Bucket=bucket, Key="trailer/ok", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == crc32_b64(data)
    r = unsigned_trailer_put(server, ids.a_alice, bucket, "trailer/bad", data, wrong_checksum=True)
    assert (r.status, r.error_code()) == (400, "BadDigest"), r.body
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="trailer/bad")


# ---------------------------------------------------------------------------------------------------------------------
# Virtual-hosted style
# ---------------------------------------------------------------------------------------------------------------------


def test_virtual_hosted_style_boto3(server, ids, s3):
    """boto3 with addressing_style=virtual (Host: bucket.localhost:PORT) creates, writes, lists, reads and deletes."""
    name = bucket_name("vhost")
    hosts = []
    with localhost_subdomains():
        v = virtual_client(server, ids.a_alice)
        v.meta.events.register("before-send", lambda request, **_: hosts.append(urllib.parse.urlsplit(request.url).netloc))
        v.create_bucket(Bucket=name)
        v.put_object(Bucket=name, Key="dir/é file.txt", Body=b"virtual", Metadata={"via": "vhost"})
        got = v.get_object(Bucket=name, Key="dir/é file.txt")
        assert (got["Body"].read(), got["Metadata"]) == (b"virtual", {"via": "vhost"})
        assert [o["Key"] for o in v.list_objects_v2(Bucket=name)["Contents"]] == ["dir/é file.txt"]
        assert v.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        expect_error(v.get_object, "NoSuchKey", 404, Bucket=name, Key="missing")
        expect_error(v.get_object, "NoSuchBucket", 404, Bucket=bucket_name("vmissing"), Key="k")
    assert hosts and all(h == f"{name}.localhost:{server.port}" for h in hosts[:5]), hosts
    # The same bucket and object through path-style.
    assert s3.get_object(Bucket=name, Key="dir/é file.txt")["Body"].read() == b"virtual"
    with localhost_subdomains():
        v.delete_object(Bucket=name, Key="dir/é file.txt")
        v.delete_bucket(Bucket=name)
    head_missing(s3, name)


def test_virtual_hosted_style_raw_host_header(server, ids, s3, bucket):
    """Raw signed requests with Host: bucket.localhost:PORT address the bucket from the Host header."""
    s3.put_object(Bucket=bucket, Key="raw v/k+1", Body=b"by host header")
    host = f"{bucket}.localhost:{server.port}"
    r = raw_request(server, ids.a_alice, "GET", f"/{quote_key('raw v/k+1')}", host=host)
    assert (r.status, r.body) == (200, b"by host header")
    r = raw_request(server, ids.a_alice, "GET", "/", query="list-type=2", host=host)
    assert r.status == 200
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    root = r.xml()
    assert root.tag == f"{ns}ListBucketResult"
    assert root.find(f"{ns}Name").text == bucket
    assert [c.find(f"{ns}Key").text for c in root.findall(f"{ns}Contents")] == ["raw v/k+1"]
    r = raw_request(server, ids.a_alice, "PUT", "/put-by-host", body=b"written", host=host)
    assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="put-by-host")["Body"].read() == b"written"
    r = raw_request(server, ids.a_alice, "GET", "/k", host=f"{bucket_name('nohost')}.localhost:{server.port}")
    assert (r.status, r.error_code()) == (404, "NoSuchBucket")


# ---------------------------------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------------------------------


def test_unknown_access_key(server, ids, s3, bucket):
    """An unknown access key is 403 InvalidAccessKeyId (S3 XML with AWSAccessKeyId and x-amz-request-id); nothing changes."""
    unknown = Creds(_key_id(), "x" * 40)
    c = s3_client(server, unknown)
    name = bucket_name("ghost")
    e = expect_error(c.create_bucket, "InvalidAccessKeyId", 403, Bucket=name)
    assert e.response["Error"]["Message"] == "The AWS Access Key Id you provided does not exist in our records."
    assert e.response["Error"].get("AWSAccessKeyId") == unknown.access_key
    assert e.response["ResponseMetadata"].get("RequestId")
    expect_error(c.put_object, "InvalidAccessKeyId", 403, Bucket=bucket, Key="intruder", Body=b"x")
    expect_error(c.list_buckets, "InvalidAccessKeyId", 403)
    r = raw_request(server, unknown, "GET", f"/{bucket}")
    assert (r.status, r.error_code()) == (403, "InvalidAccessKeyId")
    assert r.header("x-amz-request-id") and r.header("Content-Type").startswith("application/xml")
    head_missing(s3, name)
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="intruder")


def test_bad_secret(server, ids, s3, bucket):
    """A wrong secret is 403 SignatureDoesNotMatch with S3's message; nothing is created or overwritten."""
    good = ids.a_alice
    bad = Creds(good.access_key, good.secret_key[:-1] + ("A" if good.secret_key[-1] != "A" else "B"))
    c = s3_client(server, bad)
    name = bucket_name("badsig")
    e = expect_error(c.create_bucket, "SignatureDoesNotMatch", 403, Bucket=name)
    assert e.response["Error"]["Message"] == S3_SIGNATURE_MISMATCH
    assert e.response["Error"].get("AWSAccessKeyId") == good.access_key
    s3.put_object(Bucket=bucket, Key="victim", Body=b"original")
    expect_error(c.put_object, "SignatureDoesNotMatch", 403, Bucket=bucket, Key="victim", Body=b"overwritten")
    expect_error(c.delete_object, "SignatureDoesNotMatch", 403, Bucket=bucket, Key="victim")
    head_missing(s3, name)
    assert s3.get_object(Bucket=bucket, Key="victim")["Body"].read() == b"original"


def test_request_time_too_skewed(server, ids, s3, bucket):
    """A request signed 20 minutes off is 403 RequestTimeTooSkewed."""
    real = botocore.auth.get_current_datetime
    c = s3_client(server, ids.a_alice)
    with mock.patch.object(botocore.auth, "get_current_datetime",
                           lambda *a, **k: real(*a, **k) - datetime.timedelta(minutes=20)):
        e = expect_error(c.put_object, "RequestTimeTooSkewed", 403, Bucket=bucket, Key="skewed", Body=b"x")
    assert e.response["Error"]["Message"] == "The difference between the request time and the current time is too large."
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="skewed")


def test_anonymous_requests_denied(server, s3, bucket):
    """Unsigned requests to a private bucket are 403 AccessDenied and write nothing."""
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    r = raw_request(server, None, "GET", f"/{bucket}/private")
    assert (r.status, r.error_code(), r.error_field("Message")) == (403, "AccessDenied", "Access Denied")
    r = raw_request(server, None, "PUT", f"/{bucket}/anon", body=b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied")
    r = raw_request(server, None, "GET", f"/{bucket}")
    assert (r.status, r.error_code()) == (403, "AccessDenied")
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="anon")


def test_temporary_credentials(server, ids, s3, bucket):
    """STS session credentials sign S3 requests; a wrong session token is 400 InvalidToken."""
    sess = server.client("sts", ids.a_alice).get_session_token(DurationSeconds=900)["Credentials"]
    temp = Creds(sess["AccessKeyId"], sess["SecretAccessKey"], sess["SessionToken"])
    t = s3_client(server, temp)
    t.put_object(Bucket=bucket, Key="by-session", Body=b"temp")
    assert t.get_object(Bucket=bucket, Key="by-session")["Body"].read() == b"temp"
    assert t.list_buckets()["Owner"]["ID"] == s3.list_buckets()["Owner"]["ID"]
    broken = Creds(temp.access_key, temp.secret_key, temp.session_token[:-4] + "AAAA")
    expect_error(s3_client(server, broken).put_object, "InvalidToken", 400, Bucket=bucket, Key="bad-token", Body=b"x")
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key="bad-token")


# ---------------------------------------------------------------------------------------------------------------------
# Cross-account access
# ---------------------------------------------------------------------------------------------------------------------


def test_cross_account_denied_without_policy(server, ids, s3, bucket):
    """Another account gets 403 AccessDenied on an existing bucket without a policy (NoSuchBucket only if it does not exist)."""
    s3.put_object(Bucket=bucket, Key="obj", Body=b"owned by A")
    for creds in (ids.b_carol, ids.b_root, ids.c_mallory):
        other = s3_client(server, creds)
        for call, kw in [
            (other.get_object, {"Key": "obj"}), (other.put_object, {"Key": "obj", "Body": b"B"}),
            (other.delete_object, {"Key": "obj"}), (other.list_objects_v2, {}), (other.list_objects, {}),
            (other.delete_bucket, {}), (other.get_bucket_policy, {}), (other.get_bucket_location, {}),
            (other.put_bucket_policy, {"Policy": json.dumps(policy_doc(bucket))}),
            (other.create_multipart_upload, {"Key": "mpu"}),
        ]:
            e = expect_error(call, "AccessDenied", 403, Bucket=bucket, **kw)
            assert e.response["Error"]["Message"] == "Access Denied"
        expect_error(other.head_bucket, "403", 403, Bucket=bucket)
        expect_error(other.head_object, "403", 403, Bucket=bucket, Key="obj")
        expect_error(other.copy_object, "AccessDenied", 403, Bucket=bucket, Key="copy",
                     CopySource={"Bucket": bucket, "Key": "obj"})
        assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]
        expect_error(other.get_object, "NoSuchBucket", 404, Bucket=bucket_name("absent"), Key="obj")
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"owned by A"
    assert list_keys(s3, bucket) == ["obj"]
    expect_error(s3.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=bucket)
    # ExpectedBucketOwner: the owner's own request fails when it names another account.
    expect_error(s3.get_object, "AccessDenied", 403, Bucket=bucket, Key="obj", ExpectedBucketOwner=ACCOUNT_B)
    assert s3.get_object(Bucket=bucket, Key="obj", ExpectedBucketOwner=ACCOUNT_A)["Body"].read() == b"owned by A"


def test_cross_account_granted_by_bucket_policy(server, ids, s3, bucket):
    """A bucket policy granting account B GetObject/ListBucket lets B read and list (nothing else); removing it denies again."""
    s3.put_object(Bucket=bucket, Key="shared/doc", Body=b"for B")
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/shared/*"},
        {"Sid": "List", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
    ]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    b = s3_client(server, ids.b_root)  # B's root: identity permissions are implicit, the bucket policy grants the rest
    assert b.get_object(Bucket=bucket, Key="shared/doc")["Body"].read() == b"for B"
    assert [o["Key"] for o in b.list_objects_v2(Bucket=bucket)["Contents"]] == ["shared/doc"]
    s3.put_object(Bucket=bucket, Key="private/doc", Body=b"A only")
    expect_error(b.get_object, "AccessDenied", 403, Bucket=bucket, Key="private/doc")
    expect_error(b.put_object, "AccessDenied", 403, Bucket=bucket, Key="shared/new", Body=b"x")
    expect_error(b.delete_object, "AccessDenied", 403, Bucket=bucket, Key="shared/doc")
    expect_error(s3_client(server, ids.c_mallory).get_object, "AccessDenied", 403, Bucket=bucket, Key="shared/doc")
    s3.delete_bucket_policy(Bucket=bucket)
    expect_error(b.get_object, "AccessDenied", 403, Bucket=bucket, Key="shared/doc")
    assert list_keys(s3, bucket) == ["private/doc", "shared/doc"]


def test_bucket_policy_explicit_deny_same_account(server, ids, s3, bucket):
    """An explicit Deny in the bucket policy blocks a user of the owning account; others of the account are unaffected."""
    s3.put_object(Bucket=bucket, Key="secret/x", Body=b"s")
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoBob", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(doc))
    bob = s3_client(server, ids.a_bob)
    expect_error(bob.get_object, "AccessDenied", 403, Bucket=bucket, Key="secret/x")
    assert s3.get_object(Bucket=bucket, Key="secret/x")["Body"].read() == b"s"
    s3.put_object(Bucket=bucket, Key="public/y", Body=b"p")
    assert bob.get_object(Bucket=bucket, Key="public/y")["Body"].read() == b"p"


# ---------------------------------------------------------------------------------------------------------------------
# Restart persistence
# ---------------------------------------------------------------------------------------------------------------------


def test_restart_keeps_s3_state(own_server, ids):
    """Buckets, objects (metadata, multipart ETags), policy, tags, versioning and an in-progress upload survive a restart."""
    srv = own_server
    s3 = s3_client(srv, ids.a_alice, request_checksum_calculation="when_required")
    eu = s3_client(srv, ids.a_alice, region="eu-west-1")
    b1 = create_bucket(s3, bucket_name("keep"))
    b2 = create_bucket(eu, bucket_name("keepeu"), region="eu-west-1")
    s3.put_object(Bucket=b1, Key="dir/é meta.txt", Body=b"persisted", ContentType="text/x-kept",
                  Metadata={"who": "alice"})
    eu.put_object(Bucket=b2, Key="plain", Body=b"eu bytes")
    s3.put_bucket_policy(Bucket=b1, Policy=json.dumps(policy_doc(b1)))
    s3.put_bucket_tagging(Bucket=b1, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_bucket_versioning(Bucket=b1, VersioningConfiguration={"Status": "Enabled"})
    done_parts = [os.urandom(5 * MiB), b"done tail"]
    uid = s3.create_multipart_upload(Bucket=b1, Key="completed")["UploadId"]
    tags = [s3.upload_part(Bucket=b1, Key="completed", UploadId=uid, PartNumber=n, Body=p)["ETag"]
            for n, p in enumerate(done_parts, start=1)]
    s3.complete_multipart_upload(Bucket=b1, Key="completed", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in enumerate(tags, start=1)]})
    pending_part = os.urandom(5 * MiB)
    pending = s3.create_multipart_upload(Bucket=b1, Key="pending", Metadata={"state": "open"})["UploadId"]
    p1 = s3.upload_part(Bucket=b1, Key="pending", UploadId=pending, PartNumber=1, Body=pending_part)["ETag"]
    before = {
        "buckets": [b for b in s3.list_buckets()["Buckets"] if b["Name"] in (b1, b2)],
        "head": strip_meta(s3.head_object(Bucket=b1, Key="dir/é meta.txt")),
        "multi": strip_meta(s3.head_object(Bucket=b1, Key="completed")),
        "owner": s3.list_buckets()["Owner"],
    }

    srv.restart()

    s3 = s3_client(srv, ids.a_alice, request_checksum_calculation="when_required")
    eu = s3_client(srv, ids.a_alice, region="eu-west-1")
    assert [b for b in s3.list_buckets()["Buckets"] if b["Name"] in (b1, b2)] == before["buckets"]
    assert s3.list_buckets()["Owner"] == before["owner"]
    assert eu.get_bucket_location(Bucket=b2)["LocationConstraint"] == "eu-west-1"
    got = s3.get_object(Bucket=b1, Key="dir/é meta.txt")
    assert got["Body"].read() == b"persisted"
    assert strip_meta(s3.head_object(Bucket=b1, Key="dir/é meta.txt")) == before["head"]
    assert strip_meta(s3.head_object(Bucket=b1, Key="completed")) == before["multi"]
    assert s3.get_object(Bucket=b1, Key="completed")["Body"].read() == b"".join(done_parts)
    assert eu.get_object(Bucket=b2, Key="plain")["Body"].read() == b"eu bytes"
    assert json.loads(s3.get_bucket_policy(Bucket=b1)["Policy"]) == policy_doc(b1)
    assert s3.get_bucket_tagging(Bucket=b1)["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.get_bucket_versioning(Bucket=b1)["Status"] == "Enabled"
    assert [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=b1)["Uploads"]] == [("pending", pending)]
    assert [(p["PartNumber"], p["ETag"]) for p in s3.list_parts(Bucket=b1, Key="pending", UploadId=pending)["Parts"]] == [
        (1, p1)]
    p2 = s3.upload_part(Bucket=b1, Key="pending", UploadId=pending, PartNumber=2, Body=b"after restart")["ETag"]
    done = s3.complete_multipart_upload(Bucket=b1, Key="pending", UploadId=pending, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]})
    assert done["ETag"] == multipart_etag([pending_part, b"after restart"])
    got = s3.get_object(Bucket=b1, Key="pending")
    assert got["Body"].read() == pending_part + b"after restart"
    assert got["Metadata"] == {"state": "open"}
    # Another account is still refused after the restart.
    expect_error(s3_client(srv, ids.c_mallory).get_object, "AccessDenied", 403, Bucket=b1, Key="dir/é meta.txt")
