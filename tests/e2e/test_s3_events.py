"""S3 calls in CloudTrail: bucket-level calls are management events with S3's conventions; object-level calls are
data events, recorded (durably) but never returned by LookupEvents. CreateTrail checks the bucket for real."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from botocore.config import Config

from cairn_harness import (
    ACCOUNT_A, ACCOUNT_B, cloudtrail_bucket_policy, ensure_bucket, expect_error, find_by_request_id, lookup_all, records,
)

S3_REQUEST_ID = r"[0-9A-F]{16}"


def s3(server, creds, region="us-east-1"):
    return server.client("s3", creds, region=region, s3={"addressing_style": "path"})


def stored_records(server, request_id: str) -> list[dict]:
    """Every record stored for a request id, read from the data directory (data events are not in LookupEvents)."""
    server.flush()  # recorded events reach the event tables from the journal
    db = sqlite3.connect(f"file:{server.data_dir}/cairn.sqlite?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT record FROM events").fetchall()
    finally:
        db.close()
    out = [json.loads(bytes(r[0])) for r in rows]
    return [r for r in out if r["requestID"] == request_id]


def test_create_bucket_event_has_s3_conventions(server, ids):
    """CreateBucket: management event with bucketName, Host, the parsed body, 16-char requestID, additionalEventData."""
    client = s3(server, ids.a_alice, region="eu-west-1")
    r = client.create_bucket(Bucket="events-s3-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    request_id = r["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(S3_REQUEST_ID, request_id), request_id
    host_id = r["ResponseMetadata"]["HostId"]
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup, region="eu-west-1"), "CreateBucket", request_id)
    assert rec["eventSource"] == "s3.amazonaws.com"
    assert rec["awsRegion"] == "eu-west-1"
    assert rec["readOnly"] is False and rec["managementEvent"] is True and rec["eventCategory"] == "Management"
    params = rec["requestParameters"]
    assert params["bucketName"] == "events-s3-eu"
    assert params["Host"] == server.url.split("//")[1]
    assert params["CreateBucketConfiguration"] == {
        "LocationConstraint": "eu-west-1", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert rec["responseElements"] is None
    extra = rec["additionalEventData"]
    assert list(extra) == ["SignatureVersion", "bytesTransferredIn", "AuthenticationMethod", "x-amz-id-2", "bytesTransferredOut"]
    assert extra["SignatureVersion"] == "SigV4" and extra["AuthenticationMethod"] == "AuthHeader"
    assert extra["x-amz-id-2"] == host_id
    assert extra["bytesTransferredIn"] == int(r["ResponseMetadata"]["HTTPHeaders"].get("content-length", "0")) or extra["bytesTransferredIn"] > 0
    assert rec["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::events-s3-eu"}]
    keys = list(rec)
    assert keys.index("additionalEventData") == keys.index("responseElements") + 1
    assert keys.index("requestID") == keys.index("additionalEventData") + 1


def test_bucket_policy_event_and_lookup_by_resource(server, ids):
    """PutBucketPolicy records the policy as `bucketPolicy` and the subresource; ResourceName look-ups find it."""
    ensure_bucket(server, ids.a_alice, "events-s3-policy")
    policy = cloudtrail_bucket_policy("events-s3-policy", "logs/*")
    r = s3(server, ids.a_alice).put_bucket_policy(Bucket="events-s3-policy", Policy=json.dumps(policy, indent=2))
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "PutBucketPolicy", r["ResponseMetadata"]["RequestId"])
    params = rec["requestParameters"]
    assert list(params)[:3] == ["bucketPolicy", "bucketName", "Host"]
    assert params["bucketPolicy"] == policy
    assert params["policy"] == ""
    found = lookup_all(server.client("cloudtrail", ids.a_lookup),
                       LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "events-s3-policy"}])
    names = {e["EventName"] for e in found}
    assert {"CreateBucket", "PutBucketPolicy"} <= names
    assert all(res == {"ResourceType": "AWS::S3::Bucket", "ResourceName": "events-s3-policy"}
               for e in found for res in e["Resources"])


def test_failed_s3_call_is_recorded_with_s3_error(server, ids):
    """A bucket-level call that fails is recorded with S3's error code and message."""
    client = s3(server, ids.a_alice)
    e = expect_error(client.get_bucket_policy, "NoSuchBucket", 404, Bucket="events-s3-missing")
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetBucketPolicy",
                             e.response["ResponseMetadata"]["RequestId"])
    assert rec["errorCode"] == "NoSuchBucket"
    assert rec["errorMessage"] == "The specified bucket does not exist"
    assert rec["readOnly"] is True


