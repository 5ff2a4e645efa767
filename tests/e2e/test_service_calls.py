"""Calls Cairn's services make to each other are recorded as AWS records them: every PutObject of a trail's log and
digest files and of AWS Config's writability check, snapshot and history files is an S3 data event of an
`AWSService` identity, recorded for the bucket owner, and reaches the trails whose data-event selectors select the
bucket; their SNS notifications are SNS Publish data events the same way."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from cairn_harness import ACCOUNT_A, ACCOUNT_B, CairnServer, cloudtrail_bucket_policy, lookup_all

REGION = "us-east-1"
LOGS = "svc-logs"  # account A's trail delivers here, and selects it
SHARED = "svc-shared"  # account A's bucket, written by account B's trail; A's trail selects it
CONFIG = "svc-config"  # account A's Config channel bucket; A's trail selects it
WATCHER = "svc-watcher"


def s3(server, creds):
    return server.client("s3", creds, region=REGION, s3={"addressing_style": "path"})


def config_policy(bucket: str) -> dict:
    """The bucket policy AWS Config's documentation gives for a delivery channel's bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSConfigBucketPermissionsCheck", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT_A}}},
            {"Sid": "AWSConfigBucketDelivery", "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT_A}/Config/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "AWS:SourceAccount": ACCOUNT_A}}},
        ],
    }


def topic_policy(topic: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]},
                       "Action": "SNS:Publish", "Resource": topic}],
    }


def records_in(server, creds, bucket: str) -> list[dict]:
    """Every record of every CloudTrail log file in the bucket."""
    client = s3(server, creds)
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"AWSLogs/{ACCOUNT_A}/CloudTrail/"):
        for obj in page.get("Contents", []):
            out += json.loads(gzip.decompress(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))["Records"]
    return out


def keys(server, creds, bucket: str, prefix: str = "") -> list[str]:
    client = s3(server, creds)
    return [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]


def service_puts(records: list[dict], principal: str) -> dict[tuple[str, str], dict]:
    """The PutObject records an AWS service made, by (bucket, key)."""
    return {(r["requestParameters"]["bucketName"], r["requestParameters"]["key"]): r for r in records
            if r["eventSource"] == "s3.amazonaws.com" and r["eventName"] == "PutObject"
            and r["userIdentity"].get("invokedBy") == principal}


def check_service_put(record: dict, principal: str, bucket: str, key: str, owner: str, size: int) -> None:
    """A PutObject an AWS service made, as CloudTrail records it."""
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": principal}
    assert record["sourceIPAddress"] == principal and record["userAgent"] == principal
    assert record["eventCategory"] == "Data" and record["managementEvent"] is False and record["readOnly"] is False
    assert record["awsRegion"] == REGION and record["recipientAccountId"] == owner
    assert "errorCode" not in record
    params = record["requestParameters"]
    assert params["bucketName"] == bucket and params["key"] == key
    assert params["x-amz-acl"] == "bucket-owner-full-control"
    assert params["x-amz-server-side-encryption"] == "AES256"
    assert params["Host"] == f"{bucket}.s3.{REGION}.amazonaws.com"
    assert record["responseElements"] == {"x-amz-server-side-encryption": "AES256"}
    extra = record["additionalEventData"]
    assert extra["SignatureVersion"] == "SigV4" and extra["AuthenticationMethod"] == "AuthHeader"
    assert extra["bytesTransferredIn"] == size and extra["bytesTransferredOut"] == 0
    assert record["resources"] == [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": owner, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    assert "sharedEventID" not in record


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, identities_file, ids, binary):
    """A server with AWS's strict policy checks; account A's trail (log-file validation, an SNS topic, data-event
    selectors on its own bucket, the shared bucket, Config's bucket and SNS topics), account B's trail into A's
    shared bucket, and account A's Config recorder and channel."""
    server = CairnServer(tmp_path_factory.mktemp("svc") / "data", identities_file, ids,
                         extra_args=["--resource-policy-checks", "strict", "--delivery-interval", "3600",
                                     "--digest-interval", "2"]).start()
    a = s3(server, ids.a_alice)
    for bucket in (LOGS, SHARED):
        a.create_bucket(Bucket=bucket)
        a.put_bucket_policy(Bucket=bucket, Policy=json.dumps(cloudtrail_bucket_policy(bucket, "*")))
    a.create_bucket(Bucket=CONFIG)
    a.put_bucket_policy(Bucket=CONFIG, Policy=json.dumps(config_policy(CONFIG)))
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name="svc-notes")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(topic_policy(topic)))
    ct = server.client("cloudtrail", ids.a_alice)
    ct.create_trail(Name="svc-trail", S3BucketName=LOGS, SnsTopicName=topic, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName="svc-trail", AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "delivery buckets", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{b}/" for b in (LOGS, SHARED, CONFIG)]}]},
        {"Name": "topics", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::SNS::Topic"]}]},
    ])
    ct.start_logging(Name="svc-trail")
    ct_b = server.client("cloudtrail", ids.b_carol)
    ct_b.create_trail(Name="svc-b-trail", S3BucketName=SHARED)
    ct_b.start_logging(Name="svc-b-trail")
    cfg = server.client("config", ids.a_alice)
    cfg.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT_A}:role/config-role"})
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": CONFIG, "snsTopicARN": topic})
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    a.create_bucket(Bucket=WATCHER)
    snapshot = cfg.deliver_config_snapshot(deliveryChannelName="default")["configSnapshotId"]
    server.flush()  # the first log files (and Config's history files), whose PutObject events the next flush delivers
    yield server, topic, snapshot
    assert server.stop() == 0


