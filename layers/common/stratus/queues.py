"""Queues: the one port for handing work to an SQS consumer (webhooks, ingestion, fan-out).

Sends go through ``stratus.aws.client`` (botocore's bounded retries and timeouts are the one retry layer);
a send that finally fails is ``UpstreamUnavailable`` with a Retry-After, never the provider's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from stratus import aws
from stratus.errors import UpstreamUnavailable
from stratus.observability import logger

__all__ = ["MessageQueue", "SqsQueue"]


class MessageQueue(Protocol):
    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
        """Enqueue one message; returns its message id."""
        ...


class SqsQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        if not queue_url:
            raise RuntimeError("SqsQueue: queue URL is not configured")
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("sqs")
        return self._client

    def send(self, body: str, *, attributes: Mapping[str, str] | None = None) -> str:
        request: dict[str, Any] = {"QueueUrl": self.queue_url, "MessageBody": body}
        if attributes:
            request["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        try:
            sent = self.client.send_message(**request)
        except Exception as error:  # botocore raises several unrelated types; the caller only needs "not queued"
            logger.warning("message not queued", extra={"queue": self.queue_url, "error": str(error)})
            raise UpstreamUnavailable("the message could not be queued; try again", retry_after_s=5) from error
        return str(sent["MessageId"])
