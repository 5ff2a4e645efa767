"""AWS CloudFormation: stacks whose resources are made through Cairn's own audited services, driven with the aws CLI
and boto3 — creation and deletion with their events, rollback of a failed creation, templates from S3, the CloudTrail
records of CloudFormation's calls and of the calls it makes for the caller, and a plan resumed after kill -9."""

from __future__ import annotations

import json
import time

import pytest

from cairn_harness import ACCOUNT_A, lookup_all, records, wait_next_second

REGION = "us-east-1"
SECRET = "s3cr3t-NoEcho-value-91"

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Description: Cairn end-to-end stack
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Secret:
    Type: String
    NoEcho: true
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: env
          Value: !Ref Env
  LogsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Logs
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: AWSCloudTrailAclCheck
            Effect: Allow
            Principal: {Service: cloudtrail.amazonaws.com}
            Action: s3:GetBucketAcl
            Resource: !GetAtt Logs.Arn
          - Sid: AWSCloudTrailWrite
            Effect: Allow
            Principal: {Service: cloudtrail.amazonaws.com}
            Action: s3:PutObject
            Resource: !Sub "${Logs.Arn}/AWSLogs/${AWS::AccountId}/*"
            Condition: {StringEquals: {"s3:x-amz-acl": bucket-owner-full-control}}
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "alerts-${Env}-${Secret}"
  ProdOnly:
    Type: AWS::SNS::Topic
    Condition: IsProd
  Trail:
    Type: AWS::CloudTrail::Trail
    DependsOn: LogsPolicy
    Properties:
      S3BucketName: !Ref Logs
      IsLogging: true
Outputs:
  BucketArn:
    Value: !GetAtt Logs.Arn
    Export:
      Name: !Sub "${AWS::StackName}-bucket"
  TopicName:
    Value: !GetAtt Alerts.TopicName
  TrailArn:
    Value: !GetAtt Trail.Arn
