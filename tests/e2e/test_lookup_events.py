"""Event history: LookupEvents with each attribute, time ranges, pagination and its errors."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from botocore.exceptions import ClientError

from cairn_harness import (
    ACCOUNT_A, ensure_bucket, expect_error, lookup_all, records, wait_next_second,
)


def rid(resp: dict) -> str:
    return resp["ResponseMetadata"]["RequestId"]


@pytest.fixture(scope="module")
def history(server, ids):
    """Bob's calls, in order, spread over three distinct seconds; plus calls by root, alice and a 60-call burst."""
    sts = server.client("sts", ids.a_bob)
    ct = server.client("cloudtrail", ids.a_bob)
    ensure_bucket(server, ids.b_root, "lookup-bucket")  # another account's bucket keeps bob's history to his own calls
    calls: list[tuple[str, str]] = []

    wait_next_second()
    for _ in range(3):
        calls.append((rid(sts.get_caller_identity()), "GetCallerIdentity"))
    created = ct.create_trail(Name="lookup-trail", S3BucketName="lookup-bucket")
    calls.append((rid(created), "CreateTrail"))
    wait_next_second()
    calls.append((rid(ct.describe_trails()), "DescribeTrails"))
    e = expect_error(ct.get_trail, "TrailNotFoundException", Name="missing-trail")
    calls.append((e.response["ResponseMetadata"]["RequestId"], "GetTrail"))
    for _ in range(3):
        calls.append((rid(sts.get_caller_identity()), "GetCallerIdentity"))
    wait_next_second()
    calls.append((rid(ct.get_trail_status(Name="lookup-trail")), "GetTrailStatus"))
    calls.append((rid(ct.start_logging(Name="lookup-trail")), "StartLogging"))
    for _ in range(2):
        calls.append((rid(sts.get_caller_identity()), "GetCallerIdentity"))

    root_id = rid(server.client("sts", ids.a_root).get_caller_identity())
    alice_id = rid(server.client("sts", ids.a_alice).get_caller_identity())
    load_sts = server.client("sts", ids.a_load)
    burst = [rid(load_sts.get_caller_identity()) for _ in range(60)]
    # Every later event (the look-ups of the tests) falls in a later second than `end`.
    end = datetime.datetime.now(datetime.timezone.utc)
    wait_next_second()
    return {"bob": calls, "root": root_id, "alice": alice_id, "burst": burst, "trail_arn": created["TrailARN"],
            "end": end}


@pytest.fixture
def ct(server, ids):
    return server.client("cloudtrail", ids.a_lookup)


