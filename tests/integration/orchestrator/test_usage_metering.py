"""Every model call of a task's agent steps is one usage event; a retried step's repeated calls count once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stratus.agents import Decision, Final, Turn, override_behaviour
from stratus.ai import ChatMessage, ChatRequest, Usage
from tests.integration.conftest import TenantKey
from tests.integration.metering import key_id_of, ledger_events, model_calls, usage_rows, user_id_of
from tests.integration.orchestrator.conftest import create_task, wait_status

__all__ = ["model_calls"]


class FailsAfterItsFirstCall:
    """Research that asks the model once, then fails its first attempt (as a timeout after the call would)."""

    attempts = 0

    def decide(self, turn: Turn) -> Decision:
        request = ChatRequest(messages=(ChatMessage(role="user", content=turn.brief.question),))
        result = turn.gateway.generate(request, why="notes")
        FailsAfterItsFirstCall.attempts += 1
        if FailsAfterItsFirstCall.attempts == 1:
            raise RuntimeError("the step's Lambda timed out after the model answered")
        return Final(result.text)

    def conclude(self, turn: Turn, reason: str) -> Final:
        return Final("no notes")


@pytest.fixture
def flaky_research() -> Iterator[None]:
    FailsAfterItsFirstCall.attempts = 0
    restore = override_behaviour("research", FailsAfterItsFirstCall)
    yield
    restore()


def test_each_model_call_of_a_tasks_agent_steps_is_one_usage_event_of_its_user(
    client: TestClient, tenant_a: TenantKey, model_calls: list[Usage]
) -> None:
    # When a task of three agents runs to the end
    created = create_task(client, tenant_a)
    task = wait_status(client, tenant_a, created["task_id"], "succeeded")

    # Then GET /platform/usage shows as many orchestrator calls as the task reports model calls, with their tokens
    assert task["usage"]["model_calls"] == len(model_calls) >= 2
    [row] = usage_rows(client, tenant_a.api_key, "orchestrator")
    assert row["calls"] == len(model_calls)
    assert row["input_tokens"] == task["usage"]["input_tokens"]
    # And the events belong to the key and user that created the task
    assert row["key_id"] == key_id_of(tenant_a.api_key)
    events = ledger_events(tenant_a.tenant_id)
    assert len(events) == len(model_calls)
    assert {event["user_id"]["S"] for event in events} == {user_id_of(tenant_a.api_key)}


def test_a_step_retried_by_step_functions_does_not_count_the_calls_it_repeats(
    client: TestClient, tenant_a: TenantKey, model_calls: list[Usage], flaky_research: None
) -> None:
    # Given research whose first attempt fails after its model call, so Step Functions retries it
    created = create_task(client, tenant_a, agents=["research", "writing"])

    # When the task runs to the end
    task = wait_status(client, tenant_a, created["task_id"], "succeeded")

    # Then the retry repeated research's call: the model answered it twice, but it is recorded once
    research = next(output for output in task["outputs"] if output["agent"] == "research")
    assert research["attempts"] == 2 and FailsAfterItsFirstCall.attempts == 2
    assert len(model_calls) >= 2
    [row] = usage_rows(client, tenant_a.api_key, "orchestrator")
    assert row["calls"] == len(model_calls) - 1
    assert len(ledger_events(tenant_a.tenant_id)) == len(model_calls) - 1
