"""Rejected credentials (never recorded) and presigned query-string authentication."""

from __future__ import annotations

import datetime
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from unittest import mock

import botocore
import botocore.auth
import pytest

from cairn_harness import ACCOUNT_A, ACCOUNT_B, Creds, _key_id, expect_error, find_by_request_id, lookup_all, records

AUTH_ERRORS = {
    "UnrecognizedClientException", "InvalidSignatureException", "MissingAuthenticationTokenException",
    "InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken", "IncompleteSignatureException",
    "IncompleteSignature", "ExpiredTokenException", "ExpiredToken",
}


def marker() -> str:
    return f"reject-{uuid.uuid4().hex[:12]}"


def shifted_clock(minutes: float):
    """Patches botocore's signing clock so requests are signed `minutes` away from now."""
    real = botocore.auth.get_current_datetime

    def fake(*args, **kwargs):
        return real(*args, **kwargs) + datetime.timedelta(minutes=minutes)

    return mock.patch.object(botocore.auth, "get_current_datetime", fake)


def assert_not_recorded(server, ids, ua_marker: str) -> None:
    """No event in any account or region used here carries the marker or an authentication error."""
    for creds in (ids.a_lookup, ids.b_carol):
        for region in ("us-east-1", "us-west-2"):
            ct = server.client("cloudtrail", creds, region=region)
            for e in lookup_all(ct):
                raw = e["CloudTrailEvent"]
                assert ua_marker not in raw, f"rejected request was recorded: {raw}"
                rec = json.loads(raw)
                assert rec.get("errorCode") not in AUTH_ERRORS, f"authentication failure recorded: {raw}"


# ---------------------------------------------------------------------------------------------------------------------
# Header authentication failures
# ---------------------------------------------------------------------------------------------------------------------


def test_unknown_access_key(server, ids):
    m = marker()
    unknown = Creds(_key_id(), "x" * 40)
    e = expect_error(server.client("cloudtrail", unknown, user_agent_extra=m).describe_trails,
                     "UnrecognizedClientException", 400)
    assert e.response["Error"]["Message"] == "The security token included in the request is invalid."
    e = expect_error(server.client("sts", unknown, user_agent_extra=m).get_caller_identity, "InvalidClientTokenId", 403)
    assert e.response["Error"]["Message"] == "The security token included in the request is invalid."
    r = server.aws("cloudtrail", "describe-trails", creds=unknown)
    assert r.rc != 0 and r.error_code() == "UnrecognizedClientException", r.stderr
    r = server.aws("sts", "get-caller-identity", creds=unknown)
    assert r.rc != 0 and r.error_code() == "InvalidClientTokenId", r.stderr
    assert_not_recorded(server, ids, m)


def test_bad_secret(server, ids):
    m = marker()
    bad = Creds(ids.a_alice.access_key, ids.a_alice.secret_key[:-1] + ("A" if ids.a_alice.secret_key[-1] != "A" else "B"))
    e = expect_error(server.client("cloudtrail", bad, user_agent_extra=m).describe_trails, "InvalidSignatureException", 400)
    assert "signature we calculated does not match" in e.response["Error"]["Message"]
    e = expect_error(server.client("sts", bad, user_agent_extra=m).get_caller_identity, "SignatureDoesNotMatch", 403)
    assert "signature we calculated does not match" in e.response["Error"]["Message"]
    # Also for a mutating call: nothing changes.
    expect_error(server.client("cloudtrail", bad, user_agent_extra=m).create_trail, "InvalidSignatureException", 400,
                 Name="never-created", S3BucketName="some-bucket")
    r = server.aws("cloudtrail", "describe-trails", creds=bad)
    assert r.rc != 0 and r.error_code() == "InvalidSignatureException", r.stderr
    names = [t["Name"] for t in server.client("cloudtrail", ids.a_alice).describe_trails()["trailList"]]
    assert "never-created" not in names
    assert_not_recorded(server, ids, m)


