"""The recorder port and its DynamoDB adapter.

Items in the usage table (``pk`` / ``sk``):
- event:     ``<tenant>#USAGE#<call id>`` / ``EVENT``  (the call, with a TTL)
- day total: ``<tenant>#USAGEDAY``        / ``<day>#<service>#<model>#<key id or ->``  (atomic counters)

The event and the day's counters are written in one transaction whose put is conditional on the call id
being new: a retry, a redelivery or a concurrent duplicate changes nothing and reports ``False``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol, runtime_checkable

from stratus.cache import per_container
from stratus.errors import UpstreamUnavailable
from stratus.metering.events import DailyUsage, UsageEvent
from stratus.metering.settings import MeteringSettings

_NO_KEY = "-"
_DAY_KIND = "USAGEDAY"


@runtime_checkable
class UsageRecorder(Protocol):
    def record(self, event: UsageEvent) -> bool:
        """Store ``event`` once; False when its call id was already recorded."""
        ...


def _day_sort_key(day: date, service: str, model: str, key_id: str | None) -> str:
    return f"{day.isoformat()}#{service}#{model}#{key_id or _NO_KEY}"


def _number(item: dict[str, Any], name: str) -> int:
    return int(item.get(name, {"N": "0"})["N"])


class DynamoUsageLedger:
    """Usage events and daily aggregates in one DynamoDB table (a low-level client: the adapter needs transactions)."""

    def __init__(self, table_name: str, *, retention_days: int = 400, client: Any = None) -> None:
        if not table_name:
            raise RuntimeError("USAGE_TABLE is not configured")
        self._table = table_name
        self._retention_s = retention_days * 24 * 3600
        self._client = client

    @property
    def _dynamodb(self) -> Any:
        if self._client is None:
            from stratus import aws

            self._client = aws.client("dynamodb")
        return self._client

    def record(self, event: UsageEvent) -> bool:
        from stratus.storage import tenant_key  # PynamoDB stays out of the import of stratus.metering

        occurred = int(event.occurred_at.timestamp())
        event_item: dict[str, Any] = {
            "pk": {"S": tenant_key(event.tenant_id, "USAGE", event.call_id)},
            "sk": {"S": "EVENT"},
            "service": {"S": event.service},
            "model": {"S": event.model},
            "input_tokens": {"N": str(event.input_tokens)},
            "output_tokens": {"N": str(event.output_tokens)},
            "cost_micro_usd": {"N": str(event.cost_micro_usd)},
            "occurred_at": {"N": str(occurred)},
            "day": {"S": event.day.isoformat()},
            "offline": {"BOOL": event.offline},
            "expires_at": {"N": str(occurred + self._retention_s)},
        }
        if event.key_id:
            event_item["key_id"] = {"S": event.key_id}
        if event.user_id:
            event_item["user_id"] = {"S": event.user_id}
        day_total = {
            "TableName": self._table,
            "Key": {
                "pk": {"S": tenant_key(event.tenant_id, _DAY_KIND)},
                "sk": {"S": _day_sort_key(event.day, event.service, event.model, event.key_id)},
            },
            "UpdateExpression": (
                "ADD calls :one, input_tokens :input, output_tokens :output, cost_micro_usd :cost "
                "SET #day = :day, service = :service, model = :model, key_id = :key"
            ),
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":input": {"N": str(event.input_tokens)},
                ":output": {"N": str(event.output_tokens)},
                ":cost": {"N": str(event.cost_micro_usd)},
                ":day": {"S": event.day.isoformat()},
                ":service": {"S": event.service},
                ":model": {"S": event.model},
                ":key": {"S": event.key_id or _NO_KEY},
            },
        }
        put = {"TableName": self._table, "Item": event_item, "ConditionExpression": "attribute_not_exists(pk)"}
        dynamodb = self._dynamodb
        try:
            dynamodb.transact_write_items(TransactItems=[{"Put": put}, {"Update": day_total}])
        except dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise UpstreamUnavailable("usage could not be recorded; retry the call") from exc
        return True

    def daily(self, tenant_id: str, first_day: date, last_day: date) -> list[DailyUsage]:
        """Every day total of the tenant from ``first_day`` to ``last_day`` inclusive, in day order."""
        from stratus.storage import tenant_key

        after_last = (last_day + timedelta(days=1)).isoformat()
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": tenant_key(tenant_id, _DAY_KIND)},
                ":first": {"S": first_day.isoformat()},
                ":last": {"S": after_last},
            },
        }
        totals: list[DailyUsage] = []
        while True:
            page = self._dynamodb.query(**arguments)
            for item in page.get("Items", []):
                key_id = item["key_id"]["S"]
                totals.append(
                    DailyUsage(
                        day=date.fromisoformat(item["day"]["S"]),
                        service=item["service"]["S"],
                        model=item["model"]["S"],
                        key_id=None if key_id == _NO_KEY else key_id,
                        calls=_number(item, "calls"),
                        input_tokens=_number(item, "input_tokens"),
                        output_tokens=_number(item, "output_tokens"),
                        cost_micro_usd=_number(item, "cost_micro_usd"),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return totals
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@per_container
def get_usage_ledger() -> DynamoUsageLedger:
    settings = MeteringSettings()
    return DynamoUsageLedger(settings.usage_table, retention_days=settings.usage_event_retention_days)