"""


def cfn(server, creds):
    return server.client("cloudformation", creds, region=REGION)


def wait_terminal(cf, stack: str, timeout: float = 60) -> dict:
    """Polls DescribeStacks until the stack leaves every *_IN_PROGRESS status."""
    deadline = time.monotonic() + timeout
    while True:
        found = cf.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            return found
        assert time.monotonic() < deadline, f"{stack} still {found['StackStatus']}"
        time.sleep(0.1)


def events_of(cf, stack: str) -> list[dict]:
    """Every event of a stack, oldest first."""
    out = []
    for page in cf.get_paginator("describe_stack_events").paginate(StackName=stack):
        out += page["StackEvents"]
    return list(reversed(out))


def test_create_with_the_cli_describe_and_delete(server, ids):
    creds = ids.a_alice
    created = server.aws_ok(
        "cloudformation", "create-stack", "--stack-name", "e2e-main", "--template-body", TEMPLATE,
        "--parameters", "ParameterKey=Env,ParameterValue=dev", f"ParameterKey=Secret,ParameterValue={SECRET}",
        "--tags", "Key=team,Value=audit", creds=creds)
    stack_id = created["StackId"]
    assert stack_id.startswith(f"arn:aws:cloudformation:{REGION}:{ACCOUNT_A}:stack/e2e-main/")
    r = server.aws("cloudformation", "wait", "stack-create-complete", "--stack-name", "e2e-main", creds=creds)
    assert r.rc == 0, r.stderr
    cf = cfn(server, creds)
    stack = cf.describe_stacks(StackName="e2e-main")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "Cairn end-to-end stack"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Env": "dev", "Secret": "****"}
    assert stack["Tags"] == [{"Key": "team", "Value": "audit"}]
    assert stack["DisableRollback"] is False and stack["EnableTerminationProtection"] is False
    assert stack["DriftInformation"] == {"StackDriftStatus": "NOT_CHECKED"}
    assert "LastUpdatedTime" not in stack and "DeletionTime" not in stack
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    resources = {r["LogicalResourceId"]: r for r in cf.describe_stack_resources(StackName="e2e-main")["StackResources"]}
    # The condition is false: ProdOnly is not made.
    assert set(resources) == {"Logs", "LogsPolicy", "Alerts", "Trail"}
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources.values())
    bucket = resources["Logs"]["PhysicalResourceId"]
    assert bucket.startswith("e2e-main-logs-") and bucket == bucket.lower() and len(bucket) == len("e2e-main-logs-") + 13
    assert outputs["BucketArn"] == {"OutputKey": "BucketArn", "OutputValue": f"arn:aws:s3:::{bucket}", "ExportName": "e2e-main-bucket"}
    topic_arn = resources["Alerts"]["PhysicalResourceId"]
    assert outputs["TopicName"]["OutputValue"] == topic_arn.rsplit(":", 1)[1]
    # The resources are real: S3, SNS and CloudTrail hold them.
    s3 = server.client("s3", creds, region=REGION, s3={"addressing_style": "path"})
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {
        "env": "dev", "team": "audit", "aws:cloudformation:stack-name": "e2e-main",
        "aws:cloudformation:stack-id": stack_id, "aws:cloudformation:logical-id": "Logs",
    }
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][1]["Resource"] == \
        f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT_A}/*"
    sns = server.client("sns", creds, region=REGION)
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["DisplayName"] == f"alerts-dev-{SECRET}"
    ct = server.client("cloudtrail", creds, region=REGION)
    trail = ct.get_trail(Name=resources["Trail"]["PhysicalResourceId"])["Trail"]
    assert trail["S3BucketName"] == bucket and trail["TrailARN"] == outputs["TrailArn"]["OutputValue"]
    assert ct.get_trail_status(Name=trail["TrailARN"])["IsLogging"] is True
    # Events: the stack's, then each resource's three, then the stack's completion; newest first on the wire.
    events = events_of(cf, "e2e-main")
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"], events[0]["ResourceStatusReason"]) == \
        ("e2e-main", "CREATE_IN_PROGRESS", "User Initiated")
    assert (events[-1]["LogicalResourceId"], events[-1]["ResourceStatus"]) == ("e2e-main", "CREATE_COMPLETE")
    for logical in resources:
        mine = [e for e in events if e["LogicalResourceId"] == logical]
        assert [(e["ResourceStatus"], e.get("ResourceStatusReason")) for e in mine] == [
            ("CREATE_IN_PROGRESS", None), ("CREATE_IN_PROGRESS", "Resource creation Initiated"), ("CREATE_COMPLETE", None)]
        assert mine[0]["PhysicalResourceId"] == "" and mine[2]["PhysicalResourceId"] == resources[logical]["PhysicalResourceId"]
        assert mine[2]["EventId"].startswith(f"{logical}-CREATE_COMPLETE-")
    # The trail is made after the policy it depends on.
    order = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE" and e["LogicalResourceId"] != "e2e-main"]
    assert order.index("LogsPolicy") < order.index("Trail") and order.index("Logs") < order.index("LogsPolicy")
    # NoEcho: the value is masked wherever CloudFormation shows it.
    assert SECRET not in json.dumps(events, default=str)
    alerts = [e for e in events if e["LogicalResourceId"] == "Alerts"][0]
    assert json.loads(alerts["ResourceProperties"]) == {"DisplayName": "alerts-dev-****"}
    assert cf.get_template(StackName="e2e-main")["TemplateBody"] == TEMPLATE
    exports = cf.list_exports()["Exports"]
    assert {"ExportingStackId": stack_id, "Name": "e2e-main-bucket", "Value": f"arn:aws:s3:::{bucket}"} in exports
    summaries = {s["StackName"]: s for s in cf.list_stacks()["StackSummaries"]}
    assert summaries["e2e-main"]["StackStatus"] == "CREATE_COMPLETE"
    assert summaries["e2e-main"]["TemplateDescription"] == "Cairn end-to-end stack"

    # Deletion: in the reverse order, and everything is gone.
    server.aws_ok("cloudformation", "delete-stack", "--stack-name", "e2e-main", creds=creds)
    r = server.aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack_id, creds=creds)
    assert r.rc == 0, r.stderr
    gone = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert gone["StackStatus"] == "DELETE_COMPLETE" and "DeletionTime" in gone
    events = events_of(cf, stack_id)
    deleted = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_COMPLETE" and e["LogicalResourceId"] != "e2e-main"]
    # Dependents go first: the trail, then the bucket's policy, then the bucket.
    assert sorted(deleted) == sorted(order)
    assert deleted.index("Trail") < deleted.index("LogsPolicy") < deleted.index("Logs")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert topic_arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert ct.describe_trails(trailNameList=[trail["TrailARN"]])["trailList"] == []
    r = server.aws("cloudformation", "describe-stacks", "--stack-name", "e2e-main", creds=creds)
    assert r.rc != 0 and "Stack with id e2e-main does not exist" in r.stderr
    assert "e2e-main-bucket" not in [e["Name"] for e in cf.list_exports()["Exports"]]
    assert "e2e-main" not in [s["StackName"] for s in cf.describe_stacks()["Stacks"]]
    assert [s["StackStatus"] for s in cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
            if s["StackId"] == stack_id] == ["DELETE_COMPLETE"]


def test_a_failed_creation_rolls_back_and_removes_what_it_made(server, ids):
    creds = ids.a_alice
    taken = "e2e-taken-bucket"
    server.client("s3", ids.b_carol, region=REGION).create_bucket(Bucket=taken)
    template = {
        "Resources": {
            "First": {"Type": "AWS::SNS::Topic"},
            "Clash": {"Type": "AWS::S3::Bucket", "DependsOn": "First", "Properties": {"BucketName": taken}},
            "After": {"Type": "AWS::SNS::Topic", "DependsOn": "Clash"},
        }
    }
    cf = cfn(server, creds)
    stack_id = cf.create_stack(StackName="e2e-rollback", TemplateBody=json.dumps(template))["StackId"]
    stack = wait_terminal(cf, "e2e-rollback")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "DeletionTime" in stack and "StackStatusReason" not in stack and "Outputs" not in stack
    events = events_of(cf, stack_id)
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Clash"]
    reason = failed[0]["ResourceStatusReason"]
    assert reason.startswith('Resource handler returned message: "The requested bucket name is not available.')
    assert "(Service: S3, Status Code: 409, Request ID: " in reason and reason.endswith("HandlerErrorCode: AlreadyExists)")
    rollback = [e for e in events if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
    assert rollback[0]["ResourceStatusReason"] == "The following resource(s) failed to create: [Clash]. Rollback requested by user."
    first = [e for e in events if e["LogicalResourceId"] == "First"]
    assert [e["ResourceStatus"] for e in first][-2:] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert not [e for e in events if e["LogicalResourceId"] == "After"]
    topics = [t["TopicArn"] for t in server.client("sns", creds, region=REGION).list_topics()["Topics"]]
    assert not [t for t in topics if ":e2e-rollback-" in t]
    # A stack in ROLLBACK_COMPLETE still holds its name until it is deleted.
    r = server.aws("cloudformation", "create-stack", "--stack-name", "e2e-rollback", "--template-body", json.dumps(template), creds=creds)
    assert r.error_code() == "AlreadyExistsException" and "Stack [e2e-rollback] already exists" in r.stderr
    cf.delete_stack(StackName="e2e-rollback")
    assert wait_terminal(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_without_rollback_the_stack_ends_create_failed(server, ids):
    cf = cfn(server, ids.a_alice)
    template = {"Resources": {"Ok": {"Type": "AWS::SNS::Topic"}, "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    cf.create_stack(StackName="e2e-norollback", TemplateBody=json.dumps(template), DisableRollback=True)
    stack = wait_terminal(cf, "e2e-norollback")
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [Vpc]. "
    assert stack["DisableRollback"] is True
    vpc = cf.describe_stack_resource(StackName="e2e-norollback", LogicalResourceId="Vpc")["StackResourceDetail"]
    assert vpc["ResourceStatus"] == "CREATE_FAILED" and "AWS::EC2::VPC" in vpc["ResourceStatusReason"]
    # The topic that was made stays, until the stack is deleted.
    ok = cf.describe_stack_resource(StackName="e2e-norollback", LogicalResourceId="Ok")["StackResourceDetail"]
    sns = server.client("sns", ids.a_alice, region=REGION)
    assert ok["ResourceStatus"] == "CREATE_COMPLETE"
    sns.get_topic_attributes(TopicArn=ok["PhysicalResourceId"])
    cf.delete_stack(StackName="e2e-norollback")
    wait_terminal(cf, stack["StackId"])
    assert ok["PhysicalResourceId"] not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_template_errors_and_stack_errors_are_aws_s(server, ids):
    creds = ids.a_alice

    def error(*args: str) -> tuple[str | None, str]:
        r = server.aws("cloudformation", *args, creds=creds)
        assert r.rc != 0
        return r.error_code(), r.stderr

    code, text = error("create-stack", "--stack-name", "e2e-bad", "--template-body",
                       json.dumps({"Resources": {"X": {"Type": "AWS::Foo::Bar"}}}))
    assert code == "ValidationError" and "Template format error: Unrecognized resource types: [AWS::Foo::Bar]" in text
    code, text = error("create-stack", "--stack-name", "e2e-bad", "--template-body", json.dumps({
        "Resources": {"A": {"Type": "AWS::SNS::Topic", "DependsOn": "B"}, "B": {"Type": "AWS::SNS::Topic", "DependsOn": "A"}}}))
    assert code == "ValidationError" and "Template format error: Circular dependency between resources: [" in text
    code, text = error("create-stack", "--stack-name", "e2e-bad", "--template-body", "{bad")
    assert code == "ValidationError" and "Template format error: JSON not well-formed. (line 1, column 2)" in text
    code, text = error("create-stack", "--stack-name", "e2e-bad", "--template-body", TEMPLATE)
    assert code == "ValidationError" and "Parameters: [Secret] must have values" in text
    code, text = error("create-stack", "--stack-name", "bad_name", "--template-body", TEMPLATE)
    assert code == "ValidationError" and "Value 'bad_name' at 'stackName' failed to satisfy constraint" in text
    code, text = error("describe-stack-events", "--stack-name", "e2e-missing")
    assert code == "ValidationError" and "Stack [e2e-missing] does not exist" in text
    code, text = error("describe-stacks", "--stack-name", "e2e-missing")
    assert code == "ValidationError" and "Stack with id e2e-missing does not exist" in text
    # Deleting a stack that does not exist succeeds.
    assert server.aws("cloudformation", "delete-stack", "--stack-name", "e2e-missing", creds=creds).rc == 0
    # A template failing validation made no stack.
    cf = cfn(server, creds)
    assert "e2e-bad" not in [s["StackName"] for s in cf.list_stacks()["StackSummaries"]]
    validated = server.aws_ok("cloudformation", "validate-template", "--template-body", TEMPLATE, creds=creds)
    assert validated["Description"] == "Cairn end-to-end stack"
    assert [(p["ParameterKey"], p["NoEcho"], p.get("DefaultValue")) for p in validated["Parameters"]] == \
        [("Env", False, "dev"), ("Secret", True, None)]


def test_termination_protection_blocks_deletion(server, ids):
    cf = cfn(server, ids.a_alice)
    cf.create_stack(StackName="e2e-protected", TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}),
                    EnableTerminationProtection=True)
    assert wait_terminal(cf, "e2e-protected")["EnableTerminationProtection"] is True
    r = server.aws("cloudformation", "delete-stack", "--stack-name", "e2e-protected", creds=ids.a_alice)
    assert r.error_code() == "ValidationError"
    assert "Stack [e2e-protected] cannot be deleted while TerminationProtection is enabled" in r.stderr
    cf.update_termination_protection(StackName="e2e-protected", EnableTerminationProtection=False)
    cf.delete_stack(StackName="e2e-protected")
    stack_id = cf.list_stacks()["StackSummaries"][0]["StackId"]
    assert wait_terminal(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_template_url_and_boto3_waiters(server, ids):
    creds = ids.a_alice
    s3 = server.client("s3", creds, region=REGION, s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="e2e-templates")
    body = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "e2e-from-url"}}},
                       "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}}})
    s3.put_object(Bucket="e2e-templates", Key="stacks/topic.json", Body=body.encode())
    cf = cfn(server, creds)
    cf.create_stack(StackName="e2e-url", TemplateURL="https://s3.amazonaws.com/e2e-templates/stacks/topic.json")
    cf.get_waiter("stack_create_complete").wait(StackName="e2e-url", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    stack = cf.describe_stacks(StackName="e2e-url")["Stacks"][0]
    assert stack["Outputs"] == [{"OutputKey": "Arn", "OutputValue": f"arn:aws:sns:{REGION}:{ACCOUNT_A}:e2e-from-url"}]
    assert cf.get_template(StackName="e2e-url", TemplateStage="Original")["TemplateBody"] == json.loads(body)
    for url in ["https://s3.amazonaws.com/e2e-templates/missing.json", "https://e2e-no-such-bucket.s3.amazonaws.com/t.json"]:
        r = server.aws("cloudformation", "create-stack", "--stack-name", "e2e-url2", "--template-url", url, creds=creds)
        assert r.error_code() == "ValidationError"
        assert "TemplateURL must reference a valid S3 object to which you have access." in r.stderr
    cf.delete_stack(StackName="e2e-url")
    cf.get_waiter("stack_delete_complete").wait(StackName=stack["StackId"], WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def test_cloudtrail_records_the_calls_and_the_provisioning(server, ids):
    creds = ids.a_bob
    cf = cfn(server, creds)
    template = {
        "Parameters": {"Token": {"Type": "String", "NoEcho": True}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Token"}}},
                      "Bucket": {"Type": "AWS::S3::Bucket"}},
    }
    created = cf.create_stack(StackName="e2e-audit", TemplateBody=json.dumps(template),
                              Parameters=[{"ParameterKey": "Token", "ParameterValue": SECRET}])
    request_id = created["ResponseMetadata"]["RequestId"]
    assert wait_terminal(cf, "e2e-audit")["StackStatus"] == "CREATE_COMPLETE"
    server.flush()
    ct = server.client("cloudtrail", ids.a_lookup, region=REGION)
    create = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateStack"}]))
              if r["requestID"] == request_id]
    assert len(create) == 1
    rec = create[0]
    assert rec["eventSource"] == "cloudformation.amazonaws.com" and rec["readOnly"] is False
    assert rec["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    assert rec["requestParameters"]["stackName"] == "e2e-audit"
    assert rec["requestParameters"]["parameters"] == [{"parameterKey": "Token"}]
    assert rec["responseElements"] == {"stackId": created["StackId"]}
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName="e2e-audit")["StackResources"]}
    topic = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTopic"}]))
             if r.get("responseElements", {}).get("topicArn") == resources["Topic"]][0]
    assert topic["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    assert topic["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com"
    assert topic["sourceIPAddress"] == "cloudformation.amazonaws.com" and topic["userAgent"] == "cloudformation.amazonaws.com"
    assert topic["requestParameters"]["attributes"] == {"DisplayName": "****"}
    bucket = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateBucket"}]))
              if r["requestParameters"]["bucketName"] == resources["Bucket"]][0]
    assert bucket["eventSource"] == "s3.amazonaws.com" and bucket["userIdentity"]["invokedBy"] == "cloudformation.amazonaws.com"
    assert bucket["sourceIPAddress"] == "cloudformation.amazonaws.com"
    # The NoEcho value is in no event at all.
    everything = lookup_all(ct, StartTime=time.time() - 3600)
    assert SECRET not in json.dumps(everything, default=str)
    cf.delete_stack(StackName="e2e-audit")
    wait_terminal(cf, created["StackId"])


def test_kill9_mid_deployment_resumes_without_leaks(own_server, ids):
    srv = own_server
    creds = ids.a_alice
    count = 100
    template = {"Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic", **({"DependsOn": f"Topic{i - 1}"} if i else {})}
                              for i in range(count)}}
    cf = cfn(srv, creds)
    stack_id = cf.create_stack(StackName="e2e-crash", TemplateBody=json.dumps(template))["StackId"]
    srv.kill9()
    srv.start()
    cf = cfn(srv, creds)
    stack = wait_terminal(cf, stack_id, timeout=120)
    # The kill came in the middle of the deployment: the restarted server took the plan up again.
    assert "resuming unfinished stack operations" in srv.log_text() and "e2e-crash" in srv.log_text()
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    resources = cf.describe_stack_resources(StackName=stack_id)["StackResources"]
    assert len(resources) == count and all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources)
    topics = [t["TopicArn"] for t in srv.client("sns", creds, region=REGION).list_topics()["Topics"] if ":e2e-crash-" in t["TopicArn"]]
    assert sorted(topics) == sorted(r["PhysicalResourceId"] for r in resources), "a topic was made twice or leaked"
    events = events_of(cf, stack_id)
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "e2e-crash"] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    for i in range(count):
        assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == f"Topic{i}"][-1] == "CREATE_COMPLETE"


DEPLOY_V1 = """
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: env, Value: !Ref Env}]
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "alerts-${Env}"
Outputs:
  Bucket:
    Value: !Ref Data
