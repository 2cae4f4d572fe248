"""Usage metering: one `UsageEvent` per model call, recorded exactly once (idempotent by call id).

The port is `UsageRecorder`; `DynamoUsageLedger` stores events and their per-day aggregates in the usage
table (``USAGE_TABLE``) in one transaction, so a retried or redelivered call never counts twice.
An entry point opens `metering_scope` for its `Caller`; `record_model_usage` (called where the model call is
made) records one event per call in that scope.
"""

from stratus.metering.events import DailyUsage, UsageEvent, micro_usd
from stratus.metering.ledger import DynamoUsageLedger, UsageRecorder, get_usage_ledger
from stratus.metering.scope import (
    Caller,
    enter_scope,
    metering_scope,
    record_model_usage,
    scope_context,
)
from stratus.metering.settings import MeteringSettings

__all__ = [
    "Caller",
    "DailyUsage",
    "DynamoUsageLedger",
    "MeteringSettings",
    "UsageEvent",
    "UsageRecorder",
    "enter_scope",
    "get_usage_ledger",
    "metering_scope",
    "micro_usd",
    "record_model_usage",
    "scope_context",
]
