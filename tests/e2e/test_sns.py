"""Amazon SNS over the Query protocol: topics, subscriptions, signed HTTP delivery with retries, and CloudTrail.

A local HTTP subscriber (Python's http.server on 127.0.0.1, in a thread) receives what Cairn POSTs: it confirms its
subscription through the SubscribeURL and verifies every message's signature with the certificate fetched from
SigningCertURL (with the `cryptography` package when installed, else the openssl CLI). No test sleeps for a fixed
time: `POST /_cairn/flush` sends everything pending and answers when each delivery has had its attempt.
"""

from __future__ import annotations

import base64
import http.server
import json
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from cairn_harness import ACCOUNT_A, ACCOUNT_B, CairnServer, ensure_bucket, expect_error, lookup_all, records

REGION = "us-east-1"
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
DEFAULT_EFFECTIVE_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}'
)


def default_policy(arn: str, account: str) -> dict:
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                    "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
                ],
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------------------------------------------------------------
# A local subscriber and signature verification
# ---------------------------------------------------------------------------------------------------------------------


class Subscriber:
    """An HTTP endpoint on 127.0.0.1 that records every POST and answers with the statuses it is told to."""

    def __init__(self, statuses: list[int] | None = None, default_status: int = 200):
        self.received: list[tuple[dict[str, str], str]] = []
        self.statuses = list(statuses or [])
        self.default_status = default_status
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with outer.cond:
                    outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = outer.statuses.pop(0) if outer.statuses else outer.default_status
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def messages(self, kind: str | None = None) -> list[tuple[dict[str, str], dict | str]]:
        with self.cond:
            out = []
            for headers, body in self.received:
                if kind is None or headers.get("x-amz-sns-message-type") == kind:
                    try:
                        out.append((headers, json.loads(body)))
                    except ValueError:
                        out.append((headers, body))
            return out

    def wait(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} deliveries, got {len(self.received)}"
                self.cond.wait(left)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def subscriber():
    s = Subscriber()
    yield s
    s.close()


def string_to_sign(msg: dict) -> bytes:
    """AWS's canonical string for a message ("Verifying the signatures of Amazon SNS messages")."""
    if msg["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{msg[n]}\n" for n in names if n in msg).encode()


def verify_signature(msg: dict, use_openssl: bool = False) -> None:
    """Fetches the certificate at SigningCertURL and verifies the message's signature with its public key."""
    with urllib.request.urlopen(msg["SigningCertURL"], timeout=10) as r:
        assert r.status == 200
        pem = r.read()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    signature = base64.b64decode(msg["Signature"])
    data = string_to_sign(msg)
    sha = {"1": "sha1", "2": "sha256"}[msg["SignatureVersion"]]
    try:
        if use_openssl:
            raise ImportError
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        cert = x509.load_pem_x509_certificate(pem)
        assert cert.public_key().key_size == 2048
        algorithm = hashes.SHA1() if sha == "sha1" else hashes.SHA256()
        cert.public_key().verify(signature, data, padding.PKCS1v15(), algorithm)  # raises InvalidSignature
    except ImportError:
        assert shutil.which("openssl"), "neither the cryptography package nor openssl is available"
        with tempfile.TemporaryDirectory() as d:
            p = Path(d)
            (p / "cert.pem").write_bytes(pem)
            (p / "sig").write_bytes(signature)
            (p / "data").write_bytes(data)
            pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", str(p / "cert.pem")],
                                 capture_output=True, check=True).stdout
            (p / "pub.pem").write_bytes(pub)
            res = subprocess.run(["openssl", "dgst", f"-{sha}", "-verify", str(p / "pub.pem"), "-signature",
                                  str(p / "sig"), str(p / "data")], capture_output=True, text=True)
            assert res.returncode == 0 and "Verified OK" in res.stdout, res.stdout + res.stderr


def confirmed_http_subscription(server, sns, topic_arn: str, sub: Subscriber) -> str:
    """Subscribes the endpoint, receives the SubscriptionConfirmation and confirms through its SubscribeURL."""
    before = len(sub.messages("SubscriptionConfirmation"))
    r = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=sub.url)
    assert r["SubscriptionArn"] == "pending confirmation"
    server.flush()
    confirmations = sub.messages("SubscriptionConfirmation")
    assert len(confirmations) == before + 1
    _, msg = confirmations[-1]
    with urllib.request.urlopen(msg["SubscribeURL"], timeout=10) as resp:  # unsigned GET, as a browser would
        body = resp.read().decode()
    start = body.index("<SubscriptionArn>") + len("<SubscriptionArn>")
    return body[start:body.index("</SubscriptionArn>")]


# ---------------------------------------------------------------------------------------------------------------------
# Topics
# ---------------------------------------------------------------------------------------------------------------------


