"""S3 robustness (issue 12): hostile XML bodies, keys holding U+0000, and the calls Cairn answers NotImplemented.

- A deeply nested XML body (25,000 elements, about 175 KB) used to overflow the stack and kill the process. S3 answers
  a body that does not match its schema with `MalformedXML` (400); no S3 input document nests more than 7 elements
  (botocore's model), so Cairn refuses anything deeper than 32 while parsing, and records the call as any failure.
- S3 keys may hold any UTF-8 character, U+0000 included. XML 1.0 cannot carry U+0000, so S3 writes such characters in
  listings as `&#x0;` (the character-reference form S3 uses for control characters, which strict parsers reject) and
  clients ask for `encoding-type=url` (boto3 always does), where the key is percent-encoded (`%00`).
- Every call that passes authentication is an event, whatever Cairn answers: an S3 operation Cairn does not serve
  is answered `501 NotImplemented` and recorded under the name CloudTrail gives it, with S3's requestParameters.
"""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.parse

import pytest

from cairn_harness import ACCOUNT_A, expect_error, find_by_request_id
from s3_support import bucket_name, create_bucket, error_of, md5_b64, raw_request, s3_client, status_of

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
NOT_IMPLEMENTED = "A header you provided implies functionality that is not implemented"


def stored_records(server, request_id: str) -> list[dict]:
    """Every record stored for a request id, read from the data directory (data events are not in LookupEvents)."""
    server.flush()
    db = sqlite3.connect(f"file:{server.data_dir}/cairn.sqlite?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT record FROM events").fetchall()
    finally:
        db.close()
    return [rec for rec in (json.loads(bytes(r[0])) for r in rows) if rec["requestID"] == request_id]


def only_record(server, request_id: str) -> dict:
    [rec] = stored_records(server, request_id)
    return rec


def nested(root: str, depth: int, inner: str = "a") -> bytes:
    """`<root>` around `depth` nested `<inner>` elements."""
    return (f'<{root} xmlns="{NAMESPACE}">' + f"<{inner}>" * depth + "x" + f"</{inner}>" * depth
            + f"</{root}>").encode()


def assert_alive(server, ids) -> None:
    assert server.proc.poll() is None, server.log_text()[-3000:]
    s3_client(server, ids.a_alice).list_buckets()


# --------------------------------------------------------------------------------------------------------------------
# 1. Deeply nested XML
# --------------------------------------------------------------------------------------------------------------------


def test_deeply_nested_bodies_are_malformed_xml_and_recorded(server, ids):
    """25,000 nested elements in the body of every XML-body operation: 400 MalformedXML, the process stays up, and
    each call is recorded under its operation with the error."""
    s3 = s3_client(server, ids.a_alice)
    bucket = create_bucket(s3, bucket_name("deep"))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    deep = 25_000
    cases = [
        ("PutBucketTagging", "PUT", f"/{bucket}", "tagging", nested("Tagging", deep, "TagSet")),
        ("PutBucketVersioning", "PUT", f"/{bucket}", "versioning", nested("VersioningConfiguration", deep)),
        ("PutBucketEncryption", "PUT", f"/{bucket}", "encryption", nested("ServerSideEncryptionConfiguration", deep)),
        ("DeleteObjects", "POST", f"/{bucket}", "delete", nested("Delete", deep, "Object")),
        ("CreateBucket", "PUT", f"/{bucket_name('deep-new')}", "", nested("CreateBucketConfiguration", deep)),
        ("CompleteMultipartUpload", "POST", f"/{bucket}/mp", f"uploadId={upload}",
         nested("CompleteMultipartUpload", deep, "Part")),
    ]
    assert len(cases[0][4]) > 170_000
    for name, method, path, query, body in cases:
        r = raw_request(server, ids.a_alice, method, path, query=query, body=body,
                        headers={"Content-MD5": md5_b64(body)})
        assert (r.status, r.error_code()) == (400, "MalformedXML"), (name, r.status, r.body[:300])
        assert r.error_field("Message") == MALFORMED
        assert_alive(server, ids)
        rec = only_record(server, r.header("x-amz-request-id"))
        assert rec["eventName"] == name
        assert rec["errorCode"] == "MalformedXML" and rec["errorMessage"] == MALFORMED
        assert rec["requestParameters"]["bucketName"] == path.split("/")[1]
    # The bucket's tags and versioning were not touched; the upload is still there.
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", []) == []