def test_trail_deliveries_are_s3_data_events_of_cloudtrail(deployed, ids):
    """The PutObject of each log file, in the trail's own bucket and in another account's trail bucket, is a data
    event of `cloudtrail.amazonaws.com`, recorded for the bucket owner, delivered by the trail that selects it."""
    server, _, _ = deployed
    first = keys(server, ids.a_alice, LOGS, f"AWSLogs/{ACCOUNT_A}/CloudTrail/")
    shared = keys(server, ids.a_alice, SHARED, f"AWSLogs/{ACCOUNT_B}/CloudTrail/")
    assert first and shared, "the first flush delivered nothing"
    server.flush()
    puts = service_puts(records_in(server, ids.a_alice, LOGS), "cloudtrail.amazonaws.com")
    client = s3(server, ids.a_alice)
    for bucket, key in [(LOGS, k) for k in first] + [(SHARED, k) for k in shared]:
        assert (bucket, key) in puts, f"no PutObject record for {bucket}/{key}"
        size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        check_service_put(puts[(bucket, key)], "cloudtrail.amazonaws.com", bucket, key, ACCOUNT_A, size)
    # Data events stay out of Event history, which shows management events only.
    assert not lookup_all(server.client("cloudtrail", ids.a_lookup),
                          LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutObject"}])


def test_digest_deliveries_are_recorded_too(deployed, ids):
    """Digest files are written by the same audited PutObject, with their signature metadata."""
    server, _, _ = deployed
    deadline = time.monotonic() + 30
    digests = []
    while not digests:
        assert time.monotonic() < deadline, "no digest arrived"
        server.flush()
        digests = keys(server, ids.a_alice, LOGS, f"AWSLogs/{ACCOUNT_A}/CloudTrail-Digest/")
        if not digests:
            time.sleep(0.5)
    server.flush()
    puts = service_puts(records_in(server, ids.a_alice, LOGS), "cloudtrail.amazonaws.com")
    head = s3(server, ids.a_alice).head_object(Bucket=LOGS, Key=digests[0])
    assert head["Metadata"]["signature-algorithm"] == "SHA256withRSA"
    check_service_put(puts[(LOGS, digests[0])], "cloudtrail.amazonaws.com", LOGS, digests[0], ACCOUNT_A, head["ContentLength"])


def test_notifications_are_sns_publish_data_events(deployed, ids):
    """The trail's and Config's notifications are SNS Publish data events of the service principal, with the
    message hidden as SNS records it."""
    server, topic, _ = deployed
    server.flush()
    publishes = [r for r in records_in(server, ids.a_alice, LOGS)
                 if r["eventSource"] == "sns.amazonaws.com" and r["eventName"] == "Publish"]
    by = {r["userIdentity"].get("invokedBy") for r in publishes}
    assert {"cloudtrail.amazonaws.com", "config.amazonaws.com"} <= by, by
    for record in publishes:
        principal = record["userIdentity"]["invokedBy"]
        assert record["userIdentity"] == {"type": "AWSService", "invokedBy": principal}
        assert record["sourceIPAddress"] == principal and record["userAgent"] == principal
        assert record["eventCategory"] == "Data" and record["recipientAccountId"] == ACCOUNT_A
        assert record["requestParameters"]["topicArn"] == topic
        assert record["requestParameters"]["message"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
        assert record["responseElements"]["messageId"]
        assert record["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::SNS::Topic", "ARN": topic}]


def test_config_deliveries_are_s3_data_events_of_config(deployed, ids):
    """The writability check, the snapshot and the history files Config writes are data events of
    `config.amazonaws.com`."""
    server, _, snapshot = deployed
    server.flush()
    written = keys(server, ids.a_alice, CONFIG, f"AWSLogs/{ACCOUNT_A}/Config/")
    check = f"AWSLogs/{ACCOUNT_A}/Config/ConfigWritabilityCheckFile"
    snap = [k for k in written if k.endswith(f"_{snapshot}.json.gz")]
    history = [k for k in written if "/ConfigHistory/" in k]
    assert check in written and snap and history, written
    puts = service_puts(records_in(server, ids.a_alice, LOGS), "config.amazonaws.com")
    client = s3(server, ids.a_alice)
    for key in [check, snap[0], history[0]]:
        assert (CONFIG, key) in puts, f"no PutObject record for {key}"
        check_service_put(puts[(CONFIG, key)], "config.amazonaws.com", CONFIG, key, ACCOUNT_A,
                          client.head_object(Bucket=CONFIG, Key=key)["ContentLength"])


def test_a_refused_delivery_is_recorded_with_its_error(deployed, ids):
    """When the bucket policy stops letting CloudTrail write, the delivery's PutObject fails with AccessDenied, and
    that failure is recorded for the bucket owner like any failed call."""
    server, _, _ = deployed
    a = s3(server, ids.a_alice)
    a.delete_bucket_policy(Bucket=SHARED)
    server.client("sts", ids.b_carol).get_caller_identity()  # something for account B's trail to deliver
    server.flush()
    status = server.client("cloudtrail", ids.b_carol).get_trail_status(Name="svc-b-trail")
    assert status["LatestDeliveryError"] == "AccessDenied"
    server.flush()
    refused = [r for r in records_in(server, ids.a_alice, LOGS)
               if r["eventName"] == "PutObject" and r.get("errorCode") == "AccessDenied"
               and r["requestParameters"]["bucketName"] == SHARED]
    assert refused, "the refused delivery was not recorded"
    record = refused[0]
    assert record["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert record["errorMessage"] == "Access Denied" and record["responseElements"] is None
    assert record["recipientAccountId"] == ACCOUNT_A
    a.put_bucket_policy(Bucket=SHARED, Policy=json.dumps(cloudtrail_bucket_policy(SHARED, "*")))
