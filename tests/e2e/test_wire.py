"""Raw wire shapes of CloudTrail (JSON 1.1) and STS (Query) responses, compared with the botocore models."""

from __future__ import annotations

import json

import botocore.session
import pytest

from cairn_harness import ACCOUNT_A, ensure_bucket

MODEL = botocore.session.get_session().get_service_model("cloudtrail")


def members(shape: str) -> list[str]:
    return list(MODEL.shape_for(shape).members)


def call(server, creds, op: str, body: dict, region: str = "us-east-1"):
    resp = server.cloudtrail_raw(creds, op, json.dumps(body).encode(), region=region)
    return resp, (json.loads(resp.text) if resp.text else None)


def assert_model_order(obj: dict, shape: str) -> None:
    order = members(shape)
    unknown = [k for k in obj if k not in order]
    assert not unknown, f"{shape}: members not in the model: {unknown}"
    assert list(obj) == [k for k in order if k in obj], f"{shape}: {list(obj)} not in model order {order}"


@pytest.fixture(scope="module")
def trail(server, ids):
    ensure_bucket(server, ids.a_alice, "wire-bucket")
    resp, body = call(server, ids.a_alice, "CreateTrail", {"Name": "wire-trail", "S3BucketName": "wire-bucket",
                                                          "S3KeyPrefix": "w"})
    assert resp.status_code == 200, resp.text
    return body


def test_success_headers_and_create_trail_order(server, ids, trail):
    assert_model_order(trail, "CreateTrailResponse")
    resp, body = call(server, ids.a_alice, "GetTrail", {"Name": "wire-trail"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert resp.headers["x-amzn-RequestId"]
    assert list(body) == ["Trail"]
    assert_model_order(body["Trail"], "Trail")
    assert body["Trail"]["HomeRegion"] == "us-east-1"


def test_describe_trails_wire(server, ids, trail):
    resp, body = call(server, ids.a_alice, "DescribeTrails", {})
    assert list(body) == ["trailList"]
    for t in body["trailList"]:
        assert_model_order(t, "Trail")


def test_modeled_error_body(server, ids):
    resp, body = call(server, ids.a_alice, "GetTrail", {"Name": "wire-missing"})
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert resp.headers["x-amzn-RequestId"]
    assert list(body) == ["__type", "Message"], body
    assert body["__type"].split("#")[-1] == "TrailNotFoundException"
    assert "wire-missing" in body["Message"] and ACCOUNT_A in body["Message"]


def test_trail_status_wire_order_and_epoch_numbers(server, ids, trail):
    _, before = call(server, ids.a_alice, "GetTrailStatus", {"Name": "wire-trail"})
    assert_model_order(before, "GetTrailStatusResponse")
    assert before["IsLogging"] is False
    resp, started = call(server, ids.a_alice, "StartLogging", {"Name": "wire-trail"})
    assert resp.status_code == 200 and started == {}
    _, after = call(server, ids.a_alice, "GetTrailStatus", {"Name": "wire-trail"})
    assert_model_order(after, "GetTrailStatusResponse")
    assert isinstance(after["StartLoggingTime"], (int, float)) and not isinstance(after["StartLoggingTime"], bool)
    assert isinstance(after["TimeLoggingStarted"], str) and after["TimeLoggingStarted"].endswith("Z")
    call(server, ids.a_alice, "StopLogging", {"Name": "wire-trail"})


def test_lookup_events_wire(server, ids, trail):
    resp, body = call(server, ids.a_lookup, "LookupEvents", {"MaxResults": 3})
    assert resp.status_code == 200
    assert list(body)[0] == "Events" and set(body) <= {"Events", "NextToken"}
    assert len(body["Events"]) == 3 and "NextToken" in body
    for e in body["Events"]:
        assert_model_order(e, "Event")
        assert e["ReadOnly"] in ("true", "false")
        assert isinstance(e["EventTime"], (int, float))
        assert isinstance(e["Resources"], list)
        assert isinstance(e["CloudTrailEvent"], str)
        rec = json.loads(e["CloudTrailEvent"])
        assert rec["eventID"] == e["EventId"]
        # The record is compact JSON, as in CloudTrail log files.
        assert e["CloudTrailEvent"] == json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


def test_empty_outputs_are_empty_objects(server, ids, trail):
    resp, body = call(server, ids.a_alice, "AddTags",
                      {"ResourceId": trail["TrailARN"], "TagsList": [{"Key": "k", "Value": "v"}]})
    assert resp.status_code == 200 and body == {}
    resp, body = call(server, ids.a_alice, "RemoveTags", {"ResourceId": trail["TrailARN"], "TagsList": [{"Key": "k"}]})
    assert resp.status_code == 200 and body == {}


def test_sts_error_xml_shape(server, ids):
    resp = server.signed_request(
        ids.c_mallory, service="sts",
        body=b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FAuditor"
             b"&RoleSessionName=wire",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert resp.status_code == 403
    assert resp.headers["Content-Type"].startswith("text/xml")
    text = resp.text
    assert text.index("<ErrorResponse") < text.index("<Error>") < text.index("<Type>Sender</Type>") \
        < text.index("<Code>AccessDenied</Code>") < text.index("<Message>") < text.index("</Error>") \
        < text.index("<RequestId>")
    assert f"<RequestId>{resp.headers['x-amzn-RequestId']}</RequestId>" in text