def test_create_topic_is_idempotent_and_get_attributes_match_aws(server, ids):
    sns = server.client("sns", ids.a_alice)
    name = unique()
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT_A}:{name}"
    r = sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"}, Tags=[{"Key": "team", "Value": "ops"}])
    assert r["TopicArn"] == arn
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == r["ResponseMetadata"]["RequestId"]
    # Same name and attributes: the same topic. Different attributes or tags: refused.
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"})["TopicArn"] == arn
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    e = expect_error(sns.create_topic, "InvalidParameter", 400, Name=name, Attributes={"DisplayName": "Other"})
    assert e.response["Error"]["Message"] == "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
    e = expect_error(sns.create_topic, "InvalidParameter", 400, Name=name, Tags=[{"Key": "team", "Value": "dev"}])
    assert e.response["Error"]["Message"] == "Invalid parameter: Tags Reason: Topic already exists with different tags"

    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attrs.pop("Policy")) == default_policy(arn, ACCOUNT_A)
    assert attrs == {
        "TopicArn": arn, "Owner": ACCOUNT_A, "DisplayName": "Alerts", "SubscriptionsPending": "0",
        "SubscriptionsConfirmed": "0", "SubscriptionsDeleted": "0",
        "EffectiveDeliveryPolicy": DEFAULT_EFFECTIVE_DELIVERY_POLICY,
    }


def test_default_policy_is_byte_exact(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    policy = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
    assert policy == json.dumps(default_policy(arn, ACCOUNT_A), separators=(",", ":"))


@pytest.mark.parametrize("name", ["", "has space", "dot.name", "a" * 257, "slash/name", "ümlaut", "plain.fifo"])
def test_create_topic_name_rules(server, ids, name):
    sns = server.client("sns", ids.a_alice)
    e = expect_error(sns.create_topic, "InvalidParameter", 400, Name=name)
    assert e.response["Error"]["Message"] == "Invalid parameter: Topic Name"
    assert e.response["Error"]["Type"] == "Sender"


def test_create_topic_name_limits(server, ids):
    sns = server.client("sns", ids.a_alice)
    name = "A-z_0" + "x" * 251
    assert len(name) == 256
    assert sns.create_topic(Name=name)["TopicArn"].endswith(":" + name)


def test_fifo_topics(server, ids):
    sns = server.client("sns", ids.a_alice)
    e = expect_error(sns.create_topic, "InvalidParameter", 400, Name=unique(), Attributes={"FifoTopic": "true"})
    assert e.response["Error"]["Message"].startswith("Invalid parameter: Fifo Topic names must end with .fifo")
    name = unique() + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true" and attrs["ContentBasedDeduplication"] == "false"
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message="m")
    assert e.response["Error"]["Message"] == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message="m", MessageGroupId="g")
    first = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    second = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d2")
    assert len(first["SequenceNumber"]) == 20 and int(second["SequenceNumber"]) == int(first["SequenceNumber"]) + 1
    # A duplicate within five minutes is accepted and answered with the first message's id.
    again = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert again["MessageId"] == first["MessageId"]
    # Standard topics refuse a deduplication id.
    std = sns.create_topic(Name=unique())["TopicArn"]
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=std, Message="m", MessageDeduplicationId="d")


def test_delete_topic_is_idempotent_and_not_found_errors(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="someone@example.com")
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # again: still fine
    for call, kw in [
        (sns.get_topic_attributes, {"TopicArn": arn}),
        (sns.set_topic_attributes, {"TopicArn": arn, "AttributeName": "DisplayName", "AttributeValue": "x"}),
        (sns.publish, {"TopicArn": arn, "Message": "m"}),
        (sns.subscribe, {"TopicArn": arn, "Protocol": "email", "Endpoint": "a@example.com"}),
        (sns.list_subscriptions_by_topic, {"TopicArn": arn}),
    ]:
        e = expect_error(call, "NotFound", 404, **kw)
        assert e.response["Error"]["Message"] == "Topic does not exist"
    assert all(s["TopicArn"] != arn for s in sns.list_subscriptions()["Subscriptions"])
    e = expect_error(sns.get_topic_attributes, "InvalidParameter", 400, TopicArn="not-an-arn")
    assert e.response["Error"]["Message"] == "Invalid parameter: TopicArn"


