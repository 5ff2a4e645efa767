"""Durability: state survives SIGTERM + restart, and kill -9 under load loses no acknowledged call."""

from __future__ import annotations

import json
import threading
import time

import botocore.exceptions

from cairn_harness import ACCOUNT_A, ACCOUNT_B, Creds, ensure_bucket, find_by_request_id, lookup_all, records


def test_restart_keeps_trails_tags_events_and_credentials(own_server, ids):
    srv = own_server
    ensure_bucket(srv, ids.a_alice, "persist-bucket")
    ct = srv.client("cloudtrail", ids.a_alice)
    ct.create_trail(Name="persist-1", S3BucketName="persist-bucket", S3KeyPrefix="p",
                    TagsList=[{"Key": "k", "Value": "v"}])
    ct.create_trail(Name="persist-mr", S3BucketName="persist-bucket", IsMultiRegionTrail=True,
                    EnableLogFileValidation=True)
    ct.start_logging(Name="persist-1")
    ct.put_event_selectors(TrailName="persist-mr", EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    ct.put_insight_selectors(TrailName="persist-mr", InsightSelectors=[{"InsightType": "ApiErrorRateInsight"}])
    sts = srv.client("sts", ids.a_alice)
    who = sts.get_caller_identity()
    assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/Auditor", RoleSessionName="survivor")
    session = sts.get_session_token(DurationSeconds=3600)
    temp_role = Creds(assumed["Credentials"]["AccessKeyId"], assumed["Credentials"]["SecretAccessKey"],
                      assumed["Credentials"]["SessionToken"])
    temp_user = Creds(session["Credentials"]["AccessKeyId"], session["Credentials"]["SecretAccessKey"],
                      session["Credentials"]["SessionToken"])
    role_call = srv.client("sts", temp_role).get_caller_identity()

    before = {
        "trails": ct.describe_trails()["trailList"],
        "shadow": srv.client("cloudtrail", ids.a_alice, region="us-west-2").describe_trails()["trailList"],
        "status": {k: v for k, v in ct.get_trail_status(Name="persist-1").items() if k != "ResponseMetadata"},
        "tags": ct.list_tags(ResourceIdList=[ct.get_trail(Name="persist-1")["Trail"]["TrailARN"]])["ResourceTagList"],
        "selectors": {k: v for k, v in ct.get_event_selectors(TrailName="persist-mr").items() if k != "ResponseMetadata"},
        "insights": ct.get_insight_selectors(TrailName="persist-mr")["InsightSelectors"],
        "events_a": records(lookup_all(srv.client("cloudtrail", ids.a_lookup))),
        "events_b": records(lookup_all(srv.client("cloudtrail", ids.b_carol))),
    }
    assert before["status"]["IsLogging"] is True

    srv.restart()

    ct = srv.client("cloudtrail", ids.a_alice)
    assert ct.describe_trails()["trailList"] == before["trails"]
    assert srv.client("cloudtrail", ids.a_alice, region="us-west-2").describe_trails()["trailList"] == before["shadow"]
    status = {k: v for k, v in ct.get_trail_status(Name="persist-1").items() if k != "ResponseMetadata"}
    assert status["IsLogging"] is True
    assert status["StartLoggingTime"] == before["status"]["StartLoggingTime"]
    assert ct.list_tags(ResourceIdList=[ct.get_trail(Name="persist-1")["Trail"]["TrailARN"]])["ResourceTagList"] \
        == before["tags"]
    assert {k: v for k, v in ct.get_event_selectors(TrailName="persist-mr").items() if k != "ResponseMetadata"} \
        == before["selectors"]
    assert ct.get_insight_selectors(TrailName="persist-mr")["InsightSelectors"] == before["insights"]

    # Every event from before is still there, byte-identical (LookupEvents calls made since are newer).
    after_a = records(lookup_all(srv.client("cloudtrail", ids.a_lookup)))
    after_b = records(lookup_all(srv.client("cloudtrail", ids.b_carol)))
    ids_after_a = {r["eventID"]: r for r in after_a}
    for rec in before["events_a"]:
        assert ids_after_a.get(rec["eventID"]) == rec
    ids_after_b = {r["eventID"]: r for r in after_b}
    for rec in before["events_b"]:
        assert ids_after_b.get(rec["eventID"]) == rec
    find_by_request_id(srv.client("cloudtrail", ids.a_lookup), "GetCallerIdentity", who["ResponseMetadata"]["RequestId"])
    find_by_request_id(srv.client("cloudtrail", ids.b_carol), "GetCallerIdentity",
                       role_call["ResponseMetadata"]["RequestId"])

    # Temporary credentials still sign; principal ids are the same after the restart.
    again = srv.client("sts", temp_role).get_caller_identity()
    assert again["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/survivor"
    assert again["UserId"] == role_call["UserId"]
    assert srv.client("sts", temp_user).get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert srv.client("sts", ids.a_alice).get_caller_identity()["UserId"] == who["UserId"]
    out = srv.aws_ok("sts", "get-caller-identity", creds=temp_role)
    assert out["Arn"] == again["Arn"]

    # New events after the restart are appended, newest first, with no duplicated ids.
    all_a = lookup_all(srv.client("cloudtrail", ids.a_lookup))
    assert len({e["EventId"] for e in all_a}) == len(all_a)
    times = [e["EventTime"] for e in all_a]
    assert times == sorted(times, reverse=True)

    # Nothing secret reached the log over both runs.
    log = srv.log_text()
    for secret in [c.secret_key for c in vars(ids).values()] + [temp_role.secret_key, temp_role.session_token,
                                                               temp_user.secret_key, temp_user.session_token]:
        assert secret not in log


def test_startup_log_line(own_server):
    log = own_server.log_text()
    assert own_server.url in log or f"127.0.0.1:{own_server.port}" in log, log
    assert str(own_server.data_dir) in log, log


def test_kill9_under_load_loses_no_acknowledged_call(own_server, ids):
    srv = own_server
    acked: list[str] = []
    failures = []
    lock = threading.Lock()
    stop = threading.Event()
    clients = [(srv.client("sts", ids.a_load), srv.client("cloudtrail", ids.a_load)) for _ in range(8)]
    started = threading.Barrier(9)

    def worker(n: int) -> None:
        sts, ct = clients[n]
        started.wait()
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if (n + i) % 2:
                    r = sts.get_caller_identity()
                else:
                    r = ct.describe_trails()
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                with lock:
                    failures.append(repr(e))
                time.sleep(0.01)
                continue
            with lock:
                acked.append(r["ResponseMetadata"]["RequestId"])

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    started.wait()
    # Load until a few hundred calls are acknowledged, kill -9 in the middle of it, and keep the load on until the
    # clients have seen the server go.
    deadline = time.monotonic() + 30
    while True:
        with lock:
            if len(acked) >= 300 or failures:
                break
        assert time.monotonic() < deadline, "the load did not get going"
        time.sleep(0.01)
    with lock:
        acked_before_kill = len(acked)
        failures_before_kill = len(failures)
    srv.kill9()
    while True:
        with lock:
            if failures:
                break
        assert time.monotonic() < deadline + 30, "no call failed after the kill"
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert failures_before_kill == 0, failures[:5]
    assert acked_before_kill > 50, f"load too light to mean anything: {acked_before_kill}"
    assert failures, "no call failed after the kill: it did not happen under load"

    srv.start()
    found = lookup_all(srv.client("cloudtrail", ids.a_lookup),
                       LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": ids.a_load.access_key}])
    recorded = [json.loads(e["CloudTrailEvent"])["requestID"] for e in found]
    assert len(recorded) == len(set(recorded)), "an event was recorded twice"
    missing = set(acked) - set(recorded)
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged calls lost after kill -9"
    # Also by EventName, as an operator would look them up.
    by_name = set()
    for name in ("GetCallerIdentity", "DescribeTrails"):
        by_name |= {r["requestID"] for r in records(lookup_all(
            srv.client("cloudtrail", ids.a_lookup), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]))}
    assert set(acked) <= by_name
    # And the server works normally after the crash.
    assert srv.client("sts", ids.a_alice).get_caller_identity()["Account"] == ACCOUNT_A