def attr(key: str, value: str) -> dict:
    return {"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}


def request_ids(events: list[dict]) -> list[str]:
    return [r["requestID"] for r in records(events)]


# ---------------------------------------------------------------------------------------------------------------------
# The eight attributes
# ---------------------------------------------------------------------------------------------------------------------


def test_access_key_id_exact_and_newest_first(ct, ids, history):
    events = lookup_all(ct, **attr("AccessKeyId", ids.a_bob.access_key))
    assert request_ids(events) == [r for r, _ in reversed(history["bob"])]
    assert all(e["AccessKeyId"] == ids.a_bob.access_key for e in events)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    assert len(set(int(t.timestamp()) for t in times)) >= 3


def test_event_id(ct, ids, history):
    created = [r for r, n in history["bob"] if n == "CreateTrail"][0]
    all_bob = lookup_all(ct, **attr("AccessKeyId", ids.a_bob.access_key))
    event_id = next(e["EventId"] for e in all_bob if json.loads(e["CloudTrailEvent"])["requestID"] == created)
    found = lookup_all(ct, **attr("EventId", event_id))
    assert len(found) == 1
    assert found[0]["EventId"] == event_id
    assert found[0]["EventName"] == "CreateTrail"
    assert json.loads(found[0]["CloudTrailEvent"])["eventID"] == event_id
    assert lookup_all(ct, **attr("EventId", "00000000-0000-0000-0000-000000000000")) == []


def test_event_name(ct, history):
    events = lookup_all(ct, **attr("EventName", "GetCallerIdentity"))
    assert all(e["EventName"] == "GetCallerIdentity" for e in events)
    got = set(request_ids(events))
    expected = {r for r, n in history["bob"] if n == "GetCallerIdentity"} | {history["root"], history["alice"]}
    expected |= set(history["burst"])
    assert expected <= got
    assert len(got) == len(events), "duplicates"
    assert lookup_all(ct, **attr("EventName", "getcalleridentity")) == [], "matching is exact"


def test_read_only(ct, history):
    writes = lookup_all(ct, **attr("ReadOnly", "false"))
    reads = lookup_all(ct, **attr("ReadOnly", "true"))
    assert all(e["ReadOnly"] == "false" for e in writes)
    assert all(e["ReadOnly"] == "true" for e in reads)
    w, r = set(request_ids(writes)), set(request_ids(reads))
    for request_id, name in history["bob"]:
        if name in ("CreateTrail", "StartLogging"):
            assert request_id in w and request_id not in r, name
        else:
            assert request_id in r and request_id not in w, name
    assert all(json.loads(e["CloudTrailEvent"])["readOnly"] is False for e in writes)


def test_username(ct, history):
    bob = lookup_all(ct, **attr("Username", "bob"))
    assert request_ids(bob) == [r for r, _ in reversed(history["bob"])]
    assert all(e["Username"] == "bob" for e in bob)
    root = lookup_all(ct, **attr("Username", "root"))
    assert history["root"] in request_ids(root)
    assert all(e["Username"] == "root" for e in root)
    assert all(json.loads(e["CloudTrailEvent"])["userIdentity"]["type"] == "Root" for e in root)
    alice = lookup_all(ct, **attr("Username", "alice"))
    assert history["alice"] in request_ids(alice)
    assert not set(request_ids(alice)) & set(request_ids(bob))


def test_resource_type(ct, history):
    events = lookup_all(ct, **attr("ResourceType", "AWS::CloudTrail::Trail"))
    created = next(r for r, n in history["bob"] if n == "CreateTrail")
    assert created in request_ids(events)
    for e in events:
        assert any(x["ResourceType"] == "AWS::CloudTrail::Trail" for x in e["Resources"]), e["Resources"]
    gci = {r for r, n in history["bob"] if n == "GetCallerIdentity"}
    assert not gci & set(request_ids(events))


def test_resource_name(ct, history):
    events = lookup_all(ct, **attr("ResourceName", history["trail_arn"]))
    created = next(r for r, n in history["bob"] if n == "CreateTrail")
    assert created in request_ids(events)
    for e in events:
        assert any(x["ResourceName"] == history["trail_arn"] for x in e["Resources"]), e["Resources"]
    summary = next(e for e in events if json.loads(e["CloudTrailEvent"])["requestID"] == created)
    assert {"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": history["trail_arn"]} in summary["Resources"]


def test_event_source(ct, history):
    sts_events = lookup_all(ct, **attr("EventSource", "sts.amazonaws.com"))
    ct_events = lookup_all(ct, **attr("EventSource", "cloudtrail.amazonaws.com"))
    assert all(e["EventSource"] == "sts.amazonaws.com" for e in sts_events)
    assert all(e["EventSource"] == "cloudtrail.amazonaws.com" for e in ct_events)
    s, c = set(request_ids(sts_events)), set(request_ids(ct_events))
    for request_id, name in history["bob"]:
        if name == "GetCallerIdentity":
            assert request_id in s and request_id not in c
        else:
            assert request_id in c and request_id not in s


@pytest.mark.parametrize("key", ["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName",
                                 "EventSource", "AccessKeyId"])
def test_each_attribute_with_aws_cli(server, ids, history, key):
    boto_ct = server.client("cloudtrail", ids.a_lookup)
    bob_events = lookup_all(boto_ct, **attr("AccessKeyId", ids.a_bob.access_key))
    create = next(e for e in bob_events if e["EventName"] == "CreateTrail")
    value = {
        "EventId": create["EventId"], "EventName": "CreateTrail", "ReadOnly": "false", "Username": "bob",
        "ResourceType": "AWS::CloudTrail::Trail", "ResourceName": history["trail_arn"],
        "EventSource": "cloudtrail.amazonaws.com", "AccessKeyId": ids.a_bob.access_key,
    }[key]
    out = server.aws_ok("cloudtrail", "lookup-events", "--lookup-attributes",
                        f"AttributeKey={key},AttributeValue={value}", creds=ids.a_lookup)
    events = out["Events"]
    assert create["EventId"] in [e["EventId"] for e in events]
    for e in events:
        rec = json.loads(e["CloudTrailEvent"])
        if key == "EventId":
            assert e["EventId"] == value
        elif key == "EventName":
            assert e["EventName"] == value == rec["eventName"]
        elif key == "ReadOnly":
            assert e["ReadOnly"] == value and rec["readOnly"] is False
        elif key == "Username":
            assert e["Username"] == value
        elif key == "ResourceType":
            assert value in [x["ResourceType"] for x in e["Resources"]]
        elif key == "ResourceName":
            assert value in [x["ResourceName"] for x in e["Resources"]]
        elif key == "EventSource":
            assert e["EventSource"] == value == rec["eventSource"]
        elif key == "AccessKeyId":
            assert e["AccessKeyId"] == value == rec["userIdentity"]["accessKeyId"]


# ---------------------------------------------------------------------------------------------------------------------
# Time range
# ---------------------------------------------------------------------------------------------------------------------


def test_start_and_end_time(ct, ids, history):
    full = lookup_all(ct, **attr("AccessKeyId", ids.a_bob.access_key))
    seconds = sorted({e["EventTime"] for e in full})
    assert len(seconds) >= 3
    middle = seconds[len(seconds) // 2]
    base = attr("AccessKeyId", ids.a_bob.access_key)

    after = lookup_all(ct, StartTime=middle, **base)
    assert [e["EventId"] for e in after] == [e["EventId"] for e in full if e["EventTime"] >= middle]
    before = lookup_all(ct, EndTime=middle, **base)
    assert [e["EventId"] for e in before] == [e["EventId"] for e in full if e["EventTime"] <= middle]
    exactly = lookup_all(ct, StartTime=middle, EndTime=middle, **base)
    assert [e["EventId"] for e in exactly] == [e["EventId"] for e in full if e["EventTime"] == middle]
    assert exactly and len(exactly) < len(full)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert lookup_all(ct, StartTime=future, **base) == []
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    assert lookup_all(ct, EndTime=past, **base) == []


def test_time_range_with_aws_cli(server, ids, history):
    boto_ct = server.client("cloudtrail", ids.a_lookup)
    full = lookup_all(boto_ct, **attr("AccessKeyId", ids.a_bob.access_key))
    newest = max(e["EventTime"] for e in full)
    out = server.aws_ok("cloudtrail", "lookup-events", "--lookup-attributes",
                        f"AttributeKey=AccessKeyId,AttributeValue={ids.a_bob.access_key}",
                        "--start-time", newest.strftime("%Y-%m-%dT%H:%M:%SZ"), creds=ids.a_lookup)
    assert [e["EventId"] for e in out["Events"]] == [e["EventId"] for e in full if e["EventTime"] >= newest]


# ---------------------------------------------------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 50])
def test_pagination_matches_full_list(ct, ids, history, page_size):
    base = attr("AccessKeyId", ids.a_bob.access_key)
    full = [r for r, _ in reversed(history["bob"])]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kw = dict(base, MaxResults=page_size)
        if token:
            kw["NextToken"] = token
        page = ct.lookup_events(**kw)
        pages += 1
        assert len(page["Events"]) <= page_size
        seen += request_ids(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
        assert len(page["Events"]) == page_size, "a page short of MaxResults must be the last one"
        assert pages < 100
    assert seen == full
    assert len(set(seen)) == len(seen)
    assert pages <= -(-len(full) // page_size) + 1


def test_default_page_size_is_50(ct, ids, history):
    base = attr("AccessKeyId", ids.a_load.access_key)
    first = ct.lookup_events(**base)
    assert len(first["Events"]) == 50
    assert first["NextToken"]
    second = ct.lookup_events(NextToken=first["NextToken"], **base)
    assert len(second["Events"]) == 10
    assert "NextToken" not in second
    assert request_ids(first["Events"]) + request_ids(second["Events"]) == list(reversed(history["burst"]))


def test_unfiltered_pagination_stable(ct, history):
    """An unfiltered look-up bounded by EndTime pages the same with pages of 4 as with pages of 50."""
    end = history["end"]
    small = lookup_all(ct, EndTime=end, MaxResults=4)
    large = lookup_all(ct, EndTime=end)
    assert [e["EventId"] for e in small] == [e["EventId"] for e in large]
    assert len({e["EventId"] for e in small}) == len(small)
    assert len(small) >= 13 + 60 + 2


def test_aws_cli_auto_pagination(server, ids, history):
    out = server.aws_ok("cloudtrail", "lookup-events", "--lookup-attributes",
                        f"AttributeKey=AccessKeyId,AttributeValue={ids.a_load.access_key}", "--page-size", "7",
                        creds=ids.a_lookup)
    assert [json.loads(e["CloudTrailEvent"])["requestID"] for e in out["Events"]] == list(reversed(history["burst"]))


# ---------------------------------------------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------------------------------------------


def test_scope_per_account_and_region(server, ids, history):
    base = attr("AccessKeyId", ids.a_bob.access_key)
    assert lookup_all(server.client("cloudtrail", ids.b_carol), **base) == []
    assert lookup_all(server.client("cloudtrail", ids.a_lookup, region="us-west-2"), **base) == []
    assert lookup_all(server.client("cloudtrail", ids.a_root), **base) != []


def test_insight_category_empty(ct, history):
    assert ct.lookup_events(EventCategory="insight")["Events"] == []


# ---------------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------------


def test_two_attributes_rejected(ct, server, ids):
    expect_error(ct.lookup_events, "InvalidLookupAttributesException", 400, LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"},
        {"AttributeKey": "ReadOnly", "AttributeValue": "true"}])
    r = server.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                   "AttributeKey=EventName,AttributeValue=GetCallerIdentity", "AttributeKey=ReadOnly,AttributeValue=true",
                   creds=ids.a_lookup)
    assert r.rc != 0 and r.error_code() == "InvalidLookupAttributesException", r.stderr


def test_bad_attribute_key_rejected(ct):
    # botocore does not validate enums, so the unknown key reaches the server.
    expect_error(ct.lookup_events, "InvalidLookupAttributesException", 400,
                 LookupAttributes=[{"AttributeKey": "Bogus", "AttributeValue": "x"}])
    expect_error(ct.lookup_events, "InvalidLookupAttributesException", 400,
                 LookupAttributes=[{"AttributeKey": "eventname", "AttributeValue": "GetCallerIdentity"}])


def test_max_results_out_of_range(server, ids):
    ct = server.client("cloudtrail", ids.a_lookup, parameter_validation=False)
    expect_error(ct.lookup_events, "InvalidMaxResultsException", 400, MaxResults=51)
    expect_error(ct.lookup_events, "InvalidMaxResultsException", 400, MaxResults=0)
    expect_error(ct.lookup_events, "InvalidMaxResultsException", 400, MaxResults=1000)
    r = server.aws("cloudtrail", "lookup-events", "--max-results", "51", creds=ids.a_lookup)
    assert r.rc != 0 and r.error_code() == "InvalidMaxResultsException", r.stderr


def test_start_after_end(ct):
    now = datetime.datetime.now(datetime.timezone.utc)
    expect_error(ct.lookup_events, "InvalidTimeRangeException", 400,
                 StartTime=now, EndTime=now - datetime.timedelta(hours=1))


def test_next_token_bound_to_parameters(ct, ids, history):
    base = attr("AccessKeyId", ids.a_bob.access_key)
    token = ct.lookup_events(MaxResults=2, **base)["NextToken"]
    # The same parameters continue.
    assert len(ct.lookup_events(MaxResults=2, NextToken=token, **base)["Events"]) == 2
    # Different attribute value, different attribute, or a different time range: refused.
    expect_error(ct.lookup_events, "InvalidNextTokenException", 400, MaxResults=2, NextToken=token,
                 **attr("AccessKeyId", ids.a_alice.access_key))
    expect_error(ct.lookup_events, "InvalidNextTokenException", 400, MaxResults=2, NextToken=token,
                 **attr("Username", "bob"))
    expect_error(ct.lookup_events, "InvalidNextTokenException", 400, MaxResults=2, NextToken=token,
                 StartTime=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc), **base)
    expect_error(ct.lookup_events, "InvalidNextTokenException", 400, MaxResults=2, NextToken=token)


def test_next_token_from_another_account_or_region_leaks_nothing(server, ids, history):
    """A token is bound to its account and region: elsewhere it is refused or at least shows none of its events."""
    base = attr("AccessKeyId", ids.a_bob.access_key)
    token = server.client("cloudtrail", ids.a_lookup).lookup_events(MaxResults=2, **base)["NextToken"]
    for other in (server.client("cloudtrail", ids.a_lookup, region="us-west-2"), server.client("cloudtrail", ids.b_carol)):
        try:
            page = other.lookup_events(MaxResults=2, NextToken=token, **base)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidNextTokenException", e.response["Error"]
        else:
            assert page["Events"] == [], page["Events"]


@pytest.mark.parametrize("token", ["garbage", base64.b64encode(b'{"t":1,"id":"x"}').decode(), "A" * 300, "%%%"])
def test_garbage_next_token(ct, token):
    expect_error(ct.lookup_events, "InvalidNextTokenException", 400, NextToken=token)