def test_list_topics_pages_by_100(server, ids):
    sns = server.client("sns", ids.b_carol, region="eu-west-1")  # an account and region of its own
    arns = {sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5 and "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == arns
    paged = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert sorted(paged) == sorted(arns)
    expect_error(sns.list_topics, "InvalidParameter", 400, NextToken="bogus")
    # Another region of the same account sees none of them.
    assert server.client("sns", ids.b_carol, region="eu-west-2").list_topics()["Topics"] == []


def test_set_topic_attributes(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shown")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                                      "Action": "SNS:Publish", "Resource": arn}]}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    delivery = '{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":2}}}'
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=delivery)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Shown"
    assert json.loads(attrs["Policy"]) == policy
    assert attrs["DeliveryPolicy"] == delivery and attrs["EffectiveDeliveryPolicy"] == delivery
    assert attrs["SignatureVersion"] == "2"

    e = expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn, AttributeName="Policy", AttributeValue="{nope")
    assert e.response["Error"]["Message"] == "Invalid parameter: Policy Error: null"
    bad = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]}
    e = expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn, AttributeName="Policy",
                     AttributeValue=json.dumps(bad))
    assert e.response["Error"]["Message"] == "Invalid parameter: Policy statement action out of service scope!"
    e = expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn, AttributeName="Bogus", AttributeValue="x")
    assert e.response["Error"]["Message"] == "Invalid parameter: AttributeName"
    expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn, AttributeName="SignatureVersion",
                 AttributeValue="3")
    # The failed calls changed nothing.
    assert json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]) == policy


def test_tags(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique(), Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["a", "missing"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT_A}:{unique()}"
    for call, kw in [(sns.list_tags_for_resource, {}), (sns.tag_resource, {"Tags": [{"Key": "k", "Value": "v"}]}),
                     (sns.untag_resource, {"TagKeys": ["k"]})]:
        e = expect_error(call, "ResourceNotFound", 404, ResourceArn=missing, **kw)
        assert e.response["Error"]["Message"] == "Resource does not exist"
    e = expect_error(sns.tag_resource, "TagLimitExceeded", 400, ResourceArn=arn,
                     Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert e.response["Error"]["Message"] == "Could not complete request: tag quota of per resource exceeded"


def test_topics_with_the_aws_cli(server, ids):
    name = unique("cli")
    out = server.aws_ok("sns", "create-topic", "--name", name, "--attributes", "DisplayName=Cli",
                        "--tags", "Key=k,Value=v", creds=ids.a_alice)
    arn = out["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT_A}:{name}"
    attrs = server.aws_ok("sns", "get-topic-attributes", "--topic-arn", arn, creds=ids.a_alice)["Attributes"]
    assert attrs["DisplayName"] == "Cli" and attrs["Owner"] == ACCOUNT_A
    assert any(t["TopicArn"] == arn for t in server.aws_ok("sns", "list-topics", creds=ids.a_alice)["Topics"])
    assert server.aws_ok("sns", "list-tags-for-resource", "--resource-arn", arn, creds=ids.a_alice)["Tags"] == [
        {"Key": "k", "Value": "v"}]
    published = server.aws_ok("sns", "publish", "--topic-arn", arn, "--message", "hello", "--subject", "s",
                              "--message-attributes", '{"n":{"DataType":"Number","StringValue":"7"}}', creds=ids.a_alice)
    assert uuid.UUID(published["MessageId"])
    server.aws_ok("sns", "delete-topic", "--topic-arn", arn, creds=ids.a_alice)
    r = server.aws("sns", "get-topic-attributes", "--topic-arn", arn, creds=ids.a_alice)
    assert r.rc != 0 and r.error_code() == "NotFound" and "Topic does not exist" in r.stderr


def test_query_errors_use_the_sns_namespace(server, ids):
    body = urllib.parse.urlencode({"Action": "GetTopicAttributes", "Version": "2010-03-31",
                                   "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT_A}:{unique()}"}).encode()
    r = server.signed_request(ids.a_alice, service="sns", body=body,
                              headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert r.status_code == 404
    assert r.text.startswith(f'<ErrorResponse xmlns="{SNS_NS}"><Error><Type>Sender</Type><Code>NotFound</Code>'
                             "<Message>Topic does not exist</Message></Error><RequestId>")
    assert r.headers["x-amzn-RequestId"] in r.text


# ---------------------------------------------------------------------------------------------------------------------
# Subscriptions
# ---------------------------------------------------------------------------------------------------------------------


def test_email_subscription_stays_pending(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")["SubscriptionArn"] == "pending confirmation"
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="ops@example.com",
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":") and uuid.UUID(sub_arn[len(arn) + 1:])
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted(s["Protocol"] for s in listed) == ["email", "email-json"]
    assert all(s["SubscriptionArn"] == "PendingConfirmation" and s["Owner"] == ACCOUNT_A for s in listed)
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "true" and attrs["Protocol"] == "email-json"
    assert attrs["SubscriptionPrincipal"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "2"


def test_sqs_and_lambda_subscriptions_are_confirmed_at_once(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_A}:q"
    sub_arn = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue,
                            Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert sub_arn.startswith(arn + ":")
    # Subscribing again with the same attributes is idempotent; with other attributes it is refused.
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"] == sub_arn
    e = expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="sqs", Endpoint=queue,
                     Attributes={"RawMessageDelivery": "false"})
    assert "Subscription already exists with different attributes" in e.response["Error"]["Message"]
    lam = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT_A}:function:f")
    assert lam["SubscriptionArn"].startswith(arn + ":")
    mine = [s for s in sns.list_subscriptions()["Subscriptions"] if s["TopicArn"] == arn]
    assert {s["SubscriptionArn"] for s in mine} == {sub_arn, lam["SubscriptionArn"]}
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["SubscriptionsConfirmed"] == "2" and attrs["SubscriptionsPending"] == "0"
    sns.unsubscribe(SubscriptionArn=sub_arn)
    sns.unsubscribe(SubscriptionArn=sub_arn)  # unsubscribing twice succeeds, as in AWS
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsDeleted"] == "1"
    e = expect_error(sns.get_subscription_attributes, "NotFound", 404, SubscriptionArn=sub_arn)
    assert e.response["Error"]["Message"] == "Subscription does not exist"


def test_subscribe_errors(server, ids):
    sns = server.client("sns", ids.a_alice)
    arn = sns.create_topic(Name=unique())["TopicArn"]
    e = expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
    assert e.response["Error"]["Message"] == "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"
    e = expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="https", Endpoint="http://example.com")
    assert e.response["Error"]["Message"] == "Invalid parameter: Endpoint must match the specified protocol"
    e = expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="sqs", Endpoint="my-queue")
    assert e.response["Error"]["Message"] == "Invalid parameter: SQS endpoint ARN"
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="email", Endpoint="nobody")
    expect_error(sns.subscribe, "NotFound", 404, TopicArn=arn + "-missing", Protocol="email", Endpoint="a@example.com")
    expect_error(sns.unsubscribe, "InvalidParameter", 400, SubscriptionArn="not-an-arn")
    e = expect_error(sns.confirm_subscription, "InvalidParameter", 400, TopicArn=arn, Token="0" * 256)
    assert e.response["Error"]["Message"] == "Invalid parameter: Token"