def test_missing_authentication(server, ids):
    m = marker()
    unsigned = botocore.UNSIGNED
    ct = server.client("cloudtrail", ids.a_alice, signature_version=unsigned, user_agent_extra=m)
    expect_error(ct.describe_trails, "MissingAuthenticationTokenException", 400)
    sts = server.client("sts", ids.a_alice, signature_version=unsigned, user_agent_extra=m)
    expect_error(sts.get_caller_identity, "MissingAuthenticationToken", 403)
    assert_not_recorded(server, ids, m)


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24])
def test_request_time_outside_15_minutes(server, ids, minutes):
    m = marker()
    ct = server.client("cloudtrail", ids.a_alice, user_agent_extra=m)
    sts = server.client("sts", ids.a_alice, user_agent_extra=m)
    with shifted_clock(minutes):
        e1 = expect_error(ct.describe_trails, "InvalidSignatureException", 400)
        e2 = expect_error(sts.get_caller_identity, "SignatureDoesNotMatch", 403)
    expected = "Signature expired" if minutes < 0 else "Signature not yet current"
    for e in (e1, e2):
        msg = e.response["Error"]["Message"]
        assert msg.startswith(expected), msg
        assert re.search(r"\d{8}T\d{6}Z", msg), msg
    assert_not_recorded(server, ids, m)


@pytest.mark.parametrize("minutes", [-14, 14])
def test_request_time_within_15_minutes_accepted(server, ids, minutes):
    with shifted_clock(minutes):
        r = server.client("sts", ids.a_alice).get_caller_identity()
        server.client("cloudtrail", ids.a_alice).describe_trails()
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"


def test_skewed_request_built_by_hand(server, ids):
    """The same check with a request signed by hand (botocore.auth.SigV4Auth with a fake timestamp)."""
    m = marker()
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    resp = server.signed_request(
        ids.a_alice, service="cloudtrail", body=b"{}", timestamp=old,
        headers={"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
                 "Content-Type": "application/x-amz-json-1.1", "User-Agent": m})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["__type"].split("#")[-1] == "InvalidSignatureException"
    message = body.get("message") or body.get("Message")
    assert message.startswith("Signature expired"), message
    assert resp.headers.get("x-amzn-RequestId")
    assert_not_recorded(server, ids, m)


