"""Every call is a CloudTrail event: the full record, as LookupEvents returns it in CloudTrailEvent."""

from __future__ import annotations

import calendar
import json
import re
import time
import uuid

from cairn_harness import (
    ACCOUNT_A, ACCOUNT_B, ALIAS_A, Creds, capture_user_agent, ensure_bucket, expect_error, find_by_request_id,
    lookup_all, lower_camel, records, strip_meta,
)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO_SECONDS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"

BASE_ORDER = ["eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
              "userAgent"]


def expected_order(rec: dict) -> list[str]:
    keys = list(BASE_ORDER)
    if "errorCode" in rec:
        keys += ["errorCode", "errorMessage"]
    keys += ["requestParameters", "responseElements", "requestID", "eventID", "readOnly"]
    if "resources" in rec:
        keys.append("resources")
    keys += ["eventType", "managementEvent", "recipientAccountId"]
    if "sharedEventID" in rec:
        keys.append("sharedEventID")
    return keys + ["eventCategory"]


def epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def check_common(rec: dict, *, source: str, name: str, region: str, account: str, request_id: str, ua: str,
                 read_only: bool, t0: float, t1: float) -> None:
    assert list(rec) == expected_order(rec), list(rec)
    assert rec["eventVersion"] == "1.11"
    assert re.fullmatch(ISO_SECONDS, rec["eventTime"]), rec["eventTime"]
    assert int(t0) - 1 <= epoch(rec["eventTime"]) <= int(t1) + 1, (rec["eventTime"], t0, t1)
    assert rec["eventSource"] == source
    assert rec["eventName"] == name
    assert rec["awsRegion"] == region
    assert rec["sourceIPAddress"] == "127.0.0.1"
    assert rec["userAgent"] == ua
    assert rec["requestID"] == request_id
    assert re.fullmatch(UUID, rec["eventID"]), rec["eventID"]
    assert rec["readOnly"] is read_only
    assert rec["eventType"] == "AwsApiCall"
    assert rec["managementEvent"] is True
    assert rec["recipientAccountId"] == account
    assert rec["eventCategory"] == "Management"


def unique_ua() -> str:
    return f"cairn-e2e/{uuid.uuid4().hex[:10]}"


def test_iam_user_event_record_and_summary(server, ids):
    extra = unique_ua()
    sts = server.client("sts", ids.a_alice, user_agent_extra=extra)
    sent = capture_user_agent(sts)
    t0 = time.time()
    r = sts.get_caller_identity()
    t1 = time.time()
    request_id = r["ResponseMetadata"]["RequestId"]
    assert extra in sent[-1]

    ct = server.client("cloudtrail", ids.a_lookup)
    events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}])
    matching = [e for e in events if json.loads(e["CloudTrailEvent"])["requestID"] == request_id]
    assert len(matching) == 1
    summary = matching[0]
    rec = json.loads(summary["CloudTrailEvent"])
    check_common(rec, source="sts.amazonaws.com", name="GetCallerIdentity", region="us-east-1", account=ACCOUNT_A,
                 request_id=request_id, ua=sent[-1], read_only=True, t0=t0, t1=t1)
    assert rec["userIdentity"] == {
        "type": "IAMUser", "principalId": r["UserId"], "arn": f"arn:aws:iam::{ACCOUNT_A}:user/alice",
        "accountId": ACCOUNT_A, "accessKeyId": ids.a_alice.access_key, "userName": "alice",
    }
    assert list(rec["userIdentity"]) == ["type", "principalId", "arn", "accountId", "accessKeyId", "userName"]
    assert rec["requestParameters"] is None
    assert rec["responseElements"] is None
    assert "errorCode" not in rec and "errorMessage" not in rec
    assert "resources" not in rec

    # The Event history summary of the same event.
    assert summary["EventId"] == rec["eventID"]
    assert summary["EventName"] == "GetCallerIdentity"
    assert summary["ReadOnly"] == "true"
    assert summary["AccessKeyId"] == ids.a_alice.access_key
    assert int(summary["EventTime"].timestamp()) == epoch(rec["eventTime"])
    assert summary["EventSource"] == "sts.amazonaws.com"
    assert summary["Username"] == "alice"
    assert summary["Resources"] == []