def test_object_calls_are_data_events_not_in_event_history(server, ids):
    """PutObject and GetObject are stored as Data events with the object among their resources, but LookupEvents
    never returns them."""
    ensure_bucket(server, ids.a_alice, "events-s3-data")
    client = s3(server, ids.a_alice)
    put = client.put_object(Bucket="events-s3-data", Key="dir/obj one.txt", Body=b"hello")
    got = client.get_object(Bucket="events-s3-data", Key="dir/obj one.txt")
    assert got["Body"].read() == b"hello"
    for name, resp, read_only in [("PutObject", put, False), ("GetObject", got, True)]:
        request_id = resp["ResponseMetadata"]["RequestId"]
        [rec] = stored_records(server, request_id)
        assert rec["eventName"] == name
        assert rec["eventCategory"] == "Data" and rec["managementEvent"] is False
        assert rec["readOnly"] is read_only
        assert rec["requestParameters"]["key"] == "dir/obj one.txt"
        assert rec["requestParameters"]["bucketName"] == "events-s3-data"
        assert rec["resources"] == [
            {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::events-s3-data/dir/obj one.txt"},
            {"accountId": ACCOUNT_A, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::events-s3-data"},
        ]
    put_rec = stored_records(server, put["ResponseMetadata"]["RequestId"])[0]
    assert put_rec["additionalEventData"]["bytesTransferredIn"] == 5
    assert put_rec["responseElements"] == {"x-amz-server-side-encryption": "AES256"}
    get_rec = stored_records(server, got["ResponseMetadata"]["RequestId"])[0]
    assert get_rec["additionalEventData"]["bytesTransferredOut"] == 5
    history = lookup_all(server.client("cloudtrail", ids.a_lookup),
                         LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}])
    assert not [e for e in history if e["EventName"] in ("PutObject", "GetObject")]
    assert all(r["eventCategory"] == "Management" for r in records(history))


def test_list_objects_v2_is_recorded_as_list_objects(server, ids):
    """ListObjectsV2 appears as eventName ListObjects with list-type 2 among the request parameters."""
    ensure_bucket(server, ids.a_alice, "events-s3-list")
    r = s3(server, ids.a_alice).list_objects_v2(Bucket="events-s3-list", Prefix="a/")
    [rec] = stored_records(server, r["ResponseMetadata"]["RequestId"])
    assert rec["eventName"] == "ListObjects"
    assert rec["requestParameters"]["list-type"] == "2"
    assert rec["requestParameters"]["prefix"] == "a/"


def test_presigned_get_is_recorded_as_query_string_auth(server, ids):
    """A presigned URL's call says AuthenticationMethod QueryString."""
    import urllib.request

    ensure_bucket(server, ids.a_alice, "events-s3-presign")
    client = s3(server, ids.a_alice)
    client.put_object(Bucket="events-s3-presign", Key="k", Body=b"abc")
    url = client.generate_presigned_url("get_object", Params={"Bucket": "events-s3-presign", "Key": "k"}, ExpiresIn=300)
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"abc"
        request_id = resp.headers["x-amz-request-id"]
    [rec] = stored_records(server, request_id)
    assert rec["additionalEventData"]["AuthenticationMethod"] == "QueryString"
    assert not any(k.startswith("X-Amz-") for k in rec["requestParameters"])


