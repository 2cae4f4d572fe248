"""What the usage tests of every service share: the model calls made, and the usage GET /platform/usage shows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stratus.ai import Usage
from stratus.ai.types import Purpose


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Usage]]:
    """Every model call any service makes from now on, as stratus.ai saw it (recorded as usual too)."""
    from stratus.ai import chat
    from stratus.ai.usage import record_usage as record

    seen: list[Usage] = []

    def counting(usage: Usage, purpose: Purpose) -> None:
        seen.append(usage)
        record(usage, purpose)

    monkeypatch.setattr(chat, "record_usage", counting)
    yield seen


def key_id_of(api_key: str) -> str:
    from stratus.identity import get_identity_service

    key_id = get_identity_service().authenticate_api_key(api_key).key_id
    assert key_id is not None
    return key_id


def user_id_of(api_key: str) -> str:
    from stratus.identity import get_identity_service

    return get_identity_service().authenticate_api_key(api_key).user_id


def usage_rows(client: TestClient, api_key: str, service: str) -> list[dict[str, Any]]:
    """The caller's usage rows of one service, as GET /platform/usage answers them."""
    response = client.get("/platform/usage", params={"service": service}, headers={"X-Api-Key": api_key})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def ledger_events(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's raw usage events (one per call id), straight from the usage table."""
    from stratus import aws
    from stratus.metering import MeteringSettings

    table = MeteringSettings().usage_table
    items: list[dict[str, Any]] = aws.client("dynamodb").scan(TableName=table)["Items"]
    return [item for item in items if item["pk"]["S"].startswith(f"{tenant_id}#USAGE#") and item["sk"]["S"] == "EVENT"]
