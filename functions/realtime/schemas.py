"""What the realtime HTTP API accepts (``…Request``) and returns (``…View``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PublishRequest(BaseModel):
    data: dict[str, Any] = Field(description="JSON object delivered to every subscriber of the topic")


class PublishedView(BaseModel):
    topic: str
    delivered: int = Field(description="connections of your tenant that received the message")