def test_events_via_aws_cli_lookup(server, ids):
    """The aws CLI's lookup-events finds a call made with the aws CLI, with the CLI's user agent."""
    out = server.aws_ok("sts", "get-caller-identity", creds=ids.a_bob)
    assert out["Arn"].endswith(":user/engineering/bob")
    found = server.aws_ok("cloudtrail", "lookup-events", "--lookup-attributes",
                          f"AttributeKey=AccessKeyId,AttributeValue={ids.a_bob.access_key}", creds=ids.a_lookup)
    recs = [json.loads(e["CloudTrailEvent"]) for e in found["Events"]]
    cli = [r for r in recs if r["eventName"] == "GetCallerIdentity" and r["userAgent"].startswith("aws-cli/1.")]
    assert cli, recs
    rec = cli[0]
    assert rec["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    assert rec["userIdentity"]["userName"] == "bob"
    assert "Botocore" in rec["userAgent"] or "botocore" in rec["userAgent"]
    assert found["Events"][0]["ReadOnly"] in ("true", "false")
    assert isinstance(found["Events"][0]["EventTime"], (int, float)), "the CLI shows wire timestamps as numbers"


def test_root_event_identity(server, ids):
    for creds, account, alias in ((ids.a_root, ACCOUNT_A, ALIAS_A), (ids.b_root, ACCOUNT_B, None)):
        sts = server.client("sts", creds)
        r = sts.get_caller_identity()
        viewer = ids.a_lookup if account == ACCOUNT_A else ids.b_carol
        ct = server.client("cloudtrail", viewer)
        rec = find_by_request_id(ct, "GetCallerIdentity", r["ResponseMetadata"]["RequestId"])
        expected = {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root",
                    "accountId": account, "accessKeyId": creds.access_key}
        if alias:
            expected["userName"] = alias
        assert rec["userIdentity"] == expected
        assert list(rec["userIdentity"]) == list(expected)
        assert rec["recipientAccountId"] == account
        summary = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": rec["eventID"]}])
        assert len(summary) == 1
        assert summary[0]["Username"] == "root"


def test_assumed_role_event_identity(server, ids):
    role_arn = f"arn:aws:iam::{ACCOUNT_B}:role/Auditor"
    t0 = time.time()
    assumed = server.client("sts", ids.a_alice).assume_role(RoleArn=role_arn, RoleSessionName="e2e-audit")
    t1 = time.time()
    c = assumed["Credentials"]
    temp = Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    r = server.client("sts", temp).get_caller_identity()
    # The role session's call is recorded in the role's account (B).
    ct_b = server.client("cloudtrail", ids.b_carol)
    rec = find_by_request_id(ct_b, "GetCallerIdentity", r["ResponseMetadata"]["RequestId"])
    role_id = assumed["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role_id)
    ident = rec["userIdentity"]
    assert list(ident) == ["type", "principalId", "arn", "accountId", "accessKeyId", "sessionContext"]
    assert ident["type"] == "AssumedRole"
    assert ident["principalId"] == f"{role_id}:e2e-audit"
    assert ident["arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/Auditor/e2e-audit"
    assert ident["accountId"] == ACCOUNT_B
    assert ident["accessKeyId"] == c["AccessKeyId"]
    ctx = ident["sessionContext"]
    assert list(ctx) == ["sessionIssuer", "webIdFederationData", "attributes"]
    assert ctx["sessionIssuer"] == {"type": "Role", "principalId": role_id, "arn": role_arn,
                                    "accountId": ACCOUNT_B, "userName": "Auditor"}
    assert ctx["webIdFederationData"] == {}
    assert list(ctx["attributes"]) == ["creationDate", "mfaAuthenticated"]
    assert re.fullmatch(ISO_SECONDS, ctx["attributes"]["creationDate"])
    assert int(t0) - 1 <= epoch(ctx["attributes"]["creationDate"]) <= int(t1) + 1
    assert ctx["attributes"]["mfaAuthenticated"] == "false"
    assert rec["recipientAccountId"] == ACCOUNT_B
    assert "userName" not in ident

    # Event history of B, by the temporary key and by the session name.
    by_key = lookup_all(ct_b, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": c["AccessKeyId"]}])
    assert [e["EventId"] for e in by_key] == [rec["eventID"]]
    assert by_key[0]["Username"] == "e2e-audit"
    # Account A's history does not see B's event.
    ct_a = server.client("cloudtrail", ids.a_lookup)
    assert lookup_all(ct_a, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": c["AccessKeyId"]}]) == []


def test_assume_role_event_in_callers_account(server, ids):
    role_arn = f"arn:aws:iam::{ACCOUNT_B}:role/Auditor"
    sts = server.client("sts", ids.a_alice)
    r = sts.assume_role(RoleArn=role_arn, RoleSessionName="recorded", DurationSeconds=900)
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "AssumeRole", r["ResponseMetadata"]["RequestId"])
    assert rec["recipientAccountId"] == ACCOUNT_A
    assert rec["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert rec["requestParameters"] == {"roleArn": role_arn, "roleSessionName": "recorded", "durationSeconds": 900}
    resp = rec["responseElements"]
    assert resp is not None
    assert resp["assumedRoleUser"] == {"assumedRoleId": r["AssumedRoleUser"]["AssumedRoleId"],
                                       "arn": r["AssumedRoleUser"]["Arn"]}
    assert resp["credentials"]["accessKeyId"] == r["Credentials"]["AccessKeyId"]
    assert "expiration" in resp["credentials"]
    assert "sessionToken" not in resp["credentials"] and "secretAccessKey" not in resp["credentials"]
    assert list(rec) == expected_order(rec), list(rec)
    raw = json.dumps(rec)
    assert r["Credentials"]["SecretAccessKey"] not in raw
    assert r["Credentials"]["SessionToken"] not in raw
    assert rec["resources"] and all(set(x) == {"ARN", "accountId", "type"} for x in rec["resources"])
    assert {"ARN": role_arn, "accountId": ACCOUNT_B, "type": "AWS::IAM::Role"} in rec["resources"]

    # The role owner's account (B) gets its own copy: same call, AWSAccount identity, shared event id.
    owner = find_by_request_id(server.client("cloudtrail", ids.b_carol), "AssumeRole", r["ResponseMetadata"]["RequestId"])
    assert list(owner) == expected_order(owner), list(owner)
    assert owner["recipientAccountId"] == ACCOUNT_B
    alice_id = server.client("sts", ids.a_alice).get_caller_identity()["UserId"]
    assert owner["userIdentity"] == {"type": "AWSAccount", "principalId": alice_id, "accountId": ACCOUNT_A}
    assert re.fullmatch(UUID, owner["sharedEventID"]) and owner["sharedEventID"] == rec["sharedEventID"]
    assert owner["eventID"] != rec["eventID"]
    assert owner["requestParameters"] == rec["requestParameters"]
    assert owner["resources"] == rec["resources"]


def test_same_account_assume_role_has_one_copy(server, ids):
    r = server.client("sts", ids.a_alice).assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/LocalAdmin", RoleSessionName="local")
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "AssumeRole", r["ResponseMetadata"]["RequestId"])
    assert "sharedEventID" not in rec
    assert rec["userIdentity"]["type"] == "IAMUser"


def test_failed_call_event(server, ids):
    ct = server.client("cloudtrail", ids.a_alice, user_agent_extra=unique_ua())
    sent = capture_user_agent(ct)
    t0 = time.time()
    e = expect_error(ct.get_trail, "TrailNotFoundException", 400, Name="no-such-trail")
    t1 = time.time()
    request_id = e.response["ResponseMetadata"]["RequestId"]
    assert request_id
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetTrail", request_id)
    check_common(rec, source="cloudtrail.amazonaws.com", name="GetTrail", region="us-east-1", account=ACCOUNT_A,
                 request_id=request_id, ua=sent[-1], read_only=True, t0=t0, t1=t1)
    assert rec["errorCode"] == "TrailNotFoundException"
    assert rec["errorMessage"] == e.response["Error"]["Message"]
    assert "no-such-trail" in rec["errorMessage"]
    assert rec["requestParameters"] == {"name": "no-such-trail"}
    assert rec["responseElements"] is None


def test_mutating_call_event_create_trail(server, ids):
    ensure_bucket(server, ids.a_alice, "events-bucket")
    ct = server.client("cloudtrail", ids.a_alice, user_agent_extra=unique_ua())
    sent = capture_user_agent(ct)
    t0 = time.time()
    r = ct.create_trail(Name="events-trail", S3BucketName="events-bucket")
    t1 = time.time()
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "CreateTrail", r["ResponseMetadata"]["RequestId"])
    check_common(rec, source="cloudtrail.amazonaws.com", name="CreateTrail", region="us-east-1", account=ACCOUNT_A,
                 request_id=r["ResponseMetadata"]["RequestId"], ua=sent[-1], read_only=False, t0=t0, t1=t1)
    # Only what was sent, lower-camel.
    assert rec["requestParameters"] == {"name": "events-trail", "s3BucketName": "events-bucket"}
    # The response, lower-camel, as returned.
    assert rec["responseElements"] == lower_camel(strip_meta(r))
    assert rec["responseElements"]["trailARN"] == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_A}:trail/events-trail"
    assert rec["responseElements"]["includeGlobalServiceEvents"] is True
    # Event history indexes the trail it touched.
    ct_l = server.client("cloudtrail", ids.a_lookup)
    by_name = lookup_all(ct_l, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": r["TrailARN"]}])
    assert rec["eventID"] in [e["EventId"] for e in by_name]
    summary = next(e for e in by_name if e["EventId"] == rec["eventID"])
    assert {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": r["TrailARN"]} in summary["Resources"]
    # Clean up so the trail quota is not consumed for other tests of this module.
    ct.delete_trail(Name="events-trail")


def test_request_parameters_nested_and_null(server, ids):
    ct = server.client("cloudtrail", ids.a_alice)
    r = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrail"}], MaxResults=5)
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "LookupEvents", r["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"] == {
        "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "GetTrail"}], "maxResults": 5}
    assert rec["responseElements"] is None
    assert rec["readOnly"] is True

    d = ct.describe_trails()  # botocore sends {}: nothing was sent
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "DescribeTrails", d["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"] is None
    d = ct.describe_trails(includeShadowTrails=False)
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "DescribeTrails", d["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"] == {"includeShadowTrails": False}


def test_region_from_client_and_events_separate_per_region(server, ids):
    sts_west = server.client("sts", ids.a_alice, region="us-west-2")
    r = sts_west.get_caller_identity()
    request_id = r["ResponseMetadata"]["RequestId"]
    west = server.client("cloudtrail", ids.a_lookup, region="us-west-2")
    rec = find_by_request_id(west, "GetCallerIdentity", request_id)
    assert rec["awsRegion"] == "us-west-2"
    east = server.client("cloudtrail", ids.a_lookup, region="us-east-1")
    east_ids = [x["requestID"] for x in records(lookup_all(
        east, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]))]
    assert request_id not in east_ids
    # A CloudTrail call in eu-west-1 lands only in eu-west-1.
    d = server.client("cloudtrail", ids.a_alice, region="eu-west-1").describe_trails()
    eu = server.client("cloudtrail", ids.a_lookup, region="eu-west-1")
    assert find_by_request_id(eu, "DescribeTrails", d["ResponseMetadata"]["RequestId"])["awsRegion"] == "eu-west-1"
    assert d["ResponseMetadata"]["RequestId"] not in [x["requestID"] for x in records(lookup_all(
        east, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]))]


def test_events_separate_per_account(server, ids):
    r = server.client("sts", ids.b_carol).get_caller_identity()
    request_id = r["ResponseMetadata"]["RequestId"]
    rec = find_by_request_id(server.client("cloudtrail", ids.b_root), "GetCallerIdentity", request_id)
    assert rec["recipientAccountId"] == ACCOUNT_B
    a_ids = [x["requestID"] for x in records(lookup_all(
        server.client("cloudtrail", ids.a_lookup),
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]))]
    assert request_id not in a_ids
    c_events = lookup_all(server.client("cloudtrail", ids.c_mallory),
                          LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": ids.b_carol.access_key}])
    assert c_events == []


def test_long_user_agent_truncated_to_1kb(server, ids):
    extra = "x" * 1500
    sts = server.client("sts", ids.a_alice, user_agent_extra=extra)
    sent = capture_user_agent(sts)
    r = sts.get_caller_identity()
    rec = find_by_request_id(server.client("cloudtrail", ids.a_lookup), "GetCallerIdentity",
                             r["ResponseMetadata"]["RequestId"])
    assert len(sent[-1]) > 1024
    assert rec["userAgent"] == sent[-1][:1024]


def test_no_secret_or_session_token_in_events_or_log(server, ids):
    sts = server.client("sts", ids.a_alice)
    issued = []
    a = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/Auditor", RoleSessionName="secrets-check")
    issued.append(a["Credentials"])
    g = sts.get_session_token(DurationSeconds=900)
    issued.append(g["Credentials"])
    g2 = server.client("sts", ids.b_root).get_session_token(DurationSeconds=900)
    issued.append(g2["Credentials"])
    for c in issued:
        temp = Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        server.client("sts", temp).get_caller_identity()
        server.client("cloudtrail", temp).describe_trails()
        expect_error(server.client("cloudtrail", temp).get_trail, "TrailNotFoundException", Name="missing-trail")
    server.aws_ok("sts", "get-caller-identity", creds=Creds(
        issued[0]["AccessKeyId"], issued[0]["SecretAccessKey"], issued[0]["SessionToken"]))

    forbidden = [c.secret_key for c in vars(ids).values()]
    for c in issued:
        forbidden += [c["SecretAccessKey"], c["SessionToken"]]
    seen = 0
    for viewer in (ids.a_lookup, ids.b_carol, ids.c_mallory):
        for region in ("us-east-1", "us-west-2", "eu-west-1"):
            for e in lookup_all(server.client("cloudtrail", viewer, region=region)):
                raw = e["CloudTrailEvent"]
                seen += 1
                for s in forbidden:
                    assert s not in raw, f"secret material in event {e['EventName']}: {raw}"
    assert seen > 10
    log = server.log_text()
    for s in forbidden:
        assert s not in log, "secret material in the server log"