def test_nesting_beyond_what_s3_documents_is_malformed_but_real_documents_pass(server, ids):
    """The depth limit sits far above the deepest S3 document and far below a stack overflow: 40 levels are refused,
    a real DeleteObjects document still works (the exact limit is checked by the S3XML unit tests)."""
    s3 = s3_client(server, ids.a_alice)
    bucket = create_bucket(s3, bucket_name("depth"))
    body = nested("Tagging", 40, "TagSet")
    r = raw_request(server, ids.a_alice, "PUT", f"/{bucket}", query="tagging", body=body,
                    headers={"Content-MD5": md5_b64(body)})
    assert (r.status, r.error_code()) == (400, "MalformedXML")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["k"]
    rec = only_record(server, r.header("x-amz-request-id"))
    assert rec["eventName"] == "PutBucketTagging" and rec["errorCode"] == "MalformedXML"


# --------------------------------------------------------------------------------------------------------------------
# 2. Keys holding U+0000
# --------------------------------------------------------------------------------------------------------------------


def test_keys_with_nul_round_trip(server, ids):
    """`a`, `a\\0b` and `a\\0c` are three objects: each is put, listed whole (v1 and v2, encoding-type=url as boto3
    asks), read, headed and deleted by its own full key."""
    s3 = s3_client(server, ids.a_alice)
    bucket = create_bucket(s3, bucket_name("nul"))
    keys = {"a": b"plain", "a\x00b": b"with nul b", "a\x00c": b"with nul c", "\x00": b"only nul"}
    puts = {key: s3.put_object(Bucket=bucket, Key=key, Body=body) for key, body in keys.items()}
    expected = sorted(keys, key=lambda k: k.encode())  # S3 lists keys in UTF-8 byte order
    v2 = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in v2["Contents"]] == expected
    assert v2["KeyCount"] == 4
    v1 = s3.list_objects(Bucket=bucket)
    assert [o["Key"] for o in v1["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="a\x00")["Contents"]] == ["a\x00b", "a\x00c"]
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2)
    rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page["Contents"] + rest["Contents"]] == expected
    for key, body in keys.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
    s3.delete_object(Bucket=bucket, Key="a\x00b")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["\x00", "a", "a\x00c"]
    # The error document names the key, which XML cannot carry: only the status is checked.
    assert status_of(error_of(s3.head_object, Bucket=bucket, Key="a\x00b")) == 404
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"plain"
    # The data event names the whole key.
    rec = only_record(server, puts["a\x00c"]["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"]["key"] == "a\x00c"
    assert rec["resources"][0]["ARN"] == f"arn:aws:s3:::{bucket}/a\x00c"


def test_nul_in_listings_without_encoding_type(server, ids):
    """Without encoding-type S3 writes U+0000 as the reference `&#x0;` (never a raw NUL byte); with `url` as `%00`."""
    s3 = s3_client(server, ids.a_alice)
    bucket = create_bucket(s3, bucket_name("nulxml"))
    s3.put_object(Bucket=bucket, Key="x\x00y", Body=b"1")
    for query in ("list-type=2", ""):
        r = raw_request(server, ids.a_alice, "GET", f"/{bucket}", query=query)
        assert r.status == 200
        assert b"\x00" not in r.body
        assert b"<Key>x&#x0;y</Key>" in r.body, r.body
    r = raw_request(server, ids.a_alice, "GET", f"/{bucket}", query="encoding-type=url&list-type=2&prefix=x%00")
    assert r.status == 200
    root = r.xml()
    ns = {"s": NAMESPACE}
    assert [k.text for k in root.findall("s:Contents/s:Key", ns)] == ["x%00y"]
    assert root.find("s:Prefix", ns).text == "x%00"
    assert urllib.parse.unquote(root.find("s:Contents/s:Key", ns).text) == "x\x00y"


# --------------------------------------------------------------------------------------------------------------------
# 3. Calls answered NotImplemented are recorded
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unserved_bucket(server, ids):
    s3 = s3_client(server, ids.a_alice)
    bucket = create_bucket(s3, bucket_name("unserved"))
    s3.put_object(Bucket=bucket, Key="dir/obj", Body=b"a,b\n1,2\n")
    return bucket


# (boto3 method, arguments, CloudTrail eventName, subresource, body element S3 records or None, readOnly)
BUCKET_CALLS = [
    ("put_bucket_logging", {"BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": "p/"}}},
     "PutBucketLogging", "logging", "BucketLoggingStatus", False),
    ("put_bucket_website", {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}},
     "PutBucketWebsite", "website", "WebsiteConfiguration", False),
    ("put_bucket_replication", {"ReplicationConfiguration": {
        "Role": "arn:aws:iam::111111111111:role/r",
        "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::dest"}, "Prefix": ""}]}},
     "PutBucketReplication", "replication", "ReplicationConfiguration", False),
    ("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}},
     "PutBucketLifecycle", "lifecycle", "LifecycleConfiguration", False),
    ("put_public_access_block", {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}},
     "PutBucketPublicAccessBlock", "publicAccessBlock", "PublicAccessBlockConfiguration", False),
    ("put_bucket_acl", {"ACL": "public-read"}, "PutBucketAcl", "acl", None, False),
    ("get_bucket_cors", {}, "GetBucketCors", "cors", None, True),
    ("delete_bucket_website", {}, "DeleteBucketWebsite", "website", None, False),
    ("get_object_lock_configuration", {}, "GetBucketObjectLockConfiguration", "object-lock", None, True),
    ("get_bucket_accelerate_configuration", {}, "GetAccelerateConfiguration", "accelerate", None, True),
]


