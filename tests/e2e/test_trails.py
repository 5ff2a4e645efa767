"""The trail API (AWS JSON 1.1) through the aws CLI and boto3, with its errors."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError

from cairn_harness import ACCOUNT_A, ACCOUNT_B, ensure_bucket, expect_error, strip_meta

BUCKET = "trail-bucket"


def trail_arn(name: str, region: str = "us-east-1", account: str = ACCOUNT_A) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


class Trails:
    """Creates trails and deletes whatever a test created afterwards, so the 5-per-region quota is not shared."""

    def __init__(self, server, creds):
        self.server = server
        self.creds = creds
        self.made: list[tuple[object, str, str]] = []  # (creds, home region, arn)
        ensure_bucket(server, creds, BUCKET)

    def ct(self, region: str = "us-east-1", creds=None, **config):
        return self.server.client("cloudtrail", creds or self.creds, region=region, **config)

    def create(self, name: str, region: str = "us-east-1", creds=None, **kw):
        kw.setdefault("S3BucketName", BUCKET)
        r = self.ct(region, creds).create_trail(Name=name, **kw)
        self.track(r["TrailARN"], region, creds)
        return r

    def track(self, arn: str, region: str, creds=None):
        self.made.append((creds or self.creds, region, arn))

    def cleanup(self):
        for creds, region, arn in reversed(self.made):
            try:
                self.server.client("cloudtrail", creds, region=region).delete_trail(Name=arn)
            except ClientError:
                pass


@pytest.fixture
def trails(server, ids):
    t = Trails(server, ids.a_alice)
    yield t
    t.cleanup()


# ---------------------------------------------------------------------------------------------------------------------
# Create / get / describe / list
# ---------------------------------------------------------------------------------------------------------------------


def test_create_trail_defaults_cli(server, ids, trails):
    out = server.aws_ok("cloudtrail", "create-trail", "--name", "cli-trail", "--s3-bucket-name", BUCKET,
                        creds=ids.a_alice)
    trails.track(out.get("TrailARN", trail_arn("cli-trail")), "us-east-1")
    assert out == {
        "Name": "cli-trail", "S3BucketName": BUCKET, "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": False,
        "TrailARN": trail_arn("cli-trail"), "LogFileValidationEnabled": False, "IsOrganizationTrail": False,
    }


def test_get_trail_and_describe_trails(server, ids, trails):
    trails.create("desc-trail", S3KeyPrefix="pfx")
    expected = {
        "Name": "desc-trail", "S3BucketName": BUCKET, "S3KeyPrefix": "pfx", "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False, "HomeRegion": "us-east-1", "TrailARN": trail_arn("desc-trail"),
        "LogFileValidationEnabled": False, "HasCustomEventSelectors": False, "HasInsightSelectors": False,
        "IsOrganizationTrail": False,
    }
    assert server.aws_ok("cloudtrail", "get-trail", "--name", "desc-trail", creds=ids.a_alice) == {"Trail": expected}
    # By ARN too.
    assert trails.ct().get_trail(Name=trail_arn("desc-trail"))["Trail"] == expected
    listed = server.aws_ok("cloudtrail", "describe-trails", creds=ids.a_alice)["trailList"]
    assert expected in listed
    only = server.aws_ok("cloudtrail", "describe-trails", "--trail-name-list", "desc-trail", creds=ids.a_alice)
    assert only == {"trailList": [expected]}
    by_arn = trails.ct().describe_trails(trailNameList=[trail_arn("desc-trail")])
    assert by_arn["trailList"] == [expected]
    assert trails.ct().describe_trails(trailNameList=["not-a-trail"])["trailList"] == []


def test_list_trails(server, ids, trails):
    trails.create("list-trail-1", region="ap-south-1")
    trails.create("list-trail-2", region="ap-south-1")
    out = server.aws_ok("cloudtrail", "list-trails", creds=ids.a_alice, region="ap-south-1")
    mine = [t for t in out["Trails"] if t["Name"].startswith("list-trail-")]
    assert sorted(mine, key=lambda t: t["Name"]) == [
        {"TrailARN": trail_arn("list-trail-1", "ap-south-1"), "Name": "list-trail-1", "HomeRegion": "ap-south-1"},
        {"TrailARN": trail_arn("list-trail-2", "ap-south-1"), "Name": "list-trail-2", "HomeRegion": "ap-south-1"},
    ]
    other = trails.ct("ap-northeast-3").list_trails()["Trails"]
    assert not [t for t in other if t["Name"].startswith("list-trail-")]


def test_same_name_in_two_regions(trails):
    a = trails.create("twin", region="eu-west-2")
    b = trails.create("twin", region="eu-west-3")
    assert a["TrailARN"] == trail_arn("twin", "eu-west-2")
    assert b["TrailARN"] == trail_arn("twin", "eu-west-3")
    trails.ct("eu-west-2").delete_trail(Name="twin")
    assert trails.ct("eu-west-3").get_trail(Name="twin")["Trail"]["HomeRegion"] == "eu-west-3"


def test_trails_separate_per_account(server, ids, trails):
    trails.create("acct-a-trail", region="ca-central-1")
    b = server.client("cloudtrail", ids.b_carol, region="ca-central-1")
    assert "acct-a-trail" not in [t["Name"] for t in b.describe_trails()["trailList"]]
    expect_error(b.get_trail, "TrailNotFoundException", 400, Name="acct-a-trail")


# ---------------------------------------------------------------------------------------------------------------------
# Multi-region trails and shadow trails
# ---------------------------------------------------------------------------------------------------------------------


def test_multi_region_shadow_trails(server, ids, trails):
    r = trails.create("mr-trail", IsMultiRegionTrail=True)
    assert r["IsMultiRegionTrail"] is True and r["IncludeGlobalServiceEvents"] is True
    arn = trail_arn("mr-trail")
    west = trails.ct("us-west-2")
    shadow = [t for t in west.describe_trails()["trailList"] if t["Name"] == "mr-trail"]
    assert len(shadow) == 1
    assert shadow[0]["HomeRegion"] == "us-east-1"
    assert shadow[0]["TrailARN"] == arn
    assert shadow[0]["IsMultiRegionTrail"] is True
    out = server.aws_ok("cloudtrail", "describe-trails", "--include-shadow-trails", creds=ids.a_alice, region="us-west-2")
    assert "mr-trail" in [t["Name"] for t in out["trailList"]]
    out = server.aws_ok("cloudtrail", "describe-trails", "--no-include-shadow-trails", creds=ids.a_alice,
                        region="us-west-2")
    assert "mr-trail" not in [t["Name"] for t in out["trailList"]]
    assert "mr-trail" in [t["Name"] for t in trails.ct().describe_trails(includeShadowTrails=False)["trailList"]]
    # ListTrails in a shadow region shows it with its home region; GetTrail by ARN works there.
    assert {"TrailARN": arn, "Name": "mr-trail", "HomeRegion": "us-east-1"} in west.list_trails()["Trails"]
    assert west.get_trail(Name=arn)["Trail"]["HomeRegion"] == "us-east-1"
    # Mutations only in the home region.
    expect_error(west.update_trail, "InvalidHomeRegionException", 400, Name=arn, S3KeyPrefix="x")
    expect_error(west.delete_trail, "InvalidHomeRegionException", 400, Name=arn)
    expect_error(west.start_logging, "InvalidHomeRegionException", 400, Name=arn)
    r = server.aws("cloudtrail", "delete-trail", "--name", arn, creds=ids.a_alice, region="us-west-2")
    assert r.rc != 0 and r.error_code() == "InvalidHomeRegionException", r.stderr
    # Deleting in the home region removes the shadows.
    trails.ct().delete_trail(Name="mr-trail")
    assert "mr-trail" not in [t["Name"] for t in west.describe_trails()["trailList"]]


def test_multi_region_requires_global_service_events(trails):
    e = expect_error(trails.ct().create_trail, "InvalidParameterCombinationException", 400,
                     Name="mr-no-gse", S3BucketName=BUCKET, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)
    assert e.response["Error"]["Message"] == "Multi-Region trail must include global service events."
    trails.create("single-gse", region="eu-north-1")
    expect_error(trails.ct("eu-north-1").update_trail, "InvalidParameterCombinationException", 400,
                 Name="single-gse", IsMultiRegionTrail=True, IncludeGlobalServiceEvents=False)


def test_update_single_to_multi_region_and_back(trails):
    trails.create("flip", region="sa-east-1", IncludeGlobalServiceEvents=False)
    ct = trails.ct("sa-east-1")
    r = ct.update_trail(Name="flip", IsMultiRegionTrail=True)
    assert r["IsMultiRegionTrail"] is True
    assert r["IncludeGlobalServiceEvents"] is True, "turning multi-region on switches global service events on"
    assert "flip" in [t["Name"] for t in trails.ct("ap-southeast-2").describe_trails()["trailList"]]
    r = ct.update_trail(Name="flip", IsMultiRegionTrail=False)
    assert r["IsMultiRegionTrail"] is False
    assert "flip" not in [t["Name"] for t in trails.ct("ap-southeast-2").describe_trails()["trailList"]]


# ---------------------------------------------------------------------------------------------------------------------
# Status and logging
# ---------------------------------------------------------------------------------------------------------------------


def test_trail_status_start_stop(server, ids, trails):
    trails.create("status-trail")
    ct = trails.ct()
    status = strip_meta(ct.get_trail_status(Name="status-trail"))
    assert status["IsLogging"] is False
    for field in ("TimeLoggingStarted", "TimeLoggingStopped", "LatestDeliveryAttemptTime",
                  "LatestDeliveryAttemptSucceeded", "LatestNotificationAttemptTime",
                  "LatestNotificationAttemptSucceeded"):
        assert status[field] == "", (field, status)
    for absent in ("StartLoggingTime", "StopLoggingTime", "LatestDeliveryTime", "LatestDeliveryError"):
        assert absent not in status, (absent, status)

    t0 = time.time()
    assert strip_meta(server.aws_ok("cloudtrail", "start-logging", "--name", "status-trail", creds=ids.a_alice) or {}) == {}
    t1 = time.time()
    status = strip_meta(ct.get_trail_status(Name="status-trail"))
    assert status["IsLogging"] is True
    started = status["StartLoggingTime"].timestamp()
    assert int(t0) - 1 <= started <= t1 + 1
    assert status["TimeLoggingStarted"] == datetime.datetime.fromtimestamp(int(started), datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "StopLoggingTime" not in status and status["TimeLoggingStopped"] == ""
    assert "LatestDeliveryTime" not in status, "no delivery has happened, none may be invented"
    assert ct.get_trail_status(Name=trail_arn("status-trail"))["IsLogging"] is True

    ct.stop_logging(Name="status-trail")
    status = strip_meta(ct.get_trail_status(Name="status-trail"))
    assert status["IsLogging"] is False
    assert status["StopLoggingTime"] >= status["StartLoggingTime"]
    assert status["TimeLoggingStopped"] != ""
    assert "LatestDeliveryTime" not in status
    # Idempotent.
    ct.stop_logging(Name="status-trail")
    ct.start_logging(Name="status-trail")
    ct.start_logging(Name="status-trail")
    assert ct.get_trail_status(Name="status-trail")["IsLogging"] is True


def test_trail_status_cli(server, ids, trails):
    trails.create("status-cli")
    out = server.aws_ok("cloudtrail", "get-trail-status", "--name", "status-cli", creds=ids.a_alice)
    assert out["IsLogging"] is False
    assert out["TimeLoggingStarted"] == "" and out["TimeLoggingStopped"] == ""


def test_shadow_trail_status_by_arn(trails):
    trails.create("mr-status", IsMultiRegionTrail=True)
    trails.ct().start_logging(Name="mr-status")
    status = trails.ct("eu-central-1").get_trail_status(Name=trail_arn("mr-status"))
    assert status["IsLogging"] is True


# ---------------------------------------------------------------------------------------------------------------------
# Update / delete
# ---------------------------------------------------------------------------------------------------------------------


def test_update_trail(server, ids, trails):
    trails.create("upd-trail")
    out = server.aws_ok("cloudtrail", "update-trail", "--name", "upd-trail", "--s3-key-prefix", "logs",
                        "--enable-log-file-validation", creds=ids.a_alice)
    assert out == {
        "Name": "upd-trail", "S3BucketName": BUCKET, "S3KeyPrefix": "logs", "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False, "TrailARN": trail_arn("upd-trail"), "LogFileValidationEnabled": True,
        "IsOrganizationTrail": False,
    }
    got = trails.ct().get_trail(Name="upd-trail")["Trail"]
    assert got["S3KeyPrefix"] == "logs" and got["LogFileValidationEnabled"] is True
    # Only supplied members change.
    r = trails.ct().update_trail(Name=trail_arn("upd-trail"), IncludeGlobalServiceEvents=False)
    assert r["IncludeGlobalServiceEvents"] is False
    assert r["S3KeyPrefix"] == "logs" and r["LogFileValidationEnabled"] is True


def test_delete_trail(server, ids, trails):
    trails.create("del-trail")
    assert server.aws("cloudtrail", "delete-trail", "--name", "del-trail", creds=ids.a_alice).rc == 0
    expect_error(trails.ct().get_trail, "TrailNotFoundException", 400, Name="del-trail")
    assert "del-trail" not in [t["Name"] for t in trails.ct().describe_trails()["trailList"]]
    # The name can be used again.
    trails.create("del-trail")
    trails.ct().delete_trail(Name=trail_arn("del-trail"))
    expect_error(trails.ct().delete_trail, "TrailNotFoundException", 400, Name="del-trail")


# ---------------------------------------------------------------------------------------------------------------------
# Event selectors and insight selectors
# ---------------------------------------------------------------------------------------------------------------------


def test_basic_event_selectors(server, ids, trails):
    trails.create("sel-trail")
    ct = trails.ct()
    default = ct.get_event_selectors(TrailName="sel-trail")
    assert default["TrailARN"] == trail_arn("sel-trail")
    assert ct.get_trail(Name="sel-trail")["Trail"]["HasCustomEventSelectors"] is False
    selectors = [{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True,
                  "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::some-bucket/"]}]}]
    out = server.aws_ok("cloudtrail", "put-event-selectors", "--trail-name", "sel-trail", "--event-selectors",
                        json.dumps(selectors), creds=ids.a_alice)
    full = [dict(selectors[0], ExcludeManagementEventSources=[])]
    assert out == {"TrailARN": trail_arn("sel-trail"), "EventSelectors": full}
    got = server.aws_ok("cloudtrail", "get-event-selectors", "--trail-name", "sel-trail", creds=ids.a_alice)
    assert got == {"TrailARN": trail_arn("sel-trail"), "EventSelectors": full}
    assert ct.get_trail(Name="sel-trail")["Trail"]["HasCustomEventSelectors"] is True


def test_advanced_event_selectors_replace_basic(trails):
    trails.create("adv-trail")
    ct = trails.ct()
    ct.put_event_selectors(TrailName="adv-trail", EventSelectors=[{"ReadWriteType": "All"}])
    advanced = [{"Name": "Management events selector",
                 "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                    {"Field": "readOnly", "Equals": ["false"]}]}]
    r = ct.put_event_selectors(TrailName="adv-trail", AdvancedEventSelectors=advanced)
    assert r["TrailARN"] == trail_arn("adv-trail")
    assert "EventSelectors" not in r
    got = ct.get_event_selectors(TrailName="adv-trail")
    assert "EventSelectors" not in got
    sel = got["AdvancedEventSelectors"]
    assert len(sel) == 1 and sel[0]["Name"] == "Management events selector"
    fields = {f["Field"]: f for f in sel[0]["FieldSelectors"]}
    assert fields["eventCategory"]["Equals"] == ["Management"]
    assert fields["readOnly"]["Equals"] == ["false"]
    for f in fields.values():
        for op in ("StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"):
            assert f.get(op, []) == []
    assert ct.get_trail(Name="adv-trail")["Trail"]["HasCustomEventSelectors"] is True


def test_invalid_event_selectors(trails):
    trails.create("bad-sel")
    ct = trails.ct()
    expect_error(ct.put_event_selectors, "InvalidEventSelectorsException", 400, TrailName="bad-sel",
                 EventSelectors=[{"ReadWriteType": "read-only"}])
    e = expect_error(ct.put_event_selectors, "InvalidEventSelectorsException", 400, TrailName="bad-sel",
                     EventSelectors=[{"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::*"]}]}])
    assert e.response["Error"]["Message"] == "Value arn:aws:s3:::* for DataResources.Values is invalid."
    expect_error(ct.put_event_selectors, "InvalidEventSelectorsException", 400, TrailName="bad-sel",
                 EventSelectors=[{"ReadWriteType": "All"}] * 6)
    expect_error(ct.put_event_selectors, "TrailNotFoundException", 400, TrailName="no-such",
                 EventSelectors=[{"ReadWriteType": "All"}])
    assert ct.get_trail(Name="bad-sel")["Trail"]["HasCustomEventSelectors"] is False


def test_insight_selectors(server, ids, trails):
    trails.create("ins-trail")
    ct = trails.ct()
    expect_error(ct.get_insight_selectors, "InsightNotEnabledException", 400, TrailName="ins-trail")
    r = server.aws("cloudtrail", "get-insight-selectors", "--trail-name", "ins-trail", creds=ids.a_alice)
    assert r.rc != 0 and r.error_code() == "InsightNotEnabledException", r.stderr
    out = server.aws_ok("cloudtrail", "put-insight-selectors", "--trail-name", "ins-trail", "--insight-selectors",
                        '[{"InsightType": "ApiCallRateInsight"}]', creds=ids.a_alice)
    assert out["TrailARN"] == trail_arn("ins-trail")
    assert out["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    got = ct.get_insight_selectors(TrailName="ins-trail")
    assert got["TrailARN"] == trail_arn("ins-trail")
    assert got["InsightSelectors"] == [{"InsightType": "ApiCallRateInsight"}]
    assert ct.get_trail(Name="ins-trail")["Trail"]["HasInsightSelectors"] is True
    expect_error(ct.put_insight_selectors, "InvalidInsightSelectorsException", 400, TrailName="ins-trail",
                 InsightSelectors=[{"InsightType": "NotAnInsight"}])
    # An empty list turns Insights off.
    ct.put_insight_selectors(TrailName="ins-trail", InsightSelectors=[])
    assert ct.get_trail(Name="ins-trail")["Trail"]["HasInsightSelectors"] is False


# ---------------------------------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------------------------------


def sorted_tags(tags):
    return sorted(tags, key=lambda t: t["Key"])


def test_tags(server, ids, trails):
    r = trails.create("tag-trail", TagsList=[{"Key": "team", "Value": "audit"}, {"Key": "env", "Value": "dev"}])
    arn = r["TrailARN"]
    ct = trails.ct()
    listed = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert len(listed) == 1 and listed[0]["ResourceId"] == arn
    assert sorted_tags(listed[0]["TagsList"]) == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "audit"}]

    assert server.aws("cloudtrail", "add-tags", "--resource-id", arn, "--tags-list", "Key=env,Value=prod",
                      "Key=owner,Value=alice", creds=ids.a_alice).rc == 0
    out = server.aws_ok("cloudtrail", "list-tags", "--resource-id-list", arn, creds=ids.a_alice)
    assert sorted_tags(out["ResourceTagList"][0]["TagsList"]) == [
        {"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "alice"}, {"Key": "team", "Value": "audit"}]

    ct.remove_tags(ResourceId=arn, TagsList=[{"Key": "team"}, {"Key": "owner"}])
    assert ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [{"Key": "env", "Value": "prod"}]


def test_tag_errors(trails):
    trails.create("tag-err")
    ct = trails.ct()
    expect_error(ct.add_tags, "ResourceNotFoundException", 400, ResourceId=trail_arn("never-made"),
                 TagsList=[{"Key": "k", "Value": "v"}])
    expect_error(ct.add_tags, "CloudTrailARNInvalidException", 400, ResourceId="arn:aws:cloudtrail:bad",
                 TagsList=[{"Key": "k", "Value": "v"}])
    expect_error(ct.list_tags, "CloudTrailARNInvalidException", 400, ResourceIdList=["arn:nope"])
    expect_error(ct.add_tags, "TagsLimitExceededException", 400, ResourceId=trail_arn("tag-err"),
                 TagsList=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])


# ---------------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "ab", "x" * 129, "bad name", "bad$name", "bad/name", "-abc", "abc-", "_abc", "abc.", "a._b", "my--trail",
    "my-_trail", "my..trail", "192.168.5.4", "10.0.0.1",
])
def test_invalid_trail_names(trails, name):
    expect_error(trails.ct().create_trail, "InvalidTrailNameException", 400, Name=name, S3BucketName=BUCKET)


@pytest.mark.parametrize("name", ["abc", "x" * 128, "a.b-c_d", "My.Trail-01", "192.168.5.x"])
def test_valid_trail_name_edges(trails, name):
    r = trails.create(name, region="ap-northeast-1")
    assert r["Name"] == name
    trails.ct("ap-northeast-1").delete_trail(Name=name)


def test_invalid_trail_name_cli(server, ids):
    r = server.aws("cloudtrail", "create-trail", "--name", "my--trail", "--s3-bucket-name", BUCKET, creds=ids.a_alice)
    assert r.rc != 0 and r.error_code() == "InvalidTrailNameException", r.stderr


def test_trail_already_exists(server, ids, trails):
    trails.create("dup-trail")
    e = expect_error(trails.ct().create_trail, "TrailAlreadyExistsException", 400, Name="dup-trail", S3BucketName=BUCKET)
    assert "dup-trail" in e.response["Error"]["Message"]
    r = server.aws("cloudtrail", "create-trail", "--name", "dup-trail", "--s3-bucket-name", BUCKET, creds=ids.a_alice)
    assert r.rc != 0 and r.error_code() == "TrailAlreadyExistsException", r.stderr


def test_maximum_number_of_trails(server, ids):
    """Account B: a multi-region trail homed in us-west-1 counts in us-east-2, so the 5th us-east-2 trail fails."""
    t = Trails(server, ids.b_carol)
    try:
        t.create("b-global", region="us-west-1", IsMultiRegionTrail=True)
        for i in range(4):
            t.create(f"b-local-{i}", region="us-east-2")
        e = expect_error(t.ct("us-east-2").create_trail, "MaximumNumberOfTrailsExceededException", 400,
                         Name="b-local-4", S3BucketName=BUCKET)
        assert e.response["Error"]["Message"] == f"User: {ACCOUNT_B} already has 5 trails in us-east-2."
        r = server.aws("cloudtrail", "create-trail", "--name", "b-local-5", "--s3-bucket-name", BUCKET,
                       creds=ids.b_carol, region="us-east-2")
        assert r.rc != 0 and r.error_code() == "MaximumNumberOfTrailsExceededException", r.stderr
        # In the multi-region trail's home region only one slot is used.
        for i in range(4):
            t.create(f"b-west-{i}", region="us-west-1")
        expect_error(t.ct("us-west-1").create_trail, "MaximumNumberOfTrailsExceededException", 400,
                     Name="b-west-4", S3BucketName=BUCKET)
        # Deleting the multi-region trail frees a slot in us-east-2.
        t.ct("us-west-1").delete_trail(Name="b-global")
        t.create("b-local-4", region="us-east-2")
    finally:
        t.cleanup()


@pytest.mark.parametrize("op,param", [
    ("get_trail", "Name"), ("get_trail_status", "Name"), ("delete_trail", "Name"), ("start_logging", "Name"),
    ("stop_logging", "Name"), ("get_event_selectors", "TrailName"), ("get_insight_selectors", "TrailName"),
])
def test_trail_not_found(trails, op, param):
    e = expect_error(getattr(trails.ct(), op), "TrailNotFoundException", 400, **{param: "ghost-trail"})
    msg = e.response["Error"]["Message"]
    assert "ghost-trail" in msg and ACCOUNT_A in msg, msg


def test_trail_not_found_update_and_cli(server, ids, trails):
    expect_error(trails.ct().update_trail, "TrailNotFoundException", 400, Name="ghost-trail", S3KeyPrefix="x")
    r = server.aws("cloudtrail", "get-trail", "--name", "ghost-trail", creds=ids.a_alice)
    assert r.rc != 0 and r.error_code() == "TrailNotFoundException", r.stderr
    # An ARN of a trail in another region that is not visible here.
    expect_error(trails.ct().get_trail, "TrailNotFoundException", 400, Name=trail_arn("ghost-trail", "eu-west-1"))


@pytest.mark.parametrize("bad", ["arn:aws:cloudtrail:us-east-1", "arn:aws:cloudtrail:us-east-1:111111111111:bucket/x",
                                 "arn:aws:cloudtrail:us-east-1:12:trail/x", "arn:"])
def test_malformed_arn(trails, bad):
    expect_error(trails.ct().get_trail, "CloudTrailARNInvalidException", 400, Name=bad)
    expect_error(trails.ct().delete_trail, "CloudTrailARNInvalidException", 400, Name=bad)