def test_signed_request_with_fresh_timestamp_by_hand_is_accepted(server, ids):
    """Control for the hand-built requests: the same signing path with the real clock succeeds."""
    resp = server.signed_request(
        ids.a_alice, service="cloudtrail", body=b"{}",
        headers={"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
                 "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 200, resp.text
    assert "trailList" in resp.json()


# ---------------------------------------------------------------------------------------------------------------------
# Presigned query-string authentication
# ---------------------------------------------------------------------------------------------------------------------


def fetch(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_presigned_get_caller_identity(server, ids):
    sts = server.client("sts", ids.a_alice)
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert q["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and "X-Amz-Signature" in q
    status, body, headers = fetch(url)
    assert status == 200, body
    assert "<GetCallerIdentityResponse" in body
    assert f"<Arn>arn:aws:iam::{ACCOUNT_A}:user/alice</Arn>" in body
    request_id = {k.lower(): v for k, v in headers.items()}["x-amzn-requestid"]
    assert f"<RequestId>{request_id}</RequestId>" in body
    # A presigned call is a call like any other: it is recorded.
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetCallerIdentity", request_id)
    assert rec["userIdentity"]["accessKeyId"] == ids.a_alice.access_key
    assert rec["userIdentity"]["type"] == "IAMUser"


def test_presigned_with_session_token(server, ids):
    r = server.client("sts", ids.a_alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/Auditor", RoleSessionName="presigned")
    c = r["Credentials"]
    sts = server.client("sts", Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    assert "X-Amz-Security-Token=" in url
    status, body, _ = fetch(url)
    assert status == 200, body
    assert f"<Arn>arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/presigned</Arn>" in body


def test_presigned_tampered_signature(server, ids):
    url = server.client("sts", ids.a_alice).generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url).group(1)
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    status, body, _ = fetch(bad)
    assert status == 403, body
    assert "<Code>SignatureDoesNotMatch</Code>" in body


def test_presigned_unknown_key(server, ids):
    url = server.client("sts", Creds(_key_id(), "y" * 40)).generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
    status, body, _ = fetch(url)
    assert status == 403, body
    assert "<Code>InvalidClientTokenId</Code>" in body


def test_presigned_expired(server, ids):
    sts = server.client("sts", ids.a_alice)
    with shifted_clock(-10):
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    status, body, _ = fetch(url)
    assert status == 403, body
    assert "<Code>SignatureDoesNotMatch</Code>" in body
    assert "Signature expired" in body


# ---------------------------------------------------------------------------------------------------------------------
# The signature covers the body
# ---------------------------------------------------------------------------------------------------------------------


def _sign_then_swap_body(server, creds, *, service: str, signed: bytes, sent: bytes, headers: dict, claim_hash: bool):
    import hashlib

    import botocore.awsrequest
    import botocore.credentials
    import requests

    headers = dict(headers)
    if claim_hash:
        headers["X-Amz-Content-SHA256"] = hashlib.sha256(signed).hexdigest()
    req = botocore.awsrequest.AWSRequest(method="POST", url=server.url + "/", data=signed, headers=headers)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(creds.access_key, creds.secret_key), service,
                            "us-east-1").add_auth(req)
    prepared = req.prepare()
    out = dict(prepared.headers)
    out["Content-Length"] = str(len(sent))
    return requests.post(prepared.url, data=sent, headers=out, timeout=10)


@pytest.mark.parametrize("claim_hash", [False, True], ids=["plain", "with-x-amz-content-sha256"])
def test_tampered_json_body_rejected(server, ids, claim_hash):
    """A body other than the signed one is refused, also when the request carries X-Amz-Content-SHA256 of the
    signed body (outside S3 the payload hash is always computed from the body received)."""
    signed = b'{"Name":"signed-name","S3BucketName":"some-bucket"}'
    sent = b'{"Name":"tampered-name","S3BucketName":"some-bucket"}'
    resp = _sign_then_swap_body(
        server, ids.a_alice, service="cloudtrail", signed=signed, sent=sent, claim_hash=claim_hash,
        headers={"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail",
                 "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["__type"].split("#")[-1] == "InvalidSignatureException", resp.text
    names = [t["Name"] for t in server.client("cloudtrail", ids.a_alice).describe_trails()["trailList"]]
    assert "tampered-name" not in names and "signed-name" not in names


@pytest.mark.parametrize("claim_hash", [False, True], ids=["plain", "with-x-amz-content-sha256"])
def test_tampered_query_body_rejected(server, ids, claim_hash):
    signed = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FLocalAdmin" \
             b"&RoleSessionName=signed"
    sent = signed.replace(b"RoleSessionName=signed", b"RoleSessionName=swappd")
    resp = _sign_then_swap_body(
        server, ids.a_alice, service="sts", signed=signed, sent=sent, claim_hash=claim_hash,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert resp.status_code == 403, resp.text
    assert "<Code>SignatureDoesNotMatch</Code>" in resp.text, resp.text


def test_credential_scoped_to_another_service_rejected(server, ids):
    """A CloudTrail request signed for service `sts` is refused, as AWS does
    ("Credential should be scoped to correct service: 'cloudtrail'.")."""
    resp = server.signed_request(ids.a_alice, service="sts", body=b"{}", headers={
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails",
        "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["__type"].split("#")[-1] == "InvalidSignatureException", body
    message = body.get("message") or body.get("Message") or ""
    assert "cloudtrail" in message, message
