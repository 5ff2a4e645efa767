"""AWS Config really records: configuration items from S3, SNS and CloudTrail changes (with relatedEvents naming the
CloudTrail events that caused them), history queries, advanced queries, snapshot and history files, SNS
notifications, managed rules that evaluate, and persistence across restarts. Also the seed document's sequence of
calls, whose CloudTrail records are compared with the seed's examples."""

from __future__ import annotations

import gzip
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from cairn_harness import ACCOUNT_A, ensure_bucket, expect_error, find_by_request_id, lookup_all
from test_sns import Subscriber, confirmed_http_subscription

ROLE = f"arn:aws:iam::{ACCOUNT_A}:role/config-role"
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_5dd24dafc49296e5.txt"


def start_recording(server, creds, region: str, bucket: str, topic: str | None = None, prefix: str | None = None, **recorder):
    """Recorder, channel to `bucket` (created), and Start, in `region`."""
    cfg = server.client("config", creds, region=region)
    ensure_bucket(server, creds, bucket, region=region)
    cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": ROLE, **recorder})
    channel = {"name": "default", "s3BucketName": bucket}
    if topic:
        channel["snsTopicARN"] = topic
    if prefix:
        channel["s3KeyPrefix"] = prefix
    cfg.put_delivery_channel(DeliveryChannel=channel)
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    return cfg


def s3_client(server, creds, region: str):
    return server.client("s3", creds, region=region, s3={"addressing_style": "path"})


def create_bucket(s3, name: str, region: str) -> None:
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def history(cfg, type_: str, id_: str, **kw) -> list[dict]:
    return cfg.get_resource_config_history(resourceType=type_, resourceId=id_, **kw)["configurationItems"]


def seed_examples() -> dict[str, dict]:
    """The seed's example records, by eventName (one of them lacks a quote; it is repaired)."""
    text = SEED.read_text()
    out = {}
    for block in re.findall(r"```\n(.*?)```", text, re.S):
        block = re.sub(r'(\s)recipientAccountId"', r'\1"recipientAccountId"', block)
        record = json.loads(block)
        out[record["eventName"]] = record
    return out