def test_http_subscription_confirmation_and_signed_notifications(server, ids, subscriber):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)
    server.flush()
    [(headers, msg)] = subscriber.messages("SubscriptionConfirmation")
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == msg["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert "x-amz-sns-subscription-arn" not in headers
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert list(msg) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp",
                         "SignatureVersion", "Signature", "SigningCertURL"]
    assert msg["Message"] == (f"You have chosen to subscribe to the topic {topic}.\n"
                              "To confirm the subscription, visit the SubscribeURL included in this message.")
    assert msg["SubscribeURL"] == f"{server.url}/?Action=ConfirmSubscription&TopicArn={topic}&Token={msg['Token']}"
    assert msg["SigningCertURL"].startswith(server.url + "/_cairn/sns/SimpleNotificationService-")
    assert msg["SignatureVersion"] == "1"
    verify_signature(msg)
    verify_signature(msg, use_openssl=True)

    # Confirm by visiting the SubscribeURL, unsigned.
    with urllib.request.urlopen(msg["SubscribeURL"], timeout=10) as resp:
        assert resp.status == 200
        body = resp.read().decode()
    assert body.startswith(f'<ConfirmSubscriptionResponse xmlns="{SNS_NS}"><ConfirmSubscriptionResult><SubscriptionArn>')
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert len(listed) == 1 and listed[0]["SubscriptionArn"].startswith(topic + ":")
    sub_arn = listed[0]["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false" and attrs["ConfirmationWasAuthenticated"] == "false"
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    # Confirming again with the token is idempotent (signed this time).
    assert sns.confirm_subscription(TopicArn=topic, Token=msg["Token"])["SubscriptionArn"] == sub_arn

    # A notification with a subject and attributes, signature version 1.
    published = sns.publish(TopicArn=topic, Message='Hello "world"\nline 2', Subject="Greetings",
                            MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"},
                                               "n": {"DataType": "Number", "StringValue": "42"}})
    server.flush()
    [(headers, note)] = subscriber.messages("Notification")
    assert headers["x-amz-sns-message-id"] == published["MessageId"] == note["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-subscription-arn"] == sub_arn
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert list(note) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                          "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"]
    assert note["Message"] == 'Hello "world"\nline 2' and note["Subject"] == "Greetings"
    assert note["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"}, "n": {"Type": "Number", "Value": "42"}}
    assert note["UnsubscribeURL"] == f"{server.url}/?Action=Unsubscribe&SubscriptionArn={sub_arn}"
    assert note["Timestamp"].endswith("Z") and len(note["Timestamp"]) == 24
    verify_signature(note)
    verify_signature(note, use_openssl=True)

    # Signature version 2 (SHA256withRSA) once the topic asks for it; no subject this time.
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=topic, Message="second")
    server.flush()
    note2 = subscriber.messages("Notification")[-1][1]
    assert note2["SignatureVersion"] == "2" and "Subject" not in note2 and "MessageAttributes" not in note2
    verify_signature(note2)
    verify_signature(note2, use_openssl=True)
    # A tampered message does not verify.
    with pytest.raises(Exception):
        verify_signature({**note2, "Message": "tampered"})


