"""Log-file validation end to end: a validating trail's digest files, checked by the real `aws cloudtrail validate-logs`
against a running Cairn, pass; a changed log file, a deleted digest and a moved digest are reported INVALID."""

from __future__ import annotations

import datetime
import gzip
import os
import subprocess
import time
import urllib.request

import pytest

from cairn_harness import ACCOUNT_A, CairnServer, ensure_bucket, wait_next_second

TRAIL = "val-trail"
BUCKET = "val-bucket"
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_A}:trail/{TRAIL}"


def keys(server, creds, folder: str) -> list[str]:
    s3 = server.client("s3", creds, s3={"addressing_style": "path"})
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"logs/AWSLogs/{ACCOUNT_A}/{folder}/"):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def validate(server, creds, start: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AWS_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID=creds.access_key,
               AWS_SECRET_ACCESS_KEY=creds.secret_key, AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    return subprocess.run(["aws", "cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", start, "--verbose"],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def validated(tmp_path_factory, identities_file, ids, binary):
    """A server with 1-second deliveries and 2-second digests, and a validating trail with a few digests."""
    server = CairnServer(tmp_path_factory.mktemp("val") / "data", identities_file, ids,
                         extra_args=["--resource-policy-checks", "strict", "--delivery-interval", "1",
                                     "--digest-interval", "2"]).start()
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ensure_bucket(server, ids.a_alice, BUCKET)
    ct = server.client("cloudtrail", ids.a_alice)
    ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, S3KeyPrefix="logs", EnableLogFileValidation=True)
    ct.start_logging(Name=TRAIL)
    sts = server.client("sts", ids.a_alice)
    deadline = time.monotonic() + 30
    while len(keys(server, ids.a_alice, "CloudTrail-Digest")) < 3 or len(keys(server, ids.a_alice, "CloudTrail")) < 2:
        assert time.monotonic() < deadline, "digests did not arrive"
        sts.get_caller_identity()
        time.sleep(0.3)
    ct.stop_logging(Name=TRAIL)  # the final digest
    wait_next_second()
    server.flush()
    yield server, start
    assert server.stop() == 0


def test_validate_logs_accepts_every_digest_and_log_file(validated, ids):
    """Every digest and log file is reported valid, the chain includes the final digest, and ListPublicKeys lists
    the signing key."""
    server, start = validated
    r = validate(server, ids.a_alice, start)
    assert r.returncode == 0, r.stdout + r.stderr
    digests = keys(server, ids.a_alice, "CloudTrail-Digest")
    logs = keys(server, ids.a_alice, "CloudTrail")
    assert f"{len(digests)}/{len(digests)} digest files valid" in r.stdout + r.stderr, r.stdout + r.stderr
    assert f"{len(logs)}/{len(logs)} log files valid" in r.stdout + r.stderr, r.stdout + r.stderr
    status = server.client("cloudtrail", ids.a_alice).get_trail_status(Name=TRAIL)
    assert "LatestDigestDeliveryTime" in status and "LatestDigestDeliveryError" not in status
    public = server.client("cloudtrail", ids.a_alice).list_public_keys()["PublicKeyList"]
    assert public and all(len(k["Fingerprint"]) == 32 for k in public)


def test_digest_metadata_and_starting_digest(validated, ids):
    """Digests carry lower-case signature metadata; the first digest of the chain is a starting digest."""
    import json

    server, _ = validated
    s3 = server.client("s3", ids.a_alice, s3={"addressing_style": "path"})
    digests = keys(server, ids.a_alice, "CloudTrail-Digest")
    head = s3.head_object(Bucket=BUCKET, Key=digests[0])
    assert set(head["Metadata"]) == {"signature", "signature-algorithm"}
    assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA" and len(head["Metadata"]["signature"]) == 512
    first = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=digests[0])["Body"].read()))
    assert first["previousDigestSignature"] is None and first["previousDigestS3Object"] is None
    second = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=digests[1])["Body"].read()))
    assert second["previousDigestS3Object"] == digests[0]
    assert second["digestStartTime"] == first["digestEndTime"]