@pytest.mark.parametrize("method,kwargs,event_name,subresource,body_root,read_only", BUCKET_CALLS,
                         ids=[c[2] for c in BUCKET_CALLS])
def test_unserved_bucket_calls_are_management_events(server, ids, unserved_bucket, method, kwargs, event_name,
                                                     subresource, body_root, read_only):
    """Bucket configuration calls Cairn does not serve: 501 NotImplemented, recorded as management events that
    LookupEvents returns, with the subresource as an empty-string parameter and the body under its element name."""
    s3 = s3_client(server, ids.a_alice)
    e = expect_error(getattr(s3, method), "NotImplemented", 501, Bucket=unserved_bucket, **kwargs)
    assert e.response["Error"]["Message"] == NOT_IMPLEMENTED
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), event_name,
                             e.response["ResponseMetadata"]["RequestId"])
    assert rec["eventSource"] == "s3.amazonaws.com"
    assert rec["errorCode"] == "NotImplemented" and rec["errorMessage"] == NOT_IMPLEMENTED
    assert rec["eventCategory"] == "Management" and rec["managementEvent"] is True
    assert rec["readOnly"] is read_only
    params = rec["requestParameters"]
    assert params["bucketName"] == unserved_bucket
    assert params["Host"] == server.url.split("//")[1]
    assert params[subresource] == ""
    assert "key" not in params
    if body_root:
        assert list(params)[0] == body_root
        assert params[body_root]["xmlns"] == NAMESPACE
    if method == "put_bucket_logging":
        assert params["BucketLoggingStatus"]["LoggingEnabled"] == {"TargetBucket": "logs", "TargetPrefix": "p/"}
    if method == "put_public_access_block":
        assert params["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] == "false"
    if method == "put_bucket_acl":
        assert params["x-amz-acl"] == "public-read"
    assert rec["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::S3::Bucket",
                                 "ARN": f"arn:aws:s3:::{unserved_bucket}"}]


OBJECT_CALLS = [
    ("put_object_acl", {"ACL": "public-read"}, "PutObjectAcl", "acl", None, False),
    ("get_object_acl", {}, "GetObjectAcl", "acl", None, True),
    ("put_object_tagging", {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}, "PutObjectTagging", "tagging",
     "Tagging", False),
    ("get_object_tagging", {}, "GetObjectTagging", "tagging", None, True),
    ("delete_object_tagging", {}, "DeleteObjectTagging", "tagging", None, False),
    ("restore_object", {"RestoreRequest": {"Days": 1}}, "RestoreObject", "restore", "RestoreRequest", False),
    ("put_object_retention", {"Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": "2030-01-01T00:00:00Z"}},
     "PutObjectRetention", "retention", "Retention", False),
    ("get_object_retention", {}, "GetObjectRetention", "retention", None, True),
    ("put_object_legal_hold", {"LegalHold": {"Status": "ON"}}, "PutObjectLegalHold", "legal-hold", "LegalHold", False),
    ("get_object_attributes", {"ObjectAttributes": ["ETag"]}, "GetObjectAttributes", "attributes", None, True),
    ("select_object_content", {
        "Expression": "select * from s3object", "ExpressionType": "SQL",
        "InputSerialization": {"CSV": {}}, "OutputSerialization": {"CSV": {}}},
     "SelectObjectContent", "select", "SelectObjectContentRequest", True),
]