def test_message_structure_json_and_raw_delivery(server, ids, subscriber):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    sub_arn = confirmed_http_subscription(server, sns, topic, subscriber)
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "http": "for http", "email": "e"}))
    server.flush()
    assert subscriber.messages("Notification")[-1][1]["Message"] == "for http"
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, MessageStructure="json", Message="{not json")
    assert e.response["Error"]["Message"] == "Invalid parameter: Message Structure - JSON message body failed to parse"
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, MessageStructure="json", Message='{"http":"x"}')
    assert e.response["Error"]["Message"] == "Invalid parameter: Message Structure - No default entry in JSON message body"

    sns.set_subscription_attributes(SubscriptionArn=sub_arn, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message="raw body")
    server.flush()
    headers, body = subscriber.messages("Notification")[-1]
    assert body == "raw body" and headers["x-amz-sns-rawdelivery"] == "true"
    e = expect_error(sns.set_subscription_attributes, "InvalidParameter", 400, SubscriptionArn=sub_arn,
                     AttributeName="Nope", AttributeValue="1")
    assert e.response["Error"]["Message"] == "Invalid parameter: AttributeName"


def test_filter_policies_select_subscribers(server, ids):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    red, blue = Subscriber(), Subscriber()
    try:
        red_arn = confirmed_http_subscription(server, sns, topic, red)
        blue_arn = confirmed_http_subscription(server, sns, topic, blue)
        sns.set_subscription_attributes(SubscriptionArn=red_arn, AttributeName="FilterPolicy",
                                        AttributeValue='{"color":["red"]}')
        sns.set_subscription_attributes(SubscriptionArn=blue_arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
        sns.set_subscription_attributes(SubscriptionArn=blue_arn, AttributeName="FilterPolicy",
                                        AttributeValue='{"color":[{"prefix":"bl"}]}')
        assert sns.get_subscription_attributes(SubscriptionArn=red_arn)["Attributes"]["FilterPolicyScope"] == "MessageAttributes"
        sns.publish(TopicArn=topic, Message='{"color":"blue"}',
                    MessageAttributes={"color": {"DataType": "String", "StringValue": "red"}})
        sns.publish(TopicArn=topic, Message='{"color":"green"}')
        server.flush()
        assert [m["Message"] for _, m in red.messages("Notification")] == ['{"color":"blue"}']
        assert [m["Message"] for _, m in blue.messages("Notification")] == ['{"color":"blue"}']
    finally:
        red.close()
        blue.close()


def test_publish_errors(server, ids):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="")
    assert e.response["Error"]["Message"] == "Invalid parameter: Empty message"
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="x" * 262_145)
    assert e.response["Error"]["Message"] == "Invalid parameter: Message too long"
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="m", Subject="s" * 100)
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="m", Subject="two\nlines")
    e = expect_error(sns.publish, "ParameterValueInvalid", 400, TopicArn=topic, Message="m",
                     MessageAttributes={"a": {"DataType": "Text", "StringValue": "v"}})
    assert e.response["Error"]["Message"] == ("The message attribute 'a' has an invalid message attribute type, the set of "
                                              "supported type prefixes is Binary, Number, and String.")
    e = expect_error(sns.publish, "ParameterValueInvalid", 400, TopicArn=topic, Message="m",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": ""}})
    assert e.response["Error"]["Message"] == ("The message attribute 'a' must contain non-empty message attribute value "
                                              "for message attribute type 'String'.")
    e = expect_error(sns.publish, "ParameterValueInvalid", 400, TopicArn=topic, Message="m",
                     MessageAttributes={"a": {"DataType": "Number", "StringValue": "ten"}})
    e = expect_error(sns.publish, "InvalidParameter", 400, Message="m")
    assert e.response["Error"]["Message"] == "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"
    e = expect_error(sns.publish, "NotFound", 404, TopicArn=topic + "x", Message="m")
    assert e.response["Error"]["Message"] == "Topic does not exist"
    # Another region's topic ARN is not this endpoint's.
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic.replace(REGION, "us-west-2"), Message="m")


