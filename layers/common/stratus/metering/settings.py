"""Where usage events go; every function that calls a model gets ``USAGE_TABLE`` and write access to it."""

from __future__ import annotations

from pydantic import Field

from stratus.config.base import ConfigBase


class MeteringSettings(ConfigBase):
    usage_table: str = Field(default="", description="DynamoDB table of usage events and their daily aggregates")
    usage_event_retention_days: int = Field(
        default=400, ge=1, le=3650, description="raw events expire after this (TTL); daily aggregates stay"
    )
