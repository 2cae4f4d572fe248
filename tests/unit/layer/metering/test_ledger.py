"""The DynamoDB ledger's answers to a cancelled transaction: a duplicate is False, anything else a clear 503."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from stratus.errors import UpstreamUnavailable
from stratus.metering import DynamoUsageLedger, UsageEvent


class _Cancelled(Exception):
    def __init__(self, codes: list[str]) -> None:
        super().__init__("TransactionCanceledException")
        self.response = {"CancellationReasons": [{"Code": code} for code in codes]}


class _CancellingClient:
    exceptions = SimpleNamespace(TransactionCanceledException=_Cancelled)

    def __init__(self, codes: list[str]) -> None:
        self._codes = codes
        self.calls: list[dict[str, Any]] = []

    def transact_write_items(self, **arguments: Any) -> None:
        self.calls.append(arguments)
        raise _Cancelled(self._codes)


EVENT = UsageEvent(
    call_id="docqa:req-1:0",
    tenant_id="acme",
    service="docqa",
    model="amazon.nova-lite-v1:0",
    input_tokens=10,
    output_tokens=2,
    cost_micro_usd=1,
    occurred_at=datetime(2026, 12, 8, tzinfo=UTC),
)


def test_a_call_id_seen_before_is_reported_as_a_duplicate() -> None:
    client = _CancellingClient(["ConditionalCheckFailed", "None"])

    assert DynamoUsageLedger("usage", client=client).record(EVENT) is False
    put, update = client.calls[0]["TransactItems"]
    assert put["Put"]["Item"]["pk"] == {"S": "acme#USAGE#docqa:req-1:0"}
    assert update["Update"]["Key"]["sk"] == {"S": "2026-12-08#docqa#amazon.nova-lite-v1:0#-"}


def test_a_transaction_cancelled_for_another_reason_is_a_503_to_retry() -> None:
    client = _CancellingClient(["None", "ThrottlingError"])

    with pytest.raises(UpstreamUnavailable, match="usage could not be recorded"):
        DynamoUsageLedger("usage", client=client).record(EVENT)


def test_a_ledger_without_a_table_fails_at_construction() -> None:
    with pytest.raises(RuntimeError, match="USAGE_TABLE"):
        DynamoUsageLedger("")
