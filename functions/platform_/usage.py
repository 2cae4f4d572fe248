"""Usage of a tenant: the daily aggregates of its metered model calls, filtered by key, model, service and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from stratus.errors import ValidationFailed
from stratus.identity import Principal

if TYPE_CHECKING:
    from stratus.metering import DailyUsage, DynamoUsageLedger

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class UsageFilter:
    first_day: date
    last_day: date
    key_id: str | None = None
    model: str | None = None
    service: str | None = None

    def admits(self, row: DailyUsage) -> bool:
        return (
            (self.key_id is None or row.key_id == self.key_id)
            and (self.model is None or row.model == self.model)
            and (self.service is None or row.service == self.service)
        )


class UsageService:
    def __init__(self, ledger: DynamoUsageLedger) -> None:
        self._ledger = ledger

    def daily(self, principal: Principal, wanted: UsageFilter) -> list[DailyUsage]:
        if wanted.last_day < wanted.first_day:
            raise ValidationFailed("to must not be before from", field="to")
        if (wanted.last_day - wanted.first_day).days >= MAX_DAYS:
            raise ValidationFailed(f"a usage query spans at most {MAX_DAYS} days", field="from")
        rows = self._ledger.daily(principal.tenant_id, wanted.first_day, wanted.last_day)
        return [row for row in rows if wanted.admits(row)]