# ---------------------------------------------------------------------------------------------------------------------
# CreateTrail / UpdateTrail check the bucket for real
# ---------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory, identities_file, ids, binary):
    """A server that evaluates bucket policies (`--resource-policy-checks strict`, the default of `cairn serve`)."""
    from cairn_harness import CairnServer

    srv = CairnServer(tmp_path_factory.mktemp("strict") / "data", identities_file, ids,
                      extra_args=["--resource-policy-checks", "strict"]).start()
    yield srv
    assert srv.stop() == 0


def test_create_trail_refuses_missing_bucket(server, ids):
    """A bucket that does not exist: S3BucketDoesNotExistException, and no trail."""
    ct = server.client("cloudtrail", ids.a_alice)
    expect_error(ct.create_trail, "S3BucketDoesNotExistException", 400, Name="chk-missing", S3BucketName="chk-no-such-bucket")
    assert "chk-missing" not in [t["Name"] for t in ct.describe_trails()["trailList"]]


@pytest.mark.parametrize("case", ["no-policy", "wrong-principal", "wrong-prefix", "deny", "acl-missing"])
def test_create_trail_refuses_insufficient_bucket_policy(strict_server, ids, case):
    """Policies that would not let CloudTrail write under the trail's prefix: InsufficientS3BucketPolicyException."""
    server = strict_server
    bucket = f"chk-{case}"
    client = s3(server, ids.a_alice)
    client.create_bucket(Bucket=bucket)
    policy = cloudtrail_bucket_policy(bucket, f"logs/AWSLogs/{ACCOUNT_A}/*")
    if case == "wrong-principal":
        for st in policy["Statement"]:
            st["Principal"] = {"Service": "config.amazonaws.com"}
    elif case == "wrong-prefix":
        policy = cloudtrail_bucket_policy(bucket, f"other/AWSLogs/{ACCOUNT_A}/*")
    elif case == "deny":
        policy["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*"})
    elif case == "acl-missing":
        policy["Statement"] = policy["Statement"][1:]
    if case != "no-policy":
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    e = expect_error(server.client("cloudtrail", ids.a_alice).create_trail, "InsufficientS3BucketPolicyException", 400,
                     Name=f"chk-{case}", S3BucketName=bucket, S3KeyPrefix="logs")
    assert e.response["Error"]["Message"] == f"Incorrect S3 bucket policy is detected for bucket: {bucket}"


def test_create_trail_accepts_documented_policy_and_update_rechecks_prefix(strict_server, ids):
    """The documented policy for the trail's prefix is accepted; UpdateTrail to another prefix is checked again."""
    server = strict_server
    bucket = "chk-good"
    client = s3(server, ids.a_alice)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_bucket_policy(bucket, f"logs/AWSLogs/{ACCOUNT_A}/*")))
    ct = server.client("cloudtrail", ids.a_alice)
    ct.create_trail(Name="chk-good", S3BucketName=bucket, S3KeyPrefix="logs")
    try:
        expect_error(ct.update_trail, "InsufficientS3BucketPolicyException", 400, Name="chk-good", S3KeyPrefix="elsewhere")
        assert ct.get_trail(Name="chk-good")["Trail"]["S3KeyPrefix"] == "logs"
    finally:
        ct.delete_trail(Name="chk-good")


def test_policy_checks_off_still_requires_the_bucket(tmp_path_factory, identities_file, ids, binary):
    """--resource-policy-checks off: a bucket without policy is accepted, a missing bucket is still refused."""
    from cairn_harness import CairnServer

    srv = CairnServer(tmp_path_factory.mktemp("off") / "data", identities_file, ids,
                      extra_args=["--resource-policy-checks", "off"]).start()
    try:
        s3(srv, ids.a_alice).create_bucket(Bucket="off-bucket")
        ct = srv.client("cloudtrail", ids.a_alice)
        ct.create_trail(Name="off-trail", S3BucketName="off-bucket")
        expect_error(ct.create_trail, "S3BucketDoesNotExistException", 400, Name="off-missing", S3BucketName="off-nothing")
    finally:
        assert srv.stop() == 0


