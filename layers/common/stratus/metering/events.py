"""The values of metering: one usage event per model call, and a day's aggregate of them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NAME = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")
_MICRO = Decimal("0.000001")


def micro_usd(cost_usd: float | Decimal) -> int:
    """A cost in whole micro-dollars: integer sums stay exact to the cent however many events add up."""
    return int((Decimal(str(cost_usd)) / _MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class UsageEvent(BaseModel):
    """One model call: who made it, through which service and key, with which model, and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str = Field(min_length=1, max_length=200, description="idempotency key: one event per call id")
    tenant_id: str
    service: str = Field(min_length=1, max_length=64)
    model: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cost_micro_usd: int = Field(ge=0, description="cost in millionths of a US dollar")
    occurred_at: datetime
    key_id: str | None = None
    user_id: str | None = None
    offline: bool = False

    @field_validator("call_id", "service", "model")
    @classmethod
    def _no_separators(cls, value: str) -> str:
        # These become parts of DynamoDB keys joined by '#'.
        if not _NAME.fullmatch(value):
            raise ValueError("must be 1-200 letters, digits or . _ : / @ + -")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

    @property
    def day(self) -> date:
        return self.occurred_at.astimezone(UTC).date()


class DailyUsage(BaseModel):
    """The sum of one day's events for one service, model and key (key None: a signed-in session)."""

    model_config = ConfigDict(frozen=True)

    day: date
    service: str
    model: str
    key_id: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cost_micro_usd: int
