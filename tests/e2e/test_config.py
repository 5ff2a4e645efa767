"""AWS Config's recorder and delivery-channel API (JSON 1.1, StarlingDoveService) with its rules and errors, and
how CloudTrail records the calls."""

from __future__ import annotations

import re

from cairn_harness import ACCOUNT_A, ensure_bucket, expect_error, find_by_request_id

ROLE = f"arn:aws:iam::{ACCOUNT_A}:role/config-role"


def config(server, creds, region):
    return server.client("config", creds, region=region)


def test_recorder_rules_and_description(server, ids):
    """A recorder needs a role; one per region; Describe returns AWS's normalized recording group, ARN and scope."""
    cfg = config(server, ids.a_alice, "ap-south-1")
    expect_error(cfg.put_configuration_recorder, "InvalidRoleException", 400, ConfigurationRecorder={"name": "default"})
    cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": ROLE})
    [rec] = cfg.describe_configuration_recorders()["ConfigurationRecorders"]
    assert rec["name"] == "default" and rec["roleARN"] == ROLE and rec["recordingScope"] == "PAID"
    assert re.fullmatch(rf"arn:aws:config:ap-south-1:{ACCOUNT_A}:configuration-recorder/default/[a-z0-9]{{16}}", rec["arn"])
    assert rec["recordingGroup"] == {
        "allSupported": True, "includeGlobalResourceTypes": False, "resourceTypes": [],
        "exclusionByResourceTypes": {"resourceTypes": []}, "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}
    e = expect_error(cfg.put_configuration_recorder, "MaxNumberOfConfigurationRecordersExceededException", 400,
                     ConfigurationRecorder={"name": "other", "roleARN": ROLE})
    assert "maximum number of configuration recorders: 1 is reached" in e.response["Error"]["Message"]
    expect_error(cfg.put_configuration_recorder, "InvalidRecordingGroupException", 400,
                 ConfigurationRecorder={"name": "default", "roleARN": ROLE,
                                        "recordingGroup": {"allSupported": True, "resourceTypes": ["AWS::S3::Bucket"]}})
    expect_error(cfg.describe_configuration_recorders, "NoSuchConfigurationRecorderException", 400,
                 ConfigurationRecorderNames=["nope"])


def test_channel_and_recording_lifecycle(server, ids):
    """Channel needs a recorder and a bucket; Start needs a channel; status fields appear only once they happened;
    a running recorder keeps its last channel."""
    region = "ap-northeast-2"
    cfg = config(server, ids.a_alice, region)
    expect_error(cfg.put_delivery_channel, "NoAvailableConfigurationRecorderException", 400,
                 DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket"})
    cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": ROLE})
    expect_error(cfg.start_configuration_recorder, "NoAvailableDeliveryChannelException", 400, ConfigurationRecorderName="default")
    expect_error(cfg.put_delivery_channel, "NoSuchBucketException", 400,
                 DeliveryChannel={"name": "default", "s3BucketName": "cfg-no-such-bucket"})
    ensure_bucket(server, ids.a_alice, "cfg-bucket")
    expect_error(cfg.put_delivery_channel, "InvalidS3KeyPrefixException", 400,
                 DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket", "s3KeyPrefix": ""})
    cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket", "s3KeyPrefix": "cfg"})
    probe = server.client("s3", ids.a_alice, s3={"addressing_style": "path"}).head_object(
        Bucket="cfg-bucket", Key=f"cfg/AWSLogs/{ACCOUNT_A}/Config/ConfigWritabilityCheckFile")
    assert probe["ContentLength"] == 0
    assert cfg.describe_delivery_channels()["DeliveryChannels"] == [
        {"name": "default", "s3BucketName": "cfg-bucket", "s3KeyPrefix": "cfg"}]
    [status] = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is False and "lastStartTime" not in status
    cfg.start_configuration_recorder(ConfigurationRecorderName="default")
    [status] = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is True and "lastStartTime" in status and "lastStopTime" not in status
    assert status["lastStatus"] == "SUCCESS"
    e = expect_error(cfg.delete_delivery_channel, "LastDeliveryChannelDeleteFailedException", 400, DeliveryChannelName="default")
    assert "running configuration recorder" in e.response["Error"]["Message"]
    cfg.stop_configuration_recorder(ConfigurationRecorderName="default")
    [status] = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert status["recording"] is False and "lastStopTime" in status
    [channel_status] = cfg.describe_delivery_channel_status()["DeliveryChannelsStatus"]
    assert channel_status["configStreamDeliveryInfo"]["lastStatus"] == "NOT_APPLICABLE"
    cfg.delete_delivery_channel(DeliveryChannelName="default")
    cfg.delete_configuration_recorder(ConfigurationRecorderName="default")
    assert cfg.describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_config_calls_in_cloudtrail(server, ids):
    """Config calls are management events: requestParameters keep the model's member casing, no responseElements,
    and Describe calls without parameters record null."""
    region = "ca-central-1"
    cfg = config(server, ids.a_alice, region)
    put = cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": ROLE})
    ct = server.client("cloudtrail", ids.a_lookup, region=region)
    rec = find_by_request_id(ct, "PutConfigurationRecorder", put["ResponseMetadata"]["RequestId"])
    assert rec["eventSource"] == "config.amazonaws.com" and rec["readOnly"] is False
    assert rec["requestParameters"] == {"configurationRecorder": {"name": "default", "roleARN": ROLE}}
    assert rec["responseElements"] is None
    described = cfg.describe_configuration_recorders()
    rec = find_by_request_id(ct, "DescribeConfigurationRecorders", described["ResponseMetadata"]["RequestId"])
    assert rec["requestParameters"] is None and rec["readOnly"] is True
    out = server.aws("configservice", "describe-configuration-recorders", creds=ids.a_alice, region=region)
    assert out.rc == 0 and '"roleARN"' in out.stdout, out.stderr