"""

# The topic changes in place, the bucket is replaced (a name is a replacing property), a topic is added.
DEPLOY_V2 = """
Parameters:
  Env:
    Type: String
    Default: dev
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "e2e-deploy-${Env}-named"
      Tags: [{Key: env, Value: !Ref Env}]
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "ALERTS-${Env}"
  Extra:
    Type: AWS::SNS::Topic
Outputs:
  Bucket:
    Value: !Ref Data
"""


def test_deploy_creates_updates_in_place_and_by_replacement_and_sees_no_change(server, ids, tmp_path):
    creds = ids.a_alice
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(DEPLOY_V1)
    v2.write_text(DEPLOY_V2)
    r = server.aws("cloudformation", "deploy", "--template-file", str(v1), "--stack-name", "e2e-deploy",
                   "--parameter-overrides", "Env=qa", "--tags", "team=audit", creds=creds)
    assert r.rc == 0, r.stderr
    assert "Successfully created/updated stack - e2e-deploy" in r.stdout
    cf = cfn(server, creds)
    stack = cf.describe_stacks(StackName="e2e-deploy")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["ChangeSetId"].startswith(f"arn:aws:cloudformation:{REGION}:{ACCOUNT_A}:changeSet/awscli-cloudformation-package-deploy-")
    assert stack["Tags"] == [{"Key": "team", "Value": "audit"}]
    first = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName="e2e-deploy")["StackResources"]}
    change_sets = cf.list_change_sets(StackName="e2e-deploy")["Summaries"]
    assert [(c["ChangeSetId"], c["ExecutionStatus"]) for c in change_sets] == [(stack["ChangeSetId"], "EXECUTE_COMPLETE")]

    # No execution: the change set says what would change, and nothing changes yet. (The CLI names change sets
    # after the current second; the deploys are quicker than that.)
    wait_next_second()
    r = server.aws("cloudformation", "deploy", "--template-file", str(v2), "--stack-name", "e2e-deploy",
                   "--no-execute-changeset", creds=creds)
    assert r.rc == 0, r.stderr
    pending = [c for c in cf.list_change_sets(StackName="e2e-deploy")["Summaries"] if c["ExecutionStatus"] == "AVAILABLE"]
    assert len(pending) == 1
    described = cf.describe_change_set(ChangeSetName=pending[0]["ChangeSetId"])
    assert described["Status"] == "CREATE_COMPLETE" and described["StackName"] == "e2e-deploy"
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}
    assert changes["Extra"]["Action"] == "Add"
    assert (changes["Data"]["Action"], changes["Data"]["Replacement"], changes["Data"]["PhysicalResourceId"]) == \
        ("Modify", "True", first["Data"])
    assert {d["Target"]["Name"]: d["Target"]["RequiresRecreation"] for d in changes["Data"]["Details"]} == {"BucketName": "Always"}
    assert (changes["Alerts"]["Action"], changes["Alerts"]["Replacement"]) == ("Modify", "False")
    assert [d["Target"]["Name"] for d in changes["Alerts"]["Details"]] == ["DisplayName"]
    assert cf.describe_stacks(StackName="e2e-deploy")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cf.delete_change_set(ChangeSetName=pending[0]["ChangeSetId"])

    # The update: parameters kept (UsePreviousValue), the topic changed in place, the bucket replaced.
    wait_next_second()
    r = server.aws("cloudformation", "deploy", "--template-file", str(v2), "--stack-name", "e2e-deploy", creds=creds)
    assert r.rc == 0, r.stderr
    stack = cf.describe_stacks(StackName="e2e-deploy")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE" and "LastUpdatedTime" in stack
    assert stack["Parameters"] == [{"ParameterKey": "Env", "ParameterValue": "qa"}]
    second = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName="e2e-deploy")["StackResources"]}
    assert second["Alerts"] == first["Alerts"]
    assert second["Data"] == "e2e-deploy-qa-named" != first["Data"]
    assert stack["Outputs"] == [{"OutputKey": "Bucket", "OutputValue": "e2e-deploy-qa-named"}]
    sns = server.client("sns", creds, region=REGION)
    assert sns.get_topic_attributes(TopicArn=first["Alerts"])["Attributes"]["DisplayName"] == "ALERTS-qa"
    s3 = server.client("s3", creds, region=REGION, s3={"addressing_style": "path"})
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "e2e-deploy-qa-named" in buckets and first["Data"] not in buckets
    events = events_of(cf, "e2e-deploy")
    update = events[[i for i, e in enumerate(events) if e["ResourceStatus"] == "UPDATE_IN_PROGRESS" and e["LogicalResourceId"] == "e2e-deploy"][0]:]
    seen = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in update]
    assert ("Data", "UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.") in seen
    assert ("Alerts", "UPDATE_IN_PROGRESS", None) in seen and ("Alerts", "UPDATE_COMPLETE", None) in seen
    assert ("Extra", "CREATE_COMPLETE", None) in seen
    cleanup = seen.index(("e2e-deploy", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None))
    assert seen[cleanup + 1:] == [("Data", "DELETE_IN_PROGRESS", None), ("Data", "DELETE_COMPLETE", None),
                                  ("e2e-deploy", "UPDATE_COMPLETE", None)]
    old_data = [e for e in update if e["LogicalResourceId"] == "Data" and e["ResourceStatus"] == "DELETE_COMPLETE"]
    assert old_data[0]["PhysicalResourceId"] == first["Data"]

    # Nothing to change: the CLI's own message and exit code, and UpdateStack's error.
    wait_next_second()
    r = server.aws("cloudformation", "deploy", "--template-file", str(v2), "--stack-name", "e2e-deploy", creds=creds)
    assert r.rc == 255 and "No changes to deploy. Stack e2e-deploy is up to date" in r.stdout + r.stderr
    r = server.aws("cloudformation", "update-stack", "--stack-name", "e2e-deploy", "--use-previous-template",
                   "--parameters", "ParameterKey=Env,UsePreviousValue=true", creds=creds)
    assert r.error_code() == "ValidationError" and "No updates are to be performed." in r.stderr
    cf.delete_stack(StackName="e2e-deploy")
    assert wait_terminal(cf, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_a_failed_update_rolls_back_to_the_stack_as_it_was(server, ids):
    creds = ids.a_alice
    server.client("s3", ids.b_carol, region=REGION).create_bucket(Bucket="e2e-taken-by-carol")
    cf = cfn(server, creds)
    v1 = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "before"}}}}
    stack_id = cf.create_stack(StackName="e2e-update-fails", TemplateBody=json.dumps(v1))["StackId"]
    assert wait_terminal(cf, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    topic = cf.describe_stack_resource(StackName=stack_id, LogicalResourceId="Topic")["StackResourceDetail"]["PhysicalResourceId"]
    v2 = {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "after"}},
        "Added": {"Type": "AWS::SNS::Topic"},
        "Clash": {"Type": "AWS::S3::Bucket", "DependsOn": ["Topic", "Added"], "Properties": {"BucketName": "e2e-taken-by-carol"}},
    }}
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps(v2))
    stack = wait_terminal(cf, stack_id)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = events_of(cf, stack_id)
    rollback = [e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert rollback[0]["ResourceStatusReason"] == "The following resource(s) failed to create: [Clash]. "
    statuses = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "e2e-update-fails"]
    assert statuses[-3:] == ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]
    sns = server.client("sns", creds, region=REGION)
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "before"
    resources = cf.describe_stack_resources(StackName=stack_id)["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("Topic", topic)]
    assert not [t for t in sns.list_topics()["Topics"] if ":e2e-update-fails-Added-" in t["TopicArn"]]
    assert json.loads(json.dumps(cf.get_template(StackName=stack_id)["TemplateBody"])) == v1
    # A stack in UPDATE_ROLLBACK_COMPLETE can be updated again.
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "third"}}}}))
    assert wait_terminal(cf, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["DisplayName"] == "third"
    cf.delete_stack(StackName=stack_id)
    wait_terminal(cf, stack_id)


def test_create_change_set_reviews_then_executes_with_boto3_waiters(server, ids):
    cf = cfn(server, ids.a_alice)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Bucket": {"Type": "AWS::S3::Bucket"}}}
    created = cf.create_change_set(StackName="e2e-review", ChangeSetName="first", ChangeSetType="CREATE",
                                   TemplateBody=json.dumps(template), Description="review first")
    assert created["Id"].startswith(f"arn:aws:cloudformation:{REGION}:{ACCOUNT_A}:changeSet/first/")
    stack = cf.describe_stacks(StackName="e2e-review")["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS" and stack["StackId"] == created["StackId"]
    assert [(e["ResourceStatus"], e["ResourceStatusReason"]) for e in events_of(cf, "e2e-review")] == [("REVIEW_IN_PROGRESS", "User Initiated")]
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName="first", StackName="e2e-review", WaiterConfig={"Delay": 1})
    described = cf.describe_change_set(ChangeSetName="first", StackName="e2e-review")
    assert (described["ExecutionStatus"], described["Description"]) == ("AVAILABLE", "review first")
    assert sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in described["Changes"]) == \
        [("Add", "Bucket"), ("Add", "Topic")]
    r = server.aws("cloudformation", "describe-change-set", "--change-set-name", "nope", "--stack-name", "e2e-review", creds=ids.a_alice)
    assert r.error_code() == "ChangeSetNotFound"
    cf.execute_change_set(ChangeSetName=created["Id"])
    cf.get_waiter("stack_create_complete").wait(StackName="e2e-review", WaiterConfig={"Delay": 1})
    stack = cf.describe_stacks(StackName="e2e-review")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE" and stack["ChangeSetId"] == created["Id"]
    assert cf.describe_change_set(ChangeSetName=created["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"
    # A change set that changes nothing fails, with the text the CLI looks for.
    cf.create_change_set(StackName="e2e-review", ChangeSetName="same", TemplateBody=json.dumps(template))
    empty = cf.describe_change_set(ChangeSetName="same", StackName="e2e-review")
    assert (empty["Status"], empty["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert empty["StatusReason"] == "The submitted information didn't contain changes. Submit different information to create a change set."
    r = server.aws("cloudformation", "execute-change-set", "--change-set-name", "same", "--stack-name", "e2e-review", creds=ids.a_alice)
    assert r.error_code() == "InvalidChangeSetStatus"
    summary = cf.get_template_summary(StackName="e2e-review")
    assert sorted(summary["ResourceTypes"]) == ["AWS::S3::Bucket", "AWS::SNS::Topic"]
    cf.delete_stack(StackName="e2e-review")
    cf.get_waiter("stack_delete_complete").wait(StackName=created["StackId"], WaiterConfig={"Delay": 1})


CONFIG_TEMPLATE = """
Resources:
  ConfigBucket:
    Type: AWS::S3::Bucket
  ConfigBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref ConfigBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: config.amazonaws.com}
            Action: s3:GetBucketAcl
            Resource: !GetAtt ConfigBucket.Arn
          - Effect: Allow
            Principal: {Service: config.amazonaws.com}
            Action: s3:PutObject
            Resource: !Sub "${ConfigBucket.Arn}/AWSLogs/${AWS::AccountId}/Config/*"
            Condition: {StringEquals: {"s3:x-amz-acl": bucket-owner-full-control}}
  # As in AWS's own samples, the channel does not depend on the recorder.
  DeliveryChannel:
    Type: AWS::Config::DeliveryChannel
    DependsOn: ConfigBucketPolicy
    Properties:
      S3BucketName: !Ref ConfigBucket
      ConfigSnapshotDeliveryProperties:
        DeliveryFrequency: Six_Hours
  Recorder:
    Type: AWS::Config::ConfigurationRecorder
    Properties:
      RoleARN: !Sub "arn:aws:iam::${AWS::AccountId}:role/config-role"
      RecordingGroup:
        AllSupported: true
        IncludeGlobalResourceTypes: true
  Versioning:
    Type: AWS::Config::ConfigRule
    DependsOn: Recorder
    Properties:
      Source: {Owner: AWS, SourceIdentifier: S3_BUCKET_VERSIONING_ENABLED}
      Scope: {ComplianceResourceTypes: ["AWS::S3::Bucket"]}