def test_validate_logs_reports_tampering(validated, ids):
    """A changed log file, a deleted digest and a moved digest are each reported INVALID (exit status 1)."""
    server, start = validated
    s3 = server.client("s3", ids.a_alice, s3={"addressing_style": "path"})
    logs = keys(server, ids.a_alice, "CloudTrail")
    digests = keys(server, ids.a_alice, "CloudTrail-Digest")
    # A changed log file.
    changed = logs[0]
    original = s3.get_object(Bucket=BUCKET, Key=changed)["Body"].read()
    plain = gzip.decompress(original)
    s3.put_object(Bucket=BUCKET, Key=changed, Body=gzip.compress(plain.replace(b'"eventVersion"', b'"eventversion"', 1)))
    r = validate(server, ids.a_alice, start)
    assert r.returncode == 1 and f"s3://{BUCKET}/{changed}\tINVALID: hash value doesn't match" in r.stdout + r.stderr, r.stdout + r.stderr
    s3.put_object(Bucket=BUCKET, Key=changed, Body=original)
    # A moved digest: the newest one copied under a later digest name, where validate-logs starts.
    newest = digests[-1]
    stamp = newest[-24:-8]
    moved_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ") + datetime.timedelta(seconds=1)
    later = newest[:-24] + moved_at.strftime("%Y%m%dT%H%M%SZ") + ".json.gz"
    s3.copy_object(Bucket=BUCKET, Key=later, CopySource={"Bucket": BUCKET, "Key": newest})
    r = validate(server, ids.a_alice, start)
    assert r.returncode == 1 and f"s3://{BUCKET}/{later}\tINVALID: has been moved from its original location" in r.stdout + r.stderr, r.stdout + r.stderr
    s3.delete_object(Bucket=BUCKET, Key=later)
    # A deleted digest in the middle of the chain.
    moved = digests[1]
    body = s3.get_object(Bucket=BUCKET, Key=moved)
    s3.delete_object(Bucket=BUCKET, Key=moved)
    r = validate(server, ids.a_alice, start)
    assert r.returncode == 1 and f"s3://{BUCKET}/{moved}\tINVALID: not found" in r.stdout + r.stderr, r.stdout + r.stderr
    s3.put_object(Bucket=BUCKET, Key=moved, Body=body["Body"].read(), Metadata=body["Metadata"],
                  ContentType="application/json", ContentEncoding="gzip")
    assert validate(server, ids.a_alice, start).returncode == 0


def test_signing_keys_rotate_and_old_keys_stay_listed(tmp_path_factory, identities_file, ids, binary):
    """With --signing-key-rotation 2, digests are signed by successive keys; ListPublicKeys lists them all for their
    validity ranges and validate-logs accepts the chain across the rotation."""
    server = CairnServer(tmp_path_factory.mktemp("rot") / "data", identities_file, ids,
                         extra_args=["--resource-policy-checks", "off", "--delivery-interval", "1",
                                     "--digest-interval", "1", "--signing-key-rotation", "2"]).start()
    try:
        start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ensure_bucket(server, ids.a_alice, BUCKET)
        ct = server.client("cloudtrail", ids.a_alice)
        ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, S3KeyPrefix="logs", EnableLogFileValidation=True)
        ct.start_logging(Name=TRAIL)
        deadline = time.monotonic() + 30
        while len(ct.list_public_keys(StartTime=datetime.datetime(2020, 1, 1))["PublicKeyList"]) < 3:
            assert time.monotonic() < deadline, "keys did not rotate"
            server.client("sts", ids.a_alice).get_caller_identity()
            time.sleep(0.5)
        ct.stop_logging(Name=TRAIL)
        wait_next_second()
        server.flush()
        keys_listed = ct.list_public_keys(StartTime=datetime.datetime(2020, 1, 1))["PublicKeyList"]
        starts = sorted(k["ValidityStartTime"] for k in keys_listed)
        assert len({k["Fingerprint"] for k in keys_listed}) == len(keys_listed) >= 3
        assert all(b > a for a, b in zip(starts, starts[1:]))
        r = validate(server, ids.a_alice, start)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        assert server.stop() == 0


def test_delete_trail_delivers_a_final_digest(tmp_path_factory, identities_file, ids, binary):
    """DeleteTrail: what the trail captured (the DeleteTrail call included) is delivered, and a final digest covers it."""
    import json

    server = CairnServer(tmp_path_factory.mktemp("del") / "data", identities_file, ids,
                         extra_args=["--resource-policy-checks", "off", "--delivery-interval", "1", "--digest-interval", "3600"]).start()
    try:
        ensure_bucket(server, ids.a_alice, BUCKET)
        ct = server.client("cloudtrail", ids.a_alice)
        ct.create_trail(Name=TRAIL, S3BucketName=BUCKET, S3KeyPrefix="logs", EnableLogFileValidation=True)
        ct.start_logging(Name=TRAIL)
        deleted = ct.delete_trail(Name=TRAIL)["ResponseMetadata"]["RequestId"]
        wait_next_second()
        server.flush()
        s3 = server.client("s3", ids.a_alice, s3={"addressing_style": "path"})
        digests = keys(server, ids.a_alice, "CloudTrail-Digest")
        assert len(digests) == 1, digests  # hourly digests: only the final one is due
        final = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=digests[0])["Body"].read()))
        assert final["previousDigestSignature"] is None  # the chain began at StartLogging
        listed = {f["s3Object"] for f in final["logFiles"]}
        assert listed == set(keys(server, ids.a_alice, "CloudTrail"))
        records = [r for key in listed for r in json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))["Records"]]
        assert deleted in {r["requestID"] for r in records}
    finally:
        assert server.stop() == 0