def test_create_subscription_with_new_bucket(strict_server, ids):
    """`aws cloudtrail create-subscription --s3-new-bucket --sns-new-topic` creates the bucket and topic with CloudTrail's
    policies (checked strictly) and a logging trail that names both."""
    server = strict_server
    out = server.aws("cloudtrail", "create-subscription", "--name", "sub-trail", "--s3-new-bucket", "sub-new-bucket",
                     "--s3-prefix", "pre", "--sns-new-topic", "sub-new-topic", creds=ids.b_root)
    assert out.rc == 0, out.stderr
    policy = json.loads(s3(server, ids.b_root).get_bucket_policy(Bucket="sub-new-bucket")["Policy"])
    resources = [st["Resource"] for st in policy["Statement"]]
    assert f"arn:aws:s3:::sub-new-bucket/pre/AWSLogs/{ACCOUNT_B}/*" in resources
    ct = server.client("cloudtrail", ids.b_root)
    trail = ct.get_trail(Name="sub-trail")["Trail"]
    assert trail["S3BucketName"] == "sub-new-bucket" and trail["S3KeyPrefix"] == "pre"
    assert trail["SnsTopicARN"] == f"arn:aws:sns:us-east-1:{ACCOUNT_B}:sub-new-topic"
    topic_policy = json.loads(server.client("sns", ids.b_root).get_topic_attributes(
        TopicArn=trail["SnsTopicARN"])["Attributes"]["Policy"])
    assert any(st.get("Principal") == {"Service": "cloudtrail.amazonaws.com"} for st in topic_policy["Statement"])
    assert ct.get_trail_status(Name="sub-trail")["IsLogging"] is True


def test_call_on_another_accounts_bucket_is_recorded_for_both_accounts(server, ids):
    """A call by account B on account A's bucket is in B's Event history and in A's, as an AWSAccount identity,
    both copies sharing one sharedEventID."""
    ensure_bucket(server, ids.a_alice, "events-s3-shared")
    e = expect_error(s3(server, ids.b_carol).get_bucket_location,
                     "AccessDenied", 403, Bucket="events-s3-shared")
    request_id = e.response["ResponseMetadata"]["RequestId"]
    mine = find_by_request_id(server.client("cloudtrail", ids.b_root), "GetBucketLocation", request_id)
    owners = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetBucketLocation", request_id)
    assert mine["recipientAccountId"] == ACCOUNT_B and owners["recipientAccountId"] == ACCOUNT_A
    assert mine["userIdentity"]["type"] == "IAMUser"
    assert owners["userIdentity"]["type"] == "AWSAccount" and owners["userIdentity"]["accountId"] == ACCOUNT_B
    assert mine["sharedEventID"] == owners["sharedEventID"]
    assert mine["eventID"] != owners["eventID"]
    assert owners["errorCode"] == "AccessDenied"


def test_s3_records_write_the_user_agent_in_brackets(server, ids):
    """S3's records carry the caller's user agent in square brackets, as real S3 records do; other services' do not."""
    client = server.client("s3", ids.a_alice, s3={"addressing_style": "path"}, user_agent_extra="cairn-ua-probe/1")
    r = client.create_bucket(Bucket="events-s3-useragent")
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "CreateBucket", r["ResponseMetadata"]["RequestId"])
    ua = rec["userAgent"]
    assert ua.startswith("[") and ua.endswith("]"), ua
    assert "cairn-ua-probe/1" in ua and ua[1:-1].startswith("Boto3/"), ua
    sts = server.client("sts", ids.a_alice, user_agent_extra="cairn-ua-probe/1").get_caller_identity()
    other = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetCallerIdentity", sts["ResponseMetadata"]["RequestId"])
    assert other["userAgent"].startswith("Boto3/"), other["userAgent"]


def test_health_lists_every_hosted_service(server):
    import urllib.request
    with urllib.request.urlopen(server.url + "/_cairn/health", timeout=5) as r:
        body = json.loads(r.read())
    assert body["status"] == "ok"
    assert set(body["services"]) >= {"cloudtrail", "config", "s3", "sns", "sts"}, body