def test_publish_batch(server, ids, subscriber):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    confirmed_http_subscription(server, sns, topic, subscriber)
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "one", "Message": "first"}, {"Id": "two", "Message": ""}, {"Id": "three", "Message": "third", "Subject": "s"}])
    assert [s["Id"] for s in r["Successful"]] == ["one", "three"]
    assert r["Failed"] == [{"Id": "two", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message",
                            "SenderFault": True}]
    server.flush()
    notes = [m for _, m in subscriber.messages("Notification")]
    assert sorted(n["Message"] for n in notes) == ["first", "third"]
    assert {n["MessageId"] for n in notes} == {s["MessageId"] for s in r["Successful"]}
    for n in notes:
        verify_signature(n)
    e = expect_error(sns.publish_batch, "BatchEntryIdsNotDistinct", 400, TopicArn=topic,
                     PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}])
    assert e.response["Error"]["Message"] == "Two or more batch entries in the request have the same Id."
    expect_error(sns.publish_batch, "TooManyEntriesInBatchRequest", 400, TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": f"i{i}", "Message": "m"} for i in range(11)])
    expect_error(sns.publish_batch, "EmptyBatchRequest", 400, TopicArn=topic, PublishBatchRequestEntries=[])
    expect_error(sns.publish_batch, "InvalidBatchEntryId", 400, TopicArn=topic,
                 PublishBatchRequestEntries=[{"Id": "bad id!", "Message": "m"}])


def test_failed_delivery_is_retried(server, ids):
    sub = Subscriber(statuses=[500])  # the first notification fails, the next attempt succeeds
    try:
        sns = server.client("sns", ids.a_alice)
        topic = sns.create_topic(Name=unique())["TopicArn"]
        sub.statuses = []
        confirmed_http_subscription(server, sns, topic, sub)
        sub.statuses = [500]
        message_id = sns.publish(TopicArn=topic, Message="try again")["MessageId"]
        server.flush()  # first attempt: 500 (the next one is scheduled 20 s later)
        assert [h["x-amz-sns-message-id"] for h, _ in sub.messages("Notification")] == [message_id]
        server.flush()  # delivers what is pending now: the retry succeeds
        notes = sub.messages("Notification")
        assert [h["x-amz-sns-message-id"] for h, _ in notes] == [message_id, message_id]
        assert notes[0][1] == notes[1][1]  # the same signed document, the same message id and timestamp
        verify_signature(notes[1][1])
        server.flush()  # nothing is left to send
        assert len(sub.messages("Notification")) == 2
    finally:
        sub.close()


def test_unsubscribe_through_the_unsubscribe_url(server, ids, subscriber):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    sub_arn = confirmed_http_subscription(server, sns, topic, subscriber)
    sns.publish(TopicArn=topic, Message="before")
    server.flush()
    note = subscriber.messages("Notification")[-1][1]
    with urllib.request.urlopen(note["UnsubscribeURL"], timeout=10) as resp:  # unsigned GET
        assert resp.status == 200
        assert resp.read().decode().startswith(f'<UnsubscribeResponse xmlns="{SNS_NS}"><ResponseMetadata><RequestId>')
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    server.flush()
    [(headers, bye)] = subscriber.messages("UnsubscribeConfirmation")
    assert headers["x-amz-sns-subscription-arn"] == sub_arn
    assert bye["Message"].startswith(f"You have chosen to deactivate subscription {sub_arn}.")
    verify_signature(bye)
    sns.publish(TopicArn=topic, Message="after")
    server.flush()
    assert [m["Message"] for _, m in subscriber.messages("Notification")] == ["before"]


def test_unsigned_requests_other_than_the_links_are_refused(server, ids):
    url = server.url + "/?" + urllib.parse.urlencode({"Action": "ListTopics", "Version": "2010-03-31"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)
    assert info.value.code == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in info.value.read()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(server.url + "/_cairn/sns/SimpleNotificationService-unknown.pem", timeout=10)
    assert info.value.code == 404


def test_cross_account_access_follows_the_topic_policy(server, ids):
    owner = server.client("sns", ids.a_alice)
    other = server.client("sns", ids.b_carol)
    topic = owner.create_topic(Name=unique())["TopicArn"]
    e = expect_error(other.publish, "AuthorizationError", 403, TopicArn=topic, Message="m")
    assert e.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT_B}:user/carol is not authorized to perform: SNS:Publish on resource: {topic} "
        "because no resource-based policy allows the SNS:Publish action")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_B}, "Action": ["sns:Publish", "sns:GetTopicAttributes"],
         "Resource": topic}]}
    owner.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    assert other.publish(TopicArn=topic, Message="m")["MessageId"]
    assert other.get_topic_attributes(TopicArn=topic)["Attributes"]["Owner"] == ACCOUNT_A
    expect_error(other.delete_topic, "AuthorizationError", 403, TopicArn=topic)