@pytest.mark.parametrize("method,kwargs,event_name,subresource,body_root,read_only", OBJECT_CALLS,
                         ids=[c[2] for c in OBJECT_CALLS])
def test_unserved_object_calls_are_data_events(server, ids, unserved_bucket, method, kwargs, event_name, subresource,
                                               body_root, read_only):
    """Object-level calls Cairn does not serve: 501 NotImplemented, recorded as data events naming the object."""
    s3 = s3_client(server, ids.a_alice)
    e = expect_error(getattr(s3, method), "NotImplemented", 501, Bucket=unserved_bucket, Key="dir/obj", **kwargs)
    rec = only_record(server, e.response["ResponseMetadata"]["RequestId"])
    assert rec["eventName"] == event_name
    assert rec["errorCode"] == "NotImplemented" and rec["errorMessage"] == NOT_IMPLEMENTED
    assert rec["eventCategory"] == "Data" and rec["managementEvent"] is False
    assert rec["readOnly"] is read_only
    params = rec["requestParameters"]
    assert params["bucketName"] == unserved_bucket and params["key"] == "dir/obj"
    assert params[subresource] == ""
    if body_root:
        assert list(params)[0] == body_root
        assert params[body_root]["xmlns"] == NAMESPACE
    if method == "put_object_tagging":
        assert params["Tagging"]["TagSet"]["Tag"] == {"Key": "k", "Value": "v"}
    if method == "restore_object":
        assert params["RestoreRequest"]["Days"] == "1"
    assert rec["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{unserved_bucket}/dir/obj"},
        {"accountId": ACCOUNT_A, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{unserved_bucket}"},
    ]
    # The object is untouched.
    assert s3.get_object(Bucket=unserved_bucket, Key="dir/obj")["Body"].read() == b"a,b\n1,2\n"


def test_unserved_listing_and_raw_subresources(server, ids, unserved_bucket):
    """ListObjectVersions is a data event naming only the bucket; an object PUT with `?renameObject` or
    `?encryption` is its own operation, never a PutObject that would overwrite the object."""
    s3 = s3_client(server, ids.a_alice)
    e = expect_error(s3.list_object_versions, "NotImplemented", 501, Bucket=unserved_bucket)
    rec = only_record(server, e.response["ResponseMetadata"]["RequestId"])
    assert rec["eventName"] == "ListObjectVersions" and rec["eventCategory"] == "Data" and rec["readOnly"] is True
    assert rec["requestParameters"]["versions"] == ""
    assert [r["type"] for r in rec["resources"]] == ["AWS::S3::Bucket"]
    for query, name in (("renameObject", "RenameObject"), ("encryption", "UpdateObjectEncryption")):
        body = b"" if query == "renameObject" else (
            f'<ObjectEncryption xmlns="{NAMESPACE}"><SSE-KMS><KMSKeyArn>k</KMSKeyArn></SSE-KMS></ObjectEncryption>'
        ).encode()
        r = raw_request(server, ids.a_alice, "PUT", f"/{unserved_bucket}/dir/obj", query=query, body=body,
                        headers={"x-amz-rename-source": f"/{unserved_bucket}/other"} if not body else None)
        assert (r.status, r.error_code()) == (501, "NotImplemented"), r.body
        rec = only_record(server, r.header("x-amz-request-id"))
        assert rec["eventName"] == name and rec["eventCategory"] == "Data" and rec["readOnly"] is False
        assert rec["requestParameters"][query] == ""
    assert s3.get_object(Bucket=unserved_bucket, Key="dir/obj")["Body"].read() == b"a,b\n1,2\n"


