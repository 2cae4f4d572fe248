"""Every model call of a review is one usage event of the tenant; redeliveries and retried stages add nothing."""

from __future__ import annotations

from starlette.testclient import TestClient

from stratus.ai import Usage
from stratus.local.embedded import EmbeddedAws
from tests.integration.codereview.conftest import (
    Tenant,
    deliver,
    pull_request_payload,
    register_repository,
    review_detail,
    settle,
)
from tests.integration.codereview.fake_github import FakeGitHub
from tests.integration.metering import ledger_events, model_calls, usage_rows

__all__ = ["model_calls"]

BEFORE = "def load(path):\n    return open(path).read()\n"
AFTER = (
    BEFORE
    + "\n\ndef parse(text):\n    print(text)\n    try:\n        return int(text)\n    except:\n        return 0\n"
)


def test_each_model_call_of_a_review_is_one_usage_event_and_repeats_count_once(
    client: TestClient, github: FakeGitHub, aws: EmbeddedAws, tenant: Tenant, model_calls: list[Usage]
) -> None:
    # Given a pull request reviewed once
    hooked = register_repository(client, github, tenant)
    pull = hooked.repo.open_pull(7, {"svc/io.py": BEFORE}, {"svc/io.py": AFTER}, title="Parse")
    delivery_id = "f0e1d2c3-usage-0001"
    opened = pull_request_payload("opened", pull)
    assert deliver(client, hooked, "pull_request", opened, delivery_id=delivery_id).status_code == 202
    settle(aws)

    # Then GET /platform/usage shows one codereview call per model call (the logic and security stages)
    assert len(model_calls) >= 2
    [row] = usage_rows(client, tenant.api_key, "codereview")
    assert row["calls"] == len(model_calls) and row["key_id"] is None
    assert row["input_tokens"] == sum(call.input_tokens for call in model_calls)

    # When GitHub redelivers the same delivery
    assert deliver(client, hooked, "pull_request", opened, delivery_id=delivery_id).status_code in (200, 202)
    settle(aws)
    # And Step Functions retries the logic stage of the run (the model is called again)
    from codereview.steps import run_step

    [run] = review_detail(client, tenant, pull.id)["runs"]
    key = f"codereview/runs/{pull.id}/{run['run_id']}/prepared.json"
    called = len(model_calls)
    run_step({"step": "logic", "prepared": {"tenant_id": tenant.tenant_id, "key": key}, "chunk": 0})
    assert len(model_calls) == called + 1

    # Then nothing more is counted: the repeated call has the call id already recorded
    [again] = usage_rows(client, tenant.api_key, "codereview")
    assert again["calls"] == row["calls"]
    assert len(ledger_events(tenant.tenant_id)) == row["calls"]
