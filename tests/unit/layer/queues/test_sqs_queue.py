"""The queue port against an embedded SQS: what is sent arrives with its attributes; a failed send says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stratus.errors import UpstreamUnavailable
from stratus.queues import SqsQueue


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_a_sent_message_arrives_with_its_body_and_attributes(sqs: Any) -> None:
    # Given a queue
    url = sqs.create_queue(QueueName="deliveries")["QueueUrl"]

    # When a message is sent through the port
    message_id = SqsQueue(url, sqs).send('{"delivery": "d-1"}', attributes={"tenant": "acme"})

    # Then the consumer receives exactly that body and attribute, under the returned id
    received = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert [m["MessageId"] for m in received] == [message_id]
    assert received[0]["Body"] == '{"delivery": "d-1"}'
    assert received[0]["MessageAttributes"]["tenant"]["StringValue"] == "acme"


def test_a_send_to_a_missing_queue_is_upstream_unavailable_without_the_provider_text(sqs: Any) -> None:
    queue = SqsQueue("https://sqs.us-east-1.amazonaws.com/123456789012/gone", sqs)

    with pytest.raises(UpstreamUnavailable) as raised:
        queue.send("{}")

    assert raised.value.detail == "the message could not be queued; try again"
    assert raised.value.extensions["retry_after_s"] == 5


def test_a_queue_without_a_url_is_a_configuration_error_at_construction() -> None:
    with pytest.raises(RuntimeError, match="queue URL is not configured"):
        SqsQueue("")