# ---------------------------------------------------------------------------------------------------------------------
# CloudTrail
# ---------------------------------------------------------------------------------------------------------------------


def test_cloudtrail_records_management_events_and_not_publish(server, ids, subscriber):
    sns = server.client("sns", ids.a_bob)
    ct = server.client("cloudtrail", ids.a_lookup)
    name = unique("ct")
    created = sns.create_topic(Name=name, Attributes={"DisplayName": "d"}, Tags=[{"Key": "k", "Value": "v"}])
    topic = created["TopicArn"]
    sns.get_topic_attributes(TopicArn=topic)
    published = sns.publish(TopicArn=topic, Message="secret body", Subject="secret subject",
                            MessageAttributes={"a": {"DataType": "String", "StringValue": "secret attr"}})
    expect_error(sns.get_topic_attributes, "NotFound", 404, TopicArn=topic + "-gone")
    # An unsigned confirmation is answered but not recorded, as AWS does.
    confirmed_http_subscription(server, sns, topic, subscriber)

    events = records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": topic}]))
    by_name = {}
    for e in events:
        by_name.setdefault(e["eventName"], []).append(e)
    assert "Publish" not in by_name and "ConfirmSubscription" not in by_name
    [create] = by_name["CreateTopic"]
    assert create["requestID"] == created["ResponseMetadata"]["RequestId"]
    assert create["eventSource"] == "sns.amazonaws.com" and create["awsRegion"] == REGION
    assert create["requestParameters"] == {"name": name, "attributes": {"DisplayName": "d"}, "tags": [{"key": "k", "value": "v"}]}
    assert create["responseElements"] == {"topicArn": topic}
    assert create["readOnly"] is False and create["managementEvent"] is True and create["eventCategory"] == "Management"
    assert create["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/engineering/bob"
    [get] = by_name["GetTopicAttributes"]
    assert get["readOnly"] is True and get["responseElements"] is None
    assert get["requestParameters"] == {"topicArn": topic}
    [subscribe] = by_name["Subscribe"]
    assert subscribe["requestParameters"]["protocol"] == "http"
    assert subscribe["responseElements"] == {"subscriptionArn": "pending confirmation"}
    # Event history shows the topic as the resource.
    raw = [e for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTopic"}])
           if json.loads(e["CloudTrailEvent"])["requestID"] == create["requestID"]]
    assert raw[0]["Resources"] == [{"ResourceType": "AWS::SNS::Topic", "ResourceName": topic}]
    # Failed calls are recorded with the error.
    failed = [e for e in records(lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTopicAttributes"}]))
              if e.get("errorCode")]
    assert any(e["errorCode"] == "NotFound" and e["errorMessage"] == "Topic does not exist" for e in failed)
    # Publish is a data event: Event history never returns it, whatever the lookup.
    assert lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Publish"}]) == []
    # It is stored all the same (for trails that log data events); read it from the event store itself.
    [data] = [r for r in stored_records(server, "Publish") if r["requestID"] == published["ResponseMetadata"]["RequestId"]]
    hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert data["requestParameters"] == {"topicArn": topic, "message": hidden, "subject": hidden, "messageAttributes": hidden}
    assert data["responseElements"] == {"messageId": published["MessageId"]}
    assert data["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::SNS::Topic", "ARN": topic}]
    assert data["eventCategory"] == "Data" and data["managementEvent"] is False and data["readOnly"] is False
    assert data["eventSource"] == "sns.amazonaws.com"
    # The message body, subject and attributes never reach the server log.
    log = server.log_text()
    assert "secret body" not in log and "secret subject" not in log and "secret attr" not in log


def stored_records(server, event_name: str) -> list[dict]:
    """Every stored record of an event name, management and data events alike, read from the SQLite event store."""
    server.flush()  # recorded events reach the event tables from the journal
    con = sqlite3.connect(f"file:{server.data_dir / 'cairn.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT record FROM events WHERE event_name = ? ORDER BY seq", (event_name,)).fetchall()
    finally:
        con.close()
    return [json.loads(bytes(r[0])) for r in rows]


def test_publish_batch_data_event(server, ids):
    sns = server.client("sns", ids.a_alice)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "secret 1", "Subject": "s"}, {"Id": "b", "Message": ""}])
    [data] = [e for e in stored_records(server, "PublishBatch") if e["requestID"] == r["ResponseMetadata"]["RequestId"]]
    hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
    assert data["requestParameters"] == {"topicArn": topic, "publishBatchRequestEntries": [
        {"id": "a", "message": hidden, "subject": hidden}, {"id": "b", "message": hidden}]}
    assert data["responseElements"] == {
        "successful": [{"id": "a", "messageId": r["Successful"][0]["MessageId"]}],
        "failed": [{"id": "b", "code": "InvalidParameter", "message": "Invalid parameter: Empty message", "senderFault": True}]}
    assert data["eventCategory"] == "Data" and data["resources"][0]["ARN"] == topic