def test_unserved_call_on_missing_bucket_is_still_recorded(server, ids):
    """The attempt is recorded even when the bucket does not exist (no owner copy is made)."""
    s3 = s3_client(server, ids.a_alice)
    missing = bucket_name("nosuch")
    e = expect_error(s3.put_bucket_logging, "NotImplemented", 501, Bucket=missing,
                     BucketLoggingStatus={})
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "PutBucketLogging",
                             e.response["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"]["bucketName"] == missing
    assert re.fullmatch(r"[0-9A-F]{16}", rec["requestID"])


# CloudTrail's event names where they differ from the API's: the S3 user guide's list of bucket-level actions
# tracked by CloudTrail (PutBucketLifecycle, PutBucketNotification, PutBucketPublicAccessBlock, ...) and recorded
# events (GetAccelerateConfiguration, GetBucketObjectLockConfiguration, and the GET listings of analytics, inventory,
# metrics and intelligent-tiering recorded as GetBucket...Configuration).
CLOUDTRAIL_NAMES = {
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "ListBucketAnalyticsConfigurations": "GetBucketAnalyticsConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetBucketIntelligentTieringConfiguration",
    "ListBucketInventoryConfigurations": "GetBucketInventoryConfiguration",
    "ListBucketMetricsConfigurations": "GetBucketMetricsConfiguration",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
}

# The operations Cairn serves (every other S3 operation with a subresource is answered NotImplemented).
SERVED = {
    "ListBuckets", "CreateBucket", "HeadBucket", "DeleteBucket", "GetBucketLocation", "GetBucketPolicy",
    "PutBucketPolicy", "DeleteBucketPolicy", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging",
    "GetBucketVersioning", "PutBucketVersioning", "GetBucketEncryption", "PutBucketEncryption",
    "DeleteBucketEncryption", "GetBucketAcl", "ListObjects", "ListObjectsV2", "ListMultipartUploads", "DeleteObjects",
    "PutObject", "CopyObject", "GetObject", "HeadObject", "DeleteObject", "CreateMultipartUpload", "UploadPart",
    "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts",
}


def model_operations_with_subresource() -> list[tuple[str, str, str]]:
    """(operation, method, request URI) of every operation of botocore's S3 model addressed by a subresource."""
    import gzip
    import os

    import botocore

    path = os.path.join(os.path.dirname(botocore.__file__), "data", "s3", "2006-03-01", "service-2.json.gz")
    with gzip.open(path) as f:
        model = json.load(f)
    return sorted((name, op["http"]["method"], op["http"]["requestUri"]) for name, op in model["operations"].items()
                  if "?" in op["http"]["requestUri"] and op["http"]["requestUri"].startswith("/{Bucket}"))


def test_every_unserved_model_operation_is_recorded_under_its_name(server, ids, unserved_bucket):
    """Each S3 operation of botocore's model that Cairn does not serve, sent as its request URI says (method,
    bucket or object, subresource), is answered NotImplemented and recorded under CloudTrail's name for it."""
    operations = [op for op in model_operations_with_subresource() if op[0] not in SERVED]
    assert len(operations) > 70
    for name, method, uri in operations:
        path, _, query = uri.partition("?")
        path = path.replace("{Bucket}", unserved_bucket).replace("{Key+}", "dir/obj")
        r = raw_request(server, ids.a_alice, method, path, query=query)
        assert (r.status, r.error_code()) == (501, "NotImplemented"), (name, r.status, r.body[:200])
        rec = only_record(server, r.header("x-amz-request-id"))
        expected = CLOUDTRAIL_NAMES.get(name, name)
        assert rec["eventName"] == expected, name
        object_level = "{Key+}" in uri
        data = object_level or expected in ("ListObjectVersions", "CreateSession")
        assert rec["eventCategory"] == ("Data" if data else "Management"), name
        assert rec["readOnly"] is (expected.startswith(("Get", "List")) or expected == "SelectObjectContent"), name
        assert rec["errorCode"] == "NotImplemented", name
        assert rec["requestParameters"][query.split("&")[0]] == "", name
        assert ("key" in rec["requestParameters"]) is object_level, name
    assert s3_client(server, ids.a_alice).get_object(Bucket=unserved_bucket, Key="dir/obj")["Body"].read() == b"a,b\n1,2\n"
