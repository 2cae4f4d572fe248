"""Usage metering: one `UsageEvent` per model call, recorded exactly once (idempotent by call id).

The port is `UsageRecorder`; `DynamoUsageLedger` stores events and their per-day aggregates in the usage
table (``USAGE_TABLE``) in one transaction, so a retried or redelivered call never counts twice.
"""

from stratus.metering.events import DailyUsage, UsageEvent, micro_usd
from stratus.metering.ledger import DynamoUsageLedger, UsageRecorder, get_usage_ledger
from stratus.metering.settings import MeteringSettings

__all__ = [
    "DailyUsage",
    "DynamoUsageLedger",
    "MeteringSettings",
    "UsageEvent",
    "UsageRecorder",
    "get_usage_ledger",
    "micro_usd",
]