# ---------------------------------------------------------------------------------------------------------------------
# CloudTrail's topic checks (SNS and CloudTrail meet in the composition root)
# ---------------------------------------------------------------------------------------------------------------------


def test_create_trail_requires_the_topic_to_exist(server, ids):
    ensure_bucket(server, ids.a_alice, "cairn-sns-trail-bucket")
    ct = server.client("cloudtrail", ids.a_alice)
    sns = server.client("sns", ids.a_alice)
    e = expect_error(ct.create_trail, "InsufficientSnsTopicPolicyException", 400, Name=unique("trail"),
                     S3BucketName="cairn-sns-trail-bucket", SnsTopicName=unique())
    assert e.response["Error"]["Message"] == "SNS Topic does not exist or the topic policy is incorrect!"
    name = unique()
    topic = sns.create_topic(Name=name)["TopicArn"]
    # This server runs with --resource-policy-checks off: existence is enough.
    trail = ct.create_trail(Name=unique("trail"), S3BucketName="cairn-sns-trail-bucket", SnsTopicName=name)
    assert trail["SnsTopicARN"] == topic
    ct.delete_trail(Name=trail["TrailARN"])


def test_create_trail_checks_the_topic_policy_in_strict_mode(tmp_path, identities_file, ids, binary):
    server = CairnServer(tmp_path / "data", identities_file, ids, extra_args=["--resource-policy-checks", "strict"]).start()
    try:
        ensure_bucket(server, ids.a_alice, "cairn-sns-trail-bucket")
        ct = server.client("cloudtrail", ids.a_alice)
        sns = server.client("sns", ids.a_alice)
        name = unique()
        topic = sns.create_topic(Name=name)["TopicArn"]
        expect_error(ct.create_trail, "InsufficientSnsTopicPolicyException", 400, Name="strict-trail",
                     S3BucketName="cairn-sns-trail-bucket", SnsTopicName=name)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "AWSCloudTrailSNSPolicy20131101", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "SNS:Publish", "Resource": topic}]}
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
        trail = ct.create_trail(Name="strict-trail", S3BucketName="cairn-sns-trail-bucket", SnsTopicName=topic)
        assert trail["SnsTopicARN"] == topic
    finally:
        assert server.stop() == 0


# ---------------------------------------------------------------------------------------------------------------------
# Restarts
# ---------------------------------------------------------------------------------------------------------------------


def test_topics_subscriptions_and_pending_deliveries_survive_a_restart(own_server, ids):
    server = own_server
    sub = Subscriber()
    try:
        sns = server.client("sns", ids.a_alice)
        name = unique("keep")
        topic = sns.create_topic(Name=name, Attributes={"DisplayName": "Kept"}, Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
        sub_arn = confirmed_http_subscription(server, sns, topic, sub)
        email = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
        cert_url = sub.messages("SubscriptionConfirmation")[0][1]["SigningCertURL"]

        sub.default_status = 500
        message_id = sns.publish(TopicArn=topic, Message="survives")["MessageId"]
        # Every attempt fails and the delivery stays in the outbox. The delivery service may have made an attempt of its
        # own before the flush sends it once more, so there are one or two.
        server.flush()
        failed = len(sub.messages("Notification"))
        assert failed in (1, 2)

        server.restart()
        sub.default_status = 200
        sns = server.client("sns", ids.a_alice)
        server.flush()
        notes = sub.messages("Notification")
        assert [h["x-amz-sns-message-id"] for h, _ in notes] == [message_id] * (failed + 1)
        assert notes[-1][1]["SigningCertURL"] == cert_url  # the same certificate after the restart
        verify_signature(notes[-1][1])

        assert any(t["TopicArn"] == topic for t in sns.list_topics()["Topics"])
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        assert attrs["DisplayName"] == "Kept" and attrs["SubscriptionsConfirmed"] == "1" and attrs["SubscriptionsPending"] == "1"
        assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "k", "Value": "v"}]
        assert sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]["PendingConfirmation"] == "false"
        assert sns.get_subscription_attributes(SubscriptionArn=email)["Attributes"]["PendingConfirmation"] == "true"
        sns.publish(TopicArn=topic, Message="after restart")
        server.flush()
        assert sub.messages("Notification")[-1][1]["Message"] == "after restart"
    finally:
        sub.close()