Outputs:
  RuleArn:
    Value: !GetAtt Versioning.Arn
"""


def test_config_recorder_channel_and_rule(server, ids):
    creds = ids.a_bob
    region = "eu-west-1"  # a region of its own: one recorder per region
    cf = server.client("cloudformation", creds, region=region)
    stack_id = cf.create_stack(StackName="e2e-config", TemplateBody=CONFIG_TEMPLATE)["StackId"]
    stack = wait_terminal(cf, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", [
        (e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in events_of(cf, stack_id) if "FAILED" in e["ResourceStatus"]]
    config = server.client("config", creds, region=region)
    recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
    assert [(r["name"], r["recordingGroup"]["allSupported"]) for r in recorders] == [("default", True)]
    channel = config.describe_delivery_channels()["DeliveryChannels"][0]
    assert channel["name"].startswith("e2e-config-DeliveryChannel-")
    assert channel["configSnapshotDeliveryProperties"] == {"deliveryFrequency": "Six_Hours"}
    # Started once both exist, as AWS does.
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"] is True
    rule = config.describe_config_rules()["ConfigRules"][0]
    assert rule["ConfigRuleName"].startswith("e2e-config-Versioning-")
    assert stack["Outputs"] == [{"OutputKey": "RuleArn", "OutputValue": rule["ConfigRuleArn"]}]
    # Config wrote its check file into the bucket: like AWS, the bucket cannot be deleted while it holds objects.
    cf.delete_stack(StackName="e2e-config")
    stack = wait_terminal(cf, stack_id)
    assert (stack["StackStatus"], stack["StackStatusReason"]) == ("DELETE_FAILED", "The following resource(s) failed to delete: [ConfigBucket]. ")
    failed = [e for e in events_of(cf, stack_id) if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] == "ConfigBucket"]
    assert failed[0]["ResourceStatusReason"].startswith('Resource handler returned message: "The bucket you tried to delete is not empty')
    assert failed[0]["ResourceStatusReason"].endswith("HandlerErrorCode: GeneralServiceException)")
    cf.delete_stack(StackName=stack_id, RetainResources=["ConfigBucket"])
    assert wait_terminal(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    retained = [e for e in events_of(cf, stack_id) if e["LogicalResourceId"] == "ConfigBucket"][-1]
    assert retained["ResourceStatus"] == "DELETE_SKIPPED"
    server.client("s3", creds, region=region).head_bucket(Bucket=retained["PhysicalResourceId"])
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
    assert config.describe_delivery_channels()["DeliveryChannels"] == []
    assert config.describe_config_rules()["ConfigRules"] == []


def test_stack_events_reach_the_notification_topics(server, ids):
    from test_sns import Subscriber, confirmed_http_subscription

    creds = ids.a_alice
    sns = server.client("sns", creds, region=REGION)
    topic = sns.create_topic(Name="e2e-stack-events")["TopicArn"]
    sub = Subscriber()
    try:
        confirmed_http_subscription(server, sns, topic, sub)
        cf = cfn(server, creds)
        stack_id = cf.create_stack(StackName="e2e-notified", NotificationARNs=[topic],
                                   TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))["StackId"]
        assert wait_terminal(cf, stack_id)["StackStatus"] == "CREATE_COMPLETE"
        server.flush()
        events = events_of(cf, stack_id)
        sub.wait(1 + len(events))
        notes = [m for _, m in sub.messages("Notification")]
        assert {n["Subject"] for n in notes} == {"AWS CloudFormation Notification"}
        # One message per event (SNS does not keep their order on the way to an endpoint).
        bodies = {n["Message"].split("EventId='")[1].split("'")[0]: n["Message"] for n in notes}
        assert sorted(bodies) == sorted(e["EventId"] for e in events)
        first = bodies[events[0]["EventId"]]
        user = server.client("sts", creds, region=REGION).get_caller_identity()["UserId"]
        assert first.startswith(f"StackId='{stack_id}'\nTimestamp='")
        assert first.endswith(
            f"LogicalResourceId='e2e-notified'\nNamespace='{ACCOUNT_A}'\nPhysicalResourceId='{stack_id}'\n"
            f"PrincipalId='{user}'\nResourceProperties='null'\nResourceStatus='CREATE_IN_PROGRESS'\n"
            "ResourceStatusReason='User Initiated'\nResourceType='AWS::CloudFormation::Stack'\nStackName='e2e-notified'\n"
            "ClientRequestToken='null'\n")
        for e in events:
            assert f"ResourceStatus='{e['ResourceStatus']}'\n" in bodies[e["EventId"]]
        cf.delete_stack(StackName=stack_id)
        wait_terminal(cf, stack_id)
    finally:
        sub.close()


def test_provisioning_calls_use_the_caller_s_forward_access_session(server, ids):
    creds = ids.a_alice
    cf = cfn(server, creds)
    stack_id = cf.create_stack(StackName="e2e-fas", TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))["StackId"]
    assert wait_terminal(cf, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    arn = cf.describe_stack_resource(StackName=stack_id, LogicalResourceId="T")["StackResourceDetail"]["PhysicalResourceId"]
    ct = server.client("cloudtrail", ids.a_lookup, region=REGION)
    made = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}]))
            if r["eventName"] == "CreateTopic"]
    identity = made[0]["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == "alice"
    assert identity["accessKeyId"].startswith("ASIA") and len(identity["accessKeyId"]) == 20
    assert identity["accessKeyId"] != creds.access_key
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
    assert list(identity)[-1] == "invokedBy" and identity["invokedBy"] == "cloudformation.amazonaws.com"
    cf.delete_stack(StackName=stack_id)
    wait_terminal(cf, stack_id)


def test_nested_stacks_are_made_followed_and_deleted_with_their_parent(server, ids):
    creds = ids.a_alice
    s3 = server.client("s3", creds, region=REGION, s3={"addressing_style": "path"})
    s3.create_bucket(Bucket="e2e-nested-templates")
    child = {"Parameters": {"Label": {"Type": "String"}},
             "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Label"}}}},
             "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}}
    s3.put_object(Bucket="e2e-nested-templates", Key="child.json", Body=json.dumps(child).encode())
    parent = {"Resources": {
        "Child": {"Type": "AWS::CloudFormation::Stack",
                  "Properties": {"TemplateURL": "https://e2e-nested-templates.s3.amazonaws.com/child.json",
                                 "Parameters": {"Label": "from-parent"}}},
        "Policy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                                                                       "Action": "sns:Publish", "Resource": "*"}]}}},
    }, "Outputs": {"Topic": {"Value": {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}}}}
    cf = cfn(server, creds)
    parent_id = cf.create_stack(StackName="e2e-parent", TemplateBody=json.dumps(parent))["StackId"]
    stack = wait_terminal(cf, parent_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE", [e.get("ResourceStatusReason") for e in events_of(cf, parent_id)]
    child_id = cf.describe_stack_resource(StackName=parent_id, LogicalResourceId="Child")["StackResourceDetail"]["PhysicalResourceId"]
    nested = cf.describe_stacks(StackName=child_id)["Stacks"][0]
    assert nested["StackName"].startswith("e2e-parent-Child-")
    assert (nested["ParentId"], nested["RootId"], nested["StackStatus"]) == (parent_id, parent_id, "CREATE_COMPLETE")
    assert nested["Parameters"] == [{"ParameterKey": "Label", "ParameterValue": "from-parent"}]
    topic = nested["Outputs"][0]["OutputValue"]
    assert stack["Outputs"] == [{"OutputKey": "Topic", "OutputValue": topic}]
    sns = server.client("sns", creds, region=REGION)
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"][0]["Principal"] == \
        {"Service": "s3.amazonaws.com"}
    cf.delete_stack(StackName=parent_id)
    assert wait_terminal(cf, parent_id)["StackStatus"] == "DELETE_COMPLETE"
    assert cf.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]


def test_a_service_role_makes_the_resources(server, ids):
    creds = ids.a_alice
    cf = cfn(server, creds)
    role = f"arn:aws:iam::{ACCOUNT_A}:role/LocalAdmin"
    r = server.aws("cloudformation", "create-stack", "--stack-name", "e2e-role-bad", "--role-arn", f"arn:aws:iam::{ACCOUNT_A}:role/Nobody",
                   "--template-body", json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}), creds=creds)
    assert r.error_code() == "ValidationError"
    assert f"Role arn:aws:iam::{ACCOUNT_A}:role/Nobody is invalid or cannot be assumed" in r.stderr
    stack_id = cf.create_stack(StackName="e2e-role", RoleARN=role,
                               TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))["StackId"]
    stack = wait_terminal(cf, stack_id)
    assert (stack["StackStatus"], stack["RoleARN"]) == ("CREATE_COMPLETE", role)
    arn = cf.describe_stack_resource(StackName=stack_id, LogicalResourceId="T")["StackResourceDetail"]["PhysicalResourceId"]
    ct = server.client("cloudtrail", ids.a_lookup, region=REGION)
    made = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}]))
            if r["eventName"] == "CreateTopic"][0]
    identity = made["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/LocalAdmin/AWSCloudFormation"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == role
    assert identity["invokedBy"] == "cloudformation.amazonaws.com"
    assumed = [r for r in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]))
               if r["requestParameters"].get("roleSessionName") == "AWSCloudFormation" and r["requestParameters"]["roleArn"] == role]
    assert assumed and assumed[0]["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}
    assert assumed[0]["sourceIPAddress"] == "cloudformation.amazonaws.com"
    cf.delete_stack(StackName=stack_id)
    assert wait_terminal(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_exports_in_use_cannot_be_deleted_or_changed(server, ids):
    cf = cfn(server, ids.a_alice)
    exporter = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"Arn": {"Value": {"Ref": "T"}, "Export": {"Name": "e2e-shared-topic"}}}}
    exporter_id = cf.create_stack(StackName="e2e-exporter", TemplateBody=json.dumps(exporter))["StackId"]
    assert wait_terminal(cf, exporter_id)["StackStatus"] == "CREATE_COMPLETE"
    importer = {"Resources": {"P": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
        "Topics": [{"Fn::ImportValue": "e2e-shared-topic"}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                                   "Action": "sns:Publish", "Resource": "*"}]}}}}}
    importer_id = cf.create_stack(StackName="e2e-importer", TemplateBody=json.dumps(importer))["StackId"]
    assert wait_terminal(cf, importer_id)["StackStatus"] == "CREATE_COMPLETE"
    assert cf.list_imports(ExportName="e2e-shared-topic")["Imports"] == ["e2e-importer"]
    # Importing an export nobody has fails the stack before anything is made.
    missing = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::ImportValue": "e2e-none"}}}}})
    missing_id = cf.create_stack(StackName="e2e-missing-import", TemplateBody=missing)["StackId"]
    failed = wait_terminal(cf, missing_id)
    assert failed["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason") for e in events_of(cf, missing_id) if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
    assert reasons == ["No export named e2e-none found. Rollback requested by user."]
    assert [e["LogicalResourceId"] for e in events_of(cf, missing_id)] == ["e2e-missing-import"] * 3
    r = server.aws("cloudformation", "list-imports", "--export-name", "e2e-nobody", creds=ids.a_alice)
    assert r.error_code() == "ValidationError" and "Export 'e2e-nobody' is not imported by any stack." in r.stderr
    # Deleting the exporter answers, records why it did not happen, and leaves the stack as it was.
    cf.delete_stack(StackName="e2e-exporter")
    stack = cf.describe_stacks(StackName="e2e-exporter")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    last = events_of(cf, exporter_id)[-1]
    assert (last["ResourceStatus"], last["ResourceStatusReason"]) == \
        ("DELETE_FAILED", "Export e2e-shared-topic cannot be deleted as it is in use by e2e-importer")
    # Changing the export's value fails the update, which rolls back.
    changed = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}, "U": {"Type": "AWS::SNS::Topic"}},
               "Outputs": {"Arn": {"Value": {"Ref": "U"}, "Export": {"Name": "e2e-shared-topic"}}}}
    cf.update_stack(StackName="e2e-exporter", TemplateBody=json.dumps(changed))
    stack = wait_terminal(cf, exporter_id)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reasons = [e.get("ResourceStatusReason") for e in events_of(cf, exporter_id) if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS"]
    assert reasons == ["Export e2e-shared-topic cannot be updated as it is in use by e2e-importer"]
    cf.delete_stack(StackName="e2e-importer")
    wait_terminal(cf, importer_id)
    cf.delete_stack(StackName="e2e-exporter")
    assert wait_terminal(cf, exporter_id)["StackStatus"] == "DELETE_COMPLETE"


def test_a_stack_policy_protects_resources_during_updates(server, ids):
    cf = cfn(server, ids.a_alice)
    policy = {"Statement": [
        {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*", "Resource": "LogicalResourceId/Keep"},
    ]}
    v1 = {"Resources": {"Keep": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "one"}}, "Other": {"Type": "AWS::SNS::Topic"}}}
    stack_id = cf.create_stack(StackName="e2e-policy", TemplateBody=json.dumps(v1), StackPolicyBody=json.dumps(policy))["StackId"]
    assert wait_terminal(cf, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    assert json.loads(cf.get_stack_policy(StackName=stack_id)["StackPolicyBody"]) == policy
    # Modifying in place is allowed.
    v2 = {"Resources": {"Keep": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "two"}}, "Other": {"Type": "AWS::SNS::Topic"}}}
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps(v2))
    assert wait_terminal(cf, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    # Replacing (a new name) is denied: the update fails on the resource and rolls back.
    v3 = {"Resources": {"Keep": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "e2e-policy-renamed"}}, "Other": {"Type": "AWS::SNS::Topic"}}}
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps(v3))
    assert wait_terminal(cf, stack_id)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in events_of(cf, stack_id) if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Keep"
    assert failed[0]["ResourceStatusReason"] == \
        "Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource [LogicalResourceId/Keep];"
    # A policy given for the update's duration lets it through; the stack's own policy stays.
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}
    cf.update_stack(StackName=stack_id, TemplateBody=json.dumps(v3), StackPolicyDuringUpdateBody=json.dumps(allow_all))
    assert wait_terminal(cf, stack_id)["StackStatus"] == "UPDATE_COMPLETE"
    assert json.loads(cf.get_stack_policy(StackName=stack_id)["StackPolicyBody"]) == policy
    r = server.aws("cloudformation", "set-stack-policy", "--stack-name", "e2e-policy", "--stack-policy-body", "{bad", creds=ids.a_alice)
    assert r.error_code() == "ValidationError"
    r = server.aws("cloudformation", "cancel-update-stack", "--stack-name", "e2e-policy", creds=ids.a_alice)
    assert r.error_code() == "ValidationError" and "CancelUpdateStack cannot be called from current stack status" in r.stderr
    cf.delete_stack(StackName=stack_id)
    wait_terminal(cf, stack_id)
