"""Trail log-file delivery: gzipped files under CloudTrail's key layout, exactly once, status and notifications."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest

from cairn_harness import ACCOUNT_A, CairnServer, cloudtrail_bucket_policy, ensure_bucket, wait_next_second
from test_sns import Subscriber

KEY = re.compile(
    r"^(?P<prefix>.+/)?AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_(?P<unique>[A-Za-z0-9]{16})\.json\.gz$")


def s3(server, creds, region="us-east-1"):
    return server.client("s3", creds, region=region, s3={"addressing_style": "path"})


def delivered(server, creds, bucket: str) -> dict[str, list[dict]]:
    """Every log file in the bucket: key -> its records (checked to be gzip JSON with a Records array)."""
    client = s3(server, creds)
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if "/CloudTrail/" not in obj["Key"]:
                continue
            got = client.get_object(Bucket=bucket, Key=obj["Key"])
            assert got["ContentType"] == "application/json" and got["ContentEncoding"] == "gzip"
            doc = json.loads(gzip.decompress(got["Body"].read()))
            assert list(doc) == ["Records"]
            out[obj["Key"]] = doc["Records"]
    return out


def make_trail(server, creds, name, bucket, **kw):
    ensure_bucket(server, creds, bucket)
    ct = server.client("cloudtrail", creds)
    ct.create_trail(Name=name, S3BucketName=bucket, **kw)
    ct.start_logging(Name=name)
    return ct


def test_prefixed_multi_region_trail_delivers_each_region_under_its_folder(server, ids):
    """Events of two regions land in files under [prefix/]AWSLogs/<acct>/CloudTrail/<region>/Y/M/D with
    CloudTrail's file names, each holding its region's records as stored."""
    ct = make_trail(server, ids.a_alice, "dlv-multi", "dlv-multi-bucket", S3KeyPrefix="team/logs", IsMultiRegionTrail=True)
    east = server.client("cloudtrail", ids.a_alice).describe_trails()["ResponseMetadata"]["RequestId"]
    west = server.client("cloudtrail", ids.a_alice, region="eu-west-1").list_trails()["ResponseMetadata"]["RequestId"]
    server.flush()
    files = delivered(server, ids.a_alice, "dlv-multi-bucket")
    assert files, "nothing delivered"
    by_request = {}
    for key, records in files.items():
        m = KEY.match(key)
        assert m, key
        assert m["prefix"] == "team/logs/" and m["acct"] == ACCOUNT_A
        assert m["stamp"][:8] == m["y"] + m["m"] + m["d"]
        for rec in records:
            assert rec["awsRegion"] == m["region"], (key, rec["awsRegion"])
            by_request.setdefault(rec["requestID"], []).append(key)
    assert KEY.match(by_request[east][0])["region"] == "us-east-1"
    assert KEY.match(by_request[west][0])["region"] == "eu-west-1"
    assert all(len(keys) == 1 for keys in by_request.values()), "an event was delivered twice"
    status = ct.get_trail_status(Name="dlv-multi")
    assert status["LatestDeliveryAttemptSucceeded"] and "LatestDeliveryError" not in status
    assert "LatestDeliveryTime" in status
    ct.delete_trail(Name="dlv-multi")


def test_selectors_decide_what_a_trail_receives(server, ids):
    """WriteOnly management selectors drop reads; data events arrive only for a matching DataResources selector."""
    ct = make_trail(server, ids.a_bob, "dlv-select", "dlv-select-bucket")
    ensure_bucket(server, ids.a_bob, "dlv-data-bucket")
    ct.put_event_selectors(TrailName="dlv-select", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::dlv-data-bucket/in/"]}]}])
    client = s3(server, ids.a_bob)
    read = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_A}:trail/dlv-select"
    write = ct.add_tags(ResourceId=arn, TagsList=[{"Key": "k", "Value": "v"}])["ResponseMetadata"]["RequestId"]
    put_in = client.put_object(Bucket="dlv-data-bucket", Key="in/x", Body=b"1")["ResponseMetadata"]["RequestId"]
    put_out = client.put_object(Bucket="dlv-data-bucket", Key="out/x", Body=b"1")["ResponseMetadata"]["RequestId"]
    server.flush()
    records = [r for recs in delivered(server, ids.a_bob, "dlv-select-bucket").values() for r in recs]
    ids_seen = {r["requestID"] for r in records}
    assert write in ids_seen and put_in in ids_seen
    assert read not in ids_seen and put_out not in ids_seen
    data = next(r for r in records if r["requestID"] == put_in)
    assert data["eventCategory"] == "Data" and data["eventName"] == "PutObject"
    ct.delete_trail(Name="dlv-select")


def test_status_reports_a_failing_bucket_and_delivery_resumes(tmp_path_factory, identities_file, ids, binary):
    """With strict checks, removing the bucket policy makes the next delivery fail (LatestDeliveryError AccessDenied,
    nothing lost); restoring it delivers the held-back events."""
    server = CairnServer(tmp_path_factory.mktemp("dlvstrict") / "data", identities_file, ids,
                         extra_args=["--resource-policy-checks", "strict"]).start()
    try:
        ct = make_trail(server, ids.a_alice, "dlv-status", "dlv-status-bucket")
        before = ct.get_trail_status(Name="dlv-status")
        assert "LatestDeliveryTime" not in before and before["LatestDeliveryAttemptTime"] == ""
        s3(server, ids.a_alice).delete_bucket_policy(Bucket="dlv-status-bucket")
        held = ct.list_trails()["ResponseMetadata"]["RequestId"]
        server.flush()
        failed = ct.get_trail_status(Name="dlv-status")
        assert failed["LatestDeliveryError"] == "AccessDenied"
        assert failed["LatestDeliveryAttemptTime"] != "" and failed["LatestDeliveryAttemptSucceeded"] == ""
        assert not delivered(server, ids.a_alice, "dlv-status-bucket")
        s3(server, ids.a_alice).put_bucket_policy(
            Bucket="dlv-status-bucket", Policy=json.dumps(cloudtrail_bucket_policy("dlv-status-bucket", "*")))
        server.flush()
        ok = ct.get_trail_status(Name="dlv-status")
        assert "LatestDeliveryError" not in ok and ok["LatestDeliveryAttemptSucceeded"] != ""
        seen = [r["requestID"] for recs in delivered(server, ids.a_alice, "dlv-status-bucket").values() for r in recs]
        assert seen.count(held) == 1
    finally:
        assert server.stop() == 0


def test_notification_after_each_delivery(server, ids):
    """The trail's topic gets {"s3Bucket":…,"s3ObjectKey":[…]} naming the delivered files; status says so."""
    sub = Subscriber()
    try:
        sns = server.client("sns", ids.a_alice)
        topic = sns.create_topic(Name="dlv-topic")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)
        sub.wait(1)
        token = sub.messages("SubscriptionConfirmation")[0][1]["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token)
        ct = make_trail(server, ids.a_alice, "dlv-notify", "dlv-notify-bucket", SnsTopicName="dlv-topic")
        server.flush()
        server.flush()  # the SNS outbox after the trail's delivery
        deadline = time.monotonic() + 10
        while not sub.messages("Notification") and time.monotonic() < deadline:
            server.flush()
            time.sleep(0.05)
        _, note = sub.messages("Notification")[0]
        message = json.loads(note["Message"])
        assert list(message) == ["s3Bucket", "s3ObjectKey"]
        assert message["s3Bucket"] == "dlv-notify-bucket"
        files = delivered(server, ids.a_alice, "dlv-notify-bucket")
        assert set(message["s3ObjectKey"]) <= set(files)
        assert "Subject" not in note
        status = ct.get_trail_status(Name="dlv-notify")
        assert status["LatestNotificationAttemptSucceeded"] != "" and "LatestNotificationTime" in status
        ct.delete_trail(Name="dlv-notify")
        server.flush()  # the deleted trail's last file and its notification, while the subscriber still listens
    finally:
        sub.httpd.shutdown()


def test_stop_logging_delivers_up_to_the_stop(server, ids):
    """StopLogging: events up to it are delivered (itself included); later calls are not."""
    ct = make_trail(server, ids.a_alice, "dlv-stop", "dlv-stop-bucket")
    before = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    stop = ct.stop_logging(Name="dlv-stop")["ResponseMetadata"]["RequestId"]
    wait_next_second()  # calls in a later second than the stop
    after = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    server.flush()
    seen = {r["requestID"] for recs in delivered(server, ids.a_alice, "dlv-stop-bucket").values() for r in recs}
    assert before in seen and stop in seen and after not in seen
    ct.delete_trail(Name="dlv-stop")


def test_exactly_once_across_kill_during_delivery(own_server, ids):
    """kill -9 while deliveries run: after a restart every selected event is in exactly one delivered file."""
    srv = own_server
    make_trail(srv, ids.a_alice, "dlv-once", "dlv-once-bucket")
    sts = srv.client("sts", ids.a_alice)
    sent = []
    for round_ in range(3):
        sent += [sts.get_caller_identity()["ResponseMetadata"]["RequestId"] for _ in range(150)]
        import threading
        import urllib.request

        t = threading.Thread(target=lambda: _try_flush(srv))
        t.start()
        time.sleep(0.02 * (round_ + 1))
        srv.kill9()
        t.join()
        srv.start()
    srv.flush()
    counts: dict[str, int] = {}
    for recs in delivered(srv, ids.a_alice, "dlv-once-bucket").values():
        for r in recs:
            counts[r["eventID"]] = counts.get(r["eventID"], 0) + 1
    assert all(n == 1 for n in counts.values()), "duplicated events"
    by_request = set()
    for recs in delivered(srv, ids.a_alice, "dlv-once-bucket").values():
        by_request |= {r["requestID"] for r in recs}
    missing = [r for r in sent if r not in by_request]
    assert not missing, f"{len(missing)} acknowledged calls never delivered"


def _try_flush(server) -> None:
    try:
        server.flush()
    except Exception:
        pass


def test_shutdown_delivers_what_is_pending(tmp_path_factory, identities_file, ids, binary):
    """SIGTERM with an hour-long delivery interval: the pending events are delivered before Cairn exits."""
    srv = CairnServer(tmp_path_factory.mktemp("shut") / "data", identities_file, ids,
                      extra_args=["--resource-policy-checks", "off", "--delivery-interval", "3600"]).start()
    make_trail(srv, ids.a_alice, "dlv-shutdown", "dlv-shutdown-bucket")
    pending = srv.client("cloudtrail", ids.a_alice).describe_trails()["ResponseMetadata"]["RequestId"]
    assert not delivered(srv, ids.a_alice, "dlv-shutdown-bucket")
    assert srv.stop() == 0
    srv.start()
    try:
        seen = {r["requestID"] for recs in delivered(srv, ids.a_alice, "dlv-shutdown-bucket").values() for r in recs}
        assert pending in seen
    finally:
        assert srv.stop() == 0
