"""Usage: every run records one event, idempotent by call id, summed per day; GET /usage filters them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from starlette.testclient import TestClient

from stratus.local.embedded import EmbeddedAws
from stratus.metering import UsageEvent
from tests.integration.platform.conftest import Account, create_agent, deploy

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _event(tenant_id: str, call_id: str, **overrides: object) -> UsageEvent:
    values: dict[str, object] = {
        "call_id": call_id,
        "tenant_id": tenant_id,
        "service": "docqa",
        "model": HAIKU,
        "input_tokens": 100,
        "output_tokens": 20,
        "cost_micro_usd": 160,
        "occurred_at": datetime.now(UTC),
        "key_id": "k1",
    }
    values.update(overrides)
    return UsageEvent.model_validate(values)


def test_each_run_appears_in_usage_under_the_key_or_session_that_ran_it(client: TestClient, account: Account) -> None:
    # Given two runs with an API key and one with the signed-in session
    agent = create_agent(client, account.headers)
    deploy(client, account.headers, agent["id"])
    issued = client.post("/platform/keys", json={"name": "app"}, headers=account.headers).json()
    key = {"X-Api-Key": issued["api_key"]}
    for headers in (key, key, account.headers):
        run = client.post(f"/platform/agents/{agent['id']}/run", json={"input": "hi"}, headers=headers)
        assert run.status_code == 201, run.text

    # When
    usage = client.get("/platform/usage", headers=account.headers).json()

    # Then
    rows = {(r["key_id"], r["calls"]) for r in usage["rows"]}
    assert rows == {(issued["key_id"], 2), (None, 1)}
    assert usage["calls"] == 3
    assert {r["service"] for r in usage["rows"]} == {"platform"}
    assert {r["day"] for r in usage["rows"]} == {datetime.now(UTC).date().isoformat()}


def test_usage_filters_by_key_model_service_and_day(client: TestClient, account: Account) -> None:
    # Given events of two services, two models, two keys, on two days
    from stratus.metering import get_usage_ledger

    ledger = get_usage_ledger()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    ledger.record(_event(account.tenant_id, "c1"))
    ledger.record(_event(account.tenant_id, "c2", service="analyst", key_id="k2"))
    ledger.record(_event(account.tenant_id, "c3", model="amazon.nova-lite-v1:0"))
    ledger.record(_event(account.tenant_id, "c4", occurred_at=yesterday))
    h = account.headers

    # Then each filter keeps its slice
    def calls(**params: str) -> int:
        response = client.get("/platform/usage", params=params, headers=h)
        assert response.status_code == 200, response.text
        total: int = response.json()["calls"]
        return total

    assert calls() == 4
    assert calls(service="analyst") == 1
    assert calls(key_id="k2") == 1
    assert calls(model="amazon.nova-lite-v1:0") == 1
    assert calls(day=yesterday.date().isoformat()) == 1
    assert calls(**{"from": yesterday.date().isoformat(), "to": yesterday.date().isoformat()}) == 1


def test_usage_of_another_tenant_is_never_shown(client: TestClient, account: Account, other_account: Account) -> None:
    from stratus.metering import get_usage_ledger

    get_usage_ledger().record(_event(other_account.tenant_id, "theirs"))

    assert client.get("/platform/usage", headers=account.headers).json()["calls"] == 0


def test_a_range_that_ends_before_it_starts_is_refused(client: TestClient, account: Account) -> None:
    response = client.get("/platform/usage", params={"from": "2026-12-08", "to": "2026-12-01"}, headers=account.headers)

    assert response.status_code == 422


def test_a_call_recorded_twice_counts_once(aws: EmbeddedAws, account: Account) -> None:
    from stratus.metering import get_usage_ledger

    ledger = get_usage_ledger()
    event = _event(account.tenant_id, "retried-call")

    assert ledger.record(event) is True
    assert ledger.record(event) is False
    today = datetime.now(UTC).date()
    [total] = ledger.daily(account.tenant_id, today, today)
    assert (total.calls, total.input_tokens, total.cost_micro_usd) == (1, 100, 160)


def test_day_totals_equal_the_sum_of_events_to_the_micro_dollar_with_duplicates(
    aws: EmbeddedAws, account: Account
) -> None:
    # Given 60 events with random costs across three days, a third of them delivered twice
    from stratus.metering import get_usage_ledger

    ledger = get_usage_ledger()
    rng = random.Random(11)
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    events = [
        _event(
            account.tenant_id,
            f"call-{n}",
            cost_micro_usd=rng.randint(0, 50_000),
            occurred_at=start + timedelta(days=n % 3),
            service=rng.choice(["docqa", "analyst", "platform"]),
        )
        for n in range(60)
    ]
    for n, event in enumerate(events):
        ledger.record(event)
        if n % 3 == 0:
            ledger.record(event)

    # When
    totals = ledger.daily(account.tenant_id, date(2026, 11, 1), date(2026, 11, 3))

    # Then
    assert sum(t.calls for t in totals) == 60
    assert sum(t.cost_micro_usd for t in totals) == sum(e.cost_micro_usd for e in events)
