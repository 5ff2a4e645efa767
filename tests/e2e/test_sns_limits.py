"""SNS Publish limits: E.164 phone numbers, and the 256 KiB limit counting message attributes (issue 12).

What SNS answers, and where it is written down:
- a phone number SNS cannot publish to: `InvalidParameter` "Invalid parameter: PhoneNumber Reason: <number> is not
  valid to publish to" (the responses quoted in aws/aws-sdk-js#1217, aws/aws-sdk-js#1368 and boto/boto3#2195); the
  `PhoneNumber` member asks for E.164 (`+`, then at most fifteen digits);
- the API reference's MessageAttributeValue page: "All parts of the message attribute, including name, type, and
  value, are included in the message size restriction, which is currently 256 KB (262,144 bytes)"; a message over it
  is `InvalidParameter` "Invalid parameter: Message too long" (wellcomecollection/platform#1460);
- PublishBatch: "the maximum total payload size (the sum of the individual lengths of all of the batched messages)"
  is 256 KiB as well, answered with `BatchRequestTooLong`.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from cairn_harness import expect_error

LIMIT = 262_144


@pytest.fixture(scope="module")
def sns(server, ids):
    return server.client("sns", ids.a_alice)


@pytest.fixture(scope="module")
def topic(sns):
    return sns.create_topic(Name=f"limits-{uuid.uuid4().hex[:12]}")["TopicArn"]


@pytest.mark.parametrize("number", ["-1", "12065550100", "+", "+1", "+012065550100", "+1206555010012345",
                                    "+1 206 555 0100", "+1-206-555-0100", "tel:+12065550100"])
def test_publish_refuses_a_phone_number_that_is_not_e164(sns, number):
    e = expect_error(sns.publish, "InvalidParameter", 400, PhoneNumber=number, Message="hello")
    assert e.response["Error"]["Message"] == f"Invalid parameter: PhoneNumber Reason: {number} is not valid to publish to"


@pytest.mark.parametrize("number", ["+12065550100", "+442071838750", "+861234567890123"])
def test_publish_to_an_e164_phone_number(sns, number):
    assert uuid.UUID(sns.publish(PhoneNumber=number, Message="hello")["MessageId"])


def _string_attribute(name: str, value: str) -> dict:
    return {name: {"DataType": "String", "StringValue": value}}


def test_message_attributes_count_toward_the_limit(sns, topic):
    name, value = "color", "blue"
    room = LIMIT - (len(name) + len("String") + len(value))
    assert sns.publish(TopicArn=topic, Message="x" * room, MessageAttributes=_string_attribute(name, value))["MessageId"]
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="x" * (room + 1),
                     MessageAttributes=_string_attribute(name, value))
    assert e.response["Error"]["Message"] == "Invalid parameter: Message too long"


def test_a_large_attribute_value_with_a_small_body_is_too_long(sns, topic):
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="small",
                     MessageAttributes=_string_attribute("big", "v" * LIMIT))
    assert e.response["Error"]["Message"] == "Invalid parameter: Message too long"


def test_attribute_names_types_and_binary_values_count(sns, topic):
    # Ten attributes with long names and a custom type suffix, plus a binary value counted by its decoded bytes.
    attributes = {f"n{i:02d}" + "a" * 200: {"DataType": "String.custom" + "t" * 50, "StringValue": "v"} for i in range(9)}
    attributes["bin"] = {"DataType": "Binary", "BinaryValue": b"\x00\xff" * 1000}
    used = sum(len(k) + len(v["DataType"]) + 1 for k, v in attributes.items() if k != "bin") + 3 + 6 + 2000
    assert sns.publish(TopicArn=topic, Message="y" * (LIMIT - used), MessageAttributes=attributes)["MessageId"]
    e = expect_error(sns.publish, "InvalidParameter", 400, TopicArn=topic, Message="y" * (LIMIT - used + 1),
                     MessageAttributes=attributes)
    assert e.response["Error"]["Message"] == "Invalid parameter: Message too long"


def test_publish_batch_counts_attributes_toward_the_batch_limit(sns, topic):
    half = LIMIT // 2
    entries = [
        {"Id": "one", "Message": "a" * half},
        {"Id": "two", "Message": "b" * (half - 100), "MessageAttributes": _string_attribute("k", "v" * 200)},
    ]
    e = expect_error(sns.publish_batch, "BatchRequestTooLong", 400, TopicArn=topic, PublishBatchRequestEntries=entries)
    assert e.response["Error"]["Message"] == "The length of all the messages put together is more than the limit."
    # The same batch with room for the attribute goes through.
    entries[1]["Message"] = "b" * (half - 300)
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert [s["Id"] for s in r["Successful"]] == ["one", "two"] and r["Failed"] == []


def test_publish_batch_single_entry_over_the_limit_with_its_attributes(sns, topic):
    entries = [{"Id": "solo", "Message": "m" * (LIMIT - 10), "MessageAttributes": _string_attribute("attr", "value")}]
    expect_error(sns.publish_batch, "BatchRequestTooLong", 400, TopicArn=topic, PublishBatchRequestEntries=entries)