def shape(value):
    """The key structure of a value (keys and nesting, not the values)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return None if value is None else type(value).__name__


def test_seed_sequence_records_match_the_examples(server, ids):
    """The seed's calls, in its order; each CloudTrail record carries every field of the seed's example, the same
    requestParameters members and the same responseElements (null, or configSnapshotId)."""
    region = "us-west-2"
    examples = seed_examples()
    cfg = server.client("config", ids.a_alice, region=region)
    ensure_bucket(server, ids.a_alice, "config-api-test-pdx", region=region)
    s3_client(server, ids.a_alice, region)  # the bucket exists; Config will record it
    topic = server.client("sns", ids.a_alice, region=region).create_topic(Name="config-topic-pdx")["TopicArn"]
    calls = [
        ("PutConfigurationRecorder", lambda: cfg.put_configuration_recorder(
            ConfigurationRecorder={"name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT_A}:role/config-role-pdx"})),
        ("PutDeliveryChannel", lambda: cfg.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": "config-api-test-pdx", "snsTopicARN": topic})),
        ("DescribeConfigurationRecorders", lambda: cfg.describe_configuration_recorders()),
        ("DescribeConfigurationRecorderStatus", lambda: cfg.describe_configuration_recorder_status()),
        ("DescribeDeliveryChannels", lambda: cfg.describe_delivery_channels()),
        ("StartConfigurationRecorder", lambda: cfg.start_configuration_recorder(ConfigurationRecorderName="default")),
        ("DeliverConfigSnapshot", lambda: cfg.deliver_config_snapshot(deliveryChannelName="default")),
        ("StopConfigurationRecorder", lambda: cfg.stop_configuration_recorder(ConfigurationRecorderName="default")),
        ("GetResourceConfigHistory", lambda: cfg.get_resource_config_history(
            resourceType="AWS::S3::Bucket", resourceId="config-api-test-pdx", limit=0,
            laterTime=time.time() + 60, earlierTime=time.time() - 3600)),
        ("DeleteDeliveryChannel", lambda: cfg.delete_delivery_channel(DeliveryChannelName="default")),
    ]
    ct = server.client("cloudtrail", ids.a_lookup, region=region)
    snapshot_id = None
    for name, call in calls:
        response = call()
        record = find_by_request_id(ct, name, response["ResponseMetadata"]["RequestId"])
        example = examples[name]
        missing = set(example) - set(record)
        assert not missing, f"{name}: fields of the example missing: {missing}"
        assert record["eventSource"] == "config.amazonaws.com" and record["eventType"] == "AwsApiCall"
        assert record["awsRegion"] == region and record["recipientAccountId"] == ACCOUNT_A
        if example["requestParameters"] is None:
            assert record["requestParameters"] is None, name
        else:
            assert set(record["requestParameters"]) == set(example["requestParameters"]), name
        if example["responseElements"] is None:
            assert record["responseElements"] is None, name
        else:
            assert shape(record["responseElements"]) == shape(example["responseElements"]), name
        assert record["readOnly"] is name.startswith(("Describe", "Get")), name
        if name == "DeliverConfigSnapshot":
            snapshot_id = response["configSnapshotId"]
            assert record["responseElements"] == {"configSnapshotId": snapshot_id}
        if name == "GetResourceConfigHistory":
            params = record["requestParameters"]
            assert params["limit"] == 0 and params["resourceType"] == "AWS::S3::Bucket"
            # Request timestamps are rendered the Java way, as in the example ("Dec 11, 2014 12:58:42 AM"), in the
            # current JDK's form with a comma after the year, as recent CloudTrail captures show.
            assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M", params["laterTime"])
        if name == "PutConfigurationRecorder":
            assert record["requestParameters"]["configurationRecorder"]["roleARN"].endswith("config-role-pdx")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", snapshot_id)


def test_bucket_history_with_related_events(server, ids):
    """A bucket whose policy and tags change gets one item per change, and each item's relatedEvents names the
    CloudTrail event of the call; deletion ends the history with ResourceDeleted."""
    region = "eu-west-3"
    cfg = start_recording(server, ids.a_alice, region, "cfg-hist-delivery")
    s3 = s3_client(server, ids.a_alice, region)
    bucket = "cfg-hist-watched"
    create_bucket(s3, bucket, region)
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Deny", "Effect": "Deny", "Principal": "*",
                                                      "Action": "s3:DeleteBucket", "Resource": f"arn:aws:s3:::{bucket}"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "audit"}]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "audit"}]})  # no change
    s3.delete_bucket_tagging(Bucket=bucket)
    items = history(cfg, "AWS::S3::Bucket", bucket, chronologicalOrder="Forward")
    assert [i["configurationItemStatus"] for i in items] == ["ResourceDiscovered", "OK", "OK", "OK"]
    first = items[0]
    assert first["version"] == "1.3" and first["accountId"] == ACCOUNT_A and first["awsRegion"] == region
    assert first["arn"] == f"arn:aws:s3:::{bucket}" and first["resourceName"] == bucket
    assert first["availabilityZone"] == "Regional" and first["configurationItemMD5Hash"] == ""
    conf = json.loads(first["configuration"])
    assert conf["name"] == bucket and len(conf["owner"]["id"]) == 64
    assert json.loads(items[1]["supplementaryConfiguration"]["BucketPolicy"]) == {"policyText": json.dumps(policy)} or \
        json.loads(json.loads(items[1]["supplementaryConfiguration"]["BucketPolicy"])["policyText"]) == policy
    assert items[2]["tags"] == {"team": "audit"} and items[3]["tags"] == {}
    ids_ = [int(i["configurationStateId"]) for i in items]
    assert ids_ == sorted(ids_) and len(set(ids_)) == 4
    # Each relatedEvents entry is the eventID of the call that made the change.
    ct = server.client("cloudtrail", ids.a_lookup, region=region)
    names = []
    for item in items:
        assert len(item["relatedEvents"]) == 1
        [event] = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": item["relatedEvents"][0]}])["Events"]
        names.append(event["EventName"])
    assert names == ["CreateBucket", "PutBucketPolicy", "PutBucketTagging", "DeleteBucketTagging"]
    # Newest first by default, paginated by limit and nextToken.
    page = cfg.get_resource_config_history(resourceType="AWS::S3::Bucket", resourceId=bucket, limit=3)
    assert [i["configurationStateId"] for i in page["configurationItems"]] == [i["configurationStateId"] for i in items[::-1][:3]]
    rest = cfg.get_resource_config_history(resourceType="AWS::S3::Bucket", resourceId=bucket, limit=3, nextToken=page["nextToken"])
    assert [i["configurationStateId"] for i in rest["configurationItems"]] == [items[0]["configurationStateId"]]
    assert "nextToken" not in rest
    # Deletion.
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)
    latest = history(cfg, "AWS::S3::Bucket", bucket, limit=1)[0]
    assert latest["configurationItemStatus"] == "ResourceDeleted" and "configuration" not in latest
    listed = cfg.list_discovered_resources(resourceType="AWS::S3::Bucket")["resourceIdentifiers"]
    assert bucket not in [r["resourceId"] for r in listed]
    listed = cfg.list_discovered_resources(resourceType="AWS::S3::Bucket", includeDeletedResources=True)["resourceIdentifiers"]
    [gone] = [r for r in listed if r["resourceId"] == bucket]
    assert "resourceDeletionTime" in gone
    # Errors with AWS's codes.
    expect_error(cfg.get_resource_config_history, "ResourceNotDiscoveredException", 400,
                 resourceType="AWS::S3::Bucket", resourceId="never-seen-bucket")
    expect_error(cfg.get_resource_config_history, "InvalidLimitException", 400,
                 resourceType="AWS::S3::Bucket", resourceId=bucket, limit=101)
    expect_error(cfg.get_resource_config_history, "InvalidTimeRangeException", 400,
                 resourceType="AWS::S3::Bucket", resourceId=bucket, earlierTime=time.time(), laterTime=time.time() - 60)
    e = expect_error(cfg.get_resource_config_history, "ValidationException", 400, resourceType="AWS::Nope::Thing", resourceId="x")
    assert e.response["Error"]["Message"].startswith(
        "1 validation error detected: Value 'AWS::Nope::Thing' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [")
    expect_error(cfg.get_resource_config_history, "InvalidNextTokenException", 400,
                 resourceType="AWS::S3::Bucket", resourceId=bucket, nextToken="garbage")
    # The CLI paginates through the same history.
    out = server.aws_ok("configservice", "get-resource-config-history", "--resource-type", "AWS::S3::Bucket",
                        "--resource-id", bucket, creds=ids.a_alice, region=region)
    assert len(out["configurationItems"]) == 6


def test_recording_group_and_other_types(server, ids):
    """Only the recording group's types get items with configuration; SNS topics and trails are recorded with
    their attributes, status and selectors; BatchGet, counts and advanced queries read the current items."""
    region = "eu-north-1"
    cfg = start_recording(server, ids.a_alice, region, "cfg-group-delivery",
                          recordingGroup={"allSupported": False, "resourceTypes": ["AWS::SNS::Topic", "AWS::CloudTrail::Trail"]})
    sns = server.client("sns", ids.a_alice, region=region)
    topic = sns.create_topic(Name="recorded-topic", Attributes={"DisplayName": "first"})["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="second")
    items = history(cfg, "AWS::SNS::Topic", topic, chronologicalOrder="Forward")
    assert [json.loads(i["configuration"])["DisplayName"] for i in items] == ["first", "second"]
    assert items[0]["resourceName"] == "recorded-topic" and items[0]["arn"] == topic
    # A bucket is outside the group: discovered but not recorded.
    s3 = s3_client(server, ids.a_alice, region)
    create_bucket(s3, "cfg-group-unrecorded", region)
    [item] = history(cfg, "AWS::S3::Bucket", "cfg-group-unrecorded")
    assert item["configurationItemStatus"] == "ResourceNotRecorded" and "configuration" not in item
    # Trails: StartLogging and PutEventSelectors show up in the history.
    ct = server.client("cloudtrail", ids.a_alice, region=region)
    ct.create_trail(Name="recorded-trail", S3BucketName="cfg-group-delivery")
    ct.start_logging(Name="recorded-trail")
    ct.put_event_selectors(TrailName="recorded-trail", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}])
    trail_items = history(cfg, "AWS::CloudTrail::Trail", "recorded-trail", chronologicalOrder="Forward")
    assert [i["configurationItemStatus"] for i in trail_items] == ["ResourceDiscovered", "OK", "OK"]
    assert [json.loads(i["supplementaryConfiguration"]["IsLogging"]) for i in trail_items] == [False, True, True]
    assert json.loads(trail_items[2]["configuration"])["hasCustomEventSelectors"] is True
    assert json.loads(trail_items[0]["configuration"])["trailARN"].endswith(":trail/recorded-trail")
    # Current state: BatchGet (no tags/relationships), counts, advanced query.
    got = cfg.batch_get_resource_config(resourceKeys=[
        {"resourceType": "AWS::SNS::Topic", "resourceId": topic},
        {"resourceType": "AWS::S3::Bucket", "resourceId": "cfg-group-unrecorded"}])
    assert [i["resourceId"] for i in got["baseConfigurationItems"]] == [topic] and got["unprocessedResourceKeys"] == []
    assert "tags" not in got["baseConfigurationItems"][0]
    counts = cfg.get_discovered_resource_counts()
    assert {c["resourceType"]: c["count"] for c in counts["resourceCounts"]}["AWS::SNS::Topic"] == 1
    result = cfg.select_resource_config(
        Expression="SELECT resourceId, configuration.DisplayName WHERE resourceType = 'AWS::SNS::Topic'")
    assert result["Results"] == [json.dumps({"resourceId": topic, "configuration": {"DisplayName": "second"}}, separators=(",", ":"))]
    assert result["QueryInfo"]["SelectFields"] == [{"Name": "resourceId"}, {"Name": "configuration.DisplayName"}]
    grouped = cfg.select_resource_config(Expression="SELECT resourceType, COUNT(*) GROUP BY resourceType ORDER BY resourceType")
    assert [json.loads(r) for r in grouped["Results"]] == [
        {"resourceType": "AWS::CloudTrail::Trail", "COUNT(*)": 1}, {"resourceType": "AWS::SNS::Topic", "COUNT(*)": 1}]
    expect_error(cfg.select_resource_config, "InvalidExpressionException", 400, Expression="SELECT resourceId FROM resources")
    # Deleting the topic records ResourceDeleted.
    sns.delete_topic(TopicArn=topic)
    assert history(cfg, "AWS::SNS::Topic", topic, limit=1)[0]["configurationItemStatus"] == "ResourceDeleted"


def test_snapshot_history_files_and_notifications(server, ids):
    """DeliverConfigSnapshot writes the snapshot file; the flush writes one history file per type; the channel's
    topic gets the change, snapshot and history notifications as Config words them."""
    region = "sa-east-1"
    sns = server.client("sns", ids.a_alice, region=region)
    topic = sns.create_topic(Name="config-stream")["TopicArn"]
    sub = Subscriber()
    try:
        confirmed_http_subscription(server, sns, topic, sub)
        before = len(sub.messages("Notification"))
        cfg = start_recording(server, ids.a_alice, region, "cfg-files-delivery", topic=topic, prefix="cfg")
        s3 = s3_client(server, ids.a_alice, region)
        create_bucket(s3, "cfg-files-watched", region)
        s3.put_bucket_versioning(Bucket="cfg-files-watched", VersioningConfiguration={"Status": "Enabled"})
        snapshot_id = cfg.deliver_config_snapshot(deliveryChannelName="default")["configSnapshotId"]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cfg-files-delivery", Prefix="cfg/")["Contents"]]
        [snap_key] = [k for k in keys if "/ConfigSnapshot/" in k]
        assert re.fullmatch(
            rf"cfg/AWSLogs/{ACCOUNT_A}/Config/{region}/\d{{4}}/[1-9]\d?/[1-9]\d?/ConfigSnapshot/"
            rf"{ACCOUNT_A}_Config_{region}_ConfigSnapshot_\d{{8}}T\d{{6}}Z_{snapshot_id}\.json\.gz", snap_key)
        body = json.loads(gzip.decompress(s3.get_object(Bucket="cfg-files-delivery", Key=snap_key)["Body"].read()))
        assert list(body) == ["fileVersion", "configSnapshotId", "configurationItems"]
        assert body["fileVersion"] == "1.0" and body["configSnapshotId"] == snapshot_id
        [watched] = [i for i in body["configurationItems"] if i["resourceId"] == "cfg-files-watched"]
        assert list(watched)[:4] == ["relatedEvents", "relationships", "configuration", "supplementaryConfiguration"]
        assert watched["configurationItemVersion"] == "1.3" and watched["ARN"] == "arn:aws:s3:::cfg-files-watched"
        assert watched["awsAccountId"] == ACCOUNT_A and isinstance(watched["configurationStateId"], int)
        assert watched["supplementaryConfiguration"]["BucketVersioningConfiguration"]["status"] == "Enabled"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", watched["configurationItemCaptureTime"])
        server.flush()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cfg-files-delivery", Prefix="cfg/")["Contents"]]
        history_keys = [k for k in keys if "/ConfigHistory/" in k]
        [bucket_history] = [k for k in history_keys if "_ConfigHistory_AWS::S3::Bucket_" in k]
        assert re.search(rf"{ACCOUNT_A}_Config_{region}_ConfigHistory_AWS::S3::Bucket_\d{{8}}T\d{{6}}Z_\d{{8}}T\d{{6}}Z_1\.json\.gz$",
                         bucket_history)
        hist = json.loads(gzip.decompress(s3.get_object(Bucket="cfg-files-delivery", Key=bucket_history)["Body"].read()))
        assert list(hist) == ["fileVersion", "configurationItems"]
        statuses = [(i["resourceId"], i["configurationItemStatus"]) for i in hist["configurationItems"]]
        assert ("cfg-files-watched", "ResourceDiscovered") in statuses and ("cfg-files-watched", "OK") in statuses
        # A second flush has nothing new to write.
        server.flush()
        again = [o["Key"] for o in s3.list_objects_v2(Bucket="cfg-files-delivery", Prefix="cfg/")["Contents"]]
        assert sorted(again) == sorted(keys)
        [status] = cfg.describe_delivery_channel_status()["DeliveryChannelsStatus"]
        assert status["configSnapshotDeliveryInfo"]["lastStatus"] == "SUCCESS"
        assert status["configHistoryDeliveryInfo"]["lastStatus"] == "SUCCESS"
        assert status["configStreamDeliveryInfo"]["lastStatus"] == "SUCCESS"
        # Notifications.
        deadline = time.monotonic() + 10
        wanted = {"ConfigurationItemChangeNotification", "ConfigurationSnapshotDeliveryStarted",
                  "ConfigurationSnapshotDeliveryCompleted", "ConfigurationHistoryDeliveryCompleted"}
        while True:
            notes = [m for _, m in sub.messages("Notification")[before:]]
            types = {json.loads(m["Message"])["messageType"] for m in notes}
            if wanted <= types or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert wanted <= types, types
        changes = [(m["Subject"], json.loads(m["Message"])) for m in notes
                   if json.loads(m["Message"])["messageType"] == "ConfigurationItemChangeNotification"]
        update = [(s, m) for s, m in changes if m["configurationItem"]["resourceId"] == "cfg-files-watched"
                  and m["configurationItemDiff"]["changeType"] == "UPDATE"]
        subject, message = update[0]
        assert subject == f"[AWS Config:{region}] AWS::S3::Bucket cfg-files-watched Updated in Account {ACCOUNT_A}"
        changed = message["configurationItemDiff"]["changedProperties"]
        assert changed["SupplementaryConfiguration.BucketVersioningConfiguration"]["changeType"] == "UPDATE"
        assert changed["SupplementaryConfiguration.BucketVersioningConfiguration"]["updatedValue"]["status"] == "Enabled"
        assert message["recordVersion"] == "1.3" and message["configurationItem"]["configurationItemStatus"] == "OK"
        [completed] = [json.loads(m["Message"]) for m in notes
                       if json.loads(m["Message"])["messageType"] == "ConfigurationSnapshotDeliveryCompleted"]
        assert completed["configSnapshotId"] == snapshot_id and completed["s3ObjectKey"] == snap_key
        assert completed["s3Bucket"] == "cfg-files-delivery"
    finally:
        sub.close()
    # A stopped recorder cannot deliver a snapshot.
    cfg.stop_configuration_recorder(ConfigurationRecorderName="default")
    expect_error(cfg.deliver_config_snapshot, "NoRunningConfigurationRecorderException", 400, deliveryChannelName="default")
    expect_error(cfg.deliver_config_snapshot, "NoSuchDeliveryChannelException", 400, deliveryChannelName="other")


def compliance(cfg, rule: str) -> str:
    [c] = cfg.describe_compliance_by_config_rule(ConfigRuleNames=[rule])["ComplianceByConfigRules"]
    return c["Compliance"]["ComplianceType"]


def details(cfg, rule: str) -> dict[str, str]:
    results = cfg.get_compliance_details_by_config_rule(ConfigRuleName=rule)["EvaluationResults"]
    return {r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]: r["ComplianceType"] for r in results}


def test_managed_rules_turn_compliant_and_non_compliant(own_server, ids):
    """Each managed rule evaluates for real, on change and on demand."""
    server, region = own_server, "us-east-1"
    cfg = start_recording(server, ids.a_alice, region, "rules-delivery")
    s3 = s3_client(server, ids.a_alice, region)
    create_bucket(s3, "rules-watched", region)
    rule = lambda name, ident, params=None, scope=None: cfg.put_config_rule(ConfigRule={
        "ConfigRuleName": name, "Source": {"Owner": "AWS", "SourceIdentifier": ident},
        **({"InputParameters": json.dumps(params)} if params else {}), **({"Scope": scope} if scope else {})})
    rule("versioning", "S3_BUCKET_VERSIONING_ENABLED")
    rule("encryption", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED")
    rule("tags", "REQUIRED_TAGS", {"tag1Key": "env", "tag1Value": "prod,staging"}, {"ComplianceResourceTypes": ["AWS::S3::Bucket"]})
    rule("trail-on", "CLOUD_TRAIL_ENABLED")
    rule("multi-region", "MULTI_REGION_CLOUD_TRAIL_ENABLED")
    rule("validation", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED")
    [described] = cfg.describe_config_rules(ConfigRuleNames=["versioning"])["ConfigRules"]
    assert re.fullmatch(r"config-rule-[a-z0-9]{6}", described["ConfigRuleId"])
    assert described["ConfigRuleArn"] == f"arn:aws:config:{region}:{ACCOUNT_A}:config-rule/{described['ConfigRuleId']}"
    assert described["ConfigRuleState"] == "ACTIVE" and described["EvaluationModes"] == [{"Mode": "DETECTIVE"}]

    # S3 versioning: off, then on.
    assert details(cfg, "versioning")["rules-watched"] == "NON_COMPLIANT"
    s3.put_bucket_versioning(Bucket="rules-watched", VersioningConfiguration={"Status": "Enabled"})
    assert details(cfg, "versioning")["rules-watched"] == "COMPLIANT"
    s3.put_bucket_versioning(Bucket="rules-watched", VersioningConfiguration={"Status": "Suspended"})
    assert details(cfg, "versioning")["rules-watched"] == "NON_COMPLIANT"
    # Encryption: every bucket has SSE-S3 by default since 2023, so the rule holds and stays so without a rule.
    assert details(cfg, "encryption")["rules-watched"] == "COMPLIANT"
    s3.put_bucket_encryption(Bucket="rules-watched", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/cfg"}}]})
    s3.delete_bucket_encryption(Bucket="rules-watched")
    assert details(cfg, "encryption")["rules-watched"] == "COMPLIANT"
    # Required tags with allowed values.
    assert details(cfg, "tags")["rules-watched"] == "NON_COMPLIANT"
    s3.put_bucket_tagging(Bucket="rules-watched", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    assert details(cfg, "tags")["rules-watched"] == "COMPLIANT"
    s3.put_bucket_tagging(Bucket="rules-watched", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
    assert details(cfg, "tags")["rules-watched"] == "NON_COMPLIANT"

    # CloudTrail rules: no trail, a logging single-region trail, then multi-region with validation.
    assert details(cfg, "trail-on") == {ACCOUNT_A: "NON_COMPLIANT"}
    assert compliance(cfg, "validation") == "INSUFFICIENT_DATA"
    ct = server.client("cloudtrail", ids.a_alice, region=region)
    ensure_bucket(server, ids.a_alice, "rules-trail-logs")
    ct.create_trail(Name="rules-trail", S3BucketName="rules-trail-logs")
    assert details(cfg, "trail-on") == {ACCOUNT_A: "NON_COMPLIANT"}  # not logging yet
    ct.start_logging(Name="rules-trail")
    assert details(cfg, "trail-on") == {ACCOUNT_A: "COMPLIANT"}
    [result] = cfg.get_compliance_details_by_config_rule(ConfigRuleName="trail-on")["EvaluationResults"]
    assert result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceType"] == "AWS::::Account"
    assert details(cfg, "multi-region") == {ACCOUNT_A: "NON_COMPLIANT"}
    assert details(cfg, "validation") == {"rules-trail": "NON_COMPLIANT"}
    ct.update_trail(Name="rules-trail", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    assert details(cfg, "multi-region") == {ACCOUNT_A: "COMPLIANT"}
    assert details(cfg, "validation") == {"rules-trail": "COMPLIANT"}
    ct.put_event_selectors(TrailName="rules-trail", EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])
    assert details(cfg, "multi-region") == {ACCOUNT_A: "NON_COMPLIANT"}  # not all management events
    ct.stop_logging(Name="rules-trail")
    assert details(cfg, "trail-on") == {ACCOUNT_A: "NON_COMPLIANT"}

    # On demand, by resource, status, deletion.
    cfg.start_config_rules_evaluation(ConfigRuleNames=["versioning"])
    by_resource = cfg.describe_compliance_by_resource(ResourceType="AWS::S3::Bucket", ResourceId="rules-watched")
    assert by_resource["ComplianceByResources"][0]["Compliance"]["ComplianceType"] == "NON_COMPLIANT"
    statuses = cfg.describe_config_rule_evaluation_status(ConfigRuleNames=["versioning"])["ConfigRulesEvaluationStatus"]
    assert statuses[0]["FirstEvaluationStarted"] is True and "LastSuccessfulEvaluationTime" in statuses[0]
    non = cfg.describe_compliance_by_config_rule(ComplianceTypes=["NON_COMPLIANT"])["ComplianceByConfigRules"]
    assert {c["ConfigRuleName"] for c in non} == {"versioning", "tags", "trail-on", "multi-region"}
    cfg.delete_config_rule(ConfigRuleName="versioning")
    expect_error(cfg.describe_config_rules, "NoSuchConfigRuleException", 400, ConfigRuleNames=["versioning"])
    expect_error(cfg.get_compliance_details_by_config_rule, "NoSuchConfigRuleException", 400, ConfigRuleName="versioning")

    # Everything survives a restart: recorder, items, rules and their results.
    server.restart()
    cfg = server.client("config", ids.a_alice, region=region)
    assert cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"] is True
    assert details(cfg, "tags")["rules-watched"] == "NON_COMPLIANT"
    # Discovered, versioning on and suspended, KMS encryption set and removed, two tag sets.
    assert len(history(cfg, "AWS::S3::Bucket", "rules-watched", limit=100)) == 7
    s3 = s3_client(server, ids.a_alice, region)
    s3.put_bucket_tagging(Bucket="rules-watched", Tagging={"TagSet": [{"Key": "env", "Value": "staging"}]})
    assert details(cfg, "tags")["rules-watched"] == "COMPLIANT"


def test_rule_requires_recorder(server, ids):
    cfg = server.client("config", ids.b_carol, region="us-east-2")
    e = expect_error(cfg.put_config_rule, "NoAvailableConfigurationRecorderException", 400,
                     ConfigRule={"ConfigRuleName": "r", "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"}})
    assert "create a configuration recorder" in e.response["Error"]["Message"]
