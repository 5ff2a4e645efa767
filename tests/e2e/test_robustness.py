"""Bad input never takes Cairn down: each case fuzzing found, answered with its protocol's AWS error."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.parse

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests

from cairn_harness import ACCOUNT_A, TARGET_PREFIX, CairnServer, find_by_request_id, lookup_all, records

CONFIG_TARGET = "StarlingDoveService"
STS_FORM = b"Action=GetCallerIdentity&Version=2011-06-15"


def rss_mb(server) -> int:
    for line in open(f"/proc/{server.proc.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def dir_mb(path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total / (1 << 20)


def json_type(resp) -> str:
    return resp.json()["__type"].split("#")[-1]


def assert_alive(server, ids) -> None:
    assert server.proc.poll() is None, server.log_text()[-3000:]
    assert server.client("sts", ids.a_alice).get_caller_identity()["Account"] == ACCOUNT_A


# ---------------------------------------------------------------------------------------------------------------------
# JSON numbers out of range
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation,body", [
    ("ListPublicKeys", {"StartTime": 1e19}),
    ("ListPublicKeys", {"EndTime": -1e19}),
    ("LookupEvents", {"StartTime": 1e19}),
    ("LookupEvents", {"EndTime": 1e300}),
    ("LookupEvents", {"StartTime": "1e19"}),
])
def test_json_timestamp_out_of_range(server, ids, operation, body):
    resp = server.cloudtrail_raw(ids.a_alice, operation, json.dumps(body).encode())
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "SerializationException", resp.text
    assert resp.headers.get("x-amzn-RequestId")
    assert_alive(server, ids)


def test_json_integer_out_of_range(server, ids):
    resp = server.cloudtrail_raw(ids.a_alice, "LookupEvents", b'{"MaxResults": 1e19}')
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "SerializationException", resp.text
    assert_alive(server, ids)


def test_config_later_time_out_of_range(server, ids):
    body = json.dumps({"resourceType": "AWS::S3::Bucket", "resourceId": "b", "laterTime": 1e19}).encode()
    resp = server.signed_request(ids.a_alice, service="config", body=body, headers={
        "X-Amz-Target": f"{CONFIG_TARGET}.GetResourceConfigHistory", "Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "SerializationException", resp.text
    assert_alive(server, ids)


def test_query_timestamp_out_of_range_is_refused_not_fatal(server, ids):
    # SNS has no timestamp input, STS neither: a huge integer in a Query call must still be a 400.
    resp = server.signed_request(ids.a_alice, service="sts", body=b"Action=AssumeRole&Version=2011-06-15&RoleArn="
                                 + f"arn:aws:iam::{ACCOUNT_A}:role/x".encode() + b"&RoleSessionName=s&DurationSeconds=1e400",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 400, resp.text
    assert b"<ErrorResponse" in resp.content
    assert_alive(server, ids)


def test_json_document_with_too_many_values(server, ids):
    body = b'{"x":[' + b"0," * 200_000 + b"0]}"
    resp = server.cloudtrail_raw(ids.a_alice, "DescribeTrails", body)
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "SerializationException", resp.text
    # A large but ordinary request still works.
    ok = server.cloudtrail_raw(ids.a_alice, "DescribeTrails", b'{"x":[' + b"0," * 1000 + b"0]}")
    assert ok.status_code == 200, ok.text


# ---------------------------------------------------------------------------------------------------------------------
# Query calls without their form Content-Type
# ---------------------------------------------------------------------------------------------------------------------


def test_query_call_without_content_type_goes_to_its_service(server, ids):
    resp = server.signed_request(ids.a_alice, service="sts", body=STS_FORM, headers={})
    assert "Content-Type" not in resp.request.headers
    assert resp.status_code == 200, resp.text
    assert b"<GetCallerIdentityResponse" in resp.content
    assert resp.headers.get("x-amzn-RequestId")
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetCallerIdentity", resp.headers["x-amzn-RequestId"])
    assert rec["eventSource"] == "sts.amazonaws.com"


@pytest.mark.parametrize("service,ns", [("sts", b"https://sts.amazonaws.com/doc/2011-06-15/"),
                                        ("sns", b"http://sns.amazonaws.com/doc/2010-03-31/")])
def test_query_call_with_unexpected_content_type_gets_query_error(server, ids, service, ns):
    resp = server.signed_request(ids.a_alice, service=service, body=b'{"Action": "GetCallerIdentity"}',
                                 headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.content.startswith(b"<ErrorResponse xmlns=\"" + ns), resp.text
    assert b"<Type>Sender</Type>" in resp.content and b"<Code>InvalidAction</Code>" in resp.content, resp.text
    assert "x-amz-request-id" not in resp.headers  # not S3's error
    assert resp.headers.get("x-amzn-RequestId")


def test_json_service_without_target_gets_json_error(server, ids):
    resp = server.signed_request(ids.a_alice, service="cloudtrail", body=b"{}",
                                 headers={"Content-Type": "application/x-amz-json-1.1"})
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "UnknownOperationException", resp.text


# ---------------------------------------------------------------------------------------------------------------------
# Presigned URLs: X-Amz-Expires is digits only
# ---------------------------------------------------------------------------------------------------------------------


def _presigned(server, creds, service: str, url: str, expires: str) -> str:
    req = botocore.awsrequest.AWSRequest(method="GET", url=url)
    auth = botocore.auth.S3SigV4QueryAuth if service == "s3" else botocore.auth.SigV4QueryAuth
    signer = auth(
        botocore.credentials.Credentials(creds.access_key, creds.secret_key), service, "us-east-1", expires=3600)
    signer._expires = expires  # sign the value exactly as sent
    signer.add_auth(req)
    return req.prepare().url


@pytest.mark.parametrize("expires", ["+3600", " 3600", "3600.0", "0x10"])
def test_presigned_expires_must_be_digits(server, ids, expires):
    url = _presigned(server, ids.a_alice, "sts", server.url + "/?Action=GetCallerIdentity&Version=2011-06-15", expires)
    assert "X-Amz-Expires=" + urllib.parse.quote(expires, safe="") in url, url
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 400, resp.text
    assert b"<Code>IncompleteSignature</Code>" in resp.content, resp.text
    # The same request with plain digits is accepted, so the refusal is about the sign alone.
    ok = requests.get(_presigned(server, ids.a_alice, "sts", server.url + "/?Action=GetCallerIdentity&Version=2011-06-15",
                                 "3600"), timeout=30)
    assert ok.status_code == 200, ok.text


def test_s3_presigned_expires_with_sign_refused(server, ids):
    s3 = server.client("s3", ids.a_alice)
    s3.create_bucket(Bucket="robust-presign")
    s3.put_object(Bucket="robust-presign", Key="k", Body=b"x")
    url = _presigned(server, ids.a_alice, "s3", server.url + "/robust-presign/k", "+3600")
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 400, resp.text
    assert b"<Error><Code>" in resp.content and resp.headers.get("x-amz-request-id"), resp.text
    assert requests.get(_presigned(server, ids.a_alice, "s3", server.url + "/robust-presign/k", "3600"), timeout=30).content == b"x"


# ---------------------------------------------------------------------------------------------------------------------
# GetSessionToken is recorded as real CloudTrail records it
# ---------------------------------------------------------------------------------------------------------------------


def test_get_session_token_is_not_read_only(server, ids):
    r = server.client("sts", ids.a_alice).get_session_token(DurationSeconds=900)
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetSessionToken", r["ResponseMetadata"]["RequestId"])
    assert rec["readOnly"] is False
    assert rec["requestParameters"] == {"durationSeconds": 900}
    assert rec["responseElements"]["credentials"]["accessKeyId"] == r["Credentials"]["AccessKeyId"]
    assert "sessionToken" not in rec["responseElements"]["credentials"]
    # Event history's ReadOnly filter follows the record.
    ct = server.client("cloudtrail", ids.a_lookup)
    writes = lookup_all(ct, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
    assert r["ResponseMetadata"]["RequestId"] in [x["requestID"] for x in records(writes)]


# ---------------------------------------------------------------------------------------------------------------------
# Large calls: bounded events, bounded memory and disk
# ---------------------------------------------------------------------------------------------------------------------


def test_oversized_request_parameters_are_omitted(server, ids):
    name = "n" * (200 * 1024)
    resp = server.cloudtrail_raw(ids.a_alice, "CreateTrail", json.dumps({"Name": name, "S3BucketName": "b"}).encode())
    assert resp.status_code == 400, resp.text
    assert json_type(resp) == "InvalidTrailNameException"
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "CreateTrail", resp.headers["x-amzn-RequestId"])
    assert rec["requestParameters"] == {"omitted": True}
    assert rec["errorCode"] == "InvalidTrailNameException"
    assert len(rec["errorMessage"].encode()) <= 1024
    assert len(json.dumps(rec, separators=(",", ":")).encode()) <= 256 * 1024
    # Parameters under the limit are recorded whole.
    name = "m" * (50 * 1024)
    resp = server.cloudtrail_raw(ids.a_alice, "CreateTrail", json.dumps({"Name": name, "S3BucketName": "b"}).encode())
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "CreateTrail", resp.headers["x-amzn-RequestId"])
    assert rec["requestParameters"] == {"name": name, "s3BucketName": "b"}


def test_memory_and_disk_stay_bounded_under_large_calls(tmp_path_factory, identities_file, ids, binary):
    srv = CairnServer(tmp_path_factory.mktemp("bounded") / "data", identities_file, ids).start()
    try:
        body = json.dumps({"Name": "x" * (1 << 20), "S3BucketName": "b"}).encode()
        calls = 150
        before_rss, before_disk = rss_mb(srv), dir_mb(srv.data_dir)
        session = requests.Session()
        creds = botocore.credentials.Credentials(ids.a_alice.access_key, ids.a_alice.secret_key)
        for _ in range(calls):
            req = botocore.awsrequest.AWSRequest(method="POST", url=srv.url + "/", data=body, headers={
                "X-Amz-Target": f"{TARGET_PREFIX}.CreateTrail", "Content-Type": "application/x-amz-json-1.1"})
            botocore.auth.SigV4Auth(creds, "cloudtrail", "us-east-1").add_auth(req)
            prepared = req.prepare()
            resp = session.post(prepared.url, data=body, headers=dict(prepared.headers), timeout=60)
            assert resp.status_code == 400, resp.text
        srv.flush()
        grown_rss, grown_disk = rss_mb(srv) - before_rss, dir_mb(srv.data_dir) - before_disk
        traffic_mb = calls * len(body) / (1 << 20)
        # Every call is recorded (refused, but recorded), yet neither memory nor disk follows the traffic.
        got = [e for e in records(lookup_all(srv.client("cloudtrail", ids.a_lookup), LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]))]
        assert len(got) == calls
        assert all(r["requestParameters"] == {"omitted": True} for r in got)
        assert grown_rss < 60, f"RSS grew {grown_rss} MB for {traffic_mb:.0f} MB of calls"
        assert grown_disk < traffic_mb / 10, f"data directory grew {grown_disk:.1f} MB for {traffic_mb:.0f} MB of calls"
        assert_alive(srv, ids)
    finally:
        assert srv.stop() == 0


def test_memory_is_given_back_after_concurrent_large_requests(tmp_path_factory, identities_file, ids, binary):
    """Large bodies from several clients at once: the memory they took is handed back, not kept by the allocator."""
    srv = CairnServer(tmp_path_factory.mktemp("giveback") / "data", identities_file, ids).start()
    try:
        body = b'{"unknownMember":"' + b"a" * 2_000_000 + b'"}'
        creds = botocore.credentials.Credentials(ids.a_alice.access_key, ids.a_alice.secret_key)
        before = rss_mb(srv)
        failures: list[str] = []

        def client() -> None:
            session = requests.Session()
            for _ in range(25):
                req = botocore.awsrequest.AWSRequest(method="POST", url=srv.url + "/", data=body, headers={
                    "X-Amz-Target": f"{TARGET_PREFIX}.DescribeTrails", "Content-Type": "application/x-amz-json-1.1"})
                botocore.auth.SigV4Auth(creds, "cloudtrail", "us-east-1").add_auth(req)
                prepared = req.prepare()
                resp = session.post(prepared.url, data=body, headers=dict(prepared.headers), timeout=120)
                if resp.status_code != 200:
                    failures.append(resp.text)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures[:1]
        srv.flush()  # also hands free memory back, as the periodic release does every 10 s
        after = rss_mb(srv)
        assert after - before < 40, f"RSS {before} MB before, {after} MB after 200 calls of 2 MB from 8 clients"
        assert_alive(srv, ids)
    finally:
        assert srv.stop() == 0


# ---------------------------------------------------------------------------------------------------------------------
# Connections that stay idle or send their headers slowly are closed
# ---------------------------------------------------------------------------------------------------------------------


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closes `sock` (sending `trickle` a byte every 0.2 s meanwhile), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - start < seconds:
        try:
            if sent < len(trickle):
                sock.send(trickle[sent:sent + 1])
                sent += 1
            if sock.recv(1024) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
    return None


def test_idle_and_slow_header_connections_are_closed(tmp_path_factory, identities_file, ids, binary):
    srv = CairnServer(tmp_path_factory.mktemp("idle") / "data", identities_file, ids,
                      extra_args=["--resource-policy-checks", "off", "--idle-timeout", "2"]).start()
    try:
        idle = socket.create_connection(("127.0.0.1", srv.port))
        after_idle = _closed_within(idle, 10)
        assert after_idle is not None and 1.5 <= after_idle <= 6, after_idle
        headers = b"GET /_cairn/health HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: header\r\n" * 100
        slow = socket.create_connection(("127.0.0.1", srv.port))
        after_slow = _closed_within(slow, 10, trickle=headers)
        assert after_slow is not None and after_slow <= 6, after_slow
        # A connection in use is not cut: keep-alive requests within the timeout are served.
        session = requests.Session()
        for _ in range(3):
            assert session.get(srv.url + "/_cairn/health", timeout=5).status_code == 200
            time.sleep(0.5)
        assert_alive(srv, ids)
    finally:
        assert srv.stop() == 0
